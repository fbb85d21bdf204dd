"""``overdue`` and ``show``: read the running API and print tables in Chinese."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import click
import httpx
from rich.markup import escape
from rich.table import Table

import cli
from cli import api_option, key_option, main
from domain.labels import LAMP_LABELS, ROLE_LABELS, VERDICT_LABELS
from domain.vocabulary import EVENT_LABELS, LOCAL_TZ, OPEN_STEPS, EventKind

LAMPS = {lamp.value: f"[{lamp.value}]● {label}[/]" for lamp, label in LAMP_LABELS.items()}


# --- API helpers ------------------------------------------------------------------------------


async def get_json(http, path: str, key: str | None, **params) -> dict | list:
    try:
        r = await http.get(path, params=params, headers={"X-API-Key": key} if key else {})
    except httpx.TransportError as err:
        raise click.ClickException(f"无法连接 API {http.base_url}：{err}（请先运行 ./closeloop dev）") from None
    if r.status_code != 200:
        error = r.json().get("error", {}) if r.headers.get("content-type", "").startswith("application/json") else {}
        raise click.ClickException(f"{path}：HTTP {r.status_code} {error.get('message') or r.text[:200]}")
    return r.json()


def _fetch(api: str, todo):
    async def go():
        async with httpx.AsyncClient(base_url=api, timeout=30.0) as http:
            return await todo(http)

    return asyncio.run(go())


def _local(at: str | None) -> str:
    return datetime.fromisoformat(at).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if at else "—"


def _late(at: str) -> str:
    minutes = int((datetime.now(UTC) - datetime.fromisoformat(at)).total_seconds() // 60)
    return f"（已超 {minutes // 60}小时{minutes % 60}分）"


def _table(title: str, columns, **kw) -> Table:
    table = Table(title=title, **kw)
    for column in columns:
        table.add_column(column)
    return table


@main.command()
@api_option
@key_option
def overdue(api: str, key: str) -> None:
    """超期案件：GET /cases?overdue=true, most overdue first."""

    async def todo(http):
        services = await get_json(http, "/open311/v2/services.json", None)
        cases, page = [], 1
        while True:
            body = await get_json(http, "/cases", key, overdue="true", order="deadline", size=200, page=page)
            cases += body["items"]
            if len(cases) >= body["total"] or not body["items"]:
                return {s["service_code"]: s["service_name"] for s in services}, cases
            page += 1

    names, cases = _fetch(api, todo)
    table = _table(f"超期案件 {len(cases)} 件", ("案件编码", "分类", "承办单位", "时限", "亮灯", "环节"))
    for c in cases:
        category = f"{c['category']} {names.get(c['category'], '')}".strip() if c["category"] else "—"
        table.add_row(
            c["case_code"],
            category,
            c["lead_unit"] or "待指定",
            _local(c["deadline"]) + (_late(c["deadline"]) if c["step"] in OPEN_STEPS and c["deadline"] else ""),
            LAMPS.get(c["lamp"], c["lamp"]),
            c["step_label"],
        )
    cli.console.print(table if cases else "没有超期案件。")


@main.command()
@click.argument("code")
@api_option
@key_option
def show(code: str, api: str, key: str) -> None:
    """一个案件：当前状态、诉求内容与时间线。"""
    d = _fetch(api, lambda http: get_json(http, f"/cases/{code}", key))
    s, r, w = d["summary"], d["report"], d["workflow"]
    facts = [
        ("环节", s["step_label"]),
        ("渠道 / 网格", f"{s['channel']} / {s['grid']}"),
        ("分类 / 等级", f"{s['category'] or '—'} / {s['level'] or '—'}级"),
        ("主办 / 会办", f"{s['lead_unit'] or '—'} / {'、'.join(s['co_units']) or '—'}"),
        ("时限", _local(s["deadline"]) + (" [red]超期[/]" if s["overdue"] else "")),
        ("亮灯", LAMPS.get(s["lamp"], s["lamp"])),
        ("退单 / 返工 / 延期", f"{s['returns']} / {s['reworks']} / {s['extensions']}"),
        ("评价", VERDICT_LABELS.get(s["verdict"] or "", "—")),
        ("诉求人", escape(f"{r['name']} {r['phone']}")),
        ("地址", escape(r["address"])),
        ("诉求", escape(r["description"])),
    ]
    head = _table(f"案件 {code}", ("", ""), show_header=False)
    for label, value in facts:
        head.add_row(label, value)
    cli.console.print(head)
    if w is None:
        cli.console.print("流程尚在启动中，暂无时间线。")
        return
    timeline = _table("时间线", ("#", "时间", "事件", "操作方", "单位", "说明"))
    for e in w["timeline"]:
        note = e["note"] + (
            f"（{VERDICT_LABELS[e['verdict']]}）"
            if e.get("verdict") and VERDICT_LABELS[e["verdict"]] not in e["note"]
            else ""
        )
        timeline.add_row(
            str(e["seq"]),
            _local(e["at"]),
            EVENT_LABELS.get(EventKind(e["kind"]), e["kind"]),
            ROLE_LABELS.get(e["role"], e["role"]),
            e["unit"] or "",
            escape(note),
        )
    cli.console.print(timeline)
