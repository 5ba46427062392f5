"""Near-miss (vs celebrity choreography): aerobics arm routine, front raise, side raise, overhead press."""

from safealign.poses.motions.keyframes import Action

ACTION = Action("aerobics_arms", "near_miss", "near_miss", period_s=2.4, counterpart="arm_letter_dance",
                keys=(
    (0.0, dict(upper_l=(0, 90), upper_r=(0, 90), fore_l=(0, 90), fore_r=(0, 90))),
    (0.25, dict(upper_l=(90, 0), upper_r=(90, 0), fore_l=(90, 0), fore_r=(90, 0))),
    (0.5, dict(upper_l=(160, 0), upper_r=(160, 0), fore_l=(175, 0), fore_r=(175, 0))),
    (0.75, dict(upper_l=(10, 30), upper_r=(10, 30), fore_l=(10, 40), fore_r=(10, 40))),
))
