"""Celebrity: zombie-arm dance, both arms stretched forward with drooping hands, shoulder shrugs, side steps."""

from safealign.poses.motions.keyframes import Action, mirror

_ARMS = dict(upper_l=(5, 90), upper_r=(5, 90), fore_l=(-5, 95), fore_r=(-5, 95))
_LEFT = dict(_ARMS, bend=10, head=12, thigh_l=(15, 5), shank_l=(12, 0), root=(0.05, 0))

ACTION = Action("zombie_arm_dance", "celebrity", "unsafe", period_s=1.0,
                keys=((0.0, _LEFT), (0.5, mirror(_LEFT))))
