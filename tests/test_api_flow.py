"""The API end to end on the real dev server, worker and database, through HTTP."""

from __future__ import annotations

import socket
import uuid

import pytest
from sqlmodel import Session, select
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.district import District
from domain.limits import PHOTO_REF_MAX, PHOTOS_MAX, RESULT_MAX
from domain.policy import Duration, DurationUnit
from domain.vocabulary import Channel
from store.tables import Report
from tests.api_support import api_stack, as_
from tests.support import DEV_SERVER, eventually
from tests.test_pii import payloads_in

NOW = Duration(amount=0, unit=DurationUnit.HOURS)


def quick_visits() -> District:
    """The sample district with return visits due at once, so a case closes in real time."""
    d = District.load()
    return d.model_copy(
        update={"policy": d.policy.model_copy(update={"return_visit_delay": NOW, "second_visit_delay": NOW})}
    )


async def detail(s, code: str, key: str = "k-supervisor") -> dict:
    r = await s.http.get(f"/cases/{code}", headers=as_(key))
    assert r.status_code == 200, r.text
    return r.json()


async def post(s, path: str, key: str, body: dict | None = None, status: int = 200) -> dict:
    r = await s.http.post(path, json=body or {}, headers=as_(key))
    assert r.status_code == status, f"{path}: {r.status_code} {r.text}"
    return r.json()


@pytest.mark.parametrize("channel", [c.value for c in Channel])
async def test_a_case_from_each_channel_goes_through_all_six_steps(engine, dev_env, channel):
    async with api_stack(engine, dev_env, district=quick_visits()) as s:
        filed = await s.report(channel=channel)
        code, token = filed["case_code"], filed["citizen_token"]
        assert filed["tracking_url"].endswith(f"{code}?token={token}")
        assert (await detail(s, code))["workflow"]["step"] == "create"
        await post(s, f"/cases/{code}/register", "k-supervisor", {"category": "JM-002"})
        await post(s, f"/cases/{code}/sign", "k-D-JJ")
        await post(s, f"/cases/{code}/progress", "k-D-JJ", {"note": "已联系车主"})
        await post(
            s, f"/cases/{code}/complete", "k-D-JJ", {"result": "车辆已挪走", "photos": ["https://img.example/a.jpg"]}
        )
        await post(s, f"/cases/{code}/verify", "k-verifier", {"passed": True, "note": "现场核实"})
        # the phone's last four digits (which masked staff views show) cannot rate the case
        err = await post(
            s, f"/citizen/cases/{code}/evaluation", "", {"token": "12341234", "verdict": "satisfied"}, status=404
        )
        assert err["error"]["code"] == "NotFound"
        await post(
            s, f"/citizen/cases/{code}/evaluation", "", {"token": token, "verdict": "satisfied", "comment": "很快"}
        )
        await eventually(lambda: _awaiting(s, code, "visit"))
        await post(s, f"/citizen/cases/{code}/visit", "", {"token": token, "verdict": "satisfied"})
        final = await eventually(lambda: _closed(s, code))
        kinds = [e["kind"] for e in final["workflow"]["timeline"]]
        assert kinds[:3] == ["collected", "accepted", "dispatched"] and kinds[-1] == "closed"
        assert final["summary"]["channel"] == channel and final["summary"]["verdict"] == "satisfied"

        # Archived: the workflow has ended; an action answers 409 WrongStep and the case still reads.
        await s.client.get_workflow_handle(code).result()
        late = await s.http.post(f"/cases/{code}/reopen", json={"note": "再看看"}, headers=as_("k-supervisor"))
        assert late.status_code == 409 and late.json()["error"]["code"] == "WrongStep", late.text
        assert (await detail(s, code))["workflow"]["step"] == "closed"


async def _awaiting(s, code, what):
    return (await detail(s, code))["workflow"]["awaiting"] == what


async def _closed(s, code):
    d = await detail(s, code)
    return d if d["summary"]["step"] == "closed" else None


async def test_a_retried_post_returns_the_same_case(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        ref = uuid.uuid4().hex
        first = await s.report(channel_ref=ref)
        again = await s.report(channel_ref=ref)
        assert first["new"] and not again["new"] and again["case_code"] == first["case_code"]
        other_channel = await s.report(channel="grid", channel_ref=ref)
        assert other_channel["case_code"] != first["case_code"]
        with Session(engine) as session:
            rows = session.exec(select(Report).where(Report.channel_ref == ref)).all()
        assert len(rows) == 2
        # a channel key may only report for its own channel
        body = {
            "channel_ref": uuid.uuid4().hex,
            "phone": "13812341234",
            "grid": "G-LS-XL-01",
            "description": "路灯不亮已经一周了",
        }
        r = await s.http.post("/intake/grid", json=body, headers=as_("k-hotline"))
        assert r.status_code == 403 and r.json()["error"]["code"] == "Forbidden"
        assert (await s.http.post("/intake/hotline_12345", json=body, headers=as_("k-hotline"))).status_code == 202


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def start_server(port: int, db: str) -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(DEV_SERVER),
        ui=False,
        port=port,
        dev_server_extra_args=["--db-filename", db, "--log-level", "error"],
    )


async def test_reports_survive_temporal_being_down(engine, tmp_path):
    port, db = free_port(), str(tmp_path / "temporal.db")
    env = await start_server(port, db)
    try:
        async with api_stack(engine, env) as s:
            before = await s.report()
            assert before["status"] == "started"
            await env.shutdown()  # Temporal goes away mid-service

            queued = await s.report()
            assert queued["status"] == "queued"
            again = await s.report(channel_ref=_ref_of(engine, queued["case_code"]))
            assert again["case_code"] == queued["case_code"] and not again["new"]
            r = await s.http.post(
                f"/cases/{queued['case_code']}/register", json={"category": "JM-002"}, headers=as_("k-supervisor")
            )
            assert r.status_code == 409 and r.json()["error"]["code"] == "Queued"

            env = await start_server(port, db)  # back, with its state
            await eventually(lambda: _started(engine, queued["case_code"]), timeout=60)
            d = await eventually(lambda: _detail_ok(s, queued["case_code"]), timeout=60)
            assert d["workflow"]["step"] == "create" and len(d["workflow"]["timeline"]) == 1
            assert (await detail(s, before["case_code"]))["workflow"]["step"] == "create"
            await post(s, f"/cases/{queued['case_code']}/register", "k-supervisor", {"category": "JM-002"})
            assert (await detail(s, queued["case_code"]))["summary"]["lead_unit"] == "D-JJ"
    finally:
        await env.shutdown()


def _row(engine, code):
    from store.tables import CaseRow

    with Session(engine) as session:
        return session.get(CaseRow, code)


def _ref_of(engine, code):
    with Session(engine) as session:
        return session.exec(select(Report.channel_ref).where(Report.case_code == code)).one()


def _started(engine, code):
    with Session(engine) as session:
        return session.exec(select(Report.workflow_started).where(Report.case_code == code)).one()


async def _detail_ok(s, code):
    r = await s.http.get(f"/cases/{code}", headers=as_("k-supervisor"))
    return r.json() if r.status_code == 200 and r.json()["workflow"] else None


async def test_wrong_unit_wrong_step_and_wrong_role_are_refused_with_reasons(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        code = (await s.report())["case_code"]
        # a unit acting on a case it does not hold hears 403, never the case's step
        err = (await post(s, f"/cases/{code}/sign", "k-D-JJ", status=403))["error"]
        assert err["code"] == "OutOfScope" and "案件建立" not in err["message"]
        await post(s, f"/cases/{code}/register", "k-supervisor", {"category": "JM-002"})
        err = (await post(s, f"/cases/{code}/sign", "k-D-CG", status=403))["error"]
        assert err["code"] == "OutOfScope" and code in err["message"]
        assert (await post(s, f"/cases/{code}/complete", "k-D-JJ", {"result": "已处理"}, status=409))["error"][
            "code"
        ] == "WrongStep"
        assert (await post(s, f"/cases/{code}/verify", "k-verifier", {"passed": True}, status=409))["error"][
            "code"
        ] == "WrongStep"
        assert (await post(s, f"/cases/{code}/register", "k-D-JJ", {"category": "JM-002"}, status=403))["error"][
            "code"
        ] == "Forbidden"
        assert (await post(s, f"/cases/{code}/register", "k-supervisor", {"category": "NOPE"}, status=422))["error"][
            "code"
        ] == "UnknownCode"
        assert (await post(s, f"/cases/{code}/return", "k-D-JJ", {"reason": "x"}, status=422))["error"][
            "code"
        ] == "InvalidInput"
        r = await s.http.post(f"/cases/{code}/sign", json={})
        assert r.status_code == 401 and r.json()["error"]["code"] == "Unauthorized"
        assert (await post(s, "/cases/WD-00000000-000000/sign", "k-D-JJ", status=404))["error"]["code"] == "NotFound"
        r = await s.http.get(f"/citizen/cases/{code}", params={"phone_last4": "0000"})
        assert r.status_code == 404
        r = await s.http.get("/units/D-JJ/tasks", headers=as_("k-D-CG"))
        assert r.status_code == 403
        oversized = [
            {"result": "办" * (RESULT_MAX + 1)},
            {"result": "已处理", "photos": ["https://img/a.jpg"] * (PHOTOS_MAX + 1)},
            {"result": "已处理", "photos": ["data:image/jpeg;base64,/9j/4AAQSkZJRg=="]},
            {"result": "已处理", "photos": ["https://img/" + "a" * PHOTO_REF_MAX]},
        ]
        huge = {"extra": {"amount": 10**9, "unit": "hours"}, "reason": "需协调车主"}
        assert (await post(s, f"/cases/{code}/extension", "k-D-JJ", huge, status=422))["error"][
            "code"
        ] == "InvalidInput"
        unknown = {"primary": "WD-20000101-999999"}
        assert (await post(s, f"/cases/{code}/duplicate", "k-supervisor", unknown, status=422))["error"][
            "code"
        ] == "UnknownCode"
        for body in oversized:  # refused before it reaches Temporal, whoever sends it
            assert (await post(s, f"/cases/{code}/complete", "k-D-JJ", body, status=422))["error"][
                "code"
            ] == "InvalidInput"
        # nothing rejected left a trace
        d = await detail(s, code)
        assert [e["kind"] for e in d["workflow"]["timeline"]] == ["collected", "accepted", "dispatched"]


async def test_personal_data_is_masked_unless_the_role_may_read_it(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        description = "我是李四，电话13900001234，身份证370102198001011234，门口车辆长期违规停放"
        code = (
            await s.report(name="李四", phone="13900001234", address="文登区米山路12号3单元", description=description)
        )["case_code"]
        await post(s, f"/cases/{code}/register", "k-supervisor", {"category": "JM-002"})
        full = (await detail(s, code, "k-supervisor"))["report"]
        assert (full["name"], full["phone"], full["masked"]) == ("李四", "13900001234", False)
        holder = (await detail(s, code, "k-D-JJ"))["report"]  # the lead unit needs to find the site and call back
        assert (holder["phone"], holder["address"], holder["masked"]) == ("13900001234", "文登区米山路12号3单元", False)
        masked = (await detail(s, code, "k-verifier"))["report"]
        assert masked["phone"] == "139****1234" and masked["name"] == "李*" and masked["masked"]
        assert "米山路12号" not in masked["address"]
        for secret in ("13900001234", "370102198001011234", "李四"):  # typed into the description too
            assert secret not in masked["description"], masked["description"]
        assert "违规停放" in masked["description"]
        r = await s.http.get(f"/cases/{code}", headers=as_("k-D-CG"))
        assert r.status_code == 403 and "13900001234" not in r.text
        r = await s.http.get("/audit", params={"case_code": code}, headers=as_("k-supervisor"))
        assert {e["user"] for e in r.json()["items"]} == {"dispatcher-1", "staff-D-JJ"}  # who saw it unmasked
        assert any("承办单位办理中" in e["why"] for e in r.json()["items"])
        r = await s.http.get(f"/citizen/cases/{code}", params={"phone_last4": "1234"})
        assert r.status_code == 200 and r.json()["step"] == "dispatch"
        assert "13900001234" not in r.text and "李四" not in r.text
        listing = await s.http.get("/cases", params={"q": "违规停放"}, headers=as_("k-supervisor"))
        assert listing.status_code == 200 and code in [c["case_code"] for c in listing.json()["items"]]
        assert "13900001234" not in listing.text
        # the workflow itself never held any of it (payloads are base64 in the JSON: look inside them)
        history = await s.client.get_workflow_handle(code).fetch_history()
        data = b"".join(p.data for event in history.events for p in payloads_in(event))
        assert b"13900001234" not in data and "李四".encode() not in data
        assert b"category" in data  # the payloads were read: the register argument is there


async def test_case_list_filters(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        a = (await s.report(grid="G-LS-XL-01"))["case_code"]
        b = (await s.report(grid="G-TF-TF-01", channel="grid", description="楼道堆放杂物存在消防隐患"))["case_code"]
        await post(s, f"/cases/{a}/register", "k-supervisor", {"category": "JM-002"})
        await eventually(lambda: _row(engine, b))  # b's first projection lands just after intake
        sup = as_("k-supervisor")

        async def codes(**params) -> set[str]:
            r = await s.http.get("/cases", params={**params, "size": 200}, headers=sup)
            assert r.status_code == 200, r.text
            return {c["case_code"] for c in r.json()["items"]}

        assert a in await codes(area="T-LS") and b not in await codes(area="T-LS")
        assert b in await codes(area="T-TF")
        assert a in await codes(step="dispatch") and b in await codes(step="create")
        assert a in await codes(unit="D-JJ") and b not in await codes(unit="D-JJ")
        assert b in await codes(channel="grid") and a not in await codes(channel="grid")
        assert b in await codes(q="消防隐患") and a not in await codes(q="消防隐患")
        assert a in await codes(level=2) and a not in await codes(overdue=True)
        assert a in await codes(overdue=False) and b in await codes(overdue=False)  # NULL-safe
        mine = await s.http.get("/cases", headers=as_("k-D-JJ"))
        assert {c["lead_unit"] for c in mine.json()["items"]} == {"D-JJ"}


async def test_times_without_offset_are_beijing_time(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        code = (await s.report())["case_code"]

        async def listed():
            r = await s.http.get(
                "/cases", params={"reported_from": "2020-01-01T00:00:00", "size": 200}, headers=as_("k-supervisor")
            )
            return r.status_code == 200 and code in [c["case_code"] for c in r.json()["items"]]

        await eventually(listed)
        r = await s.http.get("/cases", params={"reported_to": "2020-01-01T08:00:00"}, headers=as_("k-supervisor"))
        assert r.status_code == 200 and r.json()["total"] == 0


async def allowed(s, code: str, key: str) -> set[str]:
    r = await s.http.get(f"/cases/{code}/actions", headers=as_(key))
    assert r.status_code == 200, r.text
    return {a["name"] for a in r.json()}


async def test_what_each_caller_may_do_now_comes_from_the_workflow(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        code = (await s.report())["case_code"]
        await eventually(lambda: _detail_ok(s, code))
        assert await allowed(s, code, "k-supervisor") == {"register", "decline", "duplicate", "close"}
        r = await s.http.get(f"/cases/{code}/actions", headers=as_("k-D-JJ"))
        assert r.status_code == 403 and r.json()["error"]["code"] == "OutOfScope"  # not dispatched to it yet
        await post(s, f"/cases/{code}/register", "k-supervisor", {"category": "JM-002"})
        assert await allowed(s, code, "k-D-JJ") == {"sign", "return", "progress"}
        assert (await s.http.get(f"/cases/{code}/actions", headers=as_("k-D-CG"))).status_code == 403
        await post(s, f"/cases/{code}/sign", "k-D-JJ")
        assert await allowed(s, code, "k-D-JJ") == {"progress", "extension", "complete"}
        assert await allowed(s, code, "k-supervisor") == {"reassign", "escalate", "urge", "close"}
        await post(s, f"/cases/{code}/urge", "k-supervisor", {"note": "请尽快"})
        assert "urge" not in await allowed(s, code, "k-supervisor")  # once an hour
        assert await allowed(s, code, "k-verifier") == set()
        await post(s, f"/cases/{code}/complete", "k-D-JJ", {"result": "车辆已挪走"})
        assert await allowed(s, code, "k-verifier") == {"verify"}
        r = await s.http.get("/cases/WD-00000000-000000/actions", headers=as_("k-supervisor"))
        assert r.status_code == 404
