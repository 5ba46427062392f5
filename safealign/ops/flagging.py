"""Copy validated inputs under data/flagged/<category>/<unique name>/ with a provenance record.

Layout of one flagged entry (read by safealign/poses/flagged.py during curation)::

    data/flagged/<category>/<UTC stamp>-<stem>-<sha8>/
        <original file or directory name>     # the payload: video/image, pose .npz, or OpenPose JSON dir
        provenance.json                       # who, when (UTC), source path, sha256, kind

Entries are never overwritten: names are unique, a content already flagged in the category is reported and
skipped. All inputs are validated before anything is copied, and each entry is assembled in a temporary
directory next to data/flagged and renamed into place, so a refusal or a crash leaves data/flagged unchanged.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from safealign.atomic import normal_permissions
from safealign.errors import InputError
from safealign.hashing import file_sha256, path_sha256, tree_sha256
from safealign.ops.inputs import CheckedInput, check_input
from safealign.paths import FLAGGED_DIR, PROVENANCE_FILE


@dataclass(frozen=True)
class Flagged:
    """One input after flagging: where it went (or the earlier entry holding the same content)."""

    source: Path
    entry: Path
    sha256: str
    kind: str
    duplicate: bool


def check_inputs(sources: list[str | Path]) -> list[CheckedInput]:
    """Validate every input; one ``InputError`` listing all bad ones (nothing is copied when any is bad)."""
    if not sources:
        raise InputError("nothing to flag: give at least one clip, image, pose .npz file or OpenPose JSON dir")
    checked, problems = [], []
    for source in sources:
        try:
            checked.append(check_input(source))
        except InputError as exc:
            problems.append(str(exc))
    if problems:  # one line per refused input
        sep = " " if len(problems) == 1 else "\n  "
        raise InputError(f"refused {len(problems)} of {len(sources)} input(s), nothing was flagged:{sep}"
                         + "\n  ".join(problems))
    return checked


def flag_inputs(root: str | Path, category: str, sources: list[str | Path], who: str,
                now: datetime | None = None, checked: list[CheckedInput] | None = None) -> list[Flagged]:
    """Validate all ``sources`` (unless ``checked`` by ``check_inputs`` already), then copy each under
    data/flagged/<category>/ with its provenance."""
    root = Path(root)
    checked = checked if checked is not None else check_inputs(sources)
    now = now or datetime.now(timezone.utc)
    category_dir = root / FLAGGED_DIR / category
    known = _known_hashes(category_dir)
    results = []
    for item in checked:
        digest = input_sha256(item)
        if digest in known:
            results.append(Flagged(item.path, known[digest], digest, item.kind, duplicate=True))
            continue
        entry = _commit_entry(root, category_dir, item, digest, category, who, now)
        known[digest] = entry
        results.append(Flagged(item.path, entry, digest, item.kind, duplicate=False))
    return results


def input_sha256(item: CheckedInput) -> str:
    """sha256 of what flagging copies: the file, or a directory's ``members`` only (never through a link)."""
    return tree_sha256(item.path, item.members) if item.path.is_dir() else file_sha256(item.path)


def provenance_record(item: CheckedInput, digest: str, category: str, who: str, now: datetime) -> dict:
    """The provenance written next to a flagged payload (with the directory entries left out, if any)."""
    return {"category": category, "who": who, "flagged_at_utc": now.astimezone(timezone.utc).isoformat(),
            "source_path": str(item.path.resolve()), "sha256": digest, "kind": item.kind,
            "summary": item.summary, "payload": item.name, "refused": list(item.refused),
            "tool": "safealign flag-pose"}


def _known_hashes(category_dir: Path) -> dict[str, Path]:
    known = {}
    for record in sorted(category_dir.glob(f"*/{PROVENANCE_FILE}")) if category_dir.is_dir() else []:
        try:
            known[json.loads(record.read_text(encoding="utf-8"))["sha256"]] = record.parent
        except (OSError, ValueError, KeyError, TypeError):
            continue  # an unreadable record never blocks a new flag; curation reports it
    return known


def _entry_name(category_dir: Path, item: CheckedInput, digest: str, now: datetime) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(item.name).stem if item.path.is_file() else item.name)[:40].strip("_")
    base = f"{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}-{stem or 'input'}-{digest[:8]}"
    name, n = base, 1
    while (category_dir / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _commit_entry(root: Path, category_dir: Path, item: CheckedInput, digest: str, category: str, who: str,
                  now: datetime) -> Path:
    staging_parent = root / FLAGGED_DIR.parent  # same file system as data/flagged, outside every stage dep
    staging_parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".flag-", dir=staging_parent))
    try:
        payload = staging / item.name
        if item.path.is_dir():
            payload.mkdir()
            for name in item.members:  # regular files checked by check_input: links are not among them
                shutil.copy2(item.path / name, payload / name, follow_symlinks=False)
        else:
            shutil.copy2(item.path, payload, follow_symlinks=False)
        if path_sha256(payload) != digest:
            raise InputError(f"{item.path}: changed while it was being copied; flag it again")
        record = provenance_record(item, digest, category, who, now)
        (staging / PROVENANCE_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        normal_permissions(staging)  # mkdtemp made it 0700; an entry is shared project data
        category_dir.mkdir(parents=True, exist_ok=True)
        entry = category_dir / _entry_name(category_dir, item, digest, now)
        os.rename(staging, entry)  # atomic; fails rather than replace if the name was taken meanwhile
        return entry
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
