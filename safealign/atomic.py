"""Atomic writes: produce under a temporary name in the same directory, then rename.

A killed stage therefore never leaves a half-written output behind, and an earlier good output stays until
the new one is complete.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary file path next to ``target``; rename it onto ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            normal_permissions(tmp_path)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary directory next to ``target``; swap it in place of ``target`` on success.

    Leftovers of an earlier process killed mid-way (its temporary or old copy, named after its pid) are
    removed first, so a rerun after a SIGKILL leaves nothing behind.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp{os.getpid()}.", dir=target.parent))
    try:
        yield tmp
        normal_permissions(tmp)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def remove_orphans(target: str | os.PathLike) -> list[Path]:
    """Delete the temporary and old copies of ``target`` left by processes that no longer run.

    An old copy is put back instead when ``target`` itself is missing. Returns the deleted paths.
    """
    target = Path(target)
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(?P<kind>tmp|old)(?P<pid>\d+)(?:\..*)?$")
    removed = []
    for entry in sorted(target.parent.iterdir()) if target.parent.is_dir() else []:
        match = pattern.match(entry.name)
        if match and not _running(int(match["pid"])):
            if match["kind"] == "old" and not target.exists():
                os.replace(entry, target)  # killed between its two renames: the old copy is the last whole one
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def check_writable_dir(target: str | os.PathLike, what: str) -> None:
    """Refuse early an output directory that cannot be written: a file in its way or no write permission."""
    from safealign.errors import InputError

    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InputError(f"{what} {target}: exists and is not a directory")
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{what} {target}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{what} {target}: no permission to write in {parent}")


def normal_permissions(path: str | os.PathLike) -> None:
    """Give a file or directory made by mkstemp / mkdtemp (0600 / 0700) the mode a plain write would."""
    mode = 0o777 if Path(path).is_dir() else 0o666
    os.chmod(path, mode & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(target: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_json(target: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented, key-sorted JSON atomically.

    NaN and +-inf become null (JSON has no such numbers; Python would write the non-standard tokens
    ``NaN``/``Infinity``, which other readers refuse and a gate could take for a value).
    """
    return write_text(target, json.dumps(_finite(obj), indent=2, sort_keys=True, allow_nan=False) + "\n")


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return _finite(obj.item())
    return obj
