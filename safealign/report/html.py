"""A small static HTML report builder: sections, tables, images, figures, notes; one self-contained file.

Every image is embedded as a base64 PNG, so the file opens from disk anywhere and can be archived as one
artefact (MLflow, DVC). All text is HTML-escaped; captions and paragraphs are plain text.
"""

from __future__ import annotations

import html
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from safealign.atomic import write_text
from safealign.report.images import data_uri, figure_png, png_bytes

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;color:#222;
line-height:1.45;padding:0 1em}
h1{margin-bottom:.1em}.subtitle{color:#666;margin-top:0}.stamp{color:#999;font-size:.85em}
h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}
td.text,th.text{text-align:left}caption{caption-side:top;text-align:left;color:#444;padding:.3em 0}
figure{margin:.8em 0 1.4em}figcaption{color:#444;font-size:.92em}
img{image-rendering:pixelated;max-width:100%}
.note{background:#fff6d6;border-left:4px solid #e0a800;padding:.5em .9em;margin:1em 0}
""".strip()


class Report:
    """Build an HTML report block by block, then ``write`` it atomically as one self-contained file."""

    def __init__(self, title: str, subtitle: str = "") -> None:
        self.title = title
        self.subtitle = subtitle
        self._blocks: list[str] = []

    def section(self, title: str, text: str = "") -> "Report":
        """Start a section: an ``h2`` heading and an optional paragraph (blank lines split paragraphs)."""
        self._blocks.append(f"<h2>{_esc(title)}</h2>")
        for para in (p.strip() for p in text.split("\n\n")):
            if para:
                self._blocks.append(f"<p>{_esc(para)}</p>")
        return self

    def table(
        self, rows: Sequence[Mapping[str, Any]] | Any, caption: str = "", float_fmt: str = "{:.3f}"
    ) -> "Report":
        """A table from a list of dicts (columns in first-seen order) or a DataFrame (index dropped)."""
        records, columns = _records(rows)
        out = ["<table>"]
        if caption:
            out.append(f"<caption>{_esc(caption)}</caption>")
        out.append(
            "<tr>" + "".join(f'<th class="{_kind(records, c)}">{_esc(c)}</th>' for c in columns) + "</tr>"
        )
        for rec in records:
            out.append(
                "<tr>"
                + "".join(
                    f'<td class="{_cell_kind(rec.get(c))}">{_esc(_fmt(rec.get(c), float_fmt))}</td>'
                    for c in columns
                )
                + "</tr>"
            )
        out.append("</table>")
        self._blocks.append("\n".join(out))
        return self

    def image(self, img: np.ndarray | str | Path, caption: str = "", width: int | None = None) -> "Report":
        """An image (array or image file), embedded as PNG; ``width`` sets the displayed width in px."""
        self._blocks.append(_figure_html(png_bytes(img), caption, width))
        return self

    def figure(self, fig: Any, caption: str = "") -> "Report":
        """A matplotlib figure, rendered to PNG with the Agg canvas and embedded."""
        self._blocks.append(_figure_html(figure_png(fig), caption, None))
        return self

    def note(self, text: str) -> "Report":
        """A highlighted remark (e.g. a failed gate, a missing input)."""
        self._blocks.append(f'<div class="note">{_esc(text)}</div>')
        return self

    def to_html(self) -> str:
        """The whole document as a string."""
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        head = [f"<h1>{_esc(self.title)}</h1>"]
        if self.subtitle:
            head.append(f'<p class="subtitle">{_esc(self.subtitle)}</p>')
        head.append(f'<p class="stamp">generated {stamp}</p>')
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{_esc(self.title)}</title>\n<style>\n{_STYLE}\n</style>\n</head>\n<body>\n"
            + "\n".join(head + self._blocks)
            + "\n</body>\n</html>\n"
        )

    def write(self, path: str | Path) -> Path:
        """Write the report atomically to ``path`` (parents created); return the path."""
        return write_text(path, self.to_html())


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _records(rows: Any) -> tuple[list[dict[str, Any]], list[str]]:
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):  # pandas DataFrame
        records = rows.to_dict(orient="records")
        return records, [str(c) for c in rows.columns]
    records = [dict(r) for r in rows]
    columns: list[str] = []
    for rec in records:
        columns.extend(c for c in rec if c not in columns)
    return records, columns


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _cell_kind(value: Any) -> str:
    return "num" if _is_number(value) or value is None else "text"


def _kind(records: list[dict[str, Any]], column: str) -> str:
    values = [r.get(column) for r in records if r.get(column) is not None]
    return "num" if values and all(_is_number(v) for v in values) else "text"


def _fmt(value: Any, float_fmt: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, (float, np.floating)):
        return "—" if math.isnan(value) else float_fmt.format(float(value))
    return str(value)


def _figure_html(png: bytes, caption: str, width: int | None) -> str:
    size = f' width="{int(width)}"' if width else ""
    alt = _esc(caption or "image")
    cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="{data_uri(png)}" alt="{alt}"{size}>{cap}</figure>'
