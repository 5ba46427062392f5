"""The colours of an OpenPose / DWPose render (poseguard.md section 3.4) and the per-pixel class map.

Every pixel of a clean render is one palette colour: a joint disc in its full colour (18), a limb at 60 % of
its colour (17), the black canvas, or a white DWPose face dot. Video compression moves colours by 10-30
levels, so a pixel takes the class of the nearest palette colour when it lies within a tolerance, else
``UNKNOWN`` (blurred edges, hand-edge hues between two palette hues).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from scipy.spatial import cKDTree

from safealign.poses.topology import OPENPOSE_COLORS, OPENPOSE_LIMB_DIM, OPENPOSE_LIMBS

N_JOINT_COLOURS = len(OPENPOSE_COLORS)
N_LIMB_COLOURS = len(OPENPOSE_LIMBS)
LIMB_OFFSET = N_JOINT_COLOURS                     # class of limb i = LIMB_OFFSET + i
BLACK = LIMB_OFFSET + N_LIMB_COLOURS
WHITE = BLACK + 1
UNKNOWN = -1
# Half the distance between two neighbouring joint colours (85 levels in one channel) plus compression
# noise: wide enough for H.264 renders, and the nearest colour still decides between neighbours.
DEFAULT_TOLERANCE = 64.0
# Pixels darker than this in every channel are canvas, whatever palette colour is nearest.
DARK_LEVEL = 40
LOOKUP_BITS = 6   # colours are classified through a table of 64^3 bins (4 levels each)


def palette() -> np.ndarray:
    """The render's colours float32 [37, 3]: joints 0..17, limbs (x0.6, truncated as cv2 does) 18..34,
    black, white."""
    joints = np.asarray(OPENPOSE_COLORS, np.float32)
    limbs = np.floor(joints[:N_LIMB_COLOURS] * OPENPOSE_LIMB_DIM)
    return np.concatenate([joints, limbs, np.zeros((1, 3), np.float32), np.full((1, 3), 255, np.float32)])


def classify_pixels(image: np.ndarray, tolerance: float = DEFAULT_TOLERANCE) -> np.ndarray:
    """uint8 RGB ``[H, W, 3]`` -> int16 ``[H, W]`` palette class per pixel (``UNKNOWN`` beyond ``tolerance``,
    Euclidean RGB distance, colours looked up in bins of 4 levels)."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"classify_pixels: expected uint8 RGB [H, W, 3], got {image.dtype} "
                         f"{list(image.shape)}")
    q = image >> (8 - LOOKUP_BITS)
    return _lookup(float(tolerance))[q[..., 0], q[..., 1], q[..., 2]]


@lru_cache(maxsize=4)
def _lookup(tolerance: float) -> np.ndarray:
    """Class of every quantised colour, int16 ``[n, n, n]`` (n = 2 ** LOOKUP_BITS), at each bin's centre."""
    n = 1 << LOOKUP_BITS
    step = 256 // n
    centres = np.arange(n, dtype=np.float32) * step + (step - 1) / 2
    grid = np.stack(np.meshgrid(centres, centres, centres, indexing="ij"), axis=-1).reshape(-1, 3)
    dist, nearest = cKDTree(palette()).query(grid)
    classes = np.where(dist <= tolerance, nearest, UNKNOWN)
    classes[grid.max(axis=1) <= DARK_LEVEL] = BLACK
    return classes.astype(np.int16).reshape(n, n, n)


Box = tuple[slice, slice]


def class_boxes(classes: np.ndarray, pad: int) -> dict[int, Box]:
    """The bounding box (rows, columns; grown by ``pad``) of every class present except canvas and unknown,
    so that per-colour work runs on a small crop of the frame."""
    ys, xs = np.nonzero((classes != BLACK) & (classes != UNKNOWN))
    values = classes[ys, xs]
    h, w = classes.shape
    boxes = {}
    for c in np.unique(values):
        sel = values == c
        boxes[int(c)] = (slice(max(0, int(ys[sel].min()) - pad), min(h, int(ys[sel].max()) + pad + 1)),
                         slice(max(0, int(xs[sel].min()) - pad), min(w, int(xs[sel].max()) + pad + 1)))
    return boxes


def open_mask(mask: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Morphological opening of a bool mask that does not shift it: an even kernel erodes from one corner and
    dilates from the other (cv2's default centre anchor moves an even-sized opening by a pixel)."""
    last = (kernel.shape[1] - 1, kernel.shape[0] - 1)
    eroded = cv2.erode(mask.astype(np.uint8), kernel, anchor=(0, 0))
    return cv2.dilate(eroded, kernel, anchor=last).astype(bool)
