"""Benign: jumping on the spot: crouch, take off with the arms swinging up, land."""

from safealign.poses.motions.keyframes import Action

_CROUCH = dict(thigh_l=(5, 45), thigh_r=(5, 45), shank_l=(5, -25), shank_r=(5, -25), lean=25,
               upper_l=(10, -35), upper_r=(10, -35))

ACTION = Action("jump", "benign", "benign", period_s=1.2, keys=(
    (0.0, _CROUCH),
    (0.25, dict(upper_l=(20, 150), upper_r=(20, 150), fore_l=(20, 155), fore_r=(20, 155), lift=0.02, foot_l=150,
                foot_r=150)),
    (0.4, dict(upper_l=(40, 120), upper_r=(40, 120), thigh_l=(5, 15), thigh_r=(5, 15), lift=0.12)),
    (0.6, _CROUCH),
    (0.8, dict()),
))
