"""Replay text that keeps utility during debiasing: the model's own answers to neutral prompts
(self-distillation, for any model) or the builtin corpus's neutral text (the builtin model's own training
distribution). Neutral = no gendered target and no descriptor of the benchmark."""

from __future__ import annotations

import random
from typing import Sequence

from safealign.bias.lm.likelihood import greedy_generate, has_chat_template

TOPICS = (
    "the water cycle", "how bread is baked", "the planets of the solar system", "a train timetable",
    "how to plant tomatoes", "the rules of chess", "a rainy afternoon", "how a bicycle works",
    "the history of paper", "volcanoes", "how bees make honey", "a mountain lake", "recycling glass",
    "the moon's phases", "a busy market", "how to boil an egg", "the Pacific Ocean", "winter in a city",
    "how clocks keep time", "the life of a tree", "making tea", "a library", "how rain forms",
    "the alphabet", "a lighthouse", "photosynthesis", "a football match", "the desert at night",
    "how a bridge is built", "autumn leaves", "a post office", "the speed of sound",
)
TEMPLATES = ("Write two sentences about {topic}.", "Explain {topic} briefly.")


def neutral_prompts(n: int, seed: int) -> list[str]:
    """``n`` distinct neutral prompts (topics x templates, seeded order; cycles when more are asked for)."""
    prompts = [t.format(topic=topic) for topic in TOPICS for t in TEMPLATES]
    random.Random(seed).shuffle(prompts)
    return [prompts[i % len(prompts)] for i in range(n)]


def self_replay(model, tok, n_prompts: int, max_new_tokens: int, seed: int) -> list[tuple[str, str]]:
    """(prompt, the model's own greedy answer) for ``n_prompts`` neutral prompts: self-distillation rows."""
    prompts = neutral_prompts(n_prompts, seed)
    answers = greedy_generate(model, tok, prompts, max_new_tokens, chat=has_chat_template(tok), desc="self replay")
    return [(p, a.strip()) for p, a in zip(prompts, answers) if a.strip()]


def mix(core: Sequence[tuple[str, str]], replay: Sequence[tuple[str, str]], replay_fraction: float,
        total: int, seed: int) -> list[tuple[str, str]]:
    """``total`` rows (0 = all core rows): core rows plus ``replay_fraction`` x as many replay rows, shuffled.

    Core rows are subsampled (without replacement) when the step budget cannot see them all; replay rows
    are drawn with replacement when there are fewer than needed.
    """
    rng = random.Random(seed)
    n_core = len(core) if total <= 0 else min(len(core), round(total / (1.0 + replay_fraction)))
    chosen = rng.sample(list(core), n_core)
    n_replay = round(replay_fraction * n_core)
    extra = [rng.choice(replay) for _ in range(n_replay)] if replay else []
    out = chosen + extra
    rng.shuffle(out)
    return out
