"""Prefect orchestration over the DVC stage graph. Never imports torch, diffusers or mediapipe."""
