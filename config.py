"""Settings — everything that differs between a laptop and a city, from the environment.

Every variable is prefixed ``CLOSELOOP_`` (e.g. ``CLOSELOOP_DATABASE_URL``); a ``.env`` file
in the working directory is read too.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.district import SAMPLE_DISTRICT


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLOSELOOP_", env_file=".env", extra="ignore")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "closeloop"
    database_url: str = "sqlite:///.closeloop/closeloop.db"  # PostgreSQL: postgresql+psycopg://user@host/db
    district_file: Path = SAMPLE_DISTRICT
    timezone: str = "Asia/Shanghai"
    # Next year's holiday notice, when the chinesecalendar package has not caught up yet.
    calendar_supplement: Path | None = None
    # What to do for a year without holiday data: "weekends" (logged, deadline flagged as
    # estimated) or "error" (the deadline activity retries until the data is supplied).
    calendar_uncovered: Literal["error", "weekends"] = "weekends"
    activity_threads: int = 16


@lru_cache
def get_settings() -> Settings:
    return Settings()
