"""通知 — tell units, the center and citizens what happened, through a pluggable notifier.

Cases started since the transactional outbox write their notices with the projection
(``activities/projection.py``); this activity stays registered for cases started before, whose
histories call it. The ``OutboxNotifier`` writes each notice to the database outbox, keyed by
(case, key) so a retried activity sends nothing twice; an SMS or WeChat sender drains the
outbox and resolves a citizen's phone from the report row, so no number travels through Temporal.
"""

from __future__ import annotations

from typing import Protocol

from temporalio import activity

from activities.projection import write_notices
from domain.commands import Notice
from store.db import Database


class Notifier(Protocol):
    def send(self, notice: Notice) -> None: ...


class OutboxNotifier:
    def __init__(self, db: Database) -> None:
        self.db = db

    def send(self, notice: Notice) -> None:
        with self.db.writing() as session:
            write_notices(session, self.db.upsert, [notice])


class NotifyActivities:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    @activity.defn
    def notify(self, notice: Notice) -> None:
        self.notifier.send(notice)
