"""Open311 GeoReport v2 facade on the real stack: services, POST (form and JSON), public reads."""

from __future__ import annotations

from domain.district import District
from tests.api_support import api_stack, as_

BASE = "/open311/v2"
PHONE = "13955556666"
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


def form(**overrides) -> dict[str, str]:
    fields = {
        "api_key": "k-intake",
        "service_code": "JM-002",
        "address_id": "G-LS-XL-01",
        "address_string": "文登区龙山路88号",
        "lat": "37.19",
        "long": "122.05",
        "first_name": "四",
        "last_name": "李",
        "phone": PHONE,
        "email": "li@example.com",
        "description": "小区门口有车辆长期违规停放，影响通行",
        "media_url": "https://img.example/1.jpg",
        "attribute[WHISPER]": "ignored",
    }
    return {k: v for k, v in {**fields, **overrides}.items() if v is not None}


async def ids(s, **params) -> set[str]:
    r = await s.http.get(f"{BASE}/requests.json", params=params)
    assert r.status_code == 200, r.text
    return {x["service_request_id"] for x in r.json()}


def assert_error(r, status: int) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body, list) and len(body) == 1 and body[0]["code"] == status, body
    assert set(body[0]) == {"code", "description"} and body[0]["description"]


async def test_services_and_definitions(engine, dev_env):
    district = District.load()
    async with api_stack(engine, dev_env) as s:
        r = await s.http.get(f"{BASE}/services.json")
        assert r.status_code == 200, r.text
        services = r.json()
        assert [x["service_code"] for x in services] == [c.code for c in district.categories]
        for x, c in zip(services, district.categories, strict=True):
            assert set(x) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
            assert (x["service_name"], x["group"], x["metadata"], x["type"]) == (c.name, c.group, False, "realtime")
            assert isinstance(x["keywords"], str) and isinstance(x["description"], str) and x["description"]
        r = await s.http.get(f"{BASE}/services/JM-002.json")
        assert r.status_code == 200 and r.json() == {"service_code": "JM-002", "attributes": []}
        assert_error(await s.http.get(f"{BASE}/services/NOPE-1.json"), 404)


async def test_post_form_and_json_start_real_cases(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        by_form = await s.http.post(f"{BASE}/requests.json", data=form())
        by_json = await s.http.post(
            f"{BASE}/requests.json", json=form(api_key=None, service_code="GS-001"), headers=as_("k-intake")
        )
        codes = []
        for r in (by_form, by_json):
            assert r.status_code == 201, r.text
            [created] = r.json()
            assert set(created) == {"service_request_id", "service_notice", "account_id"}
            assert created["account_id"] is None and created["service_request_id"] in created["service_notice"]
            codes.append(created["service_request_id"])
        assert codes[0] != codes[1]
        for code in codes:
            r = await s.http.get(f"/cases/{code}", headers=as_("k-supervisor"))
            assert r.status_code == 200, r.text
            assert r.json()["summary"]["channel"] == "mini_program" and r.json()["report"]["phone"] == PHONE
        again = await s.http.post(f"{BASE}/requests.json", data=form())
        assert (
            again.status_code == 201 and again.json()[0]["service_request_id"] not in codes
        )  # no client ref: a new case

        assert_error(await s.http.post(f"{BASE}/requests.json", data=form(service_code=None)), 400)
        assert_error(await s.http.post(f"{BASE}/requests.json", data=form(service_code="NOPE-1")), 400)
        assert_error(await s.http.post(f"{BASE}/requests.json", data=form(address_id=None)), 400)
        assert_error(await s.http.post(f"{BASE}/requests.json", data=form(address_id="T-LS")), 400)
        assert_error(await s.http.post(f"{BASE}/requests.json", data=form(phone=None)), 400)
        assert_error(await s.http.post(f"{BASE}/requests.json", data=form(description="短")), 400)
        assert_error(await s.http.post(f"{BASE}/requests.json", data=form(lat="north")), 400)
        assert_error(await s.http.post(f"{BASE}/requests.json", data=form(api_key="wrong")), 403)
        assert_error(await s.http.post(f"{BASE}/requests.json", data=form(api_key=None)), 403)
        assert_error(await s.http.post(f"{BASE}/requests.json", data=form(api_key="k-supervisor")), 403)
        assert_error(await s.http.post(f"{BASE}/requests.json", data=form(api_key="k-hotline")), 403)
        not_an_object = {"content": b"[1]", "headers": {"Content-Type": "application/json"}}
        assert_error(await s.http.post(f"{BASE}/requests.json", **not_an_object), 400)
        too_deep = {"content": b"[" * 100_000 + b"]" * 100_000, "headers": {"Content-Type": "application/json"}}
        assert_error(await s.http.post(f"{BASE}/requests.json", **too_deep), 400)


async def test_public_reads_status_filters_and_no_personal_data(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        first = (await s.http.post(f"{BASE}/requests.json", data=form(service_code="SR-001"))).json()[0][
            "service_request_id"
        ]
        second = (await s.http.post(f"{BASE}/requests.json", data=form(service_code="SR-002", media_url=None))).json()[
            0
        ]["service_request_id"]
        pair = f"{first},{second}"

        r = await s.http.get(f"{BASE}/requests.json", params={"service_request_id": pair, "status": "closed"})
        assert r.status_code == 200, r.text
        got = {x["service_request_id"]: x for x in r.json()}  # the id list overrides status
        assert set(got) == {first, second}
        for x in got.values():
            assert set(x) == REQUEST_FIELDS and x["status"] == "open" and x["address_id"] == "G-LS-XL-01"
            assert x["address"] == "文登区龙山路****" and x["zipcode"] is None and x["lat"] is None
        assert got[first]["service_code"] == "SR-001" and got[first]["service_name"] == "乱堆乱放"
        assert got[first]["media_url"] == "https://img.example/1.jpg" and got[second]["media_url"] is None

        r = await s.http.post(
            f"/cases/{first}/decline", json={"reason": "属于司法程序，不予受理"}, headers=as_("k-supervisor")
        )
        assert r.status_code == 200, r.text
        [one] = (await s.http.get(f"{BASE}/requests/{first}.json")).json()
        assert (
            one["status"] == "closed"
            and "属于司法程序" in one["status_notes"]
            and one["status_notes"].startswith("不予受理")
        )

        closed, opened, both = (
            await ids(s, status="closed"),
            await ids(s, status="open"),
            await ids(s, status="open,closed"),
        )
        assert (
            first in closed
            and first not in opened
            and second in opened
            and second not in closed
            and {first, second} <= both
        )
        r = await s.http.get(f"{BASE}/requests.json", params={"service_code": "SR-002"})
        assert second in {x["service_request_id"] for x in r.json()} and {x["service_code"] for x in r.json()} == {
            "SR-002"
        }
        assert await ids(s, start_date="2000-01-01T00:00:00Z", end_date="2000-02-01T00:00:00Z") == set()

        assert_error(await s.http.get(f"{BASE}/requests.json", params={"status": "pending"}), 400)
        assert_error(await s.http.get(f"{BASE}/requests.json", params={"start_date": "yesterday"}), 400)
        for edge in ({"start_date": "9999-12-31"}, {"end_date": "0001-01-01"}, {"start_date": "0001-01-01T00:00"}):
            assert_error(await s.http.get(f"{BASE}/requests.json", params=edge), 400)
        too_wide = {"start_date": "2025-01-01", "end_date": "2025-06-01"}
        assert_error(await s.http.get(f"{BASE}/requests.json", params=too_wide), 400)
        assert_error(await s.http.get(f"{BASE}/requests/WD-19990101-999999.json"), 404)

        for path in (
            f"{BASE}/requests.json?service_request_id={pair}",
            f"{BASE}/requests/{second}.json",
            f"{BASE}/requests.json",
        ):
            text = (await s.http.get(path)).text
            assert PHONE not in text and PHONE[-4:] not in text and "李四" not in text and "li@example.com" not in text


async def test_public_reads_cut_numbers_out_of_descriptions(engine, dev_env):
    from tests.api_support import api_stack

    async with api_stack(engine, dev_env) as s:
        code = (await s.report(description="请联系我13912345678，身份证370181199001011234，楼道灯坏了"))["case_code"]
        r = await s.http.get(f"/open311/v2/requests/{code}.json")
        assert r.status_code == 200
        text = r.json()[0]["description"]
        assert "13912345678" not in text and "370181199001011234" not in text and "楼道灯坏了" in text
