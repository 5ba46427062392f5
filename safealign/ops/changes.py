"""What changed in data/flagged since the last promoted onboarding run (a content hash and a state file)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from safealign.atomic import write_json
from safealign.hashing import path_sha256
from safealign.paths import FLAGGED_DIR

# Machine-local cursor of the scheduled deployment; losing it only costs one extra (cached) onboarding run.
STATE_FILE = Path(".cache") / "onboarding" / "last_promoted.json"


def flagged_digest(root: str | Path) -> str:
    """sha256 over every file under data/flagged (names and contents); a fixed value when it is absent."""
    path = Path(root) / FLAGGED_DIR
    return path_sha256(path) if path.is_dir() else "absent"


def last_promoted(root: str | Path) -> dict | None:
    """The state recorded by the last promoted onboarding run, or None."""
    path = Path(root) / STATE_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def record_promoted(root: str | Path, digest: str, gate_lines: list[str], flow_run: str | None = None) -> Path:
    """Remember that the flagged data with ``digest`` has been onboarded and promoted."""
    return write_json(Path(root) / STATE_FILE, {
        "flagged_sha256": digest, "promoted_at_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "gates": gate_lines, "flow_run": flow_run})


def flagged_changed(root: str | Path) -> tuple[bool, str]:
    """(changed since the last promoted run?, current digest)."""
    digest = flagged_digest(root)
    state = last_promoted(root)
    return (state is None or state.get("flagged_sha256") != digest), digest
