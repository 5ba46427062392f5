"""``safealign flag-pose``: add clips/poses of an unsafe category to data/flagged (with provenance).

    safealign flag-pose --category NAME CLIP_OR_POSE_DIR... [--new-category] [--who NAME]

Inputs: videos/images MediaPipe can read, pose ``.npz`` files (contract layout) or OpenPose JSON dirs. Then
the onboarding flow (flows/onboard.py) retrains only what the new data affects.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("flag-pose", help="flag clips/poses of an unsafe category for the next guard update",
                       description="Validate clips/poses and add them to data/flagged/<category>/ with "
                                   "provenance; emit safealign.pose.flagged when a Prefect API is set.")
    p.add_argument("inputs", nargs="+", metavar="CLIP_OR_POSE_DIR",
                   help="video, image, pose .npz file or directory of OpenPose JSON files")
    p.add_argument("--category", required=True, help="unsafe category (one of params.yaml guard.categories)")
    p.add_argument("--new-category", action="store_true",
                   help="register CATEGORY in params.yaml guard.categories if it is not there yet")
    p.add_argument("--who", default=None, help="who flagged it, for the provenance record (default: $USER)")
    p.add_argument("--params", default="params.yaml", help="params file; its folder is the project root")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate every input, then copy each into data/flagged/<category>/ (see the module docstring)."""
    import sys
    from pathlib import Path

    from safealign.errors import InputError
    from safealign.ops.categories import add_category, check_category_name, known_categories
    from safealign.ops.dvc_deps import stages_reading
    from safealign.ops.events import emit_pose_flagged
    from safealign.ops.flagging import check_inputs, flag_inputs
    from safealign.paths import FLAGGED_DIR

    root = Path(args.params).resolve().parent
    category = check_category_name(args.category)
    known = known_categories(args.params)
    if category not in known and not args.new_category:
        raise InputError(f"unknown category {category!r}; known: {', '.join(known)} "
                         "(add --new-category to register it)")
    checked = check_inputs(args.inputs)  # refuse bad input before params.yaml is touched
    for item in checked:
        if item.refused:
            more = len(item.refused) - 10
            shown = ", ".join(item.refused[:10]) + (f" and {more} more" if more > 0 else "")
            print(f"{item.path}: left out {len(item.refused)} entr{'y' if len(item.refused) == 1 else 'ies'} "
                  f"a flagged pose folder may not hold: {shown}", file=sys.stderr)
    if category not in known and add_category(args.params, category):
        print(f"registered new category {category!r} in {args.params} guard.categories")
    who = args.who or _user()
    flagged = flag_inputs(root, category, args.inputs, who=who, checked=checked)
    for item in flagged:
        where = item.entry.relative_to(root)
        if item.duplicate:
            print(f"{item.source}: already flagged as {where} (same sha256), skipped")
        else:
            print(f"{item.source}: flagged as {where} ({item.kind}, sha256 {item.sha256[:12]})")
    new = [item for item in flagged if not item.duplicate]
    if new:
        print(_tracking_line(stages_reading(root, FLAGGED_DIR), FLAGGED_DIR))
        print(emit_pose_flagged(category, {"category": category, "who": who,
                                           "entries": [str(i.entry.relative_to(root)) for i in new]}))
    return 0


def _tracking_line(readers: list[str] | None, flagged_dir) -> str:
    # data/flagged is tracked as a stage dependency (dvc.lock records its hash), not with `dvc add`: see README.
    if readers is None:
        return "not a DVC project here: data/flagged is not tracked"
    if readers:
        return f"tracked by DVC as a dependency of {', '.join(readers)}: `dvc status` shows the change"
    return f"warning: no stage in dvc.yaml depends on {flagged_dir}; onboarding will not see it"


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
