"""Great Expectations helper: a failed suite stops with a readable summary and writes its JSON."""

import json

import pandas as pd
import pytest

from safealign.errors import DataValidationError
from safealign.validation.gx import expect, validate_frame


@pytest.mark.slow
def test_gx_pass_and_fail(tmp_path):
    df = pd.DataFrame({"id": [1, 2, 3], "score": [0.1, 0.5, 1.7]})
    suite = [expect("ExpectColumnValuesToNotBeNull", column="id"),
             expect("ExpectColumnValuesToBeBetween", column="score", min_value=0, max_value=1)]
    with pytest.raises(DataValidationError) as err:
        validate_frame(df, "probe", suite, result_dir=tmp_path)
    assert "expect_column_values_to_be_between(score): 1 of 3 rows, e.g. ['1.7']" in str(err.value)
    saved = json.loads((tmp_path / "probe.json").read_text())
    assert saved["success"] is False and saved["rows"] == 3
    ok = validate_frame(df[df.score <= 1], "probe_ok", suite, result_dir=tmp_path)
    assert ok["success"]
