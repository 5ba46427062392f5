"""Quarantine report: inputs a batch could not use, each with the reason, while the rest is processed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from safealign.atomic import write_json


@dataclass(frozen=True)
class QuarantineEntry:
    """One refused input: the file and a one-line reason a person can act on."""

    file: str
    reason: str


def write_quarantine(path: str | Path, entries: list[QuarantineEntry]) -> Path:
    """Write the report ``{"count": n, "files": [{"file", "reason"}, ...]}`` atomically."""
    return write_json(path, {"count": len(entries), "files": [asdict(e) for e in entries]})
