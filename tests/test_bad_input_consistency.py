"""Bad input never crashes a batch, never promotes a model, never copies what it should not.

The checks that need more than the error line of tests/test_bad_input_corpus.py: the rest of a batch is
processed, an output folder is swapped whole (also across a SIGKILL), a flag copies only what it may, gates
refuse non-finite metrics, and the one translation of library exceptions.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safealign.atomic import atomic_dir, remove_orphans, write_json
from safealign.cli import main as cli
from safealign.config.common import GateRule
from safealign.errors import MAX_LINE_CHARS, MAX_LINES, InputError, format_error, user_error, user_input
from safealign.hashing import path_sha256
from safealign.tracking.registry import evaluate_gate, read_metrics
from tests.bad_inputs import openpose_dir, png_header, pose_npz
from tests.conftest import REPO, shared_path, standing_poses, write_project

PERSON = [{"pose_keypoints_2d": [20.0, 20.0, 0.9] * 18}]


# --- extract-poses: the batch goes on; --out is swapped whole ------------------------------------------------

def _extract(*args: str | Path) -> int:
    return cli(["extract-poses", *map(str, args)])


def _consistent(out: Path) -> list[str]:
    """Clip ids of an extraction folder, after checking manifest, clips and OpenPose folders agree."""
    manifest = pd.read_parquet(out / "manifest.parquet")
    ids = sorted(manifest["clip_id"])
    assert sorted(p.stem for p in (out / "clips").iterdir()) == ids
    assert sorted(Path(p).stem for p in manifest["path"]) == ids
    if (out / "openpose").exists():
        assert sorted(p.name for p in (out / "openpose").iterdir()) == ids
    json.loads((out / "quarantine.json").read_text())
    return ids


@pytest.mark.shared
def test_a_decompression_bomb_does_not_stop_the_good_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    good = shared_path("real", "images", "fullbody_a.png")
    bomb = png_header(tmp_path / "bomb.png", 30000, 30000)
    assert _extract(bomb, good, "--out", tmp_path / "out") == 0
    assert _consistent(tmp_path / "out") == ["fullbody_a"]
    assert "quarantined" in capsys.readouterr().out
    report = json.loads((tmp_path / "out" / "quarantine.json").read_text())
    assert "decompression bomb" in report["files"][0]["reason"] and report["files"][0]["file"] == str(bomb)


@pytest.mark.shared
def test_reusing_out_keeps_only_the_new_clips_and_a_failed_batch_keeps_the_old(tmp_path: Path) -> None:
    good = shared_path("real", "images", "fullbody_a.png")
    (tmp_path / "in").mkdir()
    second = tmp_path / "in" / "second.png"
    second.write_bytes(good.read_bytes())
    out = tmp_path / "out"
    assert _extract(good, second, "--out", out, "--openpose-json") == 0
    assert _consistent(out) == ["fullbody_a", "second"]
    assert _extract(second, "--out", out) == 0
    assert _consistent(out) == ["second"]
    before = path_sha256(out)
    assert _extract(tmp_path / "in" / "absent.png", "--out", out) == 1   # nothing usable: --out untouched
    assert path_sha256(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere: permissions cannot refuse it")
def test_unwritable_out_is_refused_before_any_extraction(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert _extract(tmp_path / "video.mp4", "--out", locked / "out") == 1
    err = capsys.readouterr().err
    assert f"--out {locked / 'out'}: no permission to write in {locked}" in err and "extract poses" not in err


KILLER = Path(__file__).with_name("kill_at_write.py")


def _run_killed(work: Path, nth: int, log: Path, *inputs: Path) -> int:
    cmd = [sys.executable, str(KILLER), str(work), str(nth), str(log), "extract-poses", *map(str, inputs),
           "--out", str(work / "X"), "--openpose-json"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=work.parent).returncode


@pytest.mark.slow
@pytest.mark.shared
def test_sigkill_during_extract_poses_then_rerun_leaves_out_consistent(tmp_path: Path) -> None:
    good = shared_path("real", "images", "fullbody_a.png")
    (tmp_path / "in").mkdir()
    a, b = tmp_path / "in" / "a.png", tmp_path / "in" / "b.png"
    a.write_bytes(good.read_bytes())
    b.write_bytes(good.read_bytes())
    work, log = tmp_path / "work", tmp_path / "writes.log"
    work.mkdir()
    assert _run_killed(work, 0, tmp_path / "first.log", a, b) == 0          # X holds a and b
    assert _run_killed(work, 0, log, a) == 0                                # every write of replacing X by a
    writes = log.read_text().splitlines()
    swap = next(i for i, w in enumerate(writes, 1) if w.startswith("os.rename") and w.endswith(f"{work / 'X'}"))
    assert writes[1].startswith("os.mkdir") and ".X.tmp" in writes[1]   # 1 is mkdir of the existing parent
    assert _run_killed(work, 0, tmp_path / "reset.log", a, b) == 0
    # the temp folder's creation, a write inside it, between the swap's two renames, before the cleanup
    for nth in (2, len(writes) // 2, swap, swap + 1):
        before = path_sha256(work / "X")
        assert _run_killed(work, nth, tmp_path / "unused.log", a) == -9, nth
        if nth < swap:
            assert path_sha256(work / "X") == before, nth                  # the earlier output is intact
        assert _run_killed(work, 0, tmp_path / "rerun.log", a, b) == 0      # the rerun
        assert _consistent(work / "X") == ["a", "b"], nth
        assert sorted(p.name for p in work.iterdir()) == ["X"], nth         # no orphan temp entries


def test_orphans_of_a_dead_process_go_and_an_old_copy_comes_back(tmp_path: Path) -> None:
    dead = 2 ** 22 + 1  # above pid_max on Linux: never a running process
    (tmp_path / f".out.tmp{dead}.abc").mkdir()
    (tmp_path / f".out.tmp{os.getppid()}.live").mkdir()           # a running writer's temp stays
    (tmp_path / f".out.old{dead}").mkdir()
    (tmp_path / f".out.old{dead}" / "clip").write_text("previous")
    removed = remove_orphans(tmp_path / "out")
    assert [p.name for p in removed] == [f".out.tmp{dead}.abc"]
    assert (tmp_path / "out" / "clip").read_text() == "previous"  # killed between the swap's two renames
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "clip").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".out.tmp{os.getppid()}.live", "out"]


# --- flag-pose: links never followed, only OpenPose frames taken, normal permissions ----------------------------

@pytest.fixture
def project(make_project, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return make_project()


def test_flag_copies_no_link_and_no_other_file_and_lists_them(project: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"people": PERSON, "token": "do not copy"}))
    folder = openpose_dir(tmp_path / "frames", PERSON)
    (folder / "evil_keypoints.json").symlink_to(secret)
    (folder / "etc").symlink_to("/etc")
    (folder / "notes.txt").write_text("not a frame")
    (folder / "nested").mkdir()
    (folder / "meta.yaml").write_text("width: 64\nheight: 64\n")
    mask = os.umask(0o022)
    try:
        assert cli(["flag-pose", "--category", "sexual", "--who", "t", str(folder / "nested" / "..")]) == 0
    finally:
        os.umask(mask)
    err = capsys.readouterr().err
    assert ("left out 4 entries a flagged pose folder may not hold: etc (symbolic link), evil_keypoints.json "
            "(symbolic link), nested/ (sub-folder), notes.txt (not *.json or meta.yaml)") in err
    (entry,) = (project / "data" / "flagged" / "sexual").iterdir()
    payload = entry / "frames"
    assert sorted(p.name for p in payload.iterdir()) == sorted(
        [f"clip_{t:012d}_keypoints.json" for t in range(3)] + ["meta.yaml"])
    assert not any(p.is_symlink() for p in entry.rglob("*"))
    record = json.loads((entry / "provenance.json").read_text())
    assert record["payload"] == "frames" and len(record["refused"]) == 4
    assert record["sha256"] == path_sha256(payload)
    assert {stat.S_IMODE(p.stat().st_mode) for p in (entry, payload)} == {0o755}


def test_a_folder_hash_never_reads_through_a_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("one")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.json").write_text("{}")
    (folder / "link").symlink_to(outside)
    first = path_sha256(folder)
    outside.write_text("two")
    assert path_sha256(folder) == first
    (folder / "link").unlink()
    (folder / "link").symlink_to(tmp_path / "elsewhere")
    assert path_sha256(folder) != first


# --- animate: warnings, and no registry created by a lookup -------------------------------------------------------

def test_partly_off_canvas_poses_animate_with_a_warning(tmp_path: Path, tiny_generator: Path, reference: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    pose = standing_poses(3)
    pose[0, :, :2] = np.nan
    pose[1, :5, 0] = 7.0
    out = tmp_path / "a.mp4"
    assert cli(["animate", "--reference", str(reference), "--poses", str(pose_npz(tmp_path / "p.npz", pose)),
                "--model", str(tiny_generator), "--out", str(out), "--steps", "1", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "warning: --poses " in err and "no person in 1 of its 3 frames" in err
    assert "5 of 66 landmarks lie outside the canvas" in err and out.is_file()


def test_a_missing_registry_is_reported_and_not_created(tmp_path: Path, reference: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    project = write_project(tmp_path / "proj")
    rc = cli(["animate", "--reference", str(reference), "--poses", str(pose_npz(tmp_path / "p.npz")),
              "--model", "models:/poseguard-fused@champion", "--out", str(tmp_path / "a.mp4"),
              "--params", str(project / "params.yaml")])
    assert rc == 1 and "no model registry at sqlite:///" in capsys.readouterr().err
    assert not (project / "mlflow.db").exists() and not (tmp_path / "mlruns").exists()


# --- genderpair: a build that misses criteria says so ------------------------------------------------------------

def test_genderpair_warns_about_the_criteria_it_misses(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from tests.test_genderpair import _row, _write_pairset

    (tmp_path / "sets").mkdir()
    _write_pairset(tmp_path / "sets", {1: [_row("man")]})  # two media pairs: no occupation or literature
    assert cli(["genderpair", "--pair-sets", str(tmp_path / "sets"), "--out", str(tmp_path / "gp")]) == 0
    err = capsys.readouterr().err
    assert f"warning: criteria not passed: inclusivity, diversity (details in {tmp_path / 'gp'}" in err
    assert not json.loads((tmp_path / "gp" / "criteria.json").read_text())["all_passed"]


# --- gates: non-finite metrics never pass; a broken metrics file fails its gate only ------------------------------

RULES = [GateRule(metric="block_rate_min", op=">=", value=0.95)]


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), None, "0.99", True])
def test_a_metric_that_is_not_a_finite_number_never_passes(value: object) -> None:
    result = evaluate_gate("m", {"block_rate_min": value}, RULES)
    assert not result.passed and "block_rate_min is undefined" in result.failures[0]


def test_a_non_finite_threshold_never_passes() -> None:
    rule = GateRule.model_construct(metric="fpr", op="<=", value=float("nan"))  # as if validation were bypassed
    assert not evaluate_gate("m", {"fpr": 0.0}, [rule]).passed


@pytest.mark.parametrize("text, message", [
    ("{not json", r"metrics file \S+m.json: not valid JSON \(line 1, column 2"),
    ("", r"metrics file \S+m.json: empty"),
    ("[0.99]", r"metrics file \S+m.json: expected a JSON object of metrics, received a list at the top level"),
    (b"\xff\xfe", r"metrics file \S+m.json: not UTF-8 text"),
])
def test_unreadable_metrics_files_are_one_line_errors(tmp_path: Path, text: str | bytes, message: str) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(InputError, match=message):
        read_metrics(path)


@pytest.mark.slow  # MLflow registry
def test_gate_with_infinity_or_broken_metrics_never_moves_champion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture) -> None:
    import mlflow

    from safealign.tracking.registry import CHAMPION, register_model_dir
    from safealign.tracking.runs import stage_run

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    project = write_project(tmp_path / "proj")
    monkeypatch.chdir(project)
    uri = f"sqlite:///{project / 'mlflow.db'}"
    for model in ("poseguard-fused", "gendercare-planted-debiased"):
        (project / model).mkdir()
        with stage_run("fuse", "gate-test", uri, project):
            register_model_dir(model, project / model)
    (project / "metrics" / "evaluate_guard.json").write_text("[]")                      # first gate: broken
    (project / "metrics" / "face").mkdir()
    (project / "metrics" / "face" / "evaluate_guard.json").write_text("")               # second: empty
    metrics = {"gate": {"bpr_cut_min": float("inf")}}                                  # third: Infinity
    (project / "metrics" / "evaluate_debias").mkdir()
    (project / "metrics" / "evaluate_debias" / "planted.json").write_text(json.dumps(metrics))
    assert "Infinity" in (project / "metrics" / "evaluate_debias" / "planted.json").read_text()
    assert cli(["gate"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "received a list at the top level" in out[0] and f"'{CHAMPION}' stays at no version" in out[0]
    assert out[1] == (f"gate faceguard-fused: FAIL (metrics file {project / 'metrics/face/evaluate_guard.json'}: "
                      "empty); no 'candidate' version registered; nothing to promote")
    assert out[2].startswith("gate gendercare-planted-debiased: FAIL (gate.bpr_cut_min is undefined (inf)")
    client = mlflow.MlflowClient()
    for model in ("poseguard-fused", "gendercare-planted-debiased"):
        with pytest.raises(Exception):
            client.get_model_version_by_alias(model, CHAMPION)


# --- the one translation of library exceptions -------------------------------------------------------------------

def test_write_json_writes_null_for_every_non_finite_number(tmp_path: Path) -> None:
    path = write_json(tmp_path / "m.json", {"a": float("inf"), "b": [float("-inf"), np.float32("nan")], "c": 1.5})
    text = path.read_text()
    assert "Infinity" not in text and "NaN" not in text
    assert json.loads(text) == {"a": None, "b": [None, None], "c": 1.5}


def _raised(fn) -> BaseException:
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 - the test inspects whatever the library raised
        return exc
    raise AssertionError("nothing raised")


def test_library_exceptions_become_one_line_user_errors(tmp_path: Path) -> None:
    import pyarrow.parquet as pq
    import yaml
    from safetensors.numpy import load_file

    (tmp_path / "x.bin").write_text("not the format")
    cases = [
        (lambda: pq.read_table(tmp_path / "x.bin"), "not a readable parquet/arrow file"),
        (lambda: load_file(str(tmp_path / "x.bin")), "not a readable safetensors file"),
        (lambda: yaml.safe_load("a: 1\nb: c: d\n"), "not valid YAML (line 2, column 5: mapping values"),
        (lambda: json.loads('{"a": }'), "not valid JSON (line 1, column 7"),
        (lambda: open(tmp_path / "absent.txt"), "No such file or directory"),
    ]
    for fn, words in cases:
        error = user_error(_raised(fn), "input")
        assert isinstance(error, InputError) and str(error).startswith(f"input: {words}"), (words, error)


def test_a_bare_value_error_is_a_bug_unless_raised_while_reading_user_data() -> None:
    assert user_error(ValueError("shapes do not match")) is None
    with pytest.raises(InputError, match=r"^--poses p.npz: shapes do not match$"):
        with user_input("--poses p.npz"):
            raise ValueError("shapes do not match\nsecond line")
    with pytest.raises(KeyError):
        with user_input("--poses p.npz"):
            raise KeyError("a bug stays a bug")


def test_a_stage_turns_a_library_error_into_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    from safealign.stage import run_stage

    project = write_project(tmp_path / "proj", {"tracking.enabled": False})
    monkeypatch.chdir(project)
    (project / "data" / "broken.json").write_text("{")
    rc = run_stage("probe", [], lambda ctx: json.loads((ctx.root / "data" / "broken.json").read_text()))
    err = capsys.readouterr().err
    assert rc == 1 and err == "probe: error: not valid JSON (line 1, column 2: Expecting property name enclosed " \
                              "in double quotes)\n"


def test_a_forty_megabyte_message_is_cut(tmp_path: Path) -> None:
    text = format_error(InputError("x" * 40_000_000 + "\n" + "line\n" * 100))
    lines = text.splitlines()
    assert len(lines) == MAX_LINES + 1 and max(map(len, lines)) <= MAX_LINE_CHARS
    assert "(40000000 characters)" in lines[0] and lines[-1] == "... and 81 more line(s)"


def test_readme_has_a_short_security_section() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Security", 1)[1].split("\n## ", 1)[0]
    for words in ("safetensors", "weights_only=True", "allow_pickle=False", "yaml.safe_load", "trust_remote_code",
                  "symbolic link"):
        assert words in section, words
    assert len(section) < 2500
