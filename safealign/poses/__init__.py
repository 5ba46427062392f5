"""Pose data: skeleton layouts, conversion, rendering, OpenPose JSON, extraction, motions and curation."""
