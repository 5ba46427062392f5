"""Facial-landmark variant of PoseGuard (issue 9): face140 layout, procedural faces, rendering, extraction."""
