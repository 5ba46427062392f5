"""Benign: generic side-step dance with a knee bounce and swaying arms."""

from safealign.poses.motions.keyframes import Action, mirror

_STEP = dict(thigh_l=(14, 5), shank_l=(10, 0), thigh_r=(3, 10), shank_r=(3, -8), bend=6,
             upper_l=(35, 20), fore_l=(25, 60), upper_r=(20, 30), fore_r=(10, 70), root=(0.04, 0))
_BOUNCE = dict(thigh_l=(5, 22), thigh_r=(5, 22), shank_l=(5, -18), shank_r=(5, -18),
               upper_l=(25, 40), upper_r=(25, 40), fore_l=(10, 90), fore_r=(10, 90))

ACTION = Action("dance_steps", "benign", "benign", period_s=1.2,
                keys=((0.0, _STEP), (0.25, _BOUNCE), (0.5, mirror(_STEP)), (0.75, _BOUNCE)))
