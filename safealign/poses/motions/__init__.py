"""Procedural motion library: a kinematic MediaPipe-33 skeleton animated by keyframed actions.

``clip.synthesize_pose`` turns (action, body, camera, timing) into a [T, 33, 4] pose clip;
``actions.load_actions`` lists the benign, near-miss and unsafe actions (actions/, one file each);
``dataset.iter_clips`` draws the embedded dataset. Import the submodules themselves: this package
re-exports nothing, so reading its params section imports no numpy.
"""
