"""One catalogue of paths (safealign/paths.py): dvc.yaml's outputs are the catalogue's, and each stage's code
deps cover every library module the stage imports (tests/import_graph.py, read statically).

Code deps: a dep names the module's file or a folder above it. Not required are the modules that decide how a
stage runs but not what it writes: the stage contract and params loading (``safealign.stage``,
``safealign.config``, the ``*params`` section modules, whose values DVC tracks as params), MLflow tracking,
errors, atomic writes, hashing, offline mode, YAML loading, and the path catalogue (its paths are the outs
checked below). A package ``__init__`` without imports runs no code and is not required either.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from safealign import paths
from safealign.domains import BODY_DOMAIN, FACE_DOMAIN
from tests.conftest import REPO
from tests.dvc_stages import entries, expanded_stages, lookup, params_yaml
from tests.import_graph import all_modules, closure, module_file

NOT_REQUIRED = {"safealign.stage", "safealign.errors", "safealign.offline", "safealign.atomic", "safealign.section",
                "safealign.yaml_load", "safealign.hashing", "safealign.paths"}
NOT_REQUIRED_PACKAGES = ("safealign.config", "safealign.tracking")


def test_every_stage_writes_what_the_catalogue_lists():
    seen = set()
    for full, (name, item, body) in expanded_stages().items():
        declared = {Path(p) for kind in ("outs", "metrics", "plots") for p in entries(body, kind)}
        catalogued = set(paths.stage_outputs(name, item))
        assert declared == catalogued, (f"{full}: dvc.yaml declares {sorted(map(str, declared - catalogued))} "
                                        f"that the catalogue lacks; the catalogue has "
                                        f"{sorted(map(str, catalogued - declared))} that dvc.yaml lacks")
        seen.add(name)
    assert "train_face_guard" in seen and "evaluate_debias" in seen


def test_the_catalogue_refuses_a_stage_it_does_not_know():
    with pytest.raises(KeyError, match="not in the path catalogue"):
        paths.stage_outputs("train_gaurd", "sexual")


def test_guard_domains_take_their_paths_from_the_catalogue():
    for domain, guard in ((BODY_DOMAIN, paths.BODY_GUARD), (FACE_DOMAIN, paths.FACE_GUARD)):
        assert {k: getattr(domain, k) for k in vars(guard)} == vars(guard), domain.name


def test_path_keys_left_in_params_yaml_match_the_catalogue():
    """params.yaml still names the body guard's paths (``evaluate_guard`` model and data keys and the
    generator checkpoint); the face domain derives its own from the catalogue. Both must agree with it."""
    raw, body = params_yaml(), paths.BODY_GUARD
    expected = {"evaluate_guard.base_model": body.base, "evaluate_guard.adapters_dir": body.adapters,
                "evaluate_guard.fused_model": body.fused, "evaluate_guard.poses_dir": body.poses_dir,
                "evaluate_guard.extracted_manifest": body.extracted_manifest,
                "pretrain_generator.checkpoint_dir": body.checkpoint}
    assert {k: Path(lookup(raw, k)) for k in expected} == expected


def _not_required(module: str) -> bool:
    if module in NOT_REQUIRED or module.startswith(NOT_REQUIRED_PACKAGES):
        return True
    last = module.rsplit(".", 1)[-1]
    if last == "params" or last.endswith("_params"):
        return True
    path = module_file(module)
    if path is not None and path.name == "__init__.py":
        return not any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(ast.parse(path.read_text())))
    return False


def _covered(module: str, deps: list[str]) -> bool:
    rel = module_file(module).relative_to(REPO).as_posix()
    return any(rel == d or rel.startswith(d.rstrip("/") + "/") for d in deps)


def test_code_deps_cover_what_each_stage_imports():
    stop = frozenset(m for m in all_modules() if _not_required(m))
    gaps = {}
    for full, (name, _, body) in expanded_stages().items():
        module = re.search(r"python -m stages\.(\w+)", body["cmd"]).group(1)
        deps = entries(body, "deps")
        reached = closure(f"stages.{module}", stop)
        missing = sorted(module_file(m).relative_to(REPO).as_posix() for m in reached
                         if m.startswith("safealign") and not _not_required(m) and not _covered(m, deps))
        if missing:
            gaps[name] = missing
    assert not gaps, f"dvc.yaml code deps miss modules their stage imports (add them, or their package): {gaps}"


def test_the_deps_check_sees_lazy_imports():
    """train_guard imports the evaluation package only inside a function; the closure must still reach it."""
    reached = closure("stages.train_guard")
    assert "safealign.evaluation.learning_curve" in reached and "safealign.poses.render" in reached
