"""Posture tokens: the clip's keypoints as a sequence of tokens that the denoising UNet cross-attends to.

The pose map tells the UNet *where* each limb is, locally. Whether a posture is unsafe (an arm's angle to
the torso, a held kneel, a rhythmic motion) is a property of the keypoint sequence as a whole. The encoder
below turns the whole clip's 2-D keypoints and visibilities into one token per frame (frame-time embedding,
the frame being generated marked), so that the decision is available where concept erasure acts: in the
keys and values of cross-attention (../shared/docs/erasure_anchors.md).

Inputs are raw keypoints [B, T, J, 3] = (x, y normalised to the frame, visibility) of a ``TokenJoints``
selection of the landmark layout; the features (clip-normalised positions, bone directions, visibility,
absolute position) are computed inside the model, so a caller passes keypoints, never features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

VISIBLE = 0.5


@dataclass(frozen=True)
class TokenJoints:
    """Which landmarks of a layout become token keypoints, and how a clip is normalised.

    ``joints``: landmark indices of the layout; ``bones``: pairs of positions in ``joints`` whose directions
    are features; ``centre``: positions whose mean, over the clip, is the origin; ``scale``: two groups of
    positions whose midpoints' distance (median over the clip) is the unit length (the torso for bodies,
    the eye distance for faces)."""

    joints: tuple[int, ...]
    bones: tuple[tuple[int, int], ...]
    centre: tuple[int, ...]
    scale: tuple[tuple[int, ...], tuple[int, ...]]

    def select(self, landmarks: np.ndarray) -> np.ndarray:
        """Landmarks [..., K, >=3] (x, y, ..., visibility last) -> token keypoints float32 [..., J, 3]."""
        lm = np.asarray(landmarks, dtype=np.float32)[..., list(self.joints), :]
        out = np.concatenate([lm[..., :2], lm[..., -1:]], axis=-1)
        bad = ~np.isfinite(out).all(axis=-1)
        out[bad] = 0.0
        return out


def keypoint_features(kp: torch.Tensor, bones: list, centre: list, scale: list) -> torch.Tensor:
    """Token keypoints [B, T, J, 3] -> per-frame features [B, T, F] (see module docstring)."""
    xy, vis = kp[..., :2], kp[..., 2]
    ok = (vis >= VISIBLE) & torch.isfinite(xy).all(-1)
    xy = torch.where(ok[..., None], torch.nan_to_num(xy), torch.zeros_like(xy))
    okf = ok.to(xy.dtype)

    def midpoint(idx: list) -> tuple[torch.Tensor, torch.Tensor]:
        w = okf[..., idx]
        return (xy[..., idx, :] * w[..., None]).sum(-2) / w.sum(-1, keepdim=True).clamp(min=1), w.min(-1).values

    c, c_ok = midpoint(list(centre))                                        # [B, T, 2], [B, T]
    origin = (c * c_ok[..., None]).sum(1) / c_ok.sum(1, keepdim=True).clamp(min=1)
    origin = torch.where(c_ok.sum(1, keepdim=True) > 0, origin, torch.full_like(origin, 0.5))
    a, a_ok = midpoint(list(scale[0]))
    b, b_ok = midpoint(list(scale[1]))
    length = (a - b).norm(dim=-1)
    both = (a_ok * b_ok) > 0
    big = torch.where(both, length, torch.full_like(length, float("nan")))
    unit = torch.nanmedian(big, dim=1).values.nan_to_num(0.25).clamp(min=1e-3)     # [B]
    rel = (xy - origin[:, None, None]) / unit[:, None, None, None] * okf[..., None]
    dirs = []
    for i, j in bones:
        d = xy[..., j, :] - xy[..., i, :]
        m = (okf[..., i] * okf[..., j])[..., None]
        dirs.append(d / d.norm(dim=-1, keepdim=True).clamp(min=1e-6) * m)
    absolute = (xy - 0.5) * 2.0 * okf[..., None]
    parts = [rel.flatten(-2), okf, absolute.flatten(-2)] + ([torch.cat(dirs, -1)] if dirs else [])
    return torch.cat(parts, -1)


def feature_size(n_joints: int, n_bones: int) -> int:
    """Width of ``keypoint_features`` for a joint and bone count."""
    return 2 * n_joints + n_joints + 2 * n_joints + 2 * n_bones


class TokenBlock(torch.nn.Module):
    """Pre-norm transformer block with plain ``nn.Linear`` projections (q, k, v, o, fc1, fc2: LoRA targets)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = torch.nn.LayerNorm(dim), torch.nn.LayerNorm(dim)
        self.q, self.k, self.v, self.o = (torch.nn.Linear(dim, dim) for _ in range(4))
        self.fc1, self.fc2 = torch.nn.Linear(dim, 2 * dim), torch.nn.Linear(2 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h = self.norm1(x)
        q, k, v = (f(h).view(b, t, self.heads, d // self.heads).transpose(1, 2) for f in (self.q, self.k, self.v))
        x = x + self.o(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class PoseTokenEncoder(ModelMixin, ConfigMixin):
    """Keypoints of a whole clip [B, T, J, 3] and the generated frame's index [B] -> tokens [B, T, dim].

    ``reconstruct`` is a linear read-out of each token back to its frame's keypoint features, used only by
    ``masked_keypoint_loss`` (pretraining): frames hidden from the encoder must be recovered from the others, so
    the tokens come to describe the posture and its motion in a form a linear map can read."""

    @register_to_config
    def __init__(self, n_joints: int = 13, bones: tuple = (), centre: tuple = (7, 8),
                 scale: tuple = ((1, 2), (7, 8)), dim: int = 64, layers: int = 2, heads: int = 4,
                 max_frames: int = 64) -> None:
        super().__init__()
        self.inp = torch.nn.Linear(feature_size(n_joints, len(bones)), dim)
        self.time = torch.nn.Embedding(max_frames, dim)
        self.mark = torch.nn.Embedding(2, dim)
        self.blocks = torch.nn.ModuleList(TokenBlock(dim, heads) for _ in range(layers))
        self.norm = torch.nn.LayerNorm(dim)
        self.reconstruct = torch.nn.Linear(dim, feature_size(n_joints, len(bones)))

    def features(self, keypoints: torch.Tensor) -> torch.Tensor:
        """The per-frame keypoint features [B, T, F] this encoder reads."""
        cfg = self.config
        return keypoint_features(keypoints.float(), [tuple(x) for x in cfg.bones], list(cfg.centre),
                                 [list(g) for g in cfg.scale])

    def forward(self, keypoints: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        b, t = keypoints.shape[:2]
        if t > cfg.max_frames:
            raise ValueError(f"pose tokens: {t} frames, at most {cfg.max_frames} per clip")
        feats = self.features(keypoints)
        steps = torch.arange(t, device=keypoints.device)
        marked = (steps[None] == frame.view(-1, 1).to(keypoints.device)).long()
        x = self.inp(feats.to(self.inp.weight.dtype)) + self.time(steps)[None] + self.mark(marked)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


def masked_keypoint_loss(encoder: PoseTokenEncoder, keypoints: torch.Tensor, generator: torch.Generator,
                         share: float = 0.3) -> torch.Tensor:
    """Masked keypoint modelling: a random ``share`` of each clip's frames is hidden (its keypoints made
    invisible); the encoder's tokens of those frames must reconstruct their keypoint features (mean square)."""
    b, t = keypoints.shape[:2]
    hidden = (torch.rand((b, t), generator=generator) < share).to(keypoints.device)
    hidden[:, 0] |= ~hidden.any(dim=1)                     # at least one hidden frame per clip
    target = encoder.features(keypoints)
    masked = keypoints.masked_fill(hidden[..., None, None], 0.0)
    no_frame = torch.full((b,), -1, dtype=torch.long, device=keypoints.device)   # no frame is being generated
    tokens = encoder(masked, no_frame)
    return ((encoder.reconstruct(tokens) - target) ** 2)[hidden].mean()


class ReferenceTokenEncoder(ModelMixin, ConfigMixin):
    """Reference image [B, 3, H, W] in [-1, 1] -> patch tokens [B, (H/patch)^2, dim]: a stand-in for Animate
    Anyone's CLIP image embedding (appearance as tokens the UNet cross-attends to)."""

    @register_to_config
    def __init__(self, resolution: int = 64, patch: int = 8, dim: int = 64) -> None:
        super().__init__()
        self.proj = torch.nn.Conv2d(3, dim, patch, stride=patch)
        self.position = torch.nn.Parameter(torch.zeros(1, (resolution // patch) ** 2, dim))
        self.norm = torch.nn.LayerNorm(dim)

    def forward(self, reference: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(reference).flatten(2).transpose(1, 2) + self.position)
