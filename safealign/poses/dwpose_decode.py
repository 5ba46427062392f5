"""Keypoints back from a rendered OpenPose / DWPose skeleton (image or video), as the generator needs them.

A render (poseguard.md section 3.4; ``safealign.poses.render``) draws limbs as ellipses at 60 % of their
colour and each visible joint as a disc of radius 4 (at a 512-px short side) in its full colour, last. DWPose
adds hands (thin HSV-coloured edges, joint discs in (0, 0, 255), the left knee's colour) and white face dots.

Decoding, per frame (a frame whose lit pixels are mostly not palette colours is no render: nothing found):
1. each pixel takes its nearest palette class (``safealign.poses.dwpose_palette``);
2. per joint colour, a morphological opening sized from the short side removes thin strokes (hand edges);
   white face dots count as possible occluders there, so a nose half-hidden by dots survives;
3. the colour's disc-sized blobs are candidates; the one with most of the joint's incident limbs (their
   colour) around it wins, e.g. the left knee over the hand joints; a candidate no present limb touches is
   refused where the joint has a present limb;
4. a joint still missing but ending present limbs (a wrist under a hand, an eye under face dots) is recovered
   from those limbs (``safealign.poses.dwpose_limbs``);
5. a frame with fewer than ``MIN_BODY_JOINTS`` joints holds no body: all its joints are missing.
Confidence: 0.5 * disc area share (of the expected disc) + 0.5 * share of present incident limbs touching
it; a joint found from its limbs only gets ``INFERRED_CONFIDENCE``.

Limits (tests/test_dwpose_decode.py): mean error 0.1-0.3 % of the short side on renders and their H.264 copies
at 256 px and more, hands and face dots included. Below that, H.264 (4:2:0) blurs 3-px discs into their limbs:
at 128x192 the mean error reaches 1.6-3.4 % with a few wrong joints, so small videos should be passed as
keypoints. Under DWPose face dots the nose often shows no disc; it is then the end of the visible part of the
neck-nose limb, i.e. too low (around the mouth).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from safealign.errors import InputError
from safealign.poses.convert import openpose18_to_mediapipe
from safealign.poses.dwpose_limbs import INCIDENT_LIMBS, SUPPORT_RADII, infer_hidden_joints, limb_masks
from safealign.poses.dwpose_palette import BLACK, UNKNOWN, WHITE, Box, class_boxes, classify_pixels, open_mask
from safealign.poses.render import scaled_size
from safealign.poses.topology import N_OPENPOSE18

MIN_BODY_JOINTS = 4
# Share of a frame's non-canvas pixels that must be palette colours: renders, even as small H.264 video, have
# 0.85 or more; photographs and video of people 0.55 or less.
MIN_PALETTE_SHARE = 0.7
INFERRED_CONFIDENCE = 0.5
JOINT_RADIUS_AT_512 = 4     # render.py and DWPose
# A blob larger than this many expected discs is not one joint (a hand of (0, 0, 255) discs, a coloured area).
MAX_DISC_AREAS = 3.0
THIN_KERNEL = np.ones((2, 2), np.uint8)   # removes 1-px strokes only


@dataclass(frozen=True)
class _Blob:
    x: float          # pixel coordinates of the centroid (pixel centres at +0.5)
    y: float
    area: int


def missing_keypoints() -> np.ndarray:
    """OpenPose-18 keypoints float32 ``[18, 3]`` with every joint missing (NaN coordinates, confidence 0)."""
    out = np.full((N_OPENPOSE18, 3), np.nan, np.float32)
    out[:, 2] = 0.0
    return out


def decode_openpose_render(image: np.ndarray) -> np.ndarray:
    """One rendered skeleton uint8 RGB ``[H, W, 3]`` -> OpenPose-18 keypoints float32 ``[18, 3]``.

    x, y are normalised to the image, confidence is in [0, 1]; a missing joint has NaN coordinates and
    confidence 0. A frame that is not a render (under ``MIN_PALETTE_SHARE`` of its lit pixels in the palette)
    or shows fewer than ``MIN_BODY_JOINTS`` joints is returned all missing.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"decode_openpose_render: expected uint8 RGB [H, W, 3], got {image.dtype} "
                         f"{list(image.shape)}")
    height, width = image.shape[:2]
    classes = classify_pixels(image)
    lit = classes != BLACK
    if not lit.any() or float((classes[lit] != UNKNOWN).mean()) < MIN_PALETTE_SHARE:
        return missing_keypoints()
    radius = scaled_size(width, height, JOINT_RADIUS_AT_512)
    boxes = class_boxes(classes, pad=2 * radius + 2)
    limbs = limb_masks(classes, boxes, radius)
    present = [int(m.sum()) >= max(3, radius * radius) for m in limbs]
    keypoints = _find_discs(classes, boxes, limbs, present, radius)
    infer_hidden_joints(keypoints, limbs, present, radius, INFERRED_CONFIDENCE)
    if int((keypoints[:, 2] > 0).sum()) < MIN_BODY_JOINTS:
        return missing_keypoints()
    keypoints[:, :2] /= (width, height)
    inside = ((keypoints[:, :2] >= 0) & (keypoints[:, :2] <= 1)).all(axis=1)
    keypoints[~inside] = (np.nan, np.nan, 0.0)
    return keypoints


def _find_discs(classes: np.ndarray, boxes: dict[int, Box], limbs: list[np.ndarray], present: list[bool],
                radius: int) -> np.ndarray:
    """OpenPose-18 keypoints in pixels ``[18, 3]`` of the joints whose disc is visible (others missing)."""
    keypoints = missing_keypoints()
    white = classes == WHITE
    for joint in range(N_OPENPOSE18):
        blobs = _disc_blobs(classes, joint, boxes.get(joint), white, radius, _opening_kernel(radius))
        chosen = _choose_blob(blobs, joint, limbs, present, radius)
        if chosen is None and radius > 2:
            # a disc thinned by compression or half hidden: thinner blobs, but only at the end of a limb
            blobs = _disc_blobs(classes, joint, boxes.get(joint), white, radius, THIN_KERNEL)
            chosen = _choose_blob(blobs, joint, limbs, present, radius, need_limb=True)
        if chosen is not None:
            blob, confidence = chosen
            keypoints[joint] = (blob.x, blob.y, confidence)
    return keypoints


def _opening_kernel(radius: int) -> np.ndarray | None:
    """Structuring element that a joint disc of ``radius`` survives, even blurred by video compression, and a
    hand edge (2 px at 512, 1 px below 384) does not; None where discs are as thin as edges (radius 1)."""
    if radius <= 1:
        return None
    if radius == 2:
        return THIN_KERNEL
    size = 2 * int(round(0.6 * radius)) + 1
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def _disc_blobs(classes: np.ndarray, joint: int, box: Box | None, occluders: np.ndarray,
                radius: int, kernel: np.ndarray | None) -> list[_Blob]:
    """Disc-sized connected blobs of the joint's colour after an opening by ``kernel`` removed thin strokes
    (``occluders`` may complete a disc)."""
    if box is None:
        return []
    mask = classes[box] == joint
    if kernel is not None:
        mask = open_mask(mask | occluders[box], kernel) & mask
    n, _, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    max_area = MAX_DISC_AREAS * np.pi * (radius + 1) ** 2
    y0, x0 = box[0].start, box[1].start
    return [_Blob(float(centroids[k, 0]) + x0 + 0.5, float(centroids[k, 1]) + y0 + 0.5,
                  int(stats[k, cv2.CC_STAT_AREA]))
            for k in range(1, n) if stats[k, cv2.CC_STAT_AREA] <= max_area]


def _support(blob: _Blob, limb: np.ndarray, radius: int) -> int:
    """Pixels of one limb colour within ``SUPPORT_RADII`` joint radii of the blob's centre."""
    reach = int(np.ceil(SUPPORT_RADII * radius)) + 1
    h, w = limb.shape
    x0, x1 = max(0, int(blob.x) - reach), min(w, int(blob.x) + reach + 1)
    y0, y1 = max(0, int(blob.y) - reach), min(h, int(blob.y) + reach + 1)
    return int(limb[y0:y1, x0:x1].sum())


def _choose_blob(blobs: list[_Blob], joint: int, limbs: list[np.ndarray], present: list[bool],
                 radius: int, need_limb: bool = False) -> tuple[_Blob, float] | None:
    """The candidate disc of ``joint`` best supported by its present limbs, with its confidence (or None);
    ``need_limb``: only a candidate that a present limb touches."""
    if not blobs:
        return None
    mine = [i for i in INCIDENT_LIMBS[joint] if present[i]]
    disc_area = np.pi * radius * radius
    best, best_key, best_share = None, None, 0.0
    for blob in blobs:
        touching = sum(_support(blob, limbs[i], radius) >= 2 for i in mine)
        key = (touching, blob.area)
        if best_key is None or key > best_key:
            best, best_key, best_share = blob, key, touching / len(mine) if mine else 0.5
    if (mine or need_limb) and best_key[0] == 0:
        return None      # its limbs are drawn, yet no candidate ends one: a hand joint or a stray stroke
    if not mine and len(blobs) > 1:
        return None      # no limb to tell a lone joint from same-coloured hand joints
    size = min(1.0, best.area / (0.6 * disc_area))
    return best, float(0.5 * size + 0.5 * best_share)


def read_pose_render(path: str | Path, max_frames: int | None = None) -> tuple[np.ndarray, float]:
    """Keypoints of a rendered skeleton video or image -> (MediaPipe-33 poses float32 ``[T, 33, 4]``, fps).

    An image is one frame with fps 0. Raises ``InputError`` naming the file when it is not media, cannot be
    read, or no frame shows a skeleton in the OpenPose / DWPose colours.
    """
    from safealign.video.io import (IMAGE_SUFFIXES, VIDEO_SUFFIXES, iter_video, media_kind, probe_video,
                                    read_image)

    path = Path(path)
    kind = media_kind(path)
    if kind == "other":
        known = ", ".join(sorted(VIDEO_SUFFIXES | IMAGE_SUFFIXES))
        raise InputError(f"{path}: unsupported file type '{path.suffix}' for a pose render (expected one of "
                         f"{known})")
    if kind == "image":
        keypoints, fps = np.stack([decode_openpose_render(read_image(path))]), 0.0
    else:
        keypoints = np.stack([decode_openpose_render(f) for f in iter_video(path, max_frames)])
        fps = probe_video(path)[1]
    if not (keypoints[..., 2] > 0).any():
        raise InputError(
            f"{path}: no OpenPose/DWPose skeleton found in any of its {len(keypoints)} frame(s) (expected "
            f"coloured limbs and joint discs on black, poseguard.md 3.4); pass the keypoints instead: an "
            f"OpenPose JSON folder (*_keypoints.json) or a MediaPipe .npz clip (pose [T, 33, 4])")
    return openpose18_to_mediapipe(keypoints), fps
