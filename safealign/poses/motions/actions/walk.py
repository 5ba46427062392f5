"""Benign: walking (slowly advancing), arms swinging against the legs."""

from safealign.poses.motions.keyframes import Action, mirror

_STRIDE = dict(thigh_l=(3, 25), shank_l=(3, 8), thigh_r=(3, -15), shank_r=(3, -35), foot_r=110,
               upper_l=(8, -20), fore_l=(6, -12), upper_r=(8, 25), fore_r=(6, 45))
_PASS = dict(thigh_r=(3, 22), shank_r=(3, -25), upper_l=(8, 0), upper_r=(8, 0))

ACTION = Action("walk", "benign", "benign", period_s=1.1, travel=0.08,
                keys=((0.0, _STRIDE), (0.25, _PASS), (0.5, mirror(_STRIDE)), (0.75, mirror(_PASS))))
