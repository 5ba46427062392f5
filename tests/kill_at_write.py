"""Run ``safealign ARGS...`` and SIGKILL it at its N-th write under a folder (or log every write).

    python tests/kill_at_write.py WATCH_DIR N LOG_FILE ARGS...

A write is an ``open`` for writing, ``mkdir``, ``rename``/``replace``, ``chmod``, ``remove`` or ``rmtree`` of a
path under WATCH_DIR, seen through a ``sys.addaudithook`` hook, which runs just before the operation. With
N = 0 nothing is killed and every write is appended to LOG_FILE as ``event<TAB>path<TAB>other path``.
"""

from __future__ import annotations

import os
import signal
import sys

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
EVENTS = {"open", "os.mkdir", "os.rename", "os.chmod", "os.remove", "os.rmdir", "shutil.rmtree"}


def main() -> int:
    watch, nth, log = os.path.realpath(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    seen = 0

    def under(path: object) -> bool:
        if not isinstance(path, (str, bytes, os.PathLike)):
            return False
        real = os.path.realpath(os.path.abspath(os.fsdecode(path)))
        return real == watch or real.startswith(watch + os.sep)

    def hook(event: str, args: tuple) -> None:
        nonlocal seen
        if event not in EVENTS or not args or not under(args[0]):
            return
        if event == "open" and not (isinstance(args[2], int) and args[2] & WRITE_FLAGS):
            return
        seen += 1
        if nth == 0:
            other = args[1] if event == "os.rename" else ""
            with open(log, "a", encoding="utf-8") as f:  # log lives outside WATCH_DIR: not an event
                f.write(f"{event}\t{os.fsdecode(args[0])}\t{other}\n")
        elif seen == nth:
            os.kill(os.getpid(), signal.SIGKILL)

    sys.addaudithook(hook)
    from safealign.cli import main as cli

    return cli(sys.argv[4:])


if __name__ == "__main__":
    sys.exit(main())
