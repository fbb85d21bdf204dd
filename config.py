"""Settings — everything that differs between a laptop and a city, from the environment.

Every variable is prefixed ``CLOSELOOP_`` (e.g. ``CLOSELOOP_DATABASE_URL``); a ``.env`` file
in the working directory is read too.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, model_validator
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
    scopes: list[str] = []  # "read" (GET) and/or "write" (everything else); empty: both


class SettingsError(Exception):
    """A setting that cannot work. Not a ValueError, so pydantic raises it as is instead of a
    ValidationError that would echo the input (secrets included) into logs."""


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
    # Reverse proxies (addresses, or networks like 10.0.0.0/8) whose X-Forwarded-Proto and X-Forwarded-For
    # are believed: https for HSTS and the cookie's Secure flag, the client address for rate limits
    # (api/headers.py). Empty: the peer is the client and the app's own scheme counts.
    trusted_proxies: list[str] = []
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

    # --- people signing in (api/accounts.py, api/web/session.py) ---
    session_hours: float = 12.0  # a web session ends this long after sign-in (logout ends it at once)
    # The session cookie's Secure flag: None sets it when the request is https (directly or through a
    # trusted proxy); set true in production so it never travels in clear text.
    cookie_secure: bool | None = None
    login_per_account: str = "10/15minutes"  # failed sign-ins before that login is locked for the window
    login_per_client: str = "30/15minutes"  # failed sign-ins from one address before it gets 429
    public_docs: bool = False  # /docs and /openapi.json without signing in (./closeloop dev turns it on)

    # --- payload encryption (security/codec.py) ---
    # Key ID → base64 of a 32-byte AES key (JSON in CLOSELOOP_PAYLOAD_KEYS), merged after payload_keys_file's.
    # Keep retired keys listed: they still decrypt the histories written under them.
    payload_keys: dict[str, str] = {}
    payload_key_id: str | None = None  # the key that encrypts; default: the last one listed
    payload_keys_file: Path | None = None  # a JSON file of the same map
    codec_cors_origins: list[str] = []  # Temporal Web UI origin(s) allowed to call /codec (its codec endpoint)

    # --- citizen lookup limits (api/limiter.py) ---
    # Failed phone-last-four lookups ("count/period", the limits library's notation). A case that
    # reaches its limit is locked for the period (its tracking link still works); a client that
    # reaches its own is refused any last-four lookup until its oldest failure leaves the window.
    citizen_lookup_per_case: str = "5/15minutes"
    citizen_lookup_per_client: str = "10/15minutes"

    @model_validator(mode="after")
    def _check_payload_keys(self) -> Settings:
        """Unusable keys fail at start, not at the first payload."""
        keys = self.payload_key_map()
        if self.payload_key_id is not None and self.payload_key_id not in keys:
            raise SettingsError(f"payload_key_id {self.payload_key_id!r} is not among the payload keys {sorted(keys)}")
        return self

    def payload_key_map(self) -> dict[str, bytes]:
        """Payload keys by ID, decoded: payload_keys_file's, then payload_keys (an ID in both: the same key)."""
        import base64
        import json

        encoded: dict[str, str] = {}
        if self.payload_keys_file:
            try:
                encoded = json.loads(Path(self.payload_keys_file).read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise SettingsError(f"payload_keys_file {self.payload_keys_file}: {err}") from err
            if not isinstance(encoded, dict) or not all(isinstance(v, str) for v in encoded.values()):
                raise SettingsError(f"payload_keys_file {self.payload_keys_file}: expected a JSON object id → base64")
        for key_id, value in self.payload_keys.items():
            if encoded.get(key_id, value) != value:
                raise SettingsError(f"payload key {key_id!r} differs between payload_keys_file and payload_keys")
            encoded[key_id] = value
        keys: dict[str, bytes] = {}
        for key_id, value in encoded.items():
            try:
                keys[key_id] = base64.b64decode(value, validate=True)
            except ValueError as err:  # binascii.Error
                raise SettingsError(f"payload key {key_id!r} is not valid base64: {err}") from err
            if len(keys[key_id]) != 32:
                raise SettingsError(
                    f"payload key {key_id!r} is {len(keys[key_id])} bytes after base64 decoding; AES-256 needs 32 "
                    "(make one with: openssl rand -base64 32)"
                )
        return keys

    def current_payload_key_id(self) -> str | None:
        """The key ID new payloads are encrypted with: payload_key_id, else the last key listed; None without keys."""
        return self.payload_key_id or next(reversed(self.payload_key_map()), None)

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
