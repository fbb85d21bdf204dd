"""Every route of the OpenAPI × every kind of caller against the table in ``tests/authz_matrix.json``.

Each request is made on a real case (reported in G-LS-XL-01 and dispatched to D-JJ) through the real
API and Temporal; an empty body is enough, since authorization and scope answer before the body is
validated. A route added without a row in the table fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path

from store.db import create_schema, make_engine
from tests.api_support import api_stack, as_, own_prefix
from tests.support import eventually

MATRIX = json.loads((Path(__file__).parent / "authz_matrix.json").read_text(encoding="utf-8"))
KEY_OF = {
    "none": None,
    "wrong": "k-nobody",
    "intake": "k-intake",
    "verifier": "k-verifier",
    "verifier_foreign": "k-verifier-TF",
    "unit_foreign": "k-D-CG",
    "unit": "k-D-JJ",
    "supervisor": "k-supervisor",
    "admin": "k-admin",
}
PARAMS = {"channel": "hotline_12345", "service_code": "JM-002", "unit": "D-JJ", "service_request_id": None}


def routes(app) -> list[str]:
    return [f"{method.upper()} {path}" for path, ops in app.openapi()["paths"].items() for method in ops]


async def dispatched_case(s) -> str:
    code = (await s.report())["case_code"]
    r = await s.http.post(f"/cases/{code}/register", json={"category": "JM-002"}, headers=as_("k-supervisor"))
    assert r.status_code == 200, r.text
    return code


def outcome(status: int) -> str | int:
    return status if status in (401, 403) else "ok"


async def test_every_route_answers_each_caller_as_the_table_says(dev_env, tmp_path):
    # ~25 cases dispatched to D-JJ: in a database of their own, not in the other tests' inboxes
    engine = make_engine(f"sqlite:///{tmp_path / 'authz.db'}")
    create_schema(engine)
    district, district_file = own_prefix(tmp_path, "AZ")
    try:
        async with api_stack(engine, dev_env, district=district, district_file=district_file) as s:
            app = s.http._transport.app
            assert sorted(routes(app)) == sorted(MATRIX["routes"]), "a route is missing from tests/authz_matrix.json"
            shared = await dispatched_case(s)
            wrong = []
            for route, expected in MATRIX["routes"].items():
                method, path = route.split(" ", 1)
                # an action may change the case (a supervisor's escalation moves it away from D-JJ): its own case
                code = await dispatched_case(s) if method == "POST" and path.startswith("/cases/{code}") else shared
                url = path.format(**{**PARAMS, "code": code, "service_request_id": code})
                for caller in MATRIX["callers"]:  # ordered so that the callers who may change the case go last
                    key = KEY_OF[caller]
                    headers = as_(key) if key else {}
                    r = await s.http.request(method, url, headers=headers, json={} if method == "POST" else None)
                    assert r.status_code < 500, f"{route} as {caller}: {r.status_code} {r.text}"
                    if outcome(r.status_code) != expected[caller]:
                        wrong.append(
                            f"{route} as {caller}: expected {expected[caller]}, got {r.status_code} {r.text[:120]}"
                        )
            assert not wrong, "\n".join(wrong)
    finally:
        engine.dispose()


async def test_lists_hold_only_what_the_caller_may_see(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        here = await dispatched_case(s)  # G-LS-XL-01 → D-JJ
        elsewhere = (await s.report(grid="G-TF-TF-01"))["case_code"]

        async def listed(key: str) -> set[str]:
            r = await s.http.get("/cases", params={"size": 200}, headers=as_(key))
            assert r.status_code == 200, r.text
            return {c["case_code"] for c in r.json()["items"]}

        async def projected() -> bool:
            return {here, elsewhere} <= await listed("k-supervisor")

        await eventually(projected)
        mine = await listed("k-verifier")
        assert here in mine and elsewhere not in mine
        theirs = await listed("k-verifier-TF")
        assert elsewhere in theirs and here not in theirs
        assert here in await listed("k-D-JJ") and here not in await listed("k-D-CG")
        r = await s.http.post(f"/cases/{elsewhere}/verify", json={"passed": True}, headers=as_("k-verifier"))
        assert r.status_code == 403 and r.json()["error"]["code"] == "OutOfScope"  # not its grid, before any step
