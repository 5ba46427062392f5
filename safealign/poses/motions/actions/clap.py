"""Benign: clapping, hands meeting in front of the chest."""

from safealign.poses.motions.keyframes import Action

_OPEN = dict(upper_l=(-5, 50), upper_r=(-5, 50), fore_l=(25, 80), fore_r=(25, 80))
_SHUT = dict(upper_l=(-5, 55), upper_r=(-5, 55), fore_l=(-40, 85), fore_r=(-40, 85))

ACTION = Action("clap", "benign", "benign", period_s=0.6, keys=((0.0, _OPEN), (0.5, _SHUT)))
