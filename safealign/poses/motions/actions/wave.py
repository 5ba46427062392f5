"""Benign: a friendly wave, upper arm out at shoulder height, forearm swinging."""

from safealign.poses.motions.keyframes import Action

_UP = dict(upper_r=(80, 25), fore_r=(150, 15), head=-3)

ACTION = Action("wave", "benign", "benign", period_s=0.8,
                keys=((0.0, _UP), (0.5, {**_UP, "fore_r": (195, 15)})))
