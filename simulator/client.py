"""The simulator's HTTP side: requests repeated while the server answers 503, actions by their name in
``api/actions.py``'s table, and polling a case until it reaches a state."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from api.actions import ACTIONS
from simulator.keys import Keys


class Abort(Exception):
    """A case the simulator cannot drive further (reported, the rest goes on)."""


def instant(value: str | None) -> datetime | None:
    """An ISO timestamp from the API (None stays None)."""
    return datetime.fromisoformat(value) if value else None


def utc_now() -> datetime:
    return datetime.now(UTC)


class ApiClient:
    """Talks to the API for every role; counts the actions taken and the business rejections answered."""

    def __init__(self, http: httpx.AsyncClient, keys: Keys, concurrency: int, timeout: float) -> None:
        self.http, self.keys, self.timeout = http, keys, timeout
        self.requests = asyncio.Semaphore(concurrency)  # HTTP requests in flight
        self.actions: Counter = Counter()
        self.rejections: Counter = Counter()

    async def call(
        self, method: str, path: str, key: str | None = None, body: dict | None = None, params: dict | None = None
    ) -> httpx.Response:
        """One request, repeated while the server answers 503: an action keeps its Idempotency-Key
        across the repeats, so one that was applied but not confirmed is not applied twice."""
        headers = {"X-API-Key": key} if key else {}
        if method == "POST":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        for attempt in range(6):
            try:
                async with self.requests:
                    response = await self.http.request(method, path, headers=headers, json=body, params=params)
            except httpx.TransportError as err:  # no answer: safe to repeat (an action keeps its Idempotency-Key)
                if attempt == 5:
                    raise Abort(f"{method} {path}: {err}") from None
            else:
                if response.status_code != 503:  # 503: Temporal away or the action unconfirmed: repeat it
                    return response
            await asyncio.sleep(0.5 * 2**attempt)
        return response

    async def act(self, what: str, path: str, key: str | None, body: dict | None = None) -> dict | None:
        """POST an action; the answer on success, None on a business rejection (403/409/422, counted)."""
        response = await self.call("POST", path, key, body or {})
        if response.status_code in (200, 202):
            self.actions[what] += 1
            return response.json()
        if response.status_code in (403, 409, 422):
            err = response.json().get("error", {})
            self.rejections[(response.status_code, err.get("code", "?"))] += 1
            return None
        raise Abort(f"{what} {path}: HTTP {response.status_code} {response.text[:200]}")

    async def send(
        self, action: str, code: str, key: str | None, body: dict, *, what: str | None = None
    ) -> dict | None:
        """POST the human action named ``action`` in ``api.actions.ACTIONS`` on case ``code``; counted in
        the book as ``what`` (the action's name unless given)."""
        return await self.act(what or action, f"/cases/{code}/{ACTIONS[action].path}", key, body)

    async def detail(self, code: str) -> dict:
        response = await self.call("GET", f"/cases/{code}", self.keys.supervisor)
        if response.status_code != 200:
            raise Abort(f"GET /cases/{code}: HTTP {response.status_code} {response.text[:200]}")
        return response.json()

    async def until(self, code: str, done: Callable[[dict], bool], timeout: float, at: datetime | None = None) -> dict:
        """Poll the case until ``done(detail)``; with ``at``, first sleep until that instant."""
        if at is not None:
            await asyncio.sleep(max(0.0, (at - utc_now()).total_seconds()))
        limit, interval = time.monotonic() + timeout, 0.2
        while True:
            detail = await self.detail(code)
            if detail["workflow"] is not None and done(detail):
                return detail
            if time.monotonic() > limit:
                raise Abort(f"{code}: state not reached within {timeout:.0f}s (step {detail['summary']['step']})")
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, 2.0)
