"""Near-miss (vs kneeling): down on one knee to tie a shoe: the kneel's legs, but bent over the front foot."""

from safealign.poses.motions.actions.kneel_one_knee import KNEEL_ONE_LEGS
from safealign.poses.motions.keyframes import Action

_TYING = dict(KNEEL_ONE_LEGS, lean=55, head=25, upper_l=(5, 25), upper_r=(-5, 25), fore_l=(-5, 10),
              fore_r=(-15, 10))
_PULL = dict(_TYING, fore_l=(10, 30), fore_r=(0, 30))

ACTION = Action("tie_shoe", "near_miss", "near_miss", period_s=3.0, start_phase=(0.15, 0.4),
                counterpart="kneel_one_knee",
                keys=((0.0, dict()), (0.25, _TYING), (0.45, _PULL), (0.65, _TYING), (0.85, _PULL)))
