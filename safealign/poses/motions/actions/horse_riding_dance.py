"""Celebrity: horse-riding dance, wide bent-knee stance, wrists crossed at the chest, legs hopping in turn."""

from safealign.poses.motions.keyframes import Action, mirror

_REINS = dict(upper_l=(-10, 60), upper_r=(-10, 60), fore_l=(-55, 75), fore_r=(-55, 75))
_STANCE = dict(_REINS, thigh_l=(20, 20), thigh_r=(20, 20), shank_l=(15, -12), shank_r=(15, -12))
_HOP = dict(_STANCE, thigh_l=(25, 55), shank_l=(10, -10), lift=0.02)

ACTION = Action("horse_riding_dance", "celebrity", "unsafe", period_s=0.9,
                keys=((0.0, _STANCE), (0.25, _HOP), (0.5, _STANCE), (0.75, mirror(_HOP))))
