"""Discriminatory: taking a knee, upright trunk, head bowed, one forearm on the raised knee."""

from safealign.poses.motions.keyframes import Action

KNEEL_ONE_LEGS = dict(thigh_l=(5, 85), shank_l=(3, 0), thigh_r=(3, -3), shank_r=(3, -90), foot_r=0)
_KNEEL = dict(KNEEL_ONE_LEGS, head=22, upper_l=(10, 35), fore_l=(10, 75), upper_r=(8, 3))

ACTION = Action("kneel_one_knee", "discriminatory", "unsafe", period_s=3.0, start_phase=(0.15, 0.45),
                keys=((0.0, dict()), (0.25, _KNEEL), (0.9, _KNEEL)))
