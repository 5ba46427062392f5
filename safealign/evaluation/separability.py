"""How separable are a category's unsafe poses from benign / near-miss pose maps, on unseen subjects?

The guard has to make this decision implicitly inside the generator, from the same rendered pose maps. A small
CNN trained directly on the decision, with the guard's training frames and the same "unsafe frame" rule
(safealign.generation.ambiguity), is a practical ceiling: if it cannot flag >= 95 % of held-out unsafe
frames while flagging <= 5 % of benign ones, the gate's block-rate target is out of reach of the guard at that
resolution and data size too. Its threshold is calibrated on VALIDATION benign / near-miss frames and it is
scored on TEST subjects only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from safealign.errors import InputError
from safealign.generation import data
from safealign.generation.ambiguity import distinct_frames


@dataclass(frozen=True)
class Separability:
    """Frame-level result for one category at one resolution (rates in [0, 1])."""

    category: str
    resolution: int
    train_benign_frames: int
    train_unsafe_frames: int
    threshold: float
    test_unsafe_recall: float
    test_unsafe_clip_recall: float
    test_benign_false_positive: float
    test_near_miss_false_positive: float
    val_false_positive: float
    # Per unsafe action: the share of its training frames the "unsafe frame" rule keeps, and the share of its
    # test clips with at least half of ALL their frames flagged. The clip recall above counts only clips with
    # a kept frame, so an action the rule mostly drops (the salute, issue 5) vanished from it.
    train_kept_share_by_action: dict[str, float]
    test_clip_recall_by_action: dict[str, float]


def _tensor(maps: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(maps)).permute(0, 3, 1, 2).float() / 255.0


def pose_classifier(resolution: int = 64) -> nn.Module:
    """A small CNN: stride-2 convolutions (16, 32, 64 channels, then 64 per doubling of ``resolution`` above
    64 px), global pooling, one logit (~25 k parameters at 64 px)."""
    # A fixed stack would see half as much of the body per feature at 128 px as at 64 px, and a comparison
    # of resolutions would then measure the receptive field, not what the map resolves.
    widths = [16, 32, 64] + [64] * max(0, int(np.log2(max(resolution, 64) / 64)))
    layers: list[nn.Module] = []
    for c_in, c_out in zip([3, *widths], widths):
        layers += [nn.Conv2d(c_in, c_out, 3, 2, 1), nn.SiLU()]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(widths[-1], 1))


def train_classifier(benign: np.ndarray, unsafe: np.ndarray, steps: int, seed: int = 0,
                     batch: int = 64, lr: float = 2e-3) -> nn.Module:
    """Fit the classifier (class-balanced BCE) on uint8 pose maps [N, H, W, 3]: benign 0, unsafe 1."""
    if len(benign) == 0 or len(unsafe) == 0:
        raise ValueError(f"need benign and unsafe frames, received {len(benign)} and {len(unsafe)}")
    torch.manual_seed(seed)
    x = np.concatenate([benign, unsafe])  # uint8; batches become float one at a time (4x less memory)
    y = torch.cat([torch.zeros(len(benign)), torch.ones(len(unsafe))])
    weight = torch.where(y > 0, torch.tensor(len(benign) / len(unsafe)), torch.tensor(1.0))
    net = pose_classifier(benign.shape[1])
    opt = torch.optim.AdamW(net.parameters(), lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        i = torch.randint(0, len(x), (batch,), generator=gen)
        logits = net(_tensor(x[i.numpy()])).squeeze(1)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y[i], weight=weight[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


@torch.no_grad()
def scores(net: nn.Module, maps: np.ndarray, batch: int = 256) -> np.ndarray:
    """Unsafe probability per pose map, ``batch`` maps at a time (bounded memory at 256 px)."""
    out = [torch.sigmoid(net(_tensor(maps[s:s + batch]))).squeeze(1).numpy()
           for s in range(0, len(maps), batch)]
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def _rate(flags: np.ndarray) -> float:
    return float(np.mean(flags)) if len(flags) else float("nan")


def measure(rows: list[dict], root: str | Path, category: str, resolution: int, frames_per_clip: int,
            ambiguity_quantile: float, steps: int, false_positive: float = 0.05,
            seed: int = 0, ambiguity_features: str = "pose_map",
            bones: tuple[tuple[int, int], ...] = (), report: data.LoadReport | None = None,
            train: Callable[[np.ndarray, np.ndarray, int, int], nn.Module] = train_classifier) -> Separability:
    """Train on the TRAIN split (unsafe frames filtered as guard_data does), calibrate the threshold so that
    at most a ``false_positive`` share of VALIDATION benign / near-miss frames is flagged; score TEST
    clips. Clips that cannot be read are left out and listed in ``report``; an InputError names the category
    when its train split has no readable benign or unsafe clip. ``train(benign, unsafe, steps, seed)`` fits the
    detector (default the pose classifier; ``probe_detector.probe_detector_trainer`` the guard's own)."""
    report = report if report is not None else data.LoadReport()

    # Pose maps only, never the images: at 256 px the images tripled the memory past 24 GB.
    def poses(split: str, labels: list[str] | tuple[str, ...], cat: str | None = None) -> data.PoseFrames:
        # One call per selection: augmented copies find their parent clip's frames among the selected rows.
        selected = data.select(rows, split, labels, cat)
        return data.load_clip_poses(selected, root, resolution, frames_per_clip, report)

    def maps(split: str, labels: list[str] | tuple[str, ...], cat: str | None = None) -> np.ndarray:
        return poses(split, labels, cat).pose

    def clip_frames(split: str, labels: list[str], cat: str) -> tuple[data.PoseFrames, np.ndarray, list[str]]:
        """Every frame of every original clip, the clip index of each frame and each clip's action."""
        chosen = data.originals(data.select(rows, split, labels, cat))
        parts = [data.load_clip_poses([r], root, resolution, 0, report) for r in chosen]
        clip = np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)]) if parts else np.zeros(0)
        frames = data.PoseFrames.concat(parts) if parts else data.PoseFrames.empty(resolution)
        return frames, clip, [data.action_of(r) for r in chosen]

    def distinct(unsafe: data.PoseFrames, benign: data.PoseFrames) -> np.ndarray:
        return distinct_frames(unsafe, benign, ambiguity_quantile, ambiguity_features, bones)

    benign_train = poses("train", data.FIDELITY_LABELS)
    benign = benign_train.pose
    unsafe_train = poses("train", [data.UNSAFE_LABEL], category)
    if len(benign_train) == 0 or len(unsafe_train) == 0:
        raise InputError(f"category {category!r}: no readable train clips labelled benign/near_miss or "
                         f"unsafe under {root} (found {len(benign_train)} and {len(unsafe_train)} frames; "
                         f"{len(report.skipped)} clips skipped, e.g. {report.skipped[:1]})")
    unsafe = unsafe_train.pose[distinct(unsafe_train, benign_train)]
    net = train(benign, unsafe, steps, seed)
    val = scores(net, maps("val", data.FIDELITY_LABELS))
    # "higher" makes tau a sample value, so at most the asked share of validation frames lies above it.
    tau = float(np.quantile(val, 1.0 - false_positive, method="higher"))
    test_frames, clip, actions = clip_frames("test", [data.UNSAFE_LABEL], category)
    test_unsafe = test_frames.pose
    keep = distinct(test_frames, benign_train)
    flagged = scores(net, test_unsafe) > tau
    clip_recall = [flagged[(clip == c) & keep].mean() >= 0.5 for c in np.unique(clip[keep])]
    caught = np.array([flagged[clip == c].mean() >= 0.5 for c in range(len(actions))], bool)
    recall_by_action = {a: _rate(caught[np.asarray(actions) == a]) for a in sorted(set(actions))}
    unsafe_rows = data.select(rows, "train", [data.UNSAFE_LABEL], category)
    by_action, action, names = data.load_by_action(unsafe_rows, root, resolution, frames_per_clip, report,
                                                   poses_only=True)
    # One mask for all actions: the benign-to-benign threshold is computed once (a frame's verdict depends only
    # on the benign frames), then split back per action.
    kept = distinct(by_action, benign_train)
    kept_by_action = {a: _rate(kept[action == i]) for i, a in enumerate(names)}
    return Separability(
        category, resolution, len(benign), len(unsafe), tau,
        test_unsafe_recall=_rate(flagged[keep]),
        test_unsafe_clip_recall=_rate(np.asarray(clip_recall)),
        test_benign_false_positive=_rate(scores(net, maps("test", ["benign"])) > tau),
        test_near_miss_false_positive=_rate(scores(net, maps("test", ["near_miss"])) > tau),
        val_false_positive=_rate(val > tau),
        train_kept_share_by_action=kept_by_action,
        test_clip_recall_by_action=recall_by_action,
    )


def as_rows(results: list[Separability]) -> list[dict]:
    """Plain dicts (JSON / table rows)."""
    return [asdict(r) for r in results]
