"""Every route fuzzed from the OpenAPI document (Schemathesis) against the real stack — worker and
API as processes, a Temporal of their own, PostgreSQL (SQLite when it is not reachable): no
server error and no status code the document does not list, for any input a client can send.
Bounded: a few examples per operation and a time budget."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.live_stack import PG_URL, fresh_database, live_stack

CHECKS = "not_a_server_error,status_code_conformance"
# who fuzzes what: the supervisor every route; intake systems and a unit their own routes too
# (API key, the paths it fuzzes, seconds of budget)
CALLERS = [("k-supervisor", None, 90), ("k-intake", "^/(intake|open311)", 45), ("k-D-JJ", "^/(cases|units)/", 45)]


def _postgres_reachable() -> bool:
    try:
        psycopg.connect(
            PG_URL.set(drivername="postgresql").render_as_string(hide_password=False), connect_timeout=3
        ).close()
        return True
    except psycopg.OperationalError:
        return False


def schemathesis(url: str, key: str, paths: str | None, seconds: int, report: Path) -> subprocess.CompletedProcess:
    argv = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{url}/openapi.json",
        "--checks",
        CHECKS,
        "--header",
        f"X-API-Key: {key}",
        "--max-examples",
        "8",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-time",
        str(seconds),
        "--seed",
        "20261124",
        "--request-timeout",
        "30",
        "--no-shrink",
        "--generation-allow-x00",
        "true",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    if paths:
        argv += ["--include-path-regex", paths]
    return subprocess.run(argv, capture_output=True, text=True, timeout=600)


def test_no_input_makes_any_route_answer_5xx_or_an_undocumented_status(tmp_path):
    kind = "postgresql" if _postgres_reachable() else "sqlite"
    with fresh_database(kind, tmp_path) as url, live_stack(tmp_path, url) as stack:
        for key, paths, seconds in CALLERS:
            done = schemathesis(stack.url, key, paths, seconds, tmp_path / f"{key}.xml")
            summary = "\n".join(done.stdout.splitlines()[-40:])
            assert done.returncode == 0, f"{key} on {kind}:\n{summary}\n{done.stderr[-2000:]}\n{stack.log('api')}"
            tests = re.search(r'tests="(\d+)"', (tmp_path / f"{key}.xml").read_text())
            assert tests and int(tests.group(1)) > 0, summary
            generated = re.search(r"(\d+) generated", done.stdout)
            print(f"\n{key} ({kind}): {generated.group(0) if generated else '?'} examples, 0 server errors")
