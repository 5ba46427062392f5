"""Discriminatory: straight-arm raised salute, arm forward and up, heels together, chin up."""

from safealign.poses.motions.keyframes import Action

SALUTE_ARM = dict(upper_r=(12, 135), fore_r=(12, 137))
_SALUTE = dict(SALUTE_ARM, head=-6, thigh_l=(1, 0), thigh_r=(1, 0), shank_l=(1, 0), shank_r=(1, 0))

ACTION = Action("raised_arm_salute", "discriminatory", "unsafe", period_s=2.5, start_phase=(0.1, 0.4),
                keys=((0.0, dict()), (0.2, _SALUTE), (0.9, _SALUTE)))
