"""safealign.report: self-contained HTML (embedded PNGs), escaping, tables, plots, atomic write, bad input."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from safealign.errors import InputError
from safealign.report.html import Report
from safealign.report.plots import bar_plot, line_plot


class _Checker(HTMLParser):
    """Counts tags and checks that every non-void element is closed in order."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.counts: dict[str, int] = {}
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(text: str) -> _Checker:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert not checker.errors, checker.errors
    assert not checker.stack, f"unclosed: {checker.stack}"
    return checker


def _embedded_pngs(text: str) -> list[np.ndarray]:
    out = []
    for b64 in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text):
        out.append(np.asarray(Image.open(io.BytesIO(base64.b64decode(b64)))))
    return out


def test_report_is_wellformed_and_embeds_every_image(tmp_path: Path) -> None:
    img = np.zeros((8, 12, 3), np.uint8)
    img[2:4, 3:9] = (255, 0, 0)
    png_file = tmp_path / "file.png"
    Image.fromarray(np.full((5, 5, 3), 7, np.uint8)).save(png_file)
    jpg_file = tmp_path / "file.jpg"
    Image.fromarray(np.full((6, 4, 3), 200, np.uint8)).save(jpg_file)

    r = Report("Guard report", "embedded default")
    r.section("Figures", "first paragraph\n\nsecond paragraph")
    r.table(
        [{"category": "sexual", "block_rate": 0.98765, "n": 3}, {"category": "celebrity", "extra": None}],
        caption="per category",
    )
    r.table(pd.DataFrame({"a": [1.0, float("nan")], "b": ["x", "y"]}), float_fmt="{:.1f}")
    r.image(img, caption="array", width=120)
    r.image(png_file)
    r.image(jpg_file)
    r.figure(
        line_plot({"fused": ([1, 2, 4], [1.0, 0.9, 0.7]), "single": ([1, 2], [1, 1])}, "level", "rate", "t")
    )
    r.figure(
        bar_plot({"sexual": {"single": 1.0, "fused": 0.9}, "celebrity": {"single": 0.5}}, "rate", "bars")
    )
    r.note("gate failed: block_rate_min = 0.5")
    out = r.write(tmp_path / "sub" / "report.html")

    text = out.read_text(encoding="utf-8")
    checker = _parse(text)
    assert text.startswith("<!DOCTYPE html>")
    assert checker.counts["table"] == 2 and checker.counts["img"] == 5 and checker.counts["h2"] == 1
    assert checker.counts["p"] >= 3  # subtitle, stamp + two paragraphs
    body = "".join(checker.text)
    assert "0.988" in body and "—" in body and "1.0" in body  # float_fmt, None/NaN shown as a dash
    assert "gate failed: block_rate_min = 0.5" in body
    pngs = _embedded_pngs(text)
    assert len(pngs) == 5
    np.testing.assert_array_equal(pngs[0], img)  # lossless round trip of the array
    assert pngs[1].shape[:2] == (5, 5) and pngs[2].shape[:2] == (6, 4)
    assert 'width="120"' in text
    assert 'src="file' not in text  # nothing links to a file: the report is self-contained
    assert not list((tmp_path / "sub").glob(".*"))  # atomic write leaves no temp file behind


def test_text_is_escaped_everywhere(tmp_path: Path) -> None:
    evil = '<script>alert("x")</script> & <b>'
    r = Report(evil, evil)
    r.section(evil, evil)
    r.table([{evil: evil}], caption=evil)
    r.image(np.zeros((2, 2), np.uint8), caption=evil)
    r.note(evil)
    text = r.to_html()
    assert "<script>" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in text
    checker = _parse(text)
    assert "script" not in checker.counts
    assert (
        "".join(checker.text).count(evil) >= 6
    )  # title, h1, subtitle, h2, p, th, td, caption, figcaption, note


def test_float_images_and_gray_are_encoded(tmp_path: Path) -> None:
    r = Report("t")
    r.image(np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4))
    r.image(np.ones((3, 3, 1), np.float64) * 2.0)  # clipped to 255
    gray, ones = _embedded_pngs(r.to_html())
    assert gray[0, 0] == 0 and gray[-1, -1] == 255
    assert int(ones.max()) == 255


def test_bad_images_raise_clear_errors(tmp_path: Path) -> None:
    r = Report("t")
    with pytest.raises(InputError, match="no such file"):
        r.image(tmp_path / "missing.png")
    junk = tmp_path / "junk.png.txt"
    junk.write_text("not an image")
    with pytest.raises(InputError, match="not a readable image"):
        r.image(junk)
    with pytest.raises(InputError, match="shape"):
        r.image(np.zeros((2, 2, 5), np.uint8))


def test_plots_have_expected_artists() -> None:
    fig = line_plot({"a": ([0, 1], [0.0, 1.0]), "b": ([0, 1], [1.0, 0.0])}, "x", "y", "title", ylim=(0, 1))
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and ax.get_xlabel() == "x" and ax.get_title() == "title"
    assert ax.get_legend() is not None and ax.get_ylim() == (0.0, 1.0)
    fig = bar_plot({"g1": {"s1": 1.0, "s2": 0.5}, "g2": {"s1": 0.2}}, "y", "bars")
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 4 and heights[:2] == [1.0, 0.2] and heights[2] == 0.5
    assert [t.get_text() for t in ax.get_xticklabels()] == ["g1", "g2"]
