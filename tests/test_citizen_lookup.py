"""The citizen lookup by the phone's last four digits cannot be walked (api/limiter.py): failures
are limited per case (then the case is locked, right digits included) and per client; the
tracking link's token always works. Real API, worker, Temporal and database."""

from __future__ import annotations

import asyncio

import httpx

from tests.api_support import api_stack

PHONE = "13812341234"  # last four: 1234
WRONG = [f"{n:04d}" for n in range(20)]  # 0000…0019


def client_at(s, host: str) -> httpx.AsyncClient:
    """Requests to the same app from another address."""
    app = s.http._transport.app  # the stack's ASGI app
    transport = httpx.ASGITransport(app=app, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://closeloop.test")


async def lookup(http: httpx.AsyncClient, code: str, headers: dict[str, str] | None = None, **params) -> httpx.Response:
    return await http.get(f"/citizen/cases/{code}", params=params, headers=headers)


def assert_too_many(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    error = r.json()["error"]
    assert error["code"] == "TooManyAttempts" and "分钟后再试" in error["message"], error
    assert 1 <= int(r.headers["Retry-After"]) <= 15 * 60


async def test_walking_the_last_four_locks_the_case_but_not_its_link(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        filed = await s.report(phone=PHONE)
        code, token = filed["case_code"], filed["citizen_token"]
        assert (await lookup(s.http, code, phone_last4="1234")).status_code == 200  # a success does not count

        statuses = []
        for digits in WRONG:
            r = await lookup(s.http, code, phone_last4=digits)
            statuses.append(r.status_code)
            if r.status_code == 429:
                break
        assert statuses == [404] * 5 + [429], statuses
        assert_too_many(r)

        assert_too_many(await lookup(s.http, code, phone_last4="1234"))  # locked: the right digits too
        async with client_at(s, "198.51.100.7") as other:  # whoever asks
            assert_too_many(await lookup(other, code, phone_last4="1234"))
        r = await lookup(s.http, code, token=token)  # the tracking link is never locked
        assert r.status_code == 200 and r.json()["case_code"] == code, r.text
        r = await lookup(s.http, code, token=token, phone_last4="0000")
        assert r.status_code == 200, r.text
        # a wrong token does not get round the lock with digits
        assert_too_many(await lookup(s.http, code, token="x" * 16, phone_last4="1234"))

        second = (await s.report(phone="13900005678"))["case_code"]  # other cases are not locked
        assert (await lookup(s.http, second, phone_last4="5678")).status_code == 200


async def test_each_client_has_its_own_limit_across_cases(engine, dev_env):
    # a high per-case limit, so only the per-client one is in play
    async with api_stack(engine, dev_env, citizen_lookup_per_case="100/15minutes") as s:
        codes = [(await s.report(phone=PHONE))["case_code"] for _ in range(3)]
        async with client_at(s, "203.0.113.5") as a, client_at(s, "198.51.100.7") as b:
            for n, digits in enumerate(WRONG[:10]):  # ten failures spread over three cases
                r = await lookup(a, codes[n % 3], phone_last4=digits)
                assert r.status_code == 404, r.text
            assert_too_many(await lookup(a, codes[2], phone_last4="0019"))
            assert_too_many(await lookup(a, codes[2], phone_last4="1234"))  # A may not try at all now

            assert (await lookup(b, codes[2], phone_last4="1234")).status_code == 200  # B is not A
            assert (await lookup(s.http, codes[2], phone_last4="1234")).status_code == 200
            failed = 0
            for digits in WRONG:
                r = await lookup(b, codes[1], phone_last4=digits)
                if r.status_code == 429:
                    break
                assert r.status_code == 404, r.text
                failed += 1
            assert failed == 10
            assert_too_many(r)


async def test_a_burst_of_parallel_guesses_gets_no_more_tries(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        code = (await s.report(phone=PHONE))["case_code"]
        answers = await asyncio.gather(*(lookup(s.http, code, phone_last4=d) for d in WRONG))
        statuses = sorted(r.status_code for r in answers)
        assert statuses.count(404) <= 5 and set(statuses) <= {404, 429}, statuses
        assert_too_many(await lookup(s.http, code, phone_last4="1234"))


async def test_the_client_behind_a_trusted_proxy_is_the_forwarded_one(engine, dev_env):
    async with api_stack(
        engine, dev_env, trusted_proxies=["127.0.0.1"], citizen_lookup_per_case="100/15minutes"
    ) as s:  # the test transport's peer is 127.0.0.1: our proxy
        code = (await s.report(phone=PHONE))["case_code"]
        for n, digits in enumerate(WRONG[:10]):
            # the client cannot pose as someone else by adding hops on the left
            forwarded = {"X-Forwarded-For": f"10.9.{n}.1, 192.0.2.50"}
            assert (await lookup(s.http, code, forwarded, phone_last4=digits)).status_code == 404
        assert_too_many(await lookup(s.http, code, {"X-Forwarded-For": "192.0.2.50"}, phone_last4="1234"))
        r = await lookup(s.http, code, {"X-Forwarded-For": "192.0.2.51"}, phone_last4="1234")
        assert r.status_code == 200, r.text
        async with client_at(s, "198.51.100.7") as untrusted:  # not a proxy: its X-Forwarded-For is ignored
            for digits in WRONG[:10]:
                r = await lookup(untrusted, code, {"X-Forwarded-For": "192.0.2.99"}, phone_last4=digits)
                assert r.status_code == 404
            assert_too_many(await lookup(untrusted, code, {"X-Forwarded-For": "192.0.2.98"}, phone_last4="1234"))
