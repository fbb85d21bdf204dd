"""模拟器 — a realistic stream of complaints played through the HTTP API, then checked against 考核统计.

``simulate`` talks only to the API (``httpx.AsyncClient`` on a live server, or on the ASGI app in
tests). It files reports from all five channels and plays every role (``simulator.steps``). With
the demo policy (minutes instead of working days) some units finish after the deadline (超期).

Each case's script comes from ``random.Random(f"{seed}:{index}")`` (``simulator.plans``), so a seed
gives the same reports and decisions whatever the timing. The simulator keeps its own book of what
it did and counts every metric the way ``api/statistics.py`` DEFINITIONS word it
(``simulator.books``); at the end it fetches ``GET /stats?by=category`` for the simulation window and
compares, category by category (``simulator.driver``); ``simulator.report`` prints the result.

Modules: ``keys`` (API keys), ``scenes`` (what people report, where), ``plans`` (each case's script,
``make_plan``), ``books`` (book-keeping, counting and the comparison with /stats), ``client`` (HTTP
and the action table), ``steps`` (one method per step of the close loop), ``driver`` (playing the
cases, ``simulate``), ``report`` (rendering).
"""

from simulator.books import LABELS, METRICS, Book, Line, Summary, count
from simulator.client import Abort
from simulator.driver import simulate
from simulator.keys import DEV_KEYS, Keys
from simulator.plans import CaseScript, make_plan
from simulator.report import render
from simulator.scenes import SCENES, Scene

__all__ = [
    "DEV_KEYS",
    "LABELS",
    "METRICS",
    "SCENES",
    "Abort",
    "Book",
    "CaseScript",
    "Keys",
    "Line",
    "Scene",
    "Summary",
    "count",
    "make_plan",
    "render",
    "simulate",
]
