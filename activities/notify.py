"""通知 — tell units, the center and citizens what happened, through a pluggable notifier.

The default ``OutboxNotifier`` writes each notice to the database outbox, keyed by
(case, key) so a retried activity sends nothing twice; an SMS or WeChat sender drains the
outbox and resolves a citizen's phone from the report row, so no number travels through Temporal.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session
from temporalio import activity

from domain.commands import Notice
from store.tables import OutboxRow


class Notifier(Protocol):
    def send(self, notice: Notice) -> None: ...


class OutboxNotifier:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def send(self, notice: Notice) -> None:
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        values = dict(case_code=notice.case_code, key=notice.key, audience=notice.audience.value, unit=notice.unit,
                      kind=notice.kind.value, text=notice.text, created_at=datetime.now(timezone.utc))
        with Session(self.engine) as s, s.begin():
            s.execute(insert(OutboxRow).values(**values).on_conflict_do_nothing(index_elements=["case_code", "key"]))


class NotifyActivities:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    @activity.defn
    def notify(self, notice: Notice) -> None:
        self.notifier.send(notice)
