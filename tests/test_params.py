"""params.yaml is validated at load: wrong type, missing or unknown key -> exit 2 with one precise line."""

from __future__ import annotations

import pytest
import yaml

from safealign.config import load_params, load_raw
from safealign.errors import ConfigError
from safealign.stage import run_stage


def _write(tmp_path, mutate) -> str:
    raw = load_raw(_repo_params())
    mutate(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return str(path)


def _repo_params():
    from tests.conftest import REPO

    return REPO / "params.yaml"


def test_real_params_validate():
    params = load_params(_repo_params())
    assert params.guard.categories, "the embedded default names unsafe categories"


def test_wrong_type_names_key_expected_and_received(tmp_path):
    path = _write(tmp_path, lambda r: r["project"].__setitem__("seed", "abc"))
    with pytest.raises(ConfigError) as err:
        load_params(path)
    message = str(err.value)
    assert "\n" not in message
    assert "'project.seed'" in message and "expected int" in message and "'abc'" in message and "(str)" in message


def test_unknown_key_lists_allowed_keys(tmp_path):
    path = _write(tmp_path, lambda r: r["tracking"].__setitem__("experimnt", "x"))
    with pytest.raises(ConfigError) as err:
        load_params(path)
    message = str(err.value)
    assert "unknown key 'tracking.experimnt'" in message and "experiment" in message and "'x'" in message


def test_missing_key_is_named(tmp_path):
    path = _write(tmp_path, lambda r: r["orchestration"].pop("retries"))
    with pytest.raises(ConfigError, match=r"missing key 'orchestration.retries' \(expected int\)"):
        load_params(path)


def test_literal_choice_lists_options(tmp_path):
    path = _write(tmp_path, lambda r: r["project"].__setitem__("device", "tpu"))
    with pytest.raises(ConfigError, match=r"'project.device': expected one of 'auto', 'cpu', 'cuda'"):
        load_params(path)


def test_stage_exits_2_with_one_line(tmp_path, capsys):
    path = _write(tmp_path, lambda r: r["guard"].__setitem__("resolution", "big"))
    ran = []
    code = run_stage("probe", ["--params", path], lambda ctx: ran.append(ctx) or {})
    err = capsys.readouterr().err.strip()
    assert code == 2 and not ran
    assert len(err.splitlines()) == 1 and "guard.resolution" in err and "'big'" in err


def test_cross_field_rule_names_the_key_expected_and_received(tmp_path):
    path = _write(tmp_path, lambda r: r["pretrain_generator"]["model"].update({"token_dim": 64, "token_heads": 5}))
    with pytest.raises(ConfigError) as err:
        load_params(path)
    message = str(err.value)
    assert "pretrain_generator.model" in message and "token_heads: expected a divisor of token_dim 64" in message
    assert "received 5" in message


@pytest.mark.parametrize("change,says", [
    ({"cross_attention_levels": [True, True]}, "cross_attention_levels: expected one entry per"),
    ({"pose_guider_channels": [16]}, "pose_guider_channels: expected one stage per halving of patch_size 4"),
])
def test_architecture_rules_are_checked_at_load(tmp_path, change, says):
    """The generator's shape rules live in its params section, so a bad shape stops before any stage runs."""
    path = _write(tmp_path, lambda r: r["pretrain_generator"]["model"].update(change))
    with pytest.raises(ConfigError, match=says):
        load_params(path)


def test_fusion_weights_must_be_positive_and_bounded(tmp_path):
    path = _write(tmp_path, lambda r: r["fuse_guard"].update({"weights": {"sexual": 0.0}}))
    with pytest.raises(ConfigError, match=r"weights: expected each in \(0, 10\], received \{'sexual': 0.0\}"):
        load_params(path)


def test_guard_targets_are_named_groups(tmp_path):
    path = _write(tmp_path, lambda r: r["train_guard"].update({"targets": ["to_q"]}))
    with pytest.raises(ConfigError, match="train_guard.targets"):
        load_params(path)
