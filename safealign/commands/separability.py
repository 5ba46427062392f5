"""``safealign pose-separability``: can a dedicated classifier tell unsafe from benign pose maps on unseen
subjects? The ceiling of the guard's block rate at a resolution (safealign.evaluation.separability)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from safealign.config.schema import Params
    from safealign.domains import Domain
    from safealign.generation.probe_detector import Trainer


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pose-separability",
        help="ceiling of the guard's decision: a pose-map classifier's test recall at 5 %% false positives",
    )
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--domain", choices=("body", "face"), default="body")
    p.add_argument("--resolution", type=int, nargs="+",
                   help="pose-map sizes (default: the guard's resolution)")
    p.add_argument("--categories", nargs="+", help="subset of the domain's categories (default: all)")
    p.add_argument("--steps", type=int, default=1500, help="classifier training steps (batch 64)")
    p.add_argument("--detector", choices=("classifier", "guard_probe"), default="classifier",
                   help="classifier: a small pose-map CNN (the ceiling); guard_probe: the guard's PoseGuider LoRA "
                        "on the trained base generator with train_guard's rank, alpha and lr, read out by a "
                        "linear probe (safealign.generation.probe_detector): can the adapter detect as much")
    p.add_argument("--rows", type=int, default=32,
                   help="guard_probe: pose maps per side per step (32 = the classifier's batch of 64)")
    p.add_argument("--false-positive", type=float, default=0.05,
                   help="share of validation benign / near-miss frames the threshold lets through as flagged")
    p.add_argument("--out", default=None, help="write the results as JSON here (atomic)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from safealign.atomic import write_json
    from safealign.config import load_params
    from safealign.domains import get_domain
    from safealign.errors import InputError
    from safealign.evaluation.separability import as_rows, measure, train_classifier
    from safealign.generation import data
    from safealign.layouts import get_layout

    params = load_params(args.params)
    dom = get_domain(args.domain)
    guard = dom.section(params, "train_guard")
    manifest = dom.poses_dir / "manifest.parquet"
    if not manifest.is_file():
        raise InputError(f"{manifest} not found: run `dvc repro curate_poses` (or curate_faces) first")
    rows = data.read_manifest(manifest)
    sizes = args.resolution or [dom.resolution(params)]
    known = dom.categories(params)
    unknown = sorted(set(args.categories or ()) - set(known))
    if unknown:
        raise InputError(f"--categories: {unknown} are not {dom.name} categories {known}")
    jobs = [(c, r) for r in sizes for c in (args.categories or known)]
    train = guard_probe_trainer(dom, params, sizes, args.rows) if args.detector == "guard_probe" else train_classifier
    bones = get_layout(dom.layout).bones
    report = data.LoadReport()
    results = [
        measure(rows, Path.cwd(), c, r, guard.frames_per_clip, guard.ambiguity_quantile, args.steps,
                args.false_positive, params.project.seed, guard.ambiguity_features, bones, report, train)
        for c, r in tqdm(jobs, desc="categories")
    ]
    skipped = dict(report.skipped)  # a clip is read once per job: list each file once
    for file, reason in skipped.items():
        print(f"skipped {file}: {reason}")
    print(f"{'category':16} {'px':>4} {'unsafe frames':>14} {'unsafe clips':>13} {'benign FP':>10} "
          f"{'near-miss FP':>13}")
    for r in results:
        print(f"{r.category:16} {r.resolution:4d} {r.test_unsafe_recall:14.3f} "
              f"{r.test_unsafe_clip_recall:13.3f} {r.test_benign_false_positive:10.3f} "
              f"{r.test_near_miss_false_positive:13.3f}")
        for action, recall in r.test_clip_recall_by_action.items():
            print(f"  {action:22} train frames kept {r.train_kept_share_by_action.get(action, float('nan')):.2f}"
                  f"  test clips caught {recall:.2f}")
    if args.out:
        write_json(Path(args.out), {"false_positive_target": args.false_positive, "steps": args.steps,
                                    "detector": args.detector,
                                    "skipped_clips": [{"file": f, "reason": r} for f, r in skipped.items()],
                                    "results": as_rows(results)})
    return 0


def guard_probe_trainer(dom: Domain, params: Params, sizes: list[int], rows: int) -> Trainer:
    """``--detector guard_probe``: the trainer on the domain's trained base generator (its resolution only), with
    the domain's ``train_guard`` LoRA shape and learning rate."""
    from safealign.errors import InputError
    from safealign.generation.loading import load_generator
    from safealign.generation.probe_detector import probe_detector_trainer

    if rows < 1:
        raise InputError(f"--rows: expected an int >= 1, received {rows}")
    if not dom.base.exists():
        raise InputError(f"{dom.base}: missing (run `dvc repro {dom.dvc_stage('pretrain_generator')}` first)")
    base = load_generator(dom.base, device=params.project.device)
    if sizes != [base.resolution]:
        raise InputError(f"--resolution {sizes}: the guard probe reads the base generator's pose maps, "
                         f"{base.resolution} px only")
    guard = dom.section(params, "train_guard")
    return probe_detector_trainer(base, guard.rank, guard.alpha, tuple(guard.target_modules), guard.lr, rows)
