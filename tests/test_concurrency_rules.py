"""The rules that keep a burst from wedging the stack, checked on the real app and database.

- No ``async def`` route takes a pooled session (``SessionDep``): it would hold a connection
  across its awaits on Temporal, while the projection activity it waits for needs one too.
- SQLite runs in WAL with a busy timeout; writes take the lock at BEGIN on one writer path.
- Blocking database work for async code runs in a bounded pool of its own threads.
"""

from __future__ import annotations

import asyncio
import inspect
import threading

from fastapi.routing import APIRoute
from sqlalchemy import text

from api import deps
from api.main import create_app
from config import Settings
from store.db import Database, PoolTuning


def _calls(dependant) -> list:
    found = [dependant.call]
    for sub in dependant.dependencies:
        found += _calls(sub)
    return found


def _api_routes(routes) -> list[APIRoute]:
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # FastAPI includes routers lazily
            found += _api_routes(route.original_router.routes)
    return found


def test_no_async_route_holds_a_pooled_session(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'rules.db'}"))
    async_routes, offenders = 0, []
    for route in _api_routes(app.routes):
        if inspect.iscoroutinefunction(route.endpoint):
            async_routes += 1
            if deps._session in _calls(route.dependant):
                offenders.append(route.path)
    assert async_routes >= 20, "the action routes are async"  # the check below looked at them
    assert offenders == [], f"async routes holding a session across awaits: {offenders}"


def test_sqlite_is_wal_with_a_busy_timeout_and_one_writer(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'wal.db'}", PoolTuning(pool_size=3, max_overflow=1, busy_timeout=7.5))
    try:
        db.create_schema()
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 7500
        assert db.writer is not db.engine and db.writer.pool.size() == 1
        with db.writing() as session:  # BEGIN IMMEDIATE: the write lock is held from the start
            session.execute(text("CREATE TABLE probe (n INTEGER)"))
            with db.engine.connect() as other:  # a reader is not blocked by the open write
                assert other.execute(text("SELECT COUNT(*) FROM report")).scalar() == 0
        with db.reading() as session:
            assert session.execute(text("SELECT COUNT(*) FROM probe")).scalar() == 0
    finally:
        db.dispose()


async def test_blocking_work_runs_off_the_loop_in_a_bounded_pool(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'pool.db'}", PoolTuning(pool_size=2, max_overflow=1))
    loop_thread = threading.get_ident()
    seen: set[int] = set()
    release = threading.Event()

    def blocking() -> int:
        seen.add(threading.get_ident())
        release.wait(10)
        return threading.get_ident()

    try:
        running = [asyncio.ensure_future(db.run(blocking)) for _ in range(6)]
        await asyncio.sleep(0)  # the loop is free while all six wait: it runs this coroutine
        release.set()
        threads = set(await asyncio.gather(*running))
        assert loop_thread not in threads and len(threads) <= 3  # size + overflow
    finally:
        db.dispose()
