"""Which DVC stages read a path: used to show that data/flagged is tracked through a stage dependency."""

from __future__ import annotations

from pathlib import Path, PurePosixPath


def stages_reading(root: str | Path, path: str | Path) -> list[str] | None:
    """Stages (``name`` or ``name@item``) whose deps contain, or lie inside, ``path``; None if not a DVC repo."""
    root = Path(root)
    if not (root / ".dvc").is_dir() or not (root / "dvc.yaml").is_file():
        return None
    from dvc.repo import Repo

    target = PurePosixPath(Path(path).as_posix())
    found = []
    with Repo(str(root)) as repo:
        for stage in repo.index.stages:
            for dep in stage.deps:
                dep_path = PurePosixPath(Path(dep.def_path).as_posix())
                if dep_path == target or target.is_relative_to(dep_path) or dep_path.is_relative_to(target):
                    found.append(stage.addressing)
                    break
    return found
