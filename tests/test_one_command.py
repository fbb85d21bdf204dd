"""The one command: started in a subprocess from a clean folder, it serves a case, stops on
Ctrl-C, and on the next start finds the case where it was."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

KEYS = {"intake": "dev-intake", "supervisor": "dev-supervisor", "unit": "dev-unit-D-JJ"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class System:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.temporal, self.ui, self.api = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.api}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "CLOSELOOP_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal}", "CLOSELOOP_API_PORT": str(self.api)}
        env = {k: v for k, v in env.items() if not k.startswith("CLOSELOOP_") or k in (
            "CLOSELOOP_TEMPORAL_ADDRESS", "CLOSELOOP_API_PORT")}  # a clean machine: defaults only
        log = open(self.folder / "closeloop-dev.log", "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "cli", "dev", "--ui-port", str(self.ui)], cwd=self.folder,
                                     env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc and self.proc.poll() is None, self.log()
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"not healthy within {timeout}s\n{self.log()}")

    def stop(self) -> int:
        assert self.proc
        self.proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        code = self.proc.wait(timeout=60)
        self.proc = None
        return code

    def log(self) -> str:
        return (self.folder / "closeloop-dev.log").read_text(errors="replace")[-4000:]

    def call(self, method: str, path: str, who: str, **kw) -> httpx.Response:
        return httpx.request(method, f"{self.url}{path}", headers={"X-API-Key": KEYS[who]}, timeout=30, **kw)


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_one_command_keeps_open_cases_across_a_restart(tmp_path):
    system = System(tmp_path)
    system.start()
    try:
        r = system.call("POST", "/intake/hotline_12345", "intake", json={
            "channel_ref": "restart-1", "name": "王五", "phone": "13700001111", "grid": "G-LS-XL-01",
            "description": "小区门口车辆违规停放，影响通行"})
        assert r.status_code == 202, r.text
        code = r.json()["case_code"]
        r = system.call("POST", f"/cases/{code}/register", "supervisor", json={"category": "JM-002"})
        assert r.status_code == 200 and r.json()["step"] == "dispatch", r.text
        assert "Temporal Web UI" in system.log() and "/docs" in system.log() and "/ui/login" in system.log()
    finally:
        assert system.stop() == 0, system.log()
    assert port_free(system.temporal) and port_free(system.api), "something kept running after Ctrl-C"
    assert (tmp_path / ".closeloop" / "temporal.db").exists() and (tmp_path / ".closeloop" / "closeloop.db").exists()

    system.start()
    try:
        detail = system.call("GET", f"/cases/{code}", "supervisor").json()
        assert detail["summary"]["step"] == "dispatch" and detail["workflow"]["step"] == "dispatch"
        assert detail["workflow"]["lead_unit"] == "D-JJ" and detail["summary"]["lead_unit"] == "D-JJ"
        r = system.call("POST", f"/cases/{code}/sign", "unit", json={})
        assert r.status_code == 200 and r.json()["step"] == "handle", r.text  # the case carries on
    finally:
        assert system.stop() == 0, system.log()
