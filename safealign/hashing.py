"""Content hashes for provenance (inputs of a stage run, data manifests, base weights).

Inside a directory, symbolic links are never followed: a link counts by the text it points to, so hashing
a folder never reads a file outside it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 of one file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def tree_sha256(root: str | Path, names: Iterable[str]) -> str:
    """sha256 of the regular files ``names`` (relative to ``root``): names and contents, in sorted order."""
    root = Path(root)
    h = hashlib.sha256()
    for name in sorted(names, key=lambda n: Path(n).parts):  # the order of sorted Paths
        h.update(name.encode())
        h.update(file_sha256(root / name).encode())
    return h.hexdigest()


def path_sha256(path: str | Path) -> str:
    """sha256 of a file, or of a directory tree (relative names and contents, in sorted order)."""
    path = Path(path)
    if path.is_file():
        return file_sha256(path)
    files, links = [], []
    for folder, dirs, names in os.walk(path):  # os.walk does not descend into linked directories
        here = Path(folder)
        for name in names + [d for d in dirs if (here / d).is_symlink()]:
            entry = here / name
            rel = str(entry.relative_to(path))
            if entry.is_symlink():
                links.append(f"{rel} -> {os.readlink(entry)}")
            elif entry.is_file():
                files.append(rel)
    digest = tree_sha256(path, files)
    if not links:
        return digest
    h = hashlib.sha256(digest.encode())
    for link in sorted(links):
        h.update(link.encode())
    return h.hexdigest()
