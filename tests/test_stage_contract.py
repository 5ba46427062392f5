"""The stage contract (safealign/stage.py): a ``--domain face`` run logs to MLflow the settings it runs with."""

from __future__ import annotations

import argparse

from safealign.domains import add_domain_arg
from safealign.stage import StageContext, run_stage


def _item_and_domain(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--item", required=True)
    add_domain_arg(parser)


def test_face_run_logs_the_face_overrides_it_trains_with(make_project):
    import mlflow

    make_project({"train_guard.steps": 1200, "face.train_guard": {"steps": 120}})
    ran: dict[str, int] = {}

    def body(ctx: StageContext) -> dict:
        ran[ctx.name] = ctx.section("train_guard").steps
        return {}

    for domain in ("body", "face"):
        argv = ["--item", "impersonation_ava", "--domain", domain]
        assert run_stage("train_guard", argv, body, add_args=_item_and_domain) == 0
    assert ran == {"train_guard@impersonation_ava": 1200, "train_face_guard@impersonation_ava": 120}
    client = mlflow.MlflowClient()
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    logged = {r.info.run_name: int(r.data.params["steps"]) for r in runs}
    assert logged == ran, "MLflow must record the train_guard.steps each run trained with"


def test_a_bad_face_override_is_a_params_error_of_the_contract(make_project, capsys):
    make_project({"face.train_guard": {"steps": "many"}, "tracking.enabled": False})

    def body(ctx: StageContext) -> dict:
        raise AssertionError("the body must not run with an invalid override")

    code = run_stage("train_guard", ["--item", "x", "--domain", "face"], body, add_args=_item_and_domain)
    assert code == 2 and "face.train_guard" in capsys.readouterr().err
