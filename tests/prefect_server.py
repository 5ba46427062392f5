"""A real Prefect server on a free loopback port for the orchestration tests (sqlite in a tmp PREFECT_HOME,
analytics and UI off), plus helpers to start and always stop the processes a test launches."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import pytest

T = TypeVar("T")
BIN = Path(sys.executable).parent
STARTUP_S = 150  # a fresh DB migrates in ~15 s on an idle 2-core machine; much longer under load


@dataclass
class Server:
    """A running server: its API URL, the environment for client processes, and its log file."""

    api: str
    env: dict[str, str]
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(argv: list[str], env: dict, log: Path, cwd: Path) -> subprocess.Popen:
    """A process in its own session, so that stop() also reaches the children it spawns."""
    return subprocess.Popen(argv, cwd=cwd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(proc: subprocess.Popen | None, grace: float = 10.0) -> None:
    """SIGTERM the process group we started, then SIGKILL whatever is left of it."""
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(wait)
            return


def tails(logs: list[Path], n: int = 25) -> str:
    """The last ``n`` lines of each log, for failure messages."""
    return "\n".join(f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-n:])
                     for p in logs if p.exists())


def wait_for(check: Callable[[], T], what: str, deadline: float, logs: list[Path]) -> T:
    """Poll ``check`` once a second until it returns something truthy; fail with the logs at ``deadline``."""
    started = time.monotonic()
    while time.monotonic() < deadline:
        value = check()
        if value:
            print(f"{what}: {time.monotonic() - started:.1f}s")  # phase times, shown with -s
            return value
        time.sleep(1.0)
    pytest.fail(f"timed out waiting for {what}\n{tails(logs)}")


def client_env(home: Path, api: str | None = None) -> dict[str, str]:
    """Environment for Prefect processes: this venv first on PATH, tmp PREFECT_HOME, analytics and UI off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_SERVER_UI_ENABLED="false",
               PREFECT_UI_ENABLED="false", DO_NOT_TRACK="1", PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if api:
        env.update(PREFECT_API_URL=api, PREFECT_RUNNER_POLL_FREQUENCY="2")
    return env


@contextlib.contextmanager
def running_server(workdir: Path) -> Iterator[Server]:
    """``prefect server start`` on loopback; stopped on exit, also when the body fails."""
    import httpx

    api = f"http://127.0.0.1:{free_port()}/api"
    log = workdir / "server.log"
    proc = None
    try:
        proc = start([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port",
                      api.split(":")[-1].split("/")[0]], client_env(workdir / "home"), log, workdir)

        def healthy() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"prefect server exited with {proc.returncode}\n{tails([log])}")
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{api}/health", timeout=2).status_code == 200
            return False

        wait_for(healthy, "the Prefect server", time.monotonic() + STARTUP_S, [log])
        yield Server(api=api, env=client_env(workdir / "home", api), log=log)
    finally:
        stop(proc)
