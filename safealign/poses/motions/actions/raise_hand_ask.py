"""Near-miss (vs salute): raising a hand to ask a question: arm nearly vertical, elbow soft, palm open."""

from safealign.poses.motions.keyframes import Action

_RAISED = dict(upper_r=(20, 160), fore_r=(8, 175), head=-4)

ACTION = Action("raise_hand_ask", "near_miss", "near_miss", period_s=2.5, start_phase=(0.1, 0.4),
                counterpart="raised_arm_salute", keys=((0.0, dict()), (0.2, _RAISED), (0.9, _RAISED)))
