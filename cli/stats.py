"""``stats rebuild``: 考核记账 recounted for every projected case, from its timeline and tasks.

The projection keeps the ``assignments`` rows current as cases move; this command fills them for
cases projected before the table existed (an upgrade), or after the accounting rules changed. It is
idempotent and may run while the system runs (each batch is one short write transaction).
"""

from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

import cli
from config import get_settings
from store.accounting import recount_all
from store.db import Database


@cli.main.group("stats")
def stats() -> None:
    """考核统计：重建承办记账。"""


@stats.command("rebuild")
@click.option("--batch", default=200, show_default=True, type=click.IntRange(1, 10_000), help="每个事务的案件数")
def rebuild(batch: int) -> None:
    """按时间线重算全部案件的承办记录（退单、超期、提级等记在哪个单位）。"""
    cli.STATE.mkdir(exist_ok=True)  # the default SQLite file lives there
    db = Database(get_settings().database_url)
    try:
        db.create_schema()
        columns = (TextColumn("重算承办记录"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=cli.console) as progress:
            task = progress.add_task("rebuild", total=None)
            cases = recount_all(db, batch, lambda done, total: progress.update(task, completed=done, total=total))
    finally:
        db.dispose()
    cli.console.print(f"已重算 {cases} 件案件的承办记录。")
