"""The simulation's result on the console: its own figures per category, then each next to the API's."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simulator.books import LABELS, METRICS, TOTAL, Summary

SHOWN = tuple(metric for metric in METRICS if metric != "evaluated")  # per-unit table: evaluated is in the comparison


def _fmt(metric: str, value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if metric == "satisfaction_rate" else str(value)


def _own_figures(summary: Summary) -> Table:
    table = Table(
        title=f"模拟结果（{summary.cases} 件，种子 {summary.seed}，用时 {summary.seconds:.0f} 秒，"
        f"时限规则 {summary.policy_version or '—'}）"
    )
    table.add_column("事项类别")
    for metric in SHOWN:
        table.add_column(LABELS[metric], justify="right")
    for line in summary.lines:
        style = "bold" if line.label == TOTAL else None
        table.add_row(escape(line.label), *[_fmt(metric, line.mine[metric]) for metric in SHOWN], style=style)
    return table


def _comparison(summary: Summary) -> Table:
    table = Table(title="与考核统计 GET /stats?by=category 对照（模拟器 / 接口）")
    table.add_column("事项类别")
    for metric in METRICS:
        table.add_column(LABELS[metric], justify="right")
    for line in summary.lines:
        cells = []
        for metric in METRICS:
            mine, theirs = _fmt(metric, line.mine[metric]), _fmt(metric, line.api.get(metric))
            cells.append(f"[green]{mine} ✓[/]" if line.agrees(metric) else f"[red]{mine} ≠ {theirs}[/]")
        table.add_row(escape(line.label), *cells)
    return table


def render(summary: Summary, console: Console) -> None:
    """The simulator's own figures per category, then each figure next to the API's."""
    console.print(_own_figures(summary))
    console.print(_comparison(summary))
    did = ", ".join(f"{what} {times}" for what, times in sorted(summary.actions.items()))
    console.print(f"[dim]操作：{did}[/]")
    if summary.rejections:
        console.print(
            "业务拒绝（已计数）："
            + "，".join(f"{status} {code} ×{times}" for (status, code), times in sorted(summary.rejections.items()))
        )
    for note in summary.notes:
        console.print(f"[yellow]注意：{note}[/]")
    for err in summary.errors[:10]:
        console.print(f"[red]未完成：{escape(err)}[/]")
    console.print(
        "[bold green]全部指标与统计接口一致。[/]" if summary.agree else "[bold red]模拟器与统计接口不一致。[/]"
    )
