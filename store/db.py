"""The database: engines, one writer path, and a bounded thread pool for blocking calls.

The same code runs on SQLite (the zero-setup default) and PostgreSQL. Blocking database work
never runs on an event loop: async callers go through :meth:`Database.run`, whose thread pool is
no larger than the connection pool, so a burst queues for a thread instead of holding the loop
or waiting on a pooled connection while something else waits on it.

SQLite has one writer at a time per file. Writes here go through a single connection per process
that begins ``IMMEDIATE`` (the write lock is taken at BEGIN, so another process's writer waits on
the busy timeout instead of failing when its read snapshot turns stale); reads use their own
connections and, in WAL mode, never wait for the writer.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from store import accounts, tables  # noqa: F401  (registers the tables on SQLModel.metadata)

T = TypeVar("T")


@dataclass(frozen=True)
class PoolTuning:
    """Connection pool and lock waits, from Settings (``db_*``)."""

    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout: float = 10.0
    busy_timeout: float = 10.0

    @classmethod
    def of(cls, settings) -> PoolTuning:
        return cls(settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout, settings.db_busy_timeout)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def upsert_insert(dialect: str):
    """The dialect's INSERT, which has ON CONFLICT (SQLite and PostgreSQL spell it alike)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def make_engine(url: str, tuning: PoolTuning = PoolTuning(), writer: bool = False) -> Engine:
    """An engine for ``url``; ``writer`` (SQLite only) is the one-connection ``BEGIN IMMEDIATE`` path."""
    if not is_sqlite(url):
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=tuning.pool_size,
            max_overflow=tuning.max_overflow,
            pool_timeout=tuning.pool_timeout,
            connect_args={"connect_timeout": 5},
        )
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    size = (
        dict(pool_size=1, max_overflow=0)
        if writer
        else dict(pool_size=tuning.pool_size, max_overflow=tuning.max_overflow)
    )
    engine = create_engine(
        url,
        pool_timeout=tuning.pool_timeout,
        **size,
        connect_args={"check_same_thread": False, "timeout": tuning.busy_timeout},
    )

    @event.listens_for(engine, "connect")
    def _pragmas(conn, _record):
        conn.isolation_level = None  # SQLAlchemy's "begin" event below decides how transactions start
        conn.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer, nor it them
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL stays crash-safe; commits skip one fsync
        conn.execute(f"PRAGMA busy_timeout={int(tuning.busy_timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


class Database:
    """Reader and writer engines plus the thread pool that runs blocking calls for async code."""

    def __init__(self, url: str, tuning: PoolTuning = PoolTuning()) -> None:
        self.url = url
        self.engine = make_engine(url, tuning)
        self.writer = make_engine(url, tuning, writer=True) if is_sqlite(url) else self.engine
        threads = tuning.pool_size + tuning.max_overflow
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="db")
        # Health checks get connections of their own, so a burst that holds the pool cannot fail them.
        self._probe = make_engine(url, PoolTuning(pool_size=1, max_overflow=2, pool_timeout=1.0, busy_timeout=1.0))

    @classmethod
    def of(cls, engine: Engine, tuning: PoolTuning = PoolTuning()) -> Database:
        """A Database on the same URL as ``engine`` (tests hold an engine for their own reads)."""
        return cls(engine.url.render_as_string(hide_password=False), tuning)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def upsert(self):
        """This database's INSERT with ON CONFLICT (see :func:`upsert_insert`)."""
        return upsert_insert(self.dialect)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One transaction on the writer path: committed on exit, rolled back on error."""
        with Session(self.writer, expire_on_commit=False) as session, session.begin():
            yield session

    async def run(self, work: Callable[..., T], *args, **kwargs) -> T:
        """Run blocking ``work`` in the database thread pool, off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, functools.partial(work, *args, **kwargs))

    def ping(self) -> None:
        """Blocking round trip to the database on the probe connections."""
        with self._probe.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def create_schema(self) -> None:
        create_schema(self.writer)

    def dispose(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        self.engine.dispose()
        self._probe.dispose()
        if self.writer is not self.engine:
            self.writer.dispose()


SCHEMA_LOCK = 7233_0001  # PostgreSQL advisory lock: the worker and the API may start together


def create_schema(engine: Engine) -> None:
    """Create missing tables; safe when several processes do it at once (one after the other)."""
    with engine.begin() as conn:  # SQLite: the writer's BEGIN IMMEDIATE serializes it already
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
        SQLModel.metadata.create_all(conn)
        _add_missing_columns(conn)


def _add_missing_columns(conn) -> None:
    """Columns and indexes added since a table was created (columns nullable or with a default), so an
    existing database keeps working; anything beyond that needs a real migration."""
    existing = inspect(conn)
    for table in SQLModel.metadata.sorted_tables:
        have = {c["name"] for c in existing.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have and (column.nullable or column.server_default is not None):
                kind = column.type.compile(dialect=conn.dialect)
                conn.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')
        for index in table.indexes:  # indexes declared since (create_all skips existing tables)
            index.create(conn, checkfirst=True)
