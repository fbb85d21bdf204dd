"""The five figures as one table, and the full results as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

Row = tuple[str, str, str, str]  # figure, result, detail, target


def _mark(ok: bool | None) -> str:
    return "" if ok is None else ("[green]✓[/]" if ok else "[red]✗[/]")


def _errors(section: dict[str, Any]) -> str:
    n = section.get("errors") or 0
    return f"; [red]{n} errors[/]" if n else ""


def ceiling_row(c: dict[str, Any]) -> Row:
    case, lean = c["case_shape"], c["lean_8"]
    s = case["shape"]
    detail = (
        f"case shape ({s['activities']} act, {s['local_activities']} local, {s['updates']} upd, "
        f"{s['timers']} timers, {s['timers_fired']} fired): {case['workflows_per_second']}/s; "
        f"lean 8-activity: {lean['workflows_per_second']}/s{_errors(case)}{_errors(lean)}"
    )
    return "1 ceiling (raw SDK)", f"{lean['workflows_per_second']} wf/s", detail, "—"


def closeloop_row(c: dict[str, Any], targets: dict[str, Any]) -> Row:
    per = c["per_closed_case"]
    ratio = c.get("ratio_to_lean_ceiling")
    ratio_ok = None if ratio is None else ratio >= targets["closeloop_to_lean_ceiling"]
    act_ok = per["activities"] <= targets["activities_per_case"]
    detail = (
        f"{c['closed']}/{c['cases']} closed in {c['seconds']} s; ratio to lean ceiling "
        f"{'—' if ratio is None else ratio} {_mark(ratio_ok)}; "
        f"per case: {per['activities']} activities {_mark(act_ok)}, "
        f"{per['local_activities']} local, {per['workflow_tasks']} wf tasks, {per['events']} events{_errors(c)}"
    )
    target = f"≥ {targets['closeloop_to_lean_ceiling']}× lean; ≤ {targets['activities_per_case']} act"
    return "2 close loop via API", f"{c['closed_per_second']} closed/s", detail, target


def latency_row(c: dict[str, Any], targets: dict[str, Any]) -> Row:
    f = c["fixed"]
    ok = f["p99_ms"] is not None and f["p99_ms"] <= targets["intake_p99_ms"] and not f["errors"]
    steps = ", ".join(f"{s['rate']:g}/s→{s['p99_ms']}" for s in c["steps"])
    detail = (
        f"{f['rate']:g}/s for {f['seconds']:g} s: "
        f"p50 {f['p50_ms']} / p95 {f['p95_ms']} / p99 {f['p99_ms']} ms {_mark(ok)}"
        f"{_errors(f)}; highest rate with p99 ≤ {c['p99_target_ms']:g} ms: {c['max_rate_p99_within_target']}/s "
        f"(steps p99 ms: {steps}); background closed {c['background']['closed_per_second']}/s"
    )
    return "3 intake latency", f"p99 {f['p99_ms']} ms", detail, f"p99 ≤ {targets['intake_p99_ms']:g} ms"


def at_rest_row(c: dict[str, Any]) -> Row:
    rss, reads = c["rss_mib"], c["reads"]
    shown = "; ".join(f"{k} {v['median_ms']} ms (HTTP {v['status']})" for k, v in reads.items())
    detail = (
        f"{c['opened']} opened ({c['opened_per_second']}/s); RSS worker {rss['worker']} / API {rss['api']} / "
        f"Temporal {rss['temporal']} MiB; {c['db_bytes_per_case']} B per case in the projection; {shown}{_errors(c)}"
    )
    return "4 open cases at rest", f"worker {rss['worker']} MiB", detail, "—"


def storm_row(c: dict[str, Any]) -> Row:
    if not c.get("cases"):
        return "5 timer storm", "no cases", f"{c.get('first_errors')}", "—"
    rungs = ", ".join(f"{k} {v}" for k, v in c["rung_seconds"].items())
    detail = (
        f"{c['cases']} cases × {c['rungs_per_case']} rungs, mode {c['mode']}, "
        f"deadlines spread {c['deadline_spread_seconds']} s; "
        f"seconds from {c['measured_from']}: {rungs}; "
        + (f"after the last deadline: {c['all_rungs_seconds_after_last_deadline']} s; " if c["mode"] == "live" else "")
        + f"{c['rungs_per_second']} rungs/s"
        + ("" if c["complete"] else " [red]INCOMPLETE[/]")
        + (" [yellow]registration overran the first deadline[/]" if c["registration_overran_first_deadline"] else "")
        + _errors(c)
    )
    return "5 timer storm", f"{c['all_rungs_seconds']} s", detail, "—"


def rows(results: dict[str, Any]) -> list[Row]:
    targets, out = results["targets"], []
    if "ceiling" in results:
        out.append(ceiling_row(results["ceiling"]))
    if "closeloop" in results:
        out.append(closeloop_row(results["closeloop"], targets))
    if "latency" in results:
        out.append(latency_row(results["latency"], targets))
    if "at_rest" in results:
        out.append(at_rest_row(results["at_rest"]))
    if "storm" in results:
        out.append(storm_row(results["storm"]))
    return out


def render(results: dict[str, Any], console: Console) -> None:
    m = results["meta"]
    table = Table(
        title=f"closeloop benchmarks — {m['database']}, {m['cpus']} CPUs, commit {m['commit']}"
        f"{' (dirty tree)' if m['dirty_tree'] else ''}",
        show_lines=True,
    )
    table.add_column("figure", no_wrap=True)
    table.add_column("result", no_wrap=True, justify="right")
    table.add_column("detail")
    table.add_column("target")
    for row in rows(results):
        table.add_row(*row)
    console.print(table)


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
