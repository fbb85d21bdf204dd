"""The whole service for API tests: dev server, the real worker, the database, the ASGI app."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.accounts import AccountError, create_user
from api.main import create_app
from config import ApiKey, Settings
from domain.district import SAMPLE_DISTRICT, District
from domain.vocabulary import Channel, Role
from store.db import Database
from worker import build_worker

UNITS = ["D-JJ", "D-CG", "D-SJ", "D-ZJ", "D-YJ", "T-LS", "WD-CENTER", "G-LS-XL-01", "C-LD"]
KEYS: dict[str, ApiKey] = {
    "k-intake": ApiKey(role=Role.INTAKE, user="gateway"),
    "k-hotline": ApiKey(role=Role.INTAKE, user="12345", channel=Channel.HOTLINE),
    "k-supervisor": ApiKey(role=Role.SUPERVISOR, user="dispatcher-1"),
    "k-admin": ApiKey(role=Role.ADMIN, user="admin"),
    "k-verifier": ApiKey(role=Role.VERIFIER, user="grid-member-7", unit="G-LS-XL-01"),
    "k-verifier-TF": ApiKey(role=Role.VERIFIER, user="grid-member-9", unit="G-TF-TF-01"),
    **{f"k-{u}": ApiKey(role=Role.UNIT_STAFF, user=f"staff-{u}", unit=u) for u in UNITS},
}


TEST_PASSWORD = "test-password-1"  # every staff key has a person of the same login (see seed_people)


def seed_people(db: Database, district: District) -> None:
    """A person for each staff key of KEYS, logging in as the key's name (kept if already there)."""
    for login, spec in KEYS.items():
        if spec.role in (Role.INTAKE, Role.SYSTEM, Role.CITIZEN):
            continue
        try:
            create_user(db, district, login, spec.user, spec.role, spec.unit, TEST_PASSWORD)
        except AccountError:
            pass


def own_prefix(folder: Path, prefix: str) -> tuple[District, Path]:
    """The sample district under a case-code prefix of its own, for a test on a database of its own:
    the dev server is shared, and codes counted from 1 again would collide with other tests' cases."""
    district = District.load(SAMPLE_DISTRICT).model_copy(update={"code": prefix})
    path = folder / f"district-{prefix}.json"
    path.write_text(district.model_dump_json(), encoding="utf-8")
    return district, path


def as_(key: str) -> dict[str, str]:
    """Headers for a request made with the API key named ``key`` (see KEYS)."""
    return {"X-API-Key": key}


@dataclass
class Stack:
    http: httpx.AsyncClient
    settings: Settings
    client: Client
    engine: Engine
    csrf: str = ""  # the signed-in person's form token (set by the web tests' login)

    async def report(
        self, channel: str = "hotline_12345", grid: str = "G-LS-XL-01", key: str = "k-intake", **fields
    ) -> dict:
        body = {
            "channel_ref": uuid.uuid4().hex,
            "name": "张三",
            "phone": "13812341234",
            "address": "文登区龙山路88号",
            "grid": grid,
            "description": "小区门口有车辆长期违规停放，影响通行",
            **fields,
        }
        r = await self.http.post(f"/intake/{channel}", json=body, headers=as_(key))
        assert r.status_code == 202, r.text
        return r.json()


@asynccontextmanager
async def api_stack(
    engine: Engine,
    env: WorkflowEnvironment,
    district: District | None = None,
    client: Client | None = None,
    **settings_overrides,
) -> AsyncIterator[Stack]:
    """``client`` is the worker's (default ``env.client``): pass one with the settings' data converter
    when they configure payload keys."""
    target = env.client.service_client.config.target_host
    settings = Settings(
        **{
            "task_queue": f"api-{uuid.uuid4().hex[:8]}",
            "database_url": str(engine.url),
            "temporal_address": target,
            "api_keys": KEYS,
            "intake_retry_seconds": 0.2,
            "intake_start_wait_seconds": 10.0,  # "started" in the answer, whatever the machine's load
            **settings_overrides,
        }
    )
    app = create_app(settings)
    worker = build_worker(client or env.client, settings, engine, district=district)
    async with worker, app.router.lifespan_context(app):
        state = app.state.closeloop
        await state.db.run(seed_people, state.db, state.district)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://closeloop.test") as http:
            yield Stack(http, settings, app.state.closeloop.client, engine)
