"""Accounts on the real API and database: keys kept as digests with scopes, people whose sessions end
when they are disabled or their password is reset, passwords stored as argon2 hashes only."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlmodel import select

from api.accounts import create_api_key, create_user, reset_password, set_active
from domain.vocabulary import Channel, Role
from store.accounts import UserRow
from tests.api_support import TEST_PASSWORD, api_stack, as_
from tests.test_web_pages import CSRF

PASSWORD = "correct-horse-battery"


async def test_a_database_key_works_within_its_scopes_and_is_stored_as_a_digest(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        db, district = s.http._transport.app.state.closeloop.db, s.http._transport.app.state.closeloop.district
        reader = await db.run(create_api_key, db, district, "报表工具", Role.SUPERVISOR, scopes=["read"])
        intake = await db.run(create_api_key, db, district, "12345", Role.INTAKE, channel=Channel.HOTLINE)
        assert (await s.http.get("/cases", headers=as_(reader))).status_code == 200
        r = await s.http.post("/cases/WD-20260101-000001/urge", json={}, headers=as_(reader))
        assert r.status_code == 403 and "write" in r.json()["error"]["message"]  # a read-only key
        await s.report(key=intake)  # 202: a key kept in the database, scoped to write, reports for its channel
        body = {
            "channel_ref": uuid.uuid4().hex,
            "phone": "13812341234",
            "grid": "G-LS-XL-01",
            "description": "小区路灯不亮了",
        }
        r = await s.http.post("/intake/grid", json=body, headers=as_(intake))
        assert r.status_code == 403  # bound to its channel
        with engine.connect() as conn:
            hashes = [row[0] for row in conn.exec_driver_sql("SELECT key_hash FROM api_keys")]
        assert reader not in hashes and intake not in hashes


async def test_disabling_a_person_or_resetting_the_password_ends_their_sessions(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        state = s.http._transport.app.state.closeloop
        login = f"dispatcher-{uuid.uuid4().hex[:6]}"
        await state.db.run(create_user, state.db, state.district, login, "赵敏", Role.SUPERVISOR, None, PASSWORD)
        with state.db.reading() as session:
            stored = session.exec(select(UserRow).where(UserRow.login == login)).one().password_hash
        assert stored.startswith("$argon2id$") and PASSWORD not in stored

        async def signed_in() -> bool:
            r = await s.http.post("/ui/login", data={"login": login, "password": PASSWORD})
            return r.status_code == 303

        async def board() -> int:
            return (await s.http.get("/ui/board")).status_code

        assert await signed_in() and await board() == 200
        await state.db.run(reset_password, state.db, login, "another-long-password")
        assert await board() == 303 and not await signed_in()  # the old password no longer works either
        await state.db.run(reset_password, state.db, login, PASSWORD)
        assert await signed_in() and await board() == 200
        await state.db.run(set_active, state.db, login, False)
        assert await board() == 303 and not await signed_in()


async def test_guessing_a_password_ends_in_429_even_for_the_right_one(engine, dev_env):
    async with api_stack(engine, dev_env, login_per_account="5/15minutes") as s:
        state = s.http._transport.app.state.closeloop
        login = f"verifier-{uuid.uuid4().hex[:6]}"
        await state.db.run(create_user, state.db, state.district, login, "孙丽", Role.VERIFIER, "G-LS-XL-01", PASSWORD)
        statuses = []
        for attempt in range(20):
            r = await s.http.post("/ui/login", data={"login": login, "password": f"guess-{attempt:04d}"})
            statuses.append(r.status_code)
        assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}, statuses
        r = await s.http.post("/ui/login", data={"login": login, "password": PASSWORD})
        assert r.status_code == 429 and "尝试次数过多" in r.text and "set-cookie" not in r.headers


async def test_the_admin_page_opens_and_disables_accounts_with_the_form_token(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        login = f"clerk-{uuid.uuid4().hex[:6]}"
        r = await s.http.post("/ui/login", data={"login": "k-supervisor", "password": TEST_PASSWORD})
        assert "仅供系统管理员" in (await s.http.get("/ui/admin/users")).text  # a supervisor is not an admin
        await s.http.post("/ui/login", data={"login": "k-admin", "password": TEST_PASSWORD})
        page = await s.http.get("/ui/admin/users")
        assert page.status_code == 200 and "开设账号" in page.text
        csrf = CSRF.search(page.text).group(1)
        account = {"login": login, "name": "钱多", "role": "unit_staff", "unit": "D-JJ", "password": PASSWORD}
        r = await s.http.post("/ui/admin/users", data={**account, "csrf": "forged"})
        assert "请求来源无效" in parse_qs(urlsplit(r.headers["location"]).query)["error"][0]
        assert login not in (await s.http.get("/ui/admin/users")).text
        r = await s.http.post("/ui/admin/users", data={**account, "csrf": csrf})
        assert r.status_code == 303 and login in (await s.http.get("/ui/admin/users")).text

        clerk = httpx.AsyncClient(transport=s.http._transport, base_url=str(s.http.base_url))
        async with clerk:
            r = await clerk.post("/ui/login", data={"login": login, "password": PASSWORD})
            assert r.status_code == 303 and r.headers["location"] == "/ui/inbox"
            assert (await clerk.get("/ui/inbox")).status_code == 200
            r = await s.http.post(f"/ui/admin/users/{login}/active", data={"active": "false", "csrf": csrf})
            assert r.status_code == 303
            assert (await clerk.get("/ui/inbox")).status_code == 303  # disabled: the session is gone
