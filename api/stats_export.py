"""考核导出 — the statistics as an Excel workbook (every grouping, the ranking and the 口径) or CSV.

openpyxl writes the workbook (maintained, pure Python, and it reads the file back in the tests);
the figures are exactly those of ``GET /stats``, because both come from ``stats_report``.
Rates are written as numbers with a percent format, and "—" where a rate has no cases.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlmodel import Session

from api.statistics import GROUPINGS, PERIODS, GroupBy, Period
from api.stats_report import StatsResponse, StatsRow, ranking, stats_report
from domain.district import District

COLUMNS: list[tuple[str, str]] = [
    ("received", "受理"),
    ("accepted", "立案"),
    ("assigned", "承办"),
    ("closed", "办结"),
    ("closed_on_time", "按期办结"),
    ("on_time_rate", "按期办结率"),
    ("due", "应办结"),
    ("closure_rate", "结案率"),
    ("overdue", "超期"),
    ("returned", "退单"),
    ("escalated", "提级"),
    ("reworked", "返工"),
    ("extended", "延期"),
    ("evaluated", "参评"),
    ("satisfied", "满意"),
    ("satisfaction_rate", "满意率"),
    ("avg_handling_hours", "平均办理（小时）"),
    ("stars", "星级"),
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKBOOK_GROUPS: tuple[GroupBy, ...] = ("unit", "area", "category", "channel", "period")
RATES = {"on_time_rate", "closure_rate", "satisfaction_rate"}
EMPTY = "—"
MAX_SHEET_TITLE = 31  # Excel's limit


def columns_of(report: StatsResponse) -> list[tuple[str, str]]:
    """The columns that apply: unit rows count assignments, the others cases."""
    skip = {"received", "accepted"} if report.by == "unit" else {"assigned"}
    return [(name, label) for name, label in COLUMNS if name not in skip]


def title_of(report: StatsResponse) -> str:
    title = f"按{GROUPINGS[report.by]}"
    return f"{title}（{PERIODS[report.period]}）" if report.by == "period" and report.period else title


def _cells(row: StatsRow, columns: list[tuple[str, str]]) -> list:
    values = [row.key or "", row.label]
    for name, _ in columns:
        value = getattr(row, name)
        values.append(EMPTY if value is None else value)
    return values


def _sheet(book: Workbook, title: str, report: StatsResponse, rows: list[StatsRow], with_total: bool) -> None:
    sheet = book.create_sheet(title[:MAX_SHEET_TITLE])
    columns = columns_of(report)
    sheet.append(["编码", GROUPINGS[report.by] if title != "排名" else "单位", *[label for _, label in columns]])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows + ([report.total] if with_total else []):
        sheet.append(_cells(row, columns))
    for index, (name, _) in enumerate(columns, start=3):
        if name in RATES:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                if isinstance(cell.value, float | int):
                    cell.number_format = "0.0%"
    sheet.column_dimensions["B"].width = 28
    for index in range(3, len(columns) + 3):
        sheet.column_dimensions[get_column_letter(index)].width = 11
    sheet.freeze_panes = "C2"


def _window_text(report: StatsResponse) -> str:
    start = report.reported_from.isoformat() if report.reported_from else "不限"
    end = report.reported_to.isoformat() if report.reported_to else "不限"
    return f"上报时间 [{start}, {end})，统计时点 {report.generated_at.isoformat()}"


def workbook(reports: list[StatsResponse], ranking: list[StatsRow]) -> bytes:
    """One sheet per report, a 排名 sheet (by-unit ranking) and a 口径 sheet with every definition."""
    book = Workbook()
    book.remove(book.active)
    for report in reports:
        _sheet(book, title_of(report), report, report.rows, with_total=True)
    unit_report = next((r for r in reports if r.by == "unit"), None)
    if unit_report is not None:
        _sheet(book, "排名", unit_report, ranking, with_total=False)
    definitions = book.create_sheet("口径")
    definitions.append(["指标", "口径"])
    labels = dict(COLUMNS)
    for key, text in (reports[0].definitions if reports else {}).items():
        definitions.append([labels.get(key, key), text])
    if reports:
        definitions.append(["统计范围", _window_text(reports[0])])
    definitions.column_dimensions["A"].width = 16
    definitions.column_dimensions["B"].width = 110
    for (cell,) in definitions.iter_rows(min_col=2, max_col=2):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_text(report: StatsResponse) -> str:
    """The report as CSV (UTF-8 with BOM, so Excel opens the Chinese correctly)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    columns = columns_of(report)
    writer.writerow(["编码", GROUPINGS[report.by], *[label for _, label in columns]])
    for row in [*report.rows, report.total]:
        writer.writerow(_cells(row, columns))
    return out.getvalue()


def district_workbook(
    session: Session, district: District, period: Period, reported_from: datetime | None, reported_to: datetime | None
) -> bytes:
    """The workbook of every grouping (periods at ``period``) at one statistics instant."""
    now = datetime.now(UTC)
    reports = [stats_report(session, district, by, period, reported_from, reported_to, now) for by in WORKBOOK_GROUPS]
    return workbook(reports, ranking(reports[0]))


def attachment(name: str, extension: str) -> dict[str, str]:
    """Download headers: ``closeloop-stats-<name>-<Beijing-ish UTC stamp>.<extension>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return {"Content-Disposition": f'attachment; filename="closeloop-stats-{name}-{stamp}.{extension}"'}


def unreported_csv(report) -> str:
    """应报未报 (``api.unreported.UnreportedReport``) as CSV: one line per grid, then per member."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["网格编码", "网格", "镇街", "应发现", "应报未报", "案件", "网格员"])
    for grid in report.grids:
        cases = " ".join(case.case_code for case in grid.cases)
        writer.writerow(
            [
                grid.grid,
                grid.grid_name,
                grid.town_name or "",
                grid.checked,
                grid.unreported,
                cases,
                " ".join(grid.members),
            ]
        )
    writer.writerow([])
    writer.writerow(["网格员", "姓名", "网格编码", "网格", "应报未报", "案件"])
    for member in report.members:
        writer.writerow(
            [member.login, member.name, member.grid, member.grid_name, member.unreported, " ".join(member.case_codes)]
        )
    return out.getvalue()
