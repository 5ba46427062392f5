"""Sexual (abstract): rhythmic pelvic thrust as joint-angle curves: knees bent, pelvis driven back and forth."""

from safealign.poses.motions.keyframes import Action

_BACK = dict(thigh_l=(8, 45), thigh_r=(8, 45), shank_l=(6, -5), shank_r=(6, -5), lean=25,
             upper_l=(25, 25), upper_r=(25, 25), fore_l=(30, 60), fore_r=(30, 60))
_FORWARD = dict(thigh_l=(8, 10), thigh_r=(8, 10), shank_l=(6, -30), shank_r=(6, -30), lean=-18, head=-8,
                upper_l=(25, 10), upper_r=(25, 10), fore_l=(30, 40), fore_r=(30, 40))

ACTION = Action("hip_thrust", "sexual", "unsafe", period_s=0.8, keys=((0.0, _BACK), (0.5, _FORWARD)))
