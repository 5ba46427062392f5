"""Procedural motion library: a kinematic MediaPipe-33 skeleton animated by keyframed actions.

``synthesize_pose`` turns (action, body, camera, timing) into a [T, 33, 4] pose clip; ``load_actions``
lists the benign, near-miss and unsafe actions (safealign/poses/motions/actions/, one file each).
"""

from safealign.poses.motions.actions import actions_for, load_actions
from safealign.poses.motions.camera import Camera, random_camera
from safealign.poses.motions.clip import Timing, neutral_pose, synthesize_pose
from safealign.poses.motions.keyframes import Action
from safealign.poses.motions.skeleton import Body, random_body

__all__ = ["Action", "Body", "Camera", "Timing", "actions_for", "load_actions", "neutral_pose", "random_body",
           "random_camera", "synthesize_pose"]
