"""Near-miss (vs kneeling): sitting down on a chair: pelvis at knee height like a kneel, but shins vertical."""

from safealign.poses.motions.keyframes import Action

_SEATED = dict(thigh_l=(5, 88), thigh_r=(5, 88), shank_l=(3, 0), shank_r=(3, 0), lean=5, head=8,
               upper_l=(5, 12), upper_r=(5, 12), fore_l=(5, 70), fore_r=(5, 70))

ACTION = Action("sit_on_chair", "near_miss", "near_miss", period_s=3.0, start_phase=(0.15, 0.45),
                counterpart="kneel_both_knees", keys=((0.0, dict()), (0.25, _SEATED), (0.9, _SEATED)))
