"""Tile images into one uint8 grid (rows of equally sized cells, optional row labels)."""

from __future__ import annotations

import numpy as np


def _rgb(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = np.clip(np.nan_to_num(img.astype(np.float64)), 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    return img[..., :3]


def image_grid(rows: list[list[np.ndarray]], labels: list[str] | None = None, pad: int = 2,
               background: int = 255) -> np.ndarray:
    """Tile ``rows`` of uint8 images (``[H, W]`` or ``[H, W, 3|4]``) into one RGB image.

    Cells are as large as the largest image and images are centred in them; short rows are left blank.
    ``labels`` (one per row) are written in a strip left of each row.
    """
    if not rows or not any(rows):
        raise ValueError("image_grid: no images given")
    if labels is not None and len(labels) != len(rows):
        raise ValueError(f"image_grid: {len(labels)} labels for {len(rows)} rows")
    import cv2

    cells = [[_rgb(img) for img in row] for row in rows]
    cell_h = max(img.shape[0] for row in cells for img in row)
    cell_w = max(img.shape[1] for row in cells for img in row)
    n_cols = max(len(row) for row in cells)
    scale = max(0.3, cell_h / 160)
    label_w = 0
    if labels:
        label_w = max(cv2.getTextSize(s, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] for s in labels) + 2 * pad
    out = np.full((pad + len(cells) * (cell_h + pad), label_w + pad + n_cols * (cell_w + pad), 3),
                  background, np.uint8)
    for r, row in enumerate(cells):
        top = pad + r * (cell_h + pad)
        if labels:
            cv2.putText(out, labels[r], (pad, top + cell_h // 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                        (0, 0, 0), 1, cv2.LINE_AA)
        for c, img in enumerate(row):
            left = label_w + pad + c * (cell_w + pad)
            y0, x0 = top + (cell_h - img.shape[0]) // 2, left + (cell_w - img.shape[1]) // 2
            out[y0:y0 + img.shape[0], x0:x0 + img.shape[1]] = img
    return out
