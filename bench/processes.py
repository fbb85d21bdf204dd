"""Child processes the benchmark starts: spawned, watched, measured and always stopped.

Every child gets ``PR_SET_PDEATHSIG`` (it receives SIGTERM if the benchmark dies, even by
SIGKILL), its output goes to a log file in the run's temporary directory, and
:meth:`Processes.stop_all` ends them newest first (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_VENV_PYTHON = REPO / ".venv" / "bin" / "python"
PYTHON = str(_VENV_PYTHON if _VENV_PYTHON.exists() else Path(sys.executable))
PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def rss_bytes(pid: int) -> int | None:
    """Resident set size (VmRSS) of ``pid`` from /proc, None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


@dataclass
class Child:
    name: str
    popen: subprocess.Popen
    log_path: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def rss(self) -> int | None:
        return rss_bytes(self.pid) if self.alive else None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


class Processes:
    """The registry of everything this run started."""

    def __init__(self) -> None:
        self.children: list[Child] = []

    def spawn(self, name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None) -> Child:
        log_path = log_dir / f"{name}.log"
        log = open(log_path, "ab")
        try:
            popen = subprocess.Popen(
                argv,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
                start_new_session=True,
            )
        finally:
            log.close()
        child = Child(name, popen, log_path)
        self.children.append(child)
        return child

    def stop(self, child: Child, grace: float = 20.0, sig: int = signal.SIGTERM) -> int | None:
        """Signal ``child`` and wait; SIGKILL after ``grace`` seconds. Returns its exit code."""
        if child.alive:
            try:
                child.popen.send_signal(sig)
                child.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                child.popen.kill()
                child.popen.wait(timeout=10)
            except ProcessLookupError:
                pass
        if child in self.children:
            self.children.remove(child)
        return child.popen.returncode

    def stop_all(self, grace: float = 20.0) -> None:
        for child in reversed(list(self.children)):
            self.stop(child, grace)


@functools.cache
def cli_has(command: str) -> bool:
    """True when ``python -m cli <command> --help`` works (the engineer's new commands)."""
    try:
        done = subprocess.run(
            [PYTHON, "-m", "cli", command, "--help"],
            cwd=REPO,
            capture_output=True,
            timeout=120,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def worker_argv() -> list[str]:
    return [PYTHON, "-m", "cli", "worker"] if cli_has("worker") else [PYTHON, "worker.py"]


def api_argv(port: int) -> list[str]:
    if cli_has("api"):
        return [PYTHON, "-m", "cli", "api"]
    return [
        PYTHON,
        "-m",
        "uvicorn",
        "api.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
