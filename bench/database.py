"""The benchmark's own projection database: a fresh SQLite file, or a fresh PostgreSQL database
that is created for the run and dropped after it. Also the direct reads the benchmarks make
(sizes, counts), which never go through the API."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Literal

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

DatabaseKind = Literal["sqlite", "postgresql"]
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


class BenchDatabase:
    def __init__(self, kind: DatabaseKind, folder: Path) -> None:
        self.kind = kind
        self.name = f"closeloop_bench_{uuid.uuid4().hex[:10]}"
        self.path = folder / "closeloop.db"
        self.url = f"sqlite:///{self.path}" if kind == "sqlite" else PG_URL.format(name=self.name)
        self._engine: Engine | None = None
        self._created = False

    def create(self) -> None:
        if self.kind == "postgresql":
            with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
        self._created = True

    def drop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self.kind == "postgresql" and self._created:
            with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._created = False

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            args = {"timeout": 30} if self.kind == "sqlite" else {"connect_timeout": 5}
            self._engine = create_engine(self.url, connect_args=args, pool_size=2)
        return self._engine

    def size_bytes(self) -> int:
        """PostgreSQL: pg_database_size; SQLite: the file plus its write-ahead log."""
        if self.kind == "postgresql":
            with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as conn:
                row = conn.execute("SELECT pg_database_size(%s)", (self.name,)).fetchone()
            return int(row[0]) if row else 0
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    def scalar(self, sql: str, **params: object) -> object:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def count_cases_with_event(self, kind: str) -> int:
        """Cases whose projected timeline holds an event of ``kind`` (e.g. ``red``)."""
        return int(self.scalar("SELECT COUNT(DISTINCT case_code) FROM timeline WHERE kind = :kind", kind=kind) or 0)
