"""``safealign pose-separability``: how well can the unsafe decision be learnt at all, on unseen subjects? The
ceiling the guard's block rate is measured against.

``--features keypoints``: a gradient-boosting classifier on clip statistics of the posture-token keypoints,
the input the guard reads its decision from (safealign.evaluation.keypoint_ceiling).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pose-separability",
        help="ceiling of the guard's decision: a keypoint classifier's test catch rate at 5 %% flagged "
             "benign clips",
    )
    p.add_argument("--features", choices=("keypoints",), default="keypoints",
                   help="what the classifier reads: the clip's posture-token keypoints")
    p.add_argument("--domain", choices=("body", "face"), default="body")
    p.add_argument("--manifest", default=None,
                   help="curated manifest (default: the domain's data/processed/.../manifest.parquet); clip "
                        "paths are relative to the current directory")
    p.add_argument("--categories", nargs="+",
                   help="subset of the manifest's unsafe categories (default: all)")
    p.add_argument("--false-positive", type=float, default=0.05,
                   help="share of validation benign / near-miss clips the threshold flags")
    p.add_argument("--frontal-deg", type=float, default=10.0,
                   help="camera |yaw| up to which a clip counts as frontal (unknown yaw: not frontal)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="write the results as JSON here (atomic)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import pandas as pd

    from safealign.atomic import write_json
    from safealign.domains import get_domain
    from safealign.errors import InputError, user_input
    from safealign.evaluation.keypoint_ceiling import keypoint_ceiling

    if not 0.0 < args.false_positive < 1.0:
        raise InputError(f"--false-positive: expected a share in (0, 1), received {args.false_positive}")
    default = get_domain(args.domain).poses_dir / "manifest.parquet"
    manifest = Path(args.manifest) if args.manifest else default
    if not manifest.is_file():
        raise InputError(f"{manifest} not found: run `dvc repro curate_poses` (or curate_faces) first")
    with user_input(manifest):
        rows = pd.read_parquet(manifest)
    summary, table = keypoint_ceiling(rows, Path.cwd(), args.categories, args.false_positive, args.seed,
                                      args.frontal_deg)
    for item in summary["skipped_clips"]:
        print(f"skipped {item['file']}: {item['reason']}")
    print(format_table(summary, table))
    print(f"{summary['clips']} clips, {summary['n_features']} features, {summary['seconds']:.1f} s")
    if args.out:
        write_json(Path(args.out), {"features": args.features, "manifest": str(manifest),
                                    **summary, "table": table.to_dict("records")})
    return 0


SECTIONS = (("unsafe", "caught"), ("near_miss", "near-miss flagged"), ("benign", "benign flagged"))


def format_table(summary: dict, table: pd.DataFrame) -> str:
    """Per category: test clips caught per unsafe action, then flagged per near-miss and benign action, as
    ``k/n rate [Wilson 95 %]`` for all views, non-frontal and frontal."""
    lines = []
    for res in summary["categories"]:
        cat = res["category"]
        train = res["train_clips"]
        lines.append(f"\n{cat}: threshold {res['threshold']:.4g} "
                     f"(validation flagged {res['val_flagged']:.3f}); "
                     f"train clips {train['unsafe']} unsafe, {train['benign_near_miss']} benign + near-miss")
        lines.append(f"  {'':34}{'all views':>24}{'non-frontal':>24}{'frontal':>24}")
        for label, title in SECTIONS:
            part = table[(table["category"] == cat) & (table["label"] == label)]
            for action in part["action"].drop_duplicates():
                cells = part[part["action"] == action].set_index("tier")
                name = f"{title}: {action}" if action == "all" else f"  {action}"
                lines.append(f"  {name:34}" + "".join(f"{_cell(cells.loc[t]):>24}"
                                                        for t in ("all", "non_frontal", "frontal")))
    return "\n".join(lines)


def _cell(row: pd.Series) -> str:
    if row["clips"] == 0:
        return "-"
    return f"{row['flagged']}/{row['clips']} {row['rate']:.2f} [{row['low']:.2f},{row['high']:.2f}]"
