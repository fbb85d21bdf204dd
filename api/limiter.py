"""查询限次 — failed phone-last-four lookups, limited per case and per client.

Four digits are 10⁴ guesses. Only failures count (a citizen checking their own case again and
again is fine), in moving windows (the ``limits`` library, in memory):

- **per case** (``citizen_lookup_per_case``, default 5 in 15 minutes): the failure that fills the
  window locks the case's last-four lookup for the window's length. While locked, every
  last-four lookup of that case answers 429, *even with the right digits* — otherwise the one
  answer that differs would still give the number away. The tracking link's token is never
  locked: the citizen who holds it always gets in.
- **per client** (``citizen_lookup_per_client``, default 10 in 15 minutes, across cases): once a
  client has failed that often, its last-four lookups answer 429 until the oldest failure leaves
  the window. The client is the peer address, or the X-Forwarded-For hop a trusted proxy reports
  (``api.headers.client_address``).

Lookups still running count as failures until they are decided, so a burst of parallel guesses
cannot overtake the count. A 429 is ``TooManyAttempts`` with ``Retry-After`` in seconds.

The limiter lives on the app (``app.state.citizen_limiter``), in memory: each API process counts
its own. With several processes behind a balancer an attacker gets the limits once per process;
put the counts in Redis (``limits.storage.RedisStorage``) before scaling out.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.errors import ApiError
from api.headers import check_proxies, client_address
from config import Settings


class CitizenLimiter:
    def __init__(self, settings: Settings, per_case: str | None = None, per_client: str | None = None) -> None:
        """``per_case``/``per_client`` override the citizen limits (sign-in uses this class with the
        login in place of the case code)."""
        self.per_case: RateLimitItem = parse(per_case or settings.citizen_lookup_per_case)
        self.per_client: RateLimitItem = parse(per_client or settings.citizen_lookup_per_client)
        # The lock: one entry per case, as long as the per-case window.
        self.lock: RateLimitItem = type(self.per_case)(1, self.per_case.multiples, "citizen-lock")
        self.window = MovingWindowRateLimiter(MemoryStorage())
        self.proxies = tuple(settings.trusted_proxies)
        check_proxies(self.proxies)  # made in create_app: a bad entry fails there, not at a request
        self.pending: Counter[tuple[str, str]] = Counter()  # lookups being decided

    def client_of(self, request: Request) -> str:
        return client_address(request.scope, self.proxies) or "unknown"

    def _refuse(self, reset_at: float) -> ApiError:
        seconds = max(1, math.ceil(reset_at - time.time()))
        minutes = max(1, math.ceil(seconds / 60))
        return ApiError(
            429, "TooManyAttempts", f"尝试次数过多，请 {minutes} 分钟后再试", headers={"Retry-After": str(seconds)}
        )

    def check(self, code: str, client: str) -> None:
        """429 when the case is locked or the client has used up its failures (counting the ones
        still being decided)."""
        if not self.window.test(self.lock, "case", code):
            raise self._refuse(self.window.get_window_stats(self.lock, "case", code).reset_time)
        if not self.window.test(self.per_case, "case", code, cost=1 + self.pending["case", code]):
            raise self._refuse(self.window.get_window_stats(self.per_case, "case", code).reset_time)
        if not self.window.test(self.per_client, "client", client, cost=1 + self.pending["client", client]):
            raise self._refuse(self.window.get_window_stats(self.per_client, "client", client).reset_time)

    def failed(self, code: str, client: str) -> None:
        self.window.hit(self.per_case, "case", code)
        self.window.hit(self.per_client, "client", client)
        if not self.window.test(self.per_case, "case", code):  # this failure filled the case's window
            self.window.hit(self.lock, "case", code)

    @contextmanager
    def attempt(self, code: str, client: str) -> Iterator[None]:
        """Around one last-four lookup: refuses it (429) first if it may not be tried; the body
        calls ``failed`` when the digits did not match."""
        self.check(code, client)  # no await between the check and the count: one event loop
        keys = [("case", code), ("client", client)]
        for key in keys:
            self.pending[key] += 1
        try:
            yield
        finally:
            for key in keys:
                self.pending[key] -= 1
                if self.pending[key] <= 0:
                    del self.pending[key]


def login_limiter_of(request: Request) -> CitizenLimiter:
    """Failed sign-ins, per login and per client, like the lookup (a password is guessed like digits)."""
    state = request.app.state
    limiter = getattr(state, "login_limiter", None)
    if limiter is None:
        settings = state.closeloop.settings
        limiter = state.login_limiter = CitizenLimiter(settings, settings.login_per_account, settings.login_per_client)
    return limiter


def limiter_of(request: Request) -> CitizenLimiter:
    """The app's limiter (made by ``create_app``; made here for an app built without it)."""
    state = request.app.state
    limiter = getattr(state, "citizen_limiter", None)
    if limiter is None:
        limiter = state.citizen_limiter = CitizenLimiter(state.closeloop.settings)
    return limiter
