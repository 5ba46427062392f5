"""``safealign`` command line: one entry point, one subcommand per task.

Each command module exposes ``register(subparsers)`` and sets ``func`` on its parser; heavy imports happen
inside the handlers so that ``safealign --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from safealign.errors import report_error
from safealign.offline import go_offline

# Modules that add subcommands. Each branch appends its own module here.
COMMAND_MODULES = [
    "safealign.commands.gate",
    "safealign.commands.flag_pose",
    "safealign.commands.extract_poses",
    "safealign.commands.genderpair",
    "safealign.commands.animate",
    "safealign.commands.assess_bias",
    "safealign.commands.debias",
    "safealign.commands.separability",
    "safealign.commands.guard_curve",
]


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="safealign", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``safealign`` console script."""
    go_offline()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except Exception as exc:
        return report_error(exc, f"safealign {args.command}")


if __name__ == "__main__":
    sys.exit(main())
