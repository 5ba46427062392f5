"""Benign: a polite bow from the hips, arms hanging, then straightening up."""

from safealign.poses.motions.keyframes import Action

_BOWED = dict(lean=50, head=15, upper_l=(4, 15), upper_r=(4, 15), fore_l=(4, 20), fore_r=(4, 20),
              thigh_l=(3, -8), thigh_r=(3, -8))

ACTION = Action("bow", "benign", "benign", period_s=2.5, start_phase=(0.1, 0.4),
                keys=((0.0, dict()), (0.35, _BOWED), (0.65, _BOWED)))
