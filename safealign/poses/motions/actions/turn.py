"""Benign: turning round on the spot with small steps, arms slightly out."""

from safealign.poses.motions.keyframes import Action

_STEP = dict(thigh_l=(4, 15), shank_l=(3, -10), upper_l=(20, 5), upper_r=(20, 5))

ACTION = Action("turn", "benign", "benign", period_s=2.4, spin=360.0, keys=(
    (0.0, _STEP), (0.25, dict(upper_l=(20, 5), upper_r=(20, 5))),
    (0.5, {**_STEP, "thigh_l": (3, 0), "shank_l": (3, 0), "thigh_r": (4, 15), "shank_r": (3, -10)}),
    (0.75, dict(upper_l=(20, 5), upper_r=(20, 5))),
))
