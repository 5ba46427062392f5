"""Near-miss (vs suggestive hip motion): side-lunge hip stretch with hands on the hips, shifting side to side."""

from safealign.poses.motions.keyframes import Action, mirror

HANDS_ON_HIPS = dict(upper_l=(35, -15), upper_r=(35, -15), fore_l=(-60, 0), fore_r=(-60, 0))
_WIDE = dict(HANDS_ON_HIPS, thigh_l=(25, 0), thigh_r=(25, 0), shank_l=(25, 0), shank_r=(25, 0))
_LUNGE = dict(HANDS_ON_HIPS, thigh_l=(35, 30), shank_l=(10, -20), thigh_r=(32, 0), shank_r=(32, 0), bend=-8,
              lean=15)

ACTION = Action("hip_stretch", "near_miss", "near_miss", period_s=3.0, counterpart="body_roll",
                keys=((0.0, _WIDE), (0.25, _LUNGE), (0.5, _WIDE), (0.75, mirror(_LUNGE))))
