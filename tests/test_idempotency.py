"""Exactly-once human actions: the Idempotency-Key is the Temporal update ID.

A retry with the same key is applied once and answers what the first attempt answered; an action
the workflow cannot confirm in time answers 503 ActionUnconfirmed and is applied once when it is
retried with the same key — even across a worker outage.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlmodel import Session, select

from api.main import create_app
from config import Settings
from store.tables import TimelineRow
from tests.api_support import KEYS, api_stack, as_
from tests.support import eventually
from worker import build_worker


def with_key(api_key: str, idempotency_key: str) -> dict[str, str]:
    return {**as_(api_key), "Idempotency-Key": idempotency_key}


async def handling(http: httpx.AsyncClient, report: dict | None = None) -> str:
    """A new case registered to 交警 (D-JJ) and signed for: it is in 事件处置."""
    body = {
        "channel_ref": uuid.uuid4().hex,
        "name": "张三",
        "phone": "13812341234",
        "grid": "G-LS-XL-01",
        "description": "小区门口有车辆长期违规停放，影响通行",
        **(report or {}),
    }
    r = await http.post("/intake/hotline_12345", json=body, headers=as_("k-intake"))
    assert r.status_code == 202, r.text
    code = r.json()["case_code"]

    async def registered():
        r = await http.post(f"/cases/{code}/register", json={"category": "JM-002"}, headers=as_("k-supervisor"))
        return r.status_code == 200  # 409 Queued until the relay has started the workflow

    await eventually(registered)
    r = await http.post(f"/cases/{code}/sign", json={}, headers=as_("k-D-JJ"))
    assert r.status_code == 200 and r.json()["step"] == "handle", r.text
    return code


async def timeline_notes(http: httpx.AsyncClient, code: str, kind: str) -> list[str]:
    r = await http.get(f"/cases/{code}", headers=as_("k-supervisor"))
    assert r.status_code == 200, r.text
    return [e["note"] for e in r.json()["workflow"]["timeline"] if e["kind"] == kind]


def projected_notes(engine, code: str, kind: str) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(select(TimelineRow).where(TimelineRow.case_code == code, TimelineRow.kind == kind)).all()
    return [row.note for row in rows]


async def test_a_retried_action_is_applied_once_and_answers_the_same(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        code = await handling(s.http)
        key = uuid.uuid4().hex
        first = await s.http.post(
            f"/cases/{code}/progress", json={"note": "已联系车主"}, headers=with_key("k-D-JJ", key)
        )
        again = await s.http.post(
            f"/cases/{code}/progress", json={"note": "已联系车主"}, headers=with_key("k-D-JJ", key)
        )
        assert first.status_code == again.status_code == 200, (first.text, again.text)
        assert again.json() == first.json()
        other = await s.http.post(
            f"/cases/{code}/progress", json={"note": "已联系车主"}, headers=with_key("k-D-JJ", uuid.uuid4().hex)
        )
        assert other.status_code == 200  # a new key is a new action

        assert await timeline_notes(s.http, code, "progress") == ["已联系车主", "已联系车主"]  # twice, not three times
        assert await eventually(lambda: projected_notes(engine, code, "progress") == ["已联系车主", "已联系车主"])

        bad = await s.http.post(
            f"/cases/{code}/progress", json={"note": "x"}, headers=with_key("k-D-JJ", "no spaces allowed")
        )
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "InvalidInput"


async def test_an_unconfirmed_action_answers_503_and_its_retry_is_applied_once(engine, dev_env):
    target = dev_env.client.service_client.config.target_host
    settings = Settings(
        task_queue=f"idem-{uuid.uuid4().hex[:8]}",
        database_url=str(engine.url),
        temporal_address=target,
        api_keys=KEYS,
        intake_retry_seconds=0.2,
        action_timeout_seconds=1.0,
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://closeloop.test") as http,
    ):
        async with build_worker(dev_env.client, settings, engine):
            code = await handling(http)
        # No worker now: the update cannot be confirmed within the second the API waits.
        key = uuid.uuid4().hex
        r = await http.post(f"/cases/{code}/progress", json={"note": "现场已清理"}, headers=with_key("k-D-JJ", key))
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "ActionUnconfirmed" and r.headers["Retry-After"]
        assert r.json()["error"]["detail"]["idempotency_key"] == key

        async with build_worker(dev_env.client, settings, engine):

            async def retried():
                again = await http.post(
                    f"/cases/{code}/progress", json={"note": "现场已清理"}, headers=with_key("k-D-JJ", key)
                )
                assert again.status_code in (200, 503), again.text
                return again.status_code == 200

            await eventually(retried, timeout=60, interval=0.5)
            assert await timeline_notes(http, code, "progress") == ["现场已清理"]
            assert await eventually(lambda: projected_notes(engine, code, "progress") == ["现场已清理"])


async def test_an_escalation_that_loses_a_race_with_completion_answers_409_not_a_silent_200(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        outcomes = []
        for attempt in range(6):
            code = await handling(s.http)
            note = f"race-{attempt}-{uuid.uuid4().hex[:6]}"
            escalated, completed = await asyncio.gather(
                s.http.post(
                    f"/cases/{code}/escalate", json={"note": note}, headers=with_key("k-supervisor", uuid.uuid4().hex)
                ),
                s.http.post(
                    f"/cases/{code}/complete",
                    json={"result": "已清理完毕"},
                    headers=with_key("k-D-JJ", uuid.uuid4().hex),
                ),
            )
            notes = await timeline_notes(s.http, code, "escalated")
            recorded = any(note in n for n in notes)
            if escalated.status_code == 200:
                assert recorded, (notes, escalated.text)  # a 2xx is on the timeline
            else:
                assert escalated.status_code == 409 and escalated.json()["error"]["code"] == "WrongStep", escalated.text
                assert not recorded and completed.status_code == 200
            outcomes.append(escalated.status_code)
        assert set(outcomes) <= {200, 409}
