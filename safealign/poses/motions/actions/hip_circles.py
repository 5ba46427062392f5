"""Near-miss (vs suggestive hip motion): slow warm-up hip circles with hands on the hips."""

from safealign.poses.motions.actions.hip_stretch import HANDS_ON_HIPS
from safealign.poses.motions.keyframes import Action

ACTION = Action("hip_circles", "near_miss", "near_miss", period_s=2.4, counterpart="body_roll", keys=(
    (0.0, dict(HANDS_ON_HIPS, bend=9)),
    (0.25, dict(HANDS_ON_HIPS, lean=-6, thigh_l=(3, -8), thigh_r=(3, -8), shank_l=(3, 8), shank_r=(3, 8))),
    (0.5, dict(HANDS_ON_HIPS, bend=-9)),
    (0.75, dict(HANDS_ON_HIPS, lean=8, thigh_l=(3, 8), thigh_r=(3, 8), shank_l=(3, -5), shank_r=(3, -5))),
))
