"""dvc.yaml is the one DAG: every stage module used exactly once, params keys exist, outs in the right places."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import REPO
from tests.dvc_stages import entries, expanded_stages

OUT_ROOTS = ("data/", "models/", "metrics/", "reports/")


def _dvc() -> dict:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"] or {}


def _params() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text())


def _has_key(tree: dict, dotted: str) -> bool:
    node = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _bodies() -> dict[str, dict]:
    return {name: stage.get("do", stage) for name, stage in _dvc().items()}


def _paths(entries: list) -> list[str]:
    return [next(iter(e)) if isinstance(e, dict) else e for e in entries or []]


def test_every_stage_module_is_the_command_of_exactly_one_stage():
    """One dvc.yaml stage per module, except that the shared guard stages run once per ``--domain``."""
    modules = sorted(p.stem for p in (REPO / "stages").glob("*.py") if not p.stem.startswith("_"))
    uses = {m: [] for m in modules}
    per_domain: dict[tuple[str, str], list[str]] = {}
    for name, body in _bodies().items():
        found = re.findall(r"python -m stages\.(\w+)", body["cmd"])
        assert len(found) == 1, f"stage {name}: cmd must run exactly one stages module: {body['cmd']}"
        assert found[0] in uses, f"stage {name} runs stages.{found[0]}, which does not exist"
        uses[found[0]].append(name)
        domain = re.search(r"--domain (\w+)", body["cmd"])
        per_domain.setdefault((found[0], domain.group(1) if domain else "body"), []).append(name)
        assert f"stages/{found[0]}.py" in _paths(body.get("deps")), f"stage {name} must depend on its module"
    unused = {m: u for m, u in uses.items() if not u}
    assert not unused, f"each stages/ module must be used by a dvc.yaml stage: {unused}"
    repeated = {k: v for k, v in per_domain.items() if len(v) != 1}
    assert not repeated, f"each (stages/ module, --domain) must be one dvc.yaml stage: {repeated}"


def test_params_named_by_stages_exist():
    params = _params()
    for name, stage in _dvc().items():
        if "foreach" in stage and isinstance(stage["foreach"], str):
            ref = stage["foreach"].strip("${} ")
            assert _has_key(params, ref), f"stage {name}: foreach references missing params key {ref}"
        for entry in stage.get("do", stage).get("params") or []:
            keys = [entry] if isinstance(entry, str) else [k for v in entry.values() for k in v]
            for key in keys:
                assert _has_key(params, key), f"stage {name}: params key '{key}' is not in params.yaml"


def test_outputs_live_under_data_models_metrics_reports():
    for name, body in _bodies().items():
        for kind in ("outs", "metrics", "plots"):
            for path in _paths(body.get(kind)):
                assert path.startswith(OUT_ROOTS), f"stage {name}: {kind} path {path} outside {OUT_ROOTS}"


def test_stages_are_real():
    """Each stage runs a stage module with a ``main``, writes something, and reads only what git tracks or
    another stage writes (foreach stages expanded as DVC expands them)."""
    tracked = _tracked_files()
    stages = expanded_stages()
    assert len(stages) > len(_dvc()), "the foreach stages expand to one stage per item"
    produced = {name: [p for kind in ("outs", "metrics", "plots") for p in entries(body, kind)]
                for name, (_, _, body) in stages.items()}
    problems = []
    for name, (_, _, body) in stages.items():
        stem = re.search(r"python -m stages[.](\w+)", body["cmd"]).group(1)
        module = REPO / "stages" / f"{stem}.py"
        if "def main(" not in module.read_text():
            problems.append(f"{name}: {module.name} has no main()")
        if not produced[name]:
            problems.append(f"{name}: declares no outs, metrics or plots")
        for dep in entries(body, "deps"):
            by_others = [p for other, outs in produced.items() if other != name for p in outs
                         if _within(dep, p) or _within(p, dep)]
            if not by_others and not any(_within(t, dep) for t in tracked):
                problems.append(f"{name}: dep {dep} is neither tracked by git nor written by another stage")
    assert not problems, problems


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _tracked_files() -> list[str]:
    """Files git tracks (outside a checkout: every file below the repository, outputs excepted)."""
    import subprocess

    try:
        out = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
        return out.split()
    except (OSError, subprocess.CalledProcessError):
        return [p.relative_to(REPO).as_posix() for p in REPO.rglob("*")
                if p.is_file() and not p.relative_to(REPO).as_posix().startswith(OUT_ROOTS[1:])]


@pytest.mark.slow
def test_flow_reads_the_same_stage_graph_as_dvc():
    import subprocess
    import sys

    from flows.dag import stage_order

    order = stage_order(REPO)
    listed = subprocess.run([sys.executable, "-m", "dvc", "stage", "list", "--name-only"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split()
    assert sorted(order) == sorted(listed)
    position = {name: i for i, name in enumerate(order)}
    for name, body in _bodies().items():
        for dep in _paths(body.get("deps")):
            for other, other_body in _bodies().items():
                if any(dep == out or dep.startswith(out.rstrip("/") + "/") for out in _paths(other_body.get("outs"))):
                    mine = [n for n in order if n.split("@")[0] == name]
                    theirs = [n for n in order if n.split("@")[0] == other]
                    assert max(position[t] for t in theirs) < min(position[m] for m in mine), (name, other)
