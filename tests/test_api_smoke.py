"""A first pass through the API on the real stack: intake, registration, unit inbox."""

from __future__ import annotations

from tests.api_support import api_stack, as_


async def test_intake_register_and_inbox(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        got = await s.report()
        code = got["case_code"]
        assert (
            got["status"] == "started"
            and got["new"]
            and got["tracking_url"].endswith(f"{code}?token={got['citizen_token']}")
        )
        r = await s.http.post(f"/cases/{code}/register", json={"category": "JM-002"}, headers=as_("k-supervisor"))
        assert r.status_code == 200, r.text
        assert r.json()["step"] == "dispatch"
        r = await s.http.get("/units/D-JJ/tasks", headers=as_("k-D-JJ"))
        assert r.status_code == 200 and code in [t["case_code"] for t in r.json()["items"]]
        r = await s.http.post(f"/cases/{code}/complete", json={"result": "已处理"}, headers=as_("k-D-CG"))
        assert r.status_code == 403 and r.json()["error"]["code"] == "OutOfScope", r.text


def test_every_route_is_documented_in_chinese():
    from api.main import create_app
    from config import Settings

    spec = create_app(Settings()).openapi()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            summary = op.get("summary", "")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in summary), f"{method.upper()} {path} lacks a Chinese summary"


async def test_health_reports_database_and_temporal(engine, dev_env):
    from tests.api_support import api_stack

    async with api_stack(engine, dev_env) as s:
        r = await s.http.get("/health")
        assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok", "temporal": "ok"}
    async with api_stack(engine, dev_env, temporal_address="127.0.0.1:1") as s:  # nothing listens there
        r = await s.http.get("/health")
        assert r.status_code == 503 and r.json()["temporal"].startswith("unavailable")
