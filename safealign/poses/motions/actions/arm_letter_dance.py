"""Celebrity: arm-letter choreography, four letters spelled with the arms (Y, M, C, A), each held a beat."""

from safealign.poses.motions.keyframes import Action

_Y = dict(upper_l=(150, 0), upper_r=(150, 0), fore_l=(155, 0), fore_r=(155, 0))
_M = dict(upper_l=(120, 10), upper_r=(120, 10), fore_l=(-110, 10), fore_r=(-110, 10))
_C = dict(upper_l=(140, 10), fore_l=(200, 10), upper_r=(-40, 30), fore_r=(-80, 30), bend=8)
_A = dict(upper_l=(150, 5), upper_r=(150, 5), fore_l=(200, 5), fore_r=(200, 5))

ACTION = Action("arm_letter_dance", "celebrity", "unsafe", period_s=2.4, keys=(
    (0.0, _Y), (0.18, _Y), (0.25, _M), (0.43, _M), (0.5, _C), (0.68, _C), (0.75, _A), (0.93, _A),
))
