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
    path = _write(tmp_path, lambda r: r["train_guard"].update({"batch_size": 4, "cross_reference": 2}))
    with pytest.raises(ConfigError) as err:
        load_params(path)
    message = str(err.value)
    assert "train_guard" in message and "cross_reference: expected 0, or an int below batch_size / 2 = 2" in message
    assert "received 2" in message


def test_safety_cross_reference_without_cross_reference_rows_is_refused_by_name(tmp_path):
    rows_off = {"cross_reference": 0, "cross_reference_safety": True}
    path = _write(tmp_path, lambda r: r["train_guard"].update(rows_off))
    with pytest.raises(ConfigError) as err:
        load_params(path)
    message = str(err.value)
    assert "train_guard" in message and "cross_reference_safety: expected false" in message
    assert "received true with cross_reference 0" in message


@pytest.mark.parametrize("change, expected", [
    ({"pose_guider_lora": False, "safety_probe": 0.5}, "safety_probe: expected 0, or > 0 with pose_guider_lora true, "
                                                       "received 0.5"),
    ({"safety_probe": 0.0, "safety_probe_rows": 8}, "safety_probe_rows: expected 0 while safety_probe is 0, "
                                                    "received 8"),
    ({"safety_probe": 1.0, "safety_probe_warmup": 100}, "safety_probe_warmup: expected 0 while safety_probe_rows "
                                                        "is 0 (the rows of each warm-up step), received 100"),
    ({"safety_probe": 0.0, "safety_probe_quiet": 2.0}, "safety_probe_quiet: expected 0 while safety_probe is 0, "
                                                       "received 2.0"),
])
def test_safety_probe_settings_are_checked_by_name(tmp_path, change, expected):
    path = _write(tmp_path, lambda r: r["train_guard"].update(change))
    with pytest.raises(ConfigError) as err:
        load_params(path)
    assert "train_guard" in str(err.value) and expected in str(err.value)


def test_paired_noise_without_pairing_is_refused_by_name(tmp_path):
    path = _write(tmp_path, lambda r: r["train_guard"].update({"pair_by_reference": False, "pair_noise": True}))
    with pytest.raises(ConfigError) as err:
        load_params(path)
    assert "train_guard" in str(err.value) and "pair_noise: expected false" in str(err.value)
