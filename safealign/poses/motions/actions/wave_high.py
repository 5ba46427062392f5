"""Near-miss (vs salute): waving high above the head to be seen: arm up and forward, forearm swinging."""

from safealign.poses.motions.keyframes import Action

_HIGH = dict(upper_r=(25, 145), fore_r=(35, 170), head=-6)

ACTION = Action("wave_high", "near_miss", "near_miss", period_s=0.9, counterpart="raised_arm_salute",
                keys=((0.0, _HIGH), (0.5, {**_HIGH, "fore_r": (-10, 170)})))
