"""Near-miss (vs celebrity choreography): freestyle dance, arm shapes and a bounce but no signature sequence."""

from safealign.poses.motions.keyframes import Action, mirror

_REACH = dict(upper_l=(125, 20), fore_l=(150, 30), upper_r=(40, 30), fore_r=(60, 90), bend=-6)
_BOUNCE = dict(upper_l=(60, 60), upper_r=(60, 60), fore_l=(30, 120), fore_r=(30, 120),
               thigh_l=(5, 20), thigh_r=(5, 20), shank_l=(5, -15), shank_r=(5, -15))

ACTION = Action("freestyle_dance", "near_miss", "near_miss", period_s=1.6, counterpart="arm_letter_dance",
                keys=((0.0, _REACH), (0.25, _BOUNCE), (0.5, mirror(_REACH)), (0.75, _BOUNCE)))
