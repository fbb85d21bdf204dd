"""考核图表 — plotly charts of the statistics: bars by unit or town, the intake/closure trend by period
(plotly.js is served by assets.py)."""

from __future__ import annotations

import math

import plotly.graph_objects as go

FONT = "Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, sans-serif"


def _step(values: list) -> int:
    """Whole-number ticks for counts, about five of them."""
    top = max([v or 0 for v in values] or [0])
    return max(1, math.ceil(top / 5))


def _bar(div_id: str, title: str, labels: list[str], values: list, colour: str, percent: bool) -> str:
    text = [("—" if v is None else f"{v:.1%}") if percent else str(v) for v in values]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=[v or 0 for v in values],
            text=text,
            textposition="outside",
            marker_color=colour,
            hovertemplate="%{x}<br>%{text}<extra></extra>",
        )
    )
    fig.update_layout(
        title=dict(text=title, x=0.01, font=dict(size=16)),
        font=dict(family=FONT, size=12),
        template="simple_white",
        height=340,
        margin=dict(l=50, r=20, t=50, b=110),
        bargap=0.35,
        yaxis=dict(tickformat=".0%", range=[0, 1.15])
        if percent
        else dict(rangemode="tozero", tickformat="d", dtick=_step(values)),
    )
    fig.update_xaxes(tickangle=-30, automargin=True)
    return fig.to_html(
        full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False, "responsive": True}
    )


def unit_charts(rows: list, by: str = "unit") -> list[str]:
    """按期办结率, 满意率 and 超期 per unit (or town), as embeddable HTML (a div and a script each).

    ``rows`` are the statistics rows (``StatsRow`` or ``Figures``); a row without a key is left out.
    """
    groups = [r for r in rows if r.key is not None]
    labels = [r.label for r in groups]
    if not groups:
        return []
    per = "按主办单位" if by == "unit" else "按镇街"
    return [
        _bar("chart-on-time", f"按期办结率（{per}）", labels, [r.on_time_rate for r in groups], "#2e7d32", True),
        _bar("chart-satisfaction", f"满意率（{per}）", labels, [r.satisfaction_rate for r in groups], "#1565c0", True),
        _bar("chart-overdue", f"超期件数（{per}）", labels, [r.overdue for r in groups], "#c62828", False),
    ]


def trend_chart(rows: list, period_label: str) -> str:
    """受理 vs 办结 per period (cases by the period they were reported in), with the overdue count."""
    periods = [r for r in rows if r.key is not None]
    if not periods:
        return ""
    labels = [r.label for r in periods]
    fig = go.Figure()
    for name, values, colour in (
        ("受理", [r.received for r in periods], "#1565c0"),
        ("办结", [r.closed for r in periods], "#2e7d32"),
        ("超期", [r.overdue for r in periods], "#c62828"),
    ):
        fig.add_trace(
            go.Scatter(
                x=labels,
                y=values,
                name=name,
                mode="lines+markers",
                line=dict(color=colour, width=2),
                hovertemplate=f"%{{x}}<br>{name} %{{y}}<extra></extra>",
            )
        )
    fig.update_layout(
        title=dict(text=f"受理与办结趋势（按{period_label}，按上报时间归期）", x=0.01, font=dict(size=16)),
        font=dict(family=FONT, size=12),
        template="simple_white",
        height=340,
        margin=dict(l=50, r=20, t=50, b=80),
        legend=dict(orientation="h", y=-0.25),
        yaxis=dict(rangemode="tozero", tickformat="d", dtick=_step([r.received for r in periods])),
    )
    return fig.to_html(
        full_html=False, include_plotlyjs=False, div_id="chart-trend", config={"displaylogo": False, "responsive": True}
    )
