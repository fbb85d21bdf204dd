"""Accounts on the real API and database: keys kept as digests with scopes, people whose sessions end
when they are disabled or their password is reset, passwords stored as argon2 hashes only."""

from __future__ import annotations

import uuid

from sqlmodel import select

from api.accounts import create_api_key, create_user, reset_password, set_active
from domain.vocabulary import Channel, Role
from store.accounts import UserRow
from tests.api_support import api_stack, as_

PASSWORD = "correct-horse-battery"


async def test_a_database_key_works_within_its_scopes_and_is_stored_as_a_digest(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        db, district = s.http._transport.app.state.closeloop.db, s.http._transport.app.state.closeloop.district
        reader = await db.run(create_api_key, db, district, "报表工具", Role.SUPERVISOR, scopes=["read"])
        intake = await db.run(create_api_key, db, district, "12345", Role.INTAKE, channel=Channel.HOTLINE)
        assert (await s.http.get("/cases", headers=as_(reader))).status_code == 200
        r = await s.http.post("/cases/WD-20260101-000001/urge", json={}, headers=as_(reader))
        assert r.status_code == 403 and "write" in r.json()["error"]["message"]  # a read-only key
        code = (await s.report(key=intake))["case_code"]
        assert code
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
