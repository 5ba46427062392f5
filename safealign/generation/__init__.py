"""Pose-guided generator (Animate-Anyone style, pixel space) and the PoseGuard LoRA training around it.

Imports only torch, diffusers, peft, safetensors and numpy at module level, so the training code runs on a
machine without mlflow / prefect / dvc / GX (the lent GPU). Submodules: ``model`` (architecture, save/load),
``diffusion`` (noise schedule, loss), ``sampling`` (DDIM generation), ``degrade`` (safety targets),
``training`` (resumable loop), ``lora`` (adapters, fusion), ``data`` (manifest rows to triples),
``loading`` (model directory / registry URI + adapter to a ready generator).
"""
