"""Image encoding for reports: any RGB/gray array, image file or matplotlib figure -> PNG bytes / data URI."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np

from safealign.errors import InputError


def to_uint8(img: np.ndarray) -> np.ndarray:
    """An image array as uint8 [H,W] or [H,W,3|4]; floats are read as [0,1] and clipped."""
    arr = np.asarray(img)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
        raise InputError(f"image array must be [H,W], [H,W,3] or [H,W,4], received shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        return (np.clip(np.nan_to_num(arr), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return np.clip(arr, 0, 255).astype(np.uint8)


def png_bytes(img: np.ndarray | str | Path) -> bytes:
    """PNG bytes of an array or an image file (PNG files are passed through unchanged)."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(img, (str, Path)):
        path = Path(img)
        if not path.is_file():
            raise InputError(f"report image {path}: no such file")
        data = path.read_bytes()
        if data[:8] == b"\x89PNG\r\n\x1a\n":
            return data
        try:
            with Image.open(io.BytesIO(data)) as im:
                arr = np.asarray(im.convert("RGB"))
        except UnidentifiedImageError:
            raise InputError(f"report image {path}: not a readable image file") from None
        return png_bytes(arr)
    buf = io.BytesIO()
    Image.fromarray(to_uint8(img)).save(buf, format="PNG")
    return buf.getvalue()


def figure_png(fig: Any, dpi: int = 100) -> bytes:
    """PNG bytes of a matplotlib figure (rendered with the Agg canvas, whatever backend is active)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for embedding PNG bytes in HTML."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
