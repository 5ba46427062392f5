"""Joints hidden under DWPose hands or face dots, recovered from the limbs that end at them.

A limb is drawn only when both of its joints are visible, so its pixels say both joints exist even where a
hand or the face dots, drawn later, hide a disc. A limb is an ellipse whose long axis runs through both joints
and whose centre is the segment's midpoint. Two estimates follow:
- junction: where the axes of two or more of the joint's limbs cross (the nose: neck-nose and nose-eye limbs;
  an eye: nose-eye and eye-ear), right even when the limbs' ends are hidden;
- far end: one limb whose other joint is known: end = 2 * centroid - known (a wrist under a hand).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from safealign.poses.dwpose_palette import LIMB_OFFSET, Box, open_mask
from safealign.poses.topology import N_OPENPOSE18, OPENPOSE_LIMBS

INCIDENT_LIMBS: tuple[tuple[int, ...], ...] = tuple(
    tuple(i for i, limb in enumerate(OPENPOSE_LIMBS) if j in limb) for j in range(N_OPENPOSE18))
# Limb pixels around a joint are looked for within this many joint radii of its centre.
SUPPORT_RADII = 3.0
# A limb piece's direction is trusted when its long axis is this many times its short one (std of pixels).
MIN_ELONGATION = 2.0
# Two axes closer to parallel than this do not fix a junction.
MIN_CROSSING_DEG = 20.0


@dataclass(frozen=True)
class LimbAxis:
    """The long axis of a limb's largest piece: centre and unit direction (pixels), half of its extent."""

    centre: np.ndarray
    direction: np.ndarray
    half_length: float


def limb_masks(classes: np.ndarray, boxes: dict[int, Box], radius: int) -> list[np.ndarray]:
    """Per limb its pixels, bool ``[H, W]`` each, without the one-pixel rims that video compression leaves
    around bright discs (those take the dimmed, limb-like colour)."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)) if radius >= 2 else None
    masks = []
    for i in range(len(OPENPOSE_LIMBS)):
        mask = np.zeros(classes.shape, bool)
        box = boxes.get(LIMB_OFFSET + i)
        if box is not None:
            crop = classes[box] == LIMB_OFFSET + i
            mask[box] = open_mask(crop, kernel) if kernel is not None else crop
        masks.append(mask)
    return masks


def limb_axis(mask: np.ndarray) -> LimbAxis | None:
    """The axis of the largest piece of a limb mask, or None when it is too round to give a direction."""
    ys, xs = np.nonzero(mask)
    if len(xs) < 3:
        return None
    y0, x0 = int(ys.min()), int(xs.min())
    crop = mask[y0:int(ys.max()) + 1, x0:int(xs.max()) + 1].astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(crop, connectivity=8)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    py, px = np.nonzero(labels == biggest)
    if len(px) < 3:
        return None
    points = np.stack([px + x0 + 0.5, py + y0 + 0.5], axis=1)
    centre = points.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov((points - centre).T) + 1e-9 * np.eye(2))
    if values[1] < MIN_ELONGATION ** 2 * max(values[0], 0.25):
        return None
    direction = vectors[:, 1]
    return LimbAxis(centre, direction, float(np.abs((points - centre) @ direction).max()))


def infer_hidden_joints(keypoints: np.ndarray, limbs: list[np.ndarray], present: list[bool], radius: int,
                        confidence: float) -> None:
    """Fill missing joints of ``keypoints`` (OpenPose-18, pixel coordinates) that end present limbs, in
    place, with ``confidence``; repeated while it finds more (an eye after the nose it ends at)."""
    axes = [limb_axis(m) if p else None for m, p in zip(limbs, present)]
    for _ in range(3):
        added = False
        for joint in np.flatnonzero(keypoints[:, 2] <= 0):
            end = _junction(joint, keypoints, axes, radius)
            if end is None:
                end = _far_end_mean(joint, keypoints, limbs, present, radius)
            if end is not None:
                keypoints[joint] = (end[0], end[1], confidence)
                added = True
        if not added:
            return


def _other_end(limb: int, joint: int) -> int:
    a, b = OPENPOSE_LIMBS[limb]
    return b if a == joint else a


def _junction(joint: int, keypoints: np.ndarray, axes: list[LimbAxis | None],
              radius: int) -> np.ndarray | None:
    """Where the axes of the joint's present limbs cross, when two of them cross at a fair angle and the point
    lies at an end of each (beyond its centre from a known other joint)."""
    mine = [(i, axes[i]) for i in INCIDENT_LIMBS[joint] if axes[i] is not None]
    if len(mine) < 2:
        return None
    dirs = np.array([a.direction for _, a in mine])
    cosines = np.abs(dirs @ dirs.T)[np.triu_indices(len(mine), 1)]
    if cosines.min() > np.cos(np.radians(MIN_CROSSING_DEG)):
        return None
    normal_sum, rhs = np.zeros((2, 2)), np.zeros(2)
    for _, a in mine:
        proj = np.eye(2) - np.outer(a.direction, a.direction)
        normal_sum += proj
        rhs += proj @ a.centre
    point = np.linalg.solve(normal_sum, rhs)
    for i, a in mine:
        offset = point - a.centre
        along = float(offset @ a.direction)
        across = abs(float(offset[0] * a.direction[1] - offset[1] * a.direction[0]))
        if across > 2 * radius or not 0.5 * a.half_length <= abs(along) <= 3 * a.half_length + 4 * radius:
            return None
        other = keypoints[_other_end(i, joint)]
        if other[2] > 0 and float((other[:2] - a.centre) @ offset) > 0:
            return None
    return point


def _far_end_mean(joint: int, keypoints: np.ndarray, limbs: list[np.ndarray], present: list[bool],
                  radius: int) -> np.ndarray | None:
    ends = []
    for i in INCIDENT_LIMBS[joint]:
        other = keypoints[_other_end(i, joint)]
        if present[i] and other[2] > 0:
            end = _far_end(limbs[i], other[:2], radius)
            if end is not None:
                ends.append(end)
    return np.mean(ends, axis=0) if ends else None


def _far_end(limb: np.ndarray, known: np.ndarray, radius: int) -> np.ndarray | None:
    """The other end (pixels) of the limb ellipse that starts at ``known``, or None where no piece of it
    touches ``known``. Its pieces are the component touching ``known`` plus those further along the same line
    (a limb drawn over it can cut it in two); pixels of its colour elsewhere (compression rims) are left
    out."""
    ys, xs = np.nonzero(limb)
    y0, x0 = int(ys.min()), int(xs.min())
    known = known - (x0, y0)
    crop = limb[y0:int(ys.max()) + 1, x0:int(xs.max()) + 1]
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(crop.astype(np.uint8), connectivity=8)
    reach = int(np.ceil(SUPPORT_RADII * radius)) + 1
    x, y = int(known[0]), int(known[1])
    if not (-reach <= x < crop.shape[1] + reach and -reach <= y < crop.shape[0] + reach):
        return None
    window = labels[max(0, y - reach):y + reach + 1, max(0, x - reach):x + reach + 1]
    seeds = [k for k in np.unique(window) if k > 0]
    if not seeds:
        return None
    seed = max(seeds, key=lambda k: stats[k, cv2.CC_STAT_AREA])
    axis = centroids[seed] + 0.5 - known
    length = float(np.linalg.norm(axis))
    if length < radius:
        return None
    axis /= length
    pieces = [seed]
    for k in range(1, n):
        offset = centroids[k] + 0.5 - known
        along, across = float(offset @ axis), abs(float(offset[0] * axis[1] - offset[1] * axis[0]))
        if k != seed and along > length and across <= 2 * radius and stats[k, cv2.CC_STAT_AREA] >= 2:
            pieces.append(k)
    py, px = np.nonzero(np.isin(labels, pieces))
    centre = np.array([px.mean(), py.mean()]) + 0.5
    return 2.0 * centre - known + (x0, y0)
