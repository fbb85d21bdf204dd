"""Talking to the closeloop API as its users do: one key per role, an Idempotency-Key per action,
and a bounded retry of 503 answers with the same key (the action may have been applied but not
yet confirmed, so a fresh key could apply it twice)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

INTAKE_KEY = "dev-intake"
SUPERVISOR_KEY = "dev-supervisor"
VERIFIER_KEY = "dev-verifier"
UNIT_KEY = "dev-unit-D-JJ"  # JM-002 违规停车 in 龙山街道 is routed to 交警大队 (D-JJ)
CATEGORY, GRID = "JM-002", "G-LS-XL-01"
RETRIES = 6


class ApiProblem(RuntimeError):
    """The API answered something a correct run never gets (a 5xx, an unexpected refusal)."""


def http_client(base_url: str, connections: int, timeout: float = 60.0) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits, trust_env=False)


class Api:
    """One shared HTTP connection pool plus the retry rules; counts what had to be retried."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.retried: dict[str, int] = {}

    def _count(self, what: str) -> None:
        self.retried[what] = self.retried.get(what, 0) + 1

    async def post(self, path: str, key: str | None, body: dict[str, Any]) -> httpx.Response:
        """POST an action with a fresh Idempotency-Key, repeated with that same key on 503."""
        headers = {"Idempotency-Key": uuid.uuid4().hex, **({"X-API-Key": key} if key else {})}
        return await self._send("POST", path, headers, json=body)

    async def get(
        self,
        path: str,
        key: str | None = None,
        params: dict[str, Any] | None = None,
        cookies: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self._send("GET", path, {"X-API-Key": key} if key else {}, params=params, cookies=cookies)

    async def _send(self, method: str, path: str, headers: dict[str, str], **kw: Any) -> httpx.Response:
        for attempt in range(RETRIES):
            try:
                r = await self.http.request(method, path, headers=headers, **kw)
            except httpx.TransportError as err:  # same key: a repeat cannot apply the action twice
                self._count(f"{type(err).__name__}")
                if attempt == RETRIES - 1:
                    raise ApiProblem(f"{method} {path}: {type(err).__name__} {err}") from None
            else:
                if r.status_code != 503:
                    return r
                self._count("503")
            await asyncio.sleep(0.2 * 2**attempt)
        return r

    async def ok(self, path: str, key: str | None, body: dict[str, Any], expect: int = 200) -> dict[str, Any]:
        """An action that must succeed; a 409 Queued (workflow still starting) is waited out."""
        limit = time.monotonic() + 60
        while True:
            r = await self.post(path, key, body)
            if r.status_code == expect:
                return r.json()
            if r.status_code == 409 and _code(r) == "Queued" and time.monotonic() < limit:
                self._count("409 Queued")
                await asyncio.sleep(0.2)
                continue
            raise ApiProblem(f"POST {path}: HTTP {r.status_code} {r.text[:300]}")


def _code(r: httpx.Response) -> str:
    try:
        return str(r.json().get("error", {}).get("code", ""))
    except ValueError:
        return ""


def intake_body(tag: str) -> dict[str, Any]:
    """A 12345 hotline report about a parked car in 西楼小区 (→ JM-002, D-JJ)."""
    digits = uuid.uuid4().int % 10**8
    return {
        "channel_ref": f"bench-{tag}-{uuid.uuid4().hex[:12]}",
        "name": "压测用户",
        "phone": f"139{digits:08d}",
        "address": "龙山街道西楼小区3号楼",
        "grid": GRID,
        "category_hint": CATEGORY,
        "description": "西楼小区门口消防通道上停了一辆白色轿车，三天没挪了",
    }


async def intake(api: Api, tag: str) -> tuple[str, str]:
    """File one report; returns (case code, citizen token)."""
    accepted = await api.ok("/intake/hotline_12345", INTAKE_KEY, intake_body(tag), expect=202)
    return accepted["case_code"], accepted["citizen_token"]


async def register(api: Api, code: str) -> dict[str, Any]:
    return await api.ok(f"/cases/{code}/register", SUPERVISOR_KEY, {"category": CATEGORY})
