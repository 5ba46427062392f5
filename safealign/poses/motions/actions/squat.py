"""Near-miss (vs kneeling): a deep squat with both feet flat, arms forward for balance."""

from safealign.poses.motions.keyframes import Action

_SQUAT = dict(thigh_l=(20, 100), thigh_r=(20, 100), shank_l=(6, -25), shank_r=(6, -25), lean=35, head=-10,
              upper_l=(5, 75), upper_r=(5, 75), fore_l=(5, 80), fore_r=(5, 80))

ACTION = Action("squat", "near_miss", "near_miss", period_s=3.0, start_phase=(0.15, 0.45),
                counterpart="kneel_one_knee", keys=((0.0, dict()), (0.25, _SQUAT), (0.9, _SQUAT)))
