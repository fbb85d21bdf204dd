"""Settings — everything that differs between a laptop and a city, from the environment.

Every variable is prefixed ``CLOSELOOP_`` (e.g. ``CLOSELOOP_DATABASE_URL``); a ``.env`` file
in the working directory is read too.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.district import SAMPLE_DISTRICT
from domain.vocabulary import Channel, Role


class ApiKey(BaseModel):
    """Who holds an API key: a role, the unit a staff member is bound to, the channel an intake
    system reports for, and a name for the audit trail."""

    role: Role
    user: str
    unit: str | None = None
    channel: Channel | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLOSELOOP_", env_file=".env", extra="ignore")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "closeloop"
    database_url: str = "sqlite:///.closeloop/closeloop.db"  # PostgreSQL: postgresql+psycopg://user@host/db
    district_file: Path = SAMPLE_DISTRICT
    policy_file: Path | None = None  # replaces the district's SLA policy (domain/data/demo_policy.json for demos)
    timezone: str = "Asia/Shanghai"
    # Next year's holiday notice, when the chinesecalendar package has not caught up yet.
    calendar_supplement: Path | None = None
    # What to do for a year without holiday data: "weekends" (logged, deadline flagged as
    # estimated) or "error" (the deadline activity retries until the data is supplied).
    calendar_uncovered: Literal["error", "weekends"] = "weekends"
    activity_threads: int = 16

    # --- database (see store/db.py) ---
    db_pool_size: int = 10  # connections kept open per process (PostgreSQL)
    db_max_overflow: int = 10  # extra connections under a burst; the thread pool never exceeds size + overflow
    db_pool_timeout: float = 10.0  # seconds a thread waits for a connection before the request answers 503
    db_busy_timeout: float = 10.0  # SQLite: seconds a writer waits for the file lock held by another process

    # --- worker tuning (see docs/benchmarks.md for why these values) ---
    max_cached_workflows: int = 2000  # sticky cache: open cases kept in memory between their tasks
    max_concurrent_workflow_tasks: int = 100
    max_concurrent_local_activities: int = 100
    workflow_task_pollers: int = 8
    activity_task_pollers: int = 4
    graceful_shutdown_seconds: float = 6.0  # SIGTERM: in-flight activities get this long to finish

    # --- API ---
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"  # tracking URLs handed to citizens
    api_keys: dict[str, ApiKey] = {}  # JSON in CLOSELOOP_API_KEYS, merged with api_keys_file
    api_keys_file: Path | None = None
    pii_roles: list[Role] = [Role.SUPERVISOR, Role.ADMIN]  # who sees names and phones unmasked
    intake_retry_seconds: float = 5.0  # how often reports not yet started are retried
    # How long an intake waits for its workflow to start before answering 202 "queued" (the report is
    # stored; the start carries on). Keeps intake fast while Temporal is busy.
    intake_start_wait_seconds: float = 0.02
    # How long an action waits for the workflow to apply it and project it; past this it answers
    # 503 ActionUnconfirmed and the caller retries with the same Idempotency-Key.
    action_timeout_seconds: float = 15.0
    query_timeout_seconds: float = 5.0  # live case reads (the view query)
    shutdown_grace_seconds: float = 4.0  # SIGTERM: open requests get this long to finish

    def keys(self) -> dict[str, ApiKey]:
        import json

        keys = dict(self.api_keys)
        if self.api_keys_file:
            raw = json.loads(Path(self.api_keys_file).read_text(encoding="utf-8"))
            keys.update({k: ApiKey.model_validate(v) for k, v in raw.items()})
        return keys


@lru_cache
def get_settings() -> Settings:
    return Settings()
