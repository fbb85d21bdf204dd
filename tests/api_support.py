"""The whole service for API tests: dev server, the real worker, the database, the ASGI app."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from config import ApiKey, Settings
from domain.district import District
from domain.vocabulary import Channel, Role
from worker import build_worker

UNITS = ["D-JJ", "D-CG", "D-SJ", "D-ZJ", "D-YJ", "T-LS", "WD-CENTER", "G-LS-XL-01", "C-LD"]
KEYS: dict[str, ApiKey] = {
    "k-intake": ApiKey(role=Role.INTAKE, user="gateway"),
    "k-hotline": ApiKey(role=Role.INTAKE, user="12345", channel=Channel.HOTLINE),
    "k-supervisor": ApiKey(role=Role.SUPERVISOR, user="dispatcher-1"),
    "k-admin": ApiKey(role=Role.ADMIN, user="admin"),
    "k-verifier": ApiKey(role=Role.VERIFIER, user="grid-member-7", unit="G-LS-XL-01"),
    **{f"k-{u}": ApiKey(role=Role.UNIT_STAFF, user=f"staff-{u}", unit=u) for u in UNITS},
}


def as_(key: str) -> dict[str, str]:
    """Headers for a request made with the API key named ``key`` (see KEYS)."""
    return {"X-API-Key": key}


@dataclass
class Stack:
    http: httpx.AsyncClient
    settings: Settings
    client: Client
    engine: Engine

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
    engine: Engine, env: WorkflowEnvironment, district: District | None = None, **settings_overrides
) -> AsyncIterator[Stack]:
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
    async with build_worker(env.client, settings, engine, district=district), app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://closeloop.test") as http:
            yield Stack(http, settings, app.state.closeloop.client, engine)
