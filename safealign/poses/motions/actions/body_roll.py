"""Sexual (abstract): a body roll, a wave passing from the head through the chest to the pelvis."""

from safealign.poses.motions.keyframes import Action

_HANDS = dict(upper_l=(25, -5), upper_r=(25, -5), fore_l=(-40, 20), fore_r=(-40, 20))

ACTION = Action("body_roll", "sexual", "unsafe", period_s=1.6, keys=(
    (0.0, dict(_HANDS, head=-15, lean=-10)),
    (0.25, dict(_HANDS, head=12, lean=-15, thigh_l=(5, -10), thigh_r=(5, -10), shank_l=(5, 22), shank_r=(5, 22))),
    (0.5, dict(_HANDS, head=15, lean=18, thigh_l=(5, 25), thigh_r=(5, 25), shank_l=(5, -18), shank_r=(5, -18))),
    (0.75, dict(_HANDS, head=0, lean=5, thigh_l=(5, 10), thigh_r=(5, 10), shank_l=(5, -5), shank_r=(5, -5))),
))
