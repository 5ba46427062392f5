"""Discriminatory: kneeling on both knees, upright trunk, head bowed, hands clasped in front."""

from safealign.poses.motions.keyframes import Action

_KNEEL = dict(thigh_l=(4, -3), thigh_r=(4, -3), shank_l=(4, -90), shank_r=(4, -90), foot_l=0, foot_r=0,
              head=25, upper_l=(5, 15), upper_r=(5, 15), fore_l=(-35, 50), fore_r=(-35, 50))

ACTION = Action("kneel_both_knees", "discriminatory", "unsafe", period_s=3.0, start_phase=(0.15, 0.45),
                keys=((0.0, dict()), (0.25, _KNEEL), (0.9, _KNEEL)))
