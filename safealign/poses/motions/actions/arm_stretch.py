"""Benign: stretching, arms overhead with a side bend, then out to the sides."""

from safealign.poses.motions.keyframes import Action

ACTION = Action("arm_stretch", "benign", "benign", period_s=3.0, keys=(
    (0.0, dict()),
    (0.25, dict(upper_l=(170, 0), upper_r=(170, 0), fore_l=(178, 0), fore_r=(178, 0), head=-10)),
    (0.45, dict(upper_l=(165, 0), upper_r=(175, 0), fore_l=(185, 0), fore_r=(170, 0), bend=-12)),
    (0.7, dict(upper_l=(90, 0), upper_r=(90, 0), fore_l=(92, 0), fore_r=(92, 0))),
))
