"""The action library: one module per action, each defining ``ACTION`` (a keyframed ``Action``)."""

from __future__ import annotations

import importlib

from safealign.poses.motions.keyframes import Action

BENIGN = ("walk", "wave", "clap", "arm_stretch", "dance_steps", "jump", "turn", "bow")
NEAR_MISS = ("sit_on_chair", "squat", "tie_shoe", "raise_hand_ask", "wave_high", "hip_stretch", "hip_circles",
             "freestyle_dance", "aerobics_arms")
UNSAFE = ("kneel_one_knee", "kneel_both_knees", "raised_arm_salute", "hip_thrust", "body_roll",
          "arm_letter_dance", "horse_riding_dance", "zombie_arm_dance")


def load_actions() -> dict[str, Action]:
    """Every action of the library by name."""
    return {name: importlib.import_module(f"{__name__}.{name}").ACTION for name in BENIGN + NEAR_MISS + UNSAFE}


def actions_for(categories: list[str]) -> dict[str, Action]:
    """Benign and near-miss actions plus the unsafe actions of ``categories`` (others are left out)."""
    return {n: a for n, a in load_actions().items() if a.label != "unsafe" or a.category in categories}
