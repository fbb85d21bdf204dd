"""``policy simulate``: 时限规则推演 (what-if) — past cases' timelines replayed under a new SLA policy,
side by side with what really happened. Reads the database directly and only reads (run it where
the API runs, with its settings); the arithmetic is in ``api/whatif.py``."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import NoReturn

import click
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

import cli
from api.whatif import RELEVANT_KINDS, CaseHistory, Entry, Replay, UnitFigures, WhatIf, simulate
from cli.districts import _explain
from config import get_settings
from domain.calendar import BusinessCalendar, CalendarDataMissing
from domain.district import District
from domain.labels import LAMP_LABELS
from domain.policy import SlaPolicy
from domain.vocabulary import LOCAL_TZ, WarningLevel
from store.db import is_sqlite, make_engine
from store.tables import CaseRow, TimelineRow

MAX_WINDOW_DAYS = 366
CHUNK = 500  # case codes per IN (...) when reading timelines
NOTES = (
    "口径：按承办单位（每次派遣的主办单位）计；办结 = 该次派遣最后由承办单位报办结；按期办结率 = 按期办结 ÷ 办结。",
    "实际：超期 = 时限（含延期）已过仍在办（时间线红灯），提级 = 督办阶梯的自动提级；推演：各单位的签收、办结、退单、"
    "延期、改派等都按实际时刻，只换时钟，到新提级时点仍在办即提级。",
    "简化：推演不改写后续经过；返工一律重新计时；延期按批准时长；详见 api/whatif.py。",
)


def _fail(lines: list[str], code: int = 2) -> NoReturn:
    cli.console.print(f"[red]{escape(lines[0])}[/]")
    for line in lines[1:]:
        cli.console.print(f"  [red]✗[/] {escape(line)}")
    sys.exit(code)


def _policy(path: Path) -> SlaPolicy:
    try:
        policy = SlaPolicy.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except Exception as err:  # every way a file can be wrong is reported, in Chinese
        _fail([f"时限规则文件 {path} 校验未通过：", *_explain(err)])
    missing = [str(level.value) for level in WarningLevel if level not in policy.levels]
    if missing:
        _fail([f"时限规则文件 {path} 校验未通过：", f"levels：缺少 {'、'.join(missing)} 级的时限"])
    return policy


def _window(start: str, end: str) -> tuple[datetime, datetime]:
    """[from 00:00, to + 1 day 00:00) Beijing time; at most MAX_WINDOW_DAYS days."""
    days = []
    for name, text in (("--from", start), ("--to", end)):
        try:
            if len(text) != 10:
                raise ValueError
            days.append(date.fromisoformat(text))
        except ValueError:
            _fail([f"{name} 日期格式应为 YYYY-MM-DD（北京时间），收到：{text}"])
    first, last = days
    if last < first:
        _fail([f"--to（{last}）早于 --from（{first}）"])
    if (last - first).days + 1 > MAX_WINDOW_DAYS:
        _fail([f"统计窗口最长 {MAX_WINDOW_DAYS} 天，{first} 至 {last} 为 {(last - first).days + 1} 天"])
    return datetime.combine(first, time(), LOCAL_TZ), datetime.combine(last + timedelta(days=1), time(), LOCAL_TZ)


def _calendar(supplement: Path | None) -> BusinessCalendar:
    """The worker's calendar (same settings), with ``--calendar`` as its supplement file if given."""
    from worker import make_calendar  # the worker's modules load only for this command

    settings = get_settings()
    if supplement:
        settings = settings.model_copy(update={"calendar_supplement": supplement})
    try:
        return make_calendar(settings)
    except Exception as err:
        _fail([f"工作日历补充文件 {settings.calendar_supplement} 无法使用：", *_explain(err)])


def _histories(url: str, start: datetime, end: datetime) -> list[CaseHistory]:
    """The cases reported in [start, end) with the timeline entries the replay reads; read-only."""
    if is_sqlite(url) and not Path(url.split("///", 1)[-1]).exists():
        _fail([f"数据库文件不存在：{url}（CLOSELOOP_DATABASE_URL）"], 1)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            session.connection().exec_driver_sql(
                "PRAGMA query_only = ON" if is_sqlite(url) else "SET TRANSACTION READ ONLY"
            )
            window = (CaseRow.reported_at >= start, CaseRow.reported_at < end)
            cases = session.exec(
                select(CaseRow.case_code, CaseRow.level, CaseRow.policy_version)
                .where(*window)
                .order_by(CaseRow.case_code)
            ).all()
            codes, entries = [c[0] for c in cases], defaultdict(list)
            kinds = [k.value for k in RELEVANT_KINDS]
            for i in range(0, len(codes), CHUNK):
                chosen = TimelineRow.case_code.in_(codes[i : i + CHUNK]), TimelineRow.kind.in_(kinds)
                for t in session.exec(select(TimelineRow).where(*chosen)):
                    entries[t.case_code].append(Entry(t.seq, t.at, t.kind, t.unit, t.note))
    except SQLAlchemyError as err:
        _fail(["无法读取数据库：", str(err).splitlines()[0]], 1)
    finally:
        engine.dispose()
    return [CaseHistory(code, level, version, tuple(entries[code])) for code, level, version in cases]


def _names() -> dict[str, str]:
    """Unit code → name from the district the API uses; codes alone if it cannot be read."""
    settings = get_settings()
    path = settings.district_file
    if "district_file" not in settings.model_fields_set and cli.LOADED_DISTRICT.exists():
        path = cli.LOADED_DISTRICT
    try:
        return {u.code: u.name for u in District.load(path).units}
    except Exception:
        return {}


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _local(at: datetime | None) -> str:
    return at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if at else ""


def _unit_row(f: UnitFigures, names: dict[str, str]) -> list[str]:
    label = f"{f.unit} {names.get(f.unit, '')}".strip()
    pairs = [(f.overdue_actual, f.overdue_whatif), (f.escalated_actual, f.escalated_whatif)]
    return [
        escape(label),
        str(f.assignments),
        str(f.completed),
        _rate(f.rate(f.on_time_actual)),
        _rate(f.rate(f.on_time_whatif)),
        *[str(n) for pair in pairs for n in pair],
        str(f.unknown_after),
    ]


def _units_table(result: WhatIf, names: dict[str, str]) -> Table:
    table = Table(title="按承办单位：实际 → 推演")
    for column in (
        "承办单位",
        "派遣",
        "办结",
        "按期办结率 实际",
        "推演",
        "超期 实际",
        "推演",
        "提级 实际",
        "推演",
        "后续未知",
    ):
        table.add_column(column, justify="left" if column == "承办单位" else "right")
    for f in result.units:
        table.add_row(*_unit_row(f, names))
    table.add_row(*_unit_row(result.total, names), style="bold")
    return table


def _verdict(r: Replay) -> str:
    if r.whatif.escalated_at and r.actual.escalated_at:
        return "仍会提级"
    if r.whatif.escalated_at:
        return "[red]新增提级[/]"
    return "[green]不再提级[/]" + ("（之后未知）" if r.unknown_after else "")


def _escalations_table(result: WhatIf) -> Table | str:
    rows = [r for r in result.replays if r.actual.escalated_at or r.whatif.escalated_at]
    if not rows:
        return "提级：实际与推演均无自动提级的案件。"
    table = Table(title=f"提级变化 {len(rows)} 次派遣（实际规则 → {escape(result.policy_version)}）")
    for column in ("案件编码", "承办单位", "实际规则", "实际提级", "推演提级", "新办理时限", "结论"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.case_code,
            escape(r.unit),
            escape(r.policy_version or "—"),
            _local(r.actual.escalated_at) or "未提级",
            _local(r.whatif.escalated_at) or "不会提级",
            _local(r.deadline),
            _verdict(r),
        )
    return table


def _detail_table(result: WhatIf) -> Table:
    table = Table(title="逐次派遣（亮灯为最高亮灯）")
    for column in (
        "案件编码",
        "承办单位",
        "派遣",
        "新办理时限",
        "新提级时点",
        "亮灯 实际",
        "推演",
        "超期 实际",
        "推演",
    ):
        table.add_column(column)
    yes = {True: "是", False: "否"}
    for r in result.replays:
        table.add_row(
            r.case_code,
            escape(r.unit),
            _local(r.dispatched_at),
            _local(r.deadline),
            _local(r.escalate_at),
            LAMP_LABELS[r.actual.lamp],
            LAMP_LABELS[r.whatif.lamp],
            yes[r.actual.overdue],
            yes[r.whatif.overdue],
        )
    return table


def _print(result: WhatIf, first: date, last: date, supplement: Path | None, detail: bool) -> None:
    out = cli.console.print
    dispatched = len({r.case_code for r in result.replays})
    versions = "、".join(f"{escape(v)} {n} 件" for v, n in result.actual_versions.items()) or "—"
    out(f"[bold]时限规则推演：{escape(result.policy_version)}（新） 对比 实际记录[/]")
    out(f"窗口：{first} 至 {last}（北京时间，按上报时间）；案件 {result.cases} 件，已派遣 {dispatched} 件")
    out(f"实际所用时限规则：{versions}")
    out(f"工作日历：chinesecalendar{'，补充文件 ' + escape(str(supplement)) if supplement else ''}")
    if result.policy_version in result.actual_versions:
        out(f"[yellow]注意：新规则的版本号 {escape(result.policy_version)} 与实际所用版本相同，推演按文件内容计算。[/]")
    if result.estimated:
        out("[yellow]部分时限涉及缺少节假日数据的年份，为估算。[/]")
    out(_units_table(result, _names()))
    out(_escalations_table(result))
    if detail:
        out(_detail_table(result))
    for line in [*result.warnings, *NOTES]:
        out(escape(line), soft_wrap=True)


@cli.main.group()
def policy() -> None:
    """时限规则：推演（what-if）。"""


@policy.command("simulate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from", "first", required=True, help="起始日期 YYYY-MM-DD（北京时间，按上报时间，含当日）")
@click.option("--to", "last", required=True, help="截止日期 YYYY-MM-DD（含当日）；窗口最长 366 天")
@click.option(
    "--calendar",
    "supplement",
    type=click.Path(dir_okay=False, path_type=Path),
    help="工作日历补充文件（同 CLOSELOOP_CALENDAR_SUPPLEMENT 的格式；不填用设置中的）",
)
@click.option("--detail", is_flag=True, help="逐次派遣列出新时限、亮灯与超期")
def policy_simulate(file: Path, first: str, last: str, supplement: Path | None, detail: bool) -> None:
    """按新时限规则重算窗口内案件的时限、亮灯、超期与提级，与实际记录并列（只读数据库）。"""
    new_policy = _policy(file)
    start, end = _window(first, last)
    calendar = _calendar(supplement)
    histories = _histories(get_settings().database_url, start, end)
    try:
        result = simulate(histories, new_policy, calendar, datetime.now(UTC))
    except CalendarDataMissing as err:
        _fail(["工作日历缺少数据，无法推演：", str(err)], 1)
    _print(
        result, start.date(), (end - timedelta(days=1)).date(), supplement or get_settings().calendar_supplement, detail
    )
