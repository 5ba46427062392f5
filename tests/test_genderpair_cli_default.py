"""The genderpair CLI builds the cleaned benchmark by default, as the build_genderpair stage does."""

from __future__ import annotations

from safealign.cli import build_parser
from tests.conftest import REPO


def test_cli_default_agrees_with_the_stage() -> None:
    from safealign.config import load_params

    args = build_parser().parse_args(["genderpair", "--pair-sets", "builtin", "--out", "gp"])
    assert args.cleaned is load_params(REPO / "params.yaml").build_genderpair.cleaned is True
    verbatim = build_parser().parse_args(["genderpair", "--pair-sets", "builtin", "--out", "gp", "--verbatim"])
    assert verbatim.cleaned is False
