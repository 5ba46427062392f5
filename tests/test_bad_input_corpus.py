"""The bad-input corpus: each hostile input through the real CLI gives one short error line naming it.

Every case builds its input in tmp_path, runs ``safealign ...`` in-process and asserts the exit code, the
expected message, no traceback, no error line longer than ``MAX_LINE_CHARS`` and no hidden temp left.
Cases whose check needs more than the message (a batch goes on, nothing is copied, champion stays) are in
tests/test_bad_input_consistency.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import yaml

from safealign.cli import main as cli
from safealign.errors import MAX_LINE_CHARS
from tests.bad_inputs import openpose_dir, png_header, pose_npz, tiny_adapter, truncate
from tests.conftest import standing_poses, write_lm_genderpair, write_project
from tests.test_genderpair import _row, _write_pairset


@dataclass(frozen=True)
class Case:
    """``build(tmp_path, fixtures) -> argv``; the run must exit ``rc`` with ``message`` (a regex) on stderr."""

    build: Callable[[Path, dict], list[str]]
    rc: int
    message: str
    fixtures: tuple[str, ...] = ()


CASES: dict[str, Case] = {}


def case(name: str, rc: int, message: str, *fixtures: str) -> Callable:
    def register(build: Callable[[Path, dict], list[str]]) -> Callable:
        CASES[name] = Case(build, rc, message, fixtures)
        return build
    return register


# --- extract-poses -----------------------------------------------------------------------------------------

@case("extract: decompression-bomb PNG alone -> quarantined, exit 1", 1,
      r"no usable clip: all 1 input\(s\) quarantined; --out \S+ left unchanged")
def _(tmp: Path, fx: dict) -> list[str]:
    return ["extract-poses", str(png_header(tmp / "bomb.png", 30000, 30000)), "--out", str(tmp / "out")]


@case("extract: every input fails -> exit 1", 1, r"no usable clip: all 4 input\(s\) quarantined")
def _(tmp: Path, fx: dict) -> list[str]:
    (tmp / "empty.mp4").write_bytes(b"")
    (tmp / "notes.txt").write_text("x")
    (tmp / "fake.png").write_text("not an image")
    return ["extract-poses", str(tmp / "empty.mp4"), str(tmp / "notes.txt"), str(tmp / "fake.png"),
            str(tmp / "absent.mp4"), "--out", str(tmp / "out")]


@case("extract: --out is a file", 1, r"--out \S+/out.txt: exists and is not a directory")
def _(tmp: Path, fx: dict) -> list[str]:
    (tmp / "out.txt").write_text("keep me")
    return ["extract-poses", str(tmp / "nothing.mp4"), "--out", str(tmp / "out.txt")]


@case("extract: --out under a file", 1, r"--out \S+/f/sub: \S+/f is not a directory")
def _(tmp: Path, fx: dict) -> list[str]:
    (tmp / "f").write_text("x")
    return ["extract-poses", str(tmp / "nothing.mp4"), "--out", str(tmp / "f" / "sub")]


# --- animate -----------------------------------------------------------------------------------------------

def _animate(tmp: Path, fx: dict, poses: Path | str, *extra: str, reference: Path | None = None) -> list[str]:
    return ["animate", "--reference", str(reference or fx["reference"]), "--poses", str(poses),
            "--model", str(fx["tiny_generator"]), "--out", str(tmp / "o" / "a.mp4"), "--steps", "1",
            "--device", "cpu", *extra]


ANIMATE = ("tiny_generator", "reference")


@case("animate: people [1, 2]", 1, r"_keypoints.json: people\[0\]: each entry of 'people' must be an object",
      *ANIMATE)
def _(tmp: Path, fx: dict) -> list[str]:
    return _animate(tmp, fx, openpose_dir(tmp / "json", [1, 2]))


@case("animate: keypoints as strings", 1, r"people\[0\]: pose_keypoints_2d must hold numbers, received '1' \(str\)",
      *ANIMATE)
def _(tmp: Path, fx: dict) -> list[str]:
    return _animate(tmp, fx, openpose_dir(tmp / "json", [{"pose_keypoints_2d": ["1"] * 54}]))


@case("animate: no person in any frame", 1, r"--poses \S+json: no person in any of its 3 frames", *ANIMATE)
def _(tmp: Path, fx: dict) -> list[str]:
    return _animate(tmp, fx, openpose_dir(tmp / "json", []))


@case("animate: coordinates far outside the canvas", 1,
      r"no landmark inside the canvas in any of its 3 frames \(x, y span 10..90", *ANIMATE)
def _(tmp: Path, fx: dict) -> list[str]:
    pose = standing_poses(3)
    pose[..., :2] *= 100
    return _animate(tmp, fx, pose_npz(tmp / "far.npz", pose))


@case("animate: all-NaN .npz", 1, r"'pose' holds no landmark at all", *ANIMATE)
def _(tmp: Path, fx: dict) -> list[str]:
    return _animate(tmp, fx, pose_npz(tmp / "nan.npz", np.full((3, 33, 4), np.nan, np.float32)))


@case("animate: wrong-shape .npz", 1, r"--poses \S+bad.npz: 'pose' has shape \[3, 10, 4\], expected \[T>0, 33, 4\]",
      *ANIMATE)
def _(tmp: Path, fx: dict) -> list[str]:
    return _animate(tmp, fx, pose_npz(tmp / "bad.npz", np.zeros((3, 10, 4), np.float32)))


@case("animate: object .npz", 1, r"array 'pose' holds Python objects \(pickled data\), refused", *ANIMATE)
def _(tmp: Path, fx: dict) -> list[str]:
    return _animate(tmp, fx, pose_npz(tmp / "obj.npz", np.array([{"a": 1}], dtype=object)))


@case("animate: .npz that is no zip", 1, r"obj.npz: not a readable .npz file \(not a zip archive", *ANIMATE)
def _(tmp: Path, fx: dict) -> list[str]:
    (tmp / "obj.npz").write_bytes(b"\x80\x04K\x01.")  # a pickle
    return _animate(tmp, fx, tmp / "obj.npz")


@pytest.mark.parametrize("steps", ["0", "-1"])
def test_animate_refuses_non_positive_steps(steps: str, tmp_path: Path, tiny_generator: Path, reference: Path,
                                            capsys: pytest.CaptureFixture) -> None:
    fx = {"tiny_generator": tiny_generator, "reference": reference}
    _expect(_animate(tmp_path, fx, pose_npz(tmp_path / "ok.npz"), "--steps", steps), 1,
            rf"--steps must be >= 1, received {steps}", tmp_path, capsys)


@case("animate: --fps nan", 1, r"--fps must be a positive number, received nan", *ANIMATE)
def _(tmp: Path, fx: dict) -> list[str]:
    return _animate(tmp, fx, pose_npz(tmp / "ok.npz"), "--fps", "nan")


@case("animate: --pose-canvas 0x0", 1, r"--pose-canvas '0x0': expected WxH of positive pixels", *ANIMATE)
def _(tmp: Path, fx: dict) -> list[str]:
    return _animate(tmp, fx, pose_npz(tmp / "ok.npz"), "--pose-canvas", "0x0")


@case("animate: decompression-bomb reference", 1, r"bomb.png: image too large, refused as a possible "
      r"decompression bomb", *ANIMATE)
def _(tmp: Path, fx: dict) -> list[str]:
    return _animate(tmp, fx, pose_npz(tmp / "ok.npz"), reference=png_header(tmp / "bomb.png", 30000, 30000))


@case("animate: reference above Pillow's warning limit", 1, r"warn.png: image too large", *ANIMATE)
def _(tmp: Path, fx: dict) -> list[str]:
    return _animate(tmp, fx, pose_npz(tmp / "ok.npz"), reference=png_header(tmp / "warn.png", 10000, 10000))


@case("animate: truncated adapter safetensors", 1, r"--model \S+ --adapter \S+: not a readable safetensors file",
      *ANIMATE)
def _(tmp: Path, fx: dict) -> list[str]:
    adapter = tiny_adapter(fx["tiny_generator"], tmp / "adapter")
    truncate(adapter / "adapter_model.safetensors", 20)
    return _animate(tmp, fx, pose_npz(tmp / "ok.npz"), "--adapter", str(adapter))


@case("animate: truncated generator safetensors", 1, r"gen: cannot load the generator", *ANIMATE)
def _(tmp: Path, fx: dict) -> list[str]:
    truncate(fx["tiny_generator"] / "unet" / "diffusion_pytorch_model.safetensors", 100)
    return _animate(tmp, fx, pose_npz(tmp / "ok.npz"))


# --- flag-pose (in a tmp project: its params.yaml is the default --params) --------------------------------

def _flag(*inputs: Path | str, category: str = "sexual") -> list[str]:
    return ["flag-pose", "--category", category, "--who", "tester", *map(str, inputs)]


@case("flag-pose: a symbolic link as input", 1, r"clip.npz: a symbolic link \(to '\S+real.npz'\); links are never "
      "followed", "make_project")
def _(tmp: Path, fx: dict) -> list[str]:
    (tmp / "clip.npz").symlink_to(pose_npz(tmp / "real.npz"))
    return _flag(tmp / "clip.npz")


@case("flag-pose: people [1, 2]", 1, r"_keypoints.json: people\[0\]: each entry of 'people' must be an object",
      "make_project")
def _(tmp: Path, fx: dict) -> list[str]:
    return _flag(openpose_dir(tmp / "json", [1, 2]))


@case("flag-pose: decompression-bomb image", 1, r"bomb.png: image too large, refused as a possible "
      "decompression bomb", "make_project")
def _(tmp: Path, fx: dict) -> list[str]:
    return _flag(png_header(tmp / "bomb.png", 30000, 30000))


@case("flag-pose: only linked frames in the folder", 1, r"json: no OpenPose JSON files found", "make_project")
def _(tmp: Path, fx: dict) -> list[str]:
    real = openpose_dir(tmp / "elsewhere", [{"pose_keypoints_2d": [10.0, 10.0, 1.0] * 18}], frames=1)
    (tmp / "json").mkdir()
    (tmp / "json" / "a_keypoints.json").symlink_to(next(real.iterdir()))
    return _flag(tmp / "json")


@case("flag-pose: frame file that is not UTF-8", 1, r"a_keypoints.json: not UTF-8 text", "make_project")
def _(tmp: Path, fx: dict) -> list[str]:
    (tmp / "json").mkdir()
    (tmp / "json" / "a_keypoints.json").write_bytes(b'{"people": ["\xff\xfe"]}')
    return _flag(tmp / "json")


@case("flag-pose: a 20M-character category", 1, r"category 'xxxx.*\.\.\. \(20000002 characters\): use lower-case",
      "make_project")
def _(tmp: Path, fx: dict) -> list[str]:
    return _flag(pose_npz(tmp / "clip.npz"), category="x" * 20_000_000)


# --- genderpair and assess-bias -----------------------------------------------------------------------------

def _genderpair(tmp: Path, group1: list | str) -> list[str]:
    (tmp / "sets").mkdir()
    _write_pairset(tmp / "sets", {1: group1})
    return ["genderpair", "--pair-sets", str(tmp / "sets"), "--out", str(tmp / "gp")]


@case("genderpair: a repeated pair", 1, r"group1_pairset.json: row 0 \(object 'man'\), field 'format1': pair 2 "
      r"\(rude, polite\) repeats pair 0")
def _(tmp: Path, fx: dict) -> list[str]:
    return _genderpair(tmp, [_row("man", (("rude", "polite"), ("lazy", "diligent"), ("rude", "polite")))])


@case("genderpair: a repeated target row", 1, r"group1_pairset.json: row 2: target 'man' repeats row 0")
def _(tmp: Path, fx: dict) -> list[str]:
    return _genderpair(tmp, [_row("man"), _row("father"), _row("man")])


@case("genderpair: a 1 MB word", 1, r"pair 0: word of 1000000 characters 'wwww.*\(expected at most 100\)")
def _(tmp: Path, fx: dict) -> list[str]:
    return _genderpair(tmp, [_row("man", (("w" * 1_000_000, "polite"),))])


@case("genderpair: a 1 MB target", 1, r"row 0: field 'object': word of 1000000 characters")
def _(tmp: Path, fx: dict) -> list[str]:
    return _genderpair(tmp, [_row("t" * 1_000_000)])


@case("genderpair: top-level object instead of a list", 1, r"group1_pairset.json: expected a JSON list of target "
      r"rows, received dict")
def _(tmp: Path, fx: dict) -> list[str]:
    return _genderpair(tmp, '{"object": "man"}')


@case("assess-bias: --genderpair is not parquet", 1, r"genderpair.parquet: not a readable parquet/arrow file",
      "make_project", "tiny_lm_dir")
def _(tmp: Path, fx: dict) -> list[str]:
    (tmp / "gp").mkdir()
    (tmp / "gp" / "genderpair.parquet").write_text("id,prompt\n1,hello\n")
    return ["assess-bias", "--model", str(fx["tiny_lm_dir"]), "--genderpair", str(tmp / "gp"), "--out",
            str(tmp / "a"), "--no-benchmarks"]


@case("assess-bias: truncated model.safetensors", 1, r"model \S+lm: cannot load: not a readable safetensors file",
      "make_project", "tiny_lm_dir")
def _(tmp: Path, fx: dict) -> list[str]:
    import shutil

    shutil.copytree(fx["tiny_lm_dir"], tmp / "lm")
    truncate(tmp / "lm" / "model.safetensors", 100)
    return ["assess-bias", "--model", str(tmp / "lm"), "--genderpair", str(write_lm_genderpair(tmp / "gp")),
            "--out", str(tmp / "a"), "--no-benchmarks"]


# --- params.yaml (read by `safealign gate`; the stages share the loader) ------------------------------------

def _params(tmp: Path, edit: Callable[[dict], None] | None = None, text: str | None = None) -> list[str]:
    project = write_project(tmp / "proj")
    if edit is not None:
        raw = yaml.safe_load((project / "params.yaml").read_text())
        edit(raw)
        text = yaml.safe_dump(raw, sort_keys=False)
    if text is not None:
        (project / "params.yaml").write_text(text)
    return ["gate", "--params", str(project / "params.yaml")]


@case("params: lr .inf", 2, r"params.yaml: key 'train_guard.lr': expected float \(Input should be a finite "
      r"number\), received inf")
def _(tmp: Path, fx: dict) -> list[str]:
    return _params(tmp, lambda raw: raw["train_guard"].update(lr=float("inf")))


@case("params: fuse_guard.weights {sexual: .nan}", 2, r"key 'fuse_guard.weights.sexual': expected float \(Input "
      r"should be a finite number\), received nan")
def _(tmp: Path, fx: dict) -> list[str]:
    return _params(tmp, lambda raw: raw["fuse_guard"].update(weights={"sexual": float("nan")}))


@case("params: NaN gate threshold", 2, r"key 'gates.0.rules.1.value': expected float \(Input should be a finite "
      r"number\), received nan")
def _(tmp: Path, fx: dict) -> list[str]:
    return _params(tmp, lambda raw: raw["gates"][0]["rules"][1].update(value=float("nan")))


@case("params: -inf gate threshold", 2, r"key 'gates.2.rules.0.value': .* received -inf")
def _(tmp: Path, fx: dict) -> list[str]:
    return _params(tmp, lambda raw: raw["gates"][2]["rules"][0].update(value=float("-inf")))


@case("params: duplicate key", 2, r"params.yaml: not valid YAML \(line \d+, column 3: duplicate key 'seed' \(first "
      r"at line \d+\)\)")
def _(tmp: Path, fx: dict) -> list[str]:
    text = (write_project(tmp / "base") / "params.yaml").read_text()
    return _params(tmp, text=text.replace("  seed:", "  seed: 1\n  seed:", 1))


@case("params: malformed YAML keeps its line number", 2, r"params.yaml: not valid YAML \(line 3, column \d+: ")
def _(tmp: Path, fx: dict) -> list[str]:
    return _params(tmp, text="project:\n  seed: 1\n  device: cpu: x\ntracking: {}\n")


@case("params: a 200k-character value", 2, r"key 'project.device': expected one of 'auto', 'cpu', 'cuda' .*, "
      r"received 'ddd.*\.\.\. \(200002 characters\)")
def _(tmp: Path, fx: dict) -> list[str]:
    return _params(tmp, lambda raw: raw["project"].update(device="d" * 200_000))


# --- the runner --------------------------------------------------------------------------------------------

def _expect(argv: list[str], rc: int, message: str, tmp: Path, capsys: pytest.CaptureFixture) -> str:
    """Run the CLI; assert exit code, message, one short error line, no traceback, no hidden temp left."""
    got = cli(argv)
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert got == rc, err[-2000:]
    assert len(errors) == 1 and re.search(message, errors[0]), err[-2000:]
    assert len(errors[0]) <= MAX_LINE_CHARS + 80 and "Traceback" not in err
    hidden = [p for p in tmp.rglob(".*") if ".cache" not in p.parts]
    assert not hidden, hidden
    return errors[0]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gives_one_line_naming_it(name: str, tmp_path: Path, request: pytest.FixtureRequest,
                                            monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    spec = CASES[name]
    fixtures = {f: request.getfixturevalue(f) for f in spec.fixtures}
    if "make_project" in fixtures:
        fixtures["project"] = fixtures["make_project"]()
    work = tmp_path / "in"
    work.mkdir()
    _expect(spec.build(work, fixtures), spec.rc, spec.message, tmp_path, capsys)

