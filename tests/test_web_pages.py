"""The Chinese web pages on the real stack (dev server, worker, database), through the ASGI app."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, quote, urlsplit

from api.statistics import DEFINITIONS
from tests.api_support import TEST_PASSWORD, api_stack, as_

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def login(s, key: str):
    """Sign in as the person of the same name as ``key``; keep their form token for posts."""
    r = await s.http.post("/ui/login", data={"login": key, "password": TEST_PASSWORD})
    assert r.status_code == 303, r.text
    s.csrf = CSRF.search((await s.http.get(r.headers["location"])).text).group(1)
    return r


async def page(s, path: str, status: int = 200) -> str:
    r = await s.http.get(path)
    assert r.status_code == status, f"{path}: {r.status_code} {r.text[:500]}"
    return r.text


async def act(s, code: str, name: str, **fields) -> dict[str, str]:
    """Post an action form; the flash message of the redirect (``ok`` or ``error``) and where it goes."""
    r = await s.http.post(
        f"/ui/cases/{code}/actions/{name}", data={"idempotency_key": uuid.uuid4().hex, "csrf": s.csrf, **fields}
    )
    assert r.status_code == 303, f"{name}: {r.status_code} {r.text[:500]}"
    where = urlsplit(r.headers["location"])
    return {"path": where.path, **{k: v[0] for k, v in parse_qs(where.query).items()}}


async def workflow(s, code: str) -> dict:
    r = await s.http.get(f"/cases/{code}", headers=as_("k-supervisor"))
    assert r.status_code == 200, r.text
    return r.json()["workflow"]


async def registered(s, **report) -> str:
    code = (await s.report(**report))["case_code"]
    r = await s.http.post(f"/cases/{code}/register", json={"category": "JM-002"}, headers=as_("k-supervisor"))
    assert r.status_code == 200, r.text
    return code


async def test_people_sign_in_with_their_own_password_and_logout_ends_the_session(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        assert "登录工作台" in await page(s, "/ui/login")
        for key, home in [
            ("k-supervisor", "/ui/board"),
            ("k-admin", "/ui/board"),
            ("k-verifier", "/ui/board"),
            ("k-D-JJ", "/ui/inbox"),
        ]:
            r = await login(s, key)
            assert r.headers["location"] == home
            cookie = r.headers["set-cookie"].lower()
            assert cookie.startswith("closeloop_session=") and "httponly" in cookie and "samesite=lax" in cookie
            assert "secure" not in cookie  # plain http to the app, no trusted proxy: a laptop
            assert key not in r.headers["set-cookie"]  # a random session token, not anything the person knows
        for body in ({"login": "k-supervisor", "password": "wrong-password"}, {"login": "k-nobody", "password": "x"}):
            bad = await s.http.post("/ui/login", data=body)
            assert bad.status_code == 401 and "用户名或密码错误" in bad.text
        intake = await s.http.post("/ui/login", data={"login": "k-intake", "password": TEST_PASSWORD})
        assert intake.status_code == 401  # an intake key is a machine, not a person
        forged = await s.http.post(
            "/ui/login",
            data={"login": "k-supervisor", "password": TEST_PASSWORD},
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        )
        assert forged.status_code == 403 and "set-cookie" not in forged.headers
        # back to the page that sent the visitor to log in, but never off-site
        body = {"login": "k-supervisor", "password": TEST_PASSWORD}
        r = await s.http.post("/ui/login", data={**body, "next": "/ui/stats?start=2026-01-01"})
        assert r.headers["location"] == "/ui/stats?start=2026-01-01"
        r = await s.http.post("/ui/login", data={**body, "next": "//evil.example/ui/"})
        assert r.headers["location"] == "/ui/board"
        token = s.http.cookies.get("closeloop_session")
        out = await s.http.post("/ui/logout")
        assert out.status_code == 303 and out.headers["location"] == "/ui/login"
        assert (await s.http.get("/ui/board")).status_code == 303
        s.http.cookies.set("closeloop_session", token)  # the old cookie kept by someone: revoked server-side
        r = await s.http.get("/ui/board")
        assert r.status_code == 303 and r.headers["location"].startswith("/ui/login")


async def test_forms_need_the_session_form_token_and_a_secure_cookie_behind_https(engine, dev_env):
    async with api_stack(engine, dev_env, cookie_secure=True) as s:
        code = await registered(s)
        r = await s.http.post("/ui/login", data={"login": "k-supervisor", "password": TEST_PASSWORD})
        assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()
        s.http.cookies.set("closeloop_session", r.cookies["closeloop_session"])  # as the browser over https would
        s.csrf = CSRF.search(await page(s, "/ui/board")).group(1)
        flash = await act(s, code, "urge", note="请加快办理", csrf="forged-token")
        assert "请求来源无效" in flash["error"]
        assert [e["kind"] for e in (await workflow(s, code))["timeline"]].count("urged") == 0
        flash = await act(s, code, "urge", note="请加快办理")
        assert "error" not in flash, flash
        entry = (await workflow(s, code))["timeline"][-1]
        assert entry["kind"] == "urged" and entry["user"] == "k-supervisor"  # the person, by their login


async def test_without_a_login_every_page_redirects_to_the_login(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        for path in ["/ui/board", "/ui/inbox", "/ui/stats", "/ui/cases/WD-20260101-000001", "/ui/"]:
            r = await s.http.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/ui/login"), path
        r = await s.http.get("/ui/board?step=handle")
        assert parse_qs(urlsplit(r.headers["location"]).query)["next"] == ["/ui/board?step=handle"]
        s.http.cookies.set("closeloop_session", "k-supervisor")
        r = await s.http.post("/ui/cases/WD-20260101-000001/actions/sign", data={})
        assert r.status_code == 303 and r.headers["location"].startswith("/ui/login")


async def test_pages_render_in_chinese_with_role_checks(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        code = await registered(s)
        await login(s, "k-supervisor")
        board = await page(s, "/ui/board")
        assert "<title>案件看板" in board and code in board and "任务派遣" in board and "lamp-green" in board
        assert code in await page(
            s, "/ui/board?step=dispatch&unit=D-JJ&area=T-LS&level=2&channel=hotline_12345&q=违规停放"
        )
        assert code not in await page(s, "/ui/board?step=create")
        assert code not in await page(s, "/ui/board?overdue=1")
        assert code not in await page(s, "/ui/board?q=不存在的关键词")
        assert "<title>任务收件箱" in await page(s, "/ui/inbox") and code in await page(s, "/ui/inbox?unit=D-JJ")
        stats = await page(s, "/ui/stats")
        assert "<title>考核统计" in stats and "按期办结率" in stats and 'src="/ui/static/plotly.min.js' in stats
        assert "chart-on-time" in stats and "chart-satisfaction" in stats and "chart-overdue" in stats
        assert "chart-trend" in stats and "单位排名" in stats and "指标口径" in stats and "应报未报" in stats
        assert DEFINITIONS["overdue"] in stats  # the 口径 is on the page, not only in the API
        by_channel = await page(s, "/ui/stats?by=channel&period=quarter")
        assert "12345热线" in by_channel and "<th>受理</th>" in by_channel and "单位排名" not in by_channel
        download = await s.http.get("/ui/stats/export.xlsx")
        assert download.status_code == 200 and download.content[:2] == b"PK"  # a zip: the .xlsx workbook
        assert (await s.http.get("/ui/stats/export.csv?by=area")).text.startswith("\ufeff编码,镇街")
        assert "开始日期须不晚于结束日期" in await page(s, "/ui/stats?start=2026-02-01&end=2026-01-01")
        assert "<title>案件 " + code in await page(s, f"/ui/cases/{code}")

        await login(s, "k-D-JJ")
        inbox = await page(s, "/ui/inbox")
        assert code in inbox and "签收" in inbox and "退单" in inbox
        assert "仅供综治中心" in await page(s, "/ui/board", 403)
        assert "仅供综治中心" in await page(s, "/ui/stats", 403)
        assert "只能查看本单位的任务" in await page(s, "/ui/inbox?unit=D-CG", 403)
        await login(s, "k-D-CG")
        assert code not in await page(s, "/ui/inbox")
        assert "不在您的办理范围内" in await page(s, f"/ui/cases/{code}", 403)
        await login(s, "k-verifier")
        assert code in await page(s, "/ui/board")
        assert "仅供综治中心" in await page(s, "/ui/stats", 403)
        await page(s, "/ui/cases/WD-19990101-000001", 404)


async def test_the_not_overdue_filter_keeps_open_cases_within_their_limit(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        code = await registered(s)
        await login(s, "k-supervisor")
        assert code in await page(s, "/ui/board?overdue=0")


async def test_case_page_shows_the_timeline_and_masks_per_role(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        code = await registered(s, name="李四", phone="13900001234")
        await login(s, "k-supervisor")
        html = await page(s, f"/ui/cases/{code}")
        for label in ("时间线", "信息采集", "立案", "派遣", "任务派遣", "威海市公安局文登分局交通警察大队", "违规停车"):
            assert label in html, label
        assert "13900001234" in html and "李四" in html
        assert 'data-action="reassign"' in html and 'data-action="urge"' in html and 'data-action="sign"' not in html
        await login(s, "k-D-JJ")  # the unit holding the case needs the site and the phone to do its job
        html = await page(s, f"/ui/cases/{code}")
        assert "13900001234" in html and "李四" in html and "个人信息已脱敏" not in html
        assert 'data-action="sign"' in html and 'data-action="return"' in html and 'data-action="reassign"' not in html
        await login(s, "k-verifier")
        html = await page(s, f"/ui/cases/{code}")
        assert "139****1234" in html and "13900001234" not in html and "李四" not in html and "个人信息已脱敏" in html
        assert 'data-action="verify"' not in html  # nothing to verify yet
        r = await s.http.get("/audit", params={"case_code": code}, headers=as_("k-supervisor"))
        seen = [(e["user"], e["via"]) for e in r.json()["items"]]
        assert ("k-D-JJ", f"/ui/cases/{code}") in seen and ("k-supervisor", f"/ui/cases/{code}") in seen
        assert all(user != "k-verifier" for user, _ in seen)


async def test_a_unit_signs_through_the_form_and_the_case_moves(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        code = await registered(s)
        await login(s, "k-D-JJ")
        done = await act(s, code, "sign", back="/ui/inbox")
        assert done == {"path": "/ui/inbox", "ok": "已签收"}
        assert (await workflow(s, code))["step"] == "handle"
        inbox = await page(s, "/ui/inbox?ok=已签收")
        assert "已签收" in inbox and "办理中" in inbox and "办结" in inbox
        assert (await act(s, code, "progress", note="已联系车主"))["ok"] == "进展已反馈"
        html = await page(s, f"/ui/cases/{code}")
        assert "进展反馈" in html and "已联系车主" in html


async def test_a_rejected_action_comes_back_with_the_validators_message_and_changes_nothing(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        code = await registered(s)
        await login(s, "k-D-CG")
        wrong_unit = await act(s, code, "sign", back="/ui/inbox")
        assert wrong_unit["path"] == "/ui/inbox" and "不在您的办理范围内" in wrong_unit["error"]
        assert wrong_unit["error"] in await page(s, "/ui/inbox?error=" + quote(wrong_unit["error"]))
        assert "该操作需要角色：综治中心调度员" in (await act(s, code, "register", category="JM-002"))["error"]
        await login(s, "k-D-JJ")
        early = await act(s, code, "complete", result="已处理")
        assert early["path"] == f"/ui/cases/{code}" and "请先签收" in early["error"]
        assert "请填写退单理由" in (await act(s, code, "return", reason="x"))["error"]
        assert (await act(s, code, "nonsense"))["error"] == "未知操作"
        # a form posted from another site is refused even with the cookie
        r = await s.http.post(f"/ui/cases/{code}/actions/sign", data={}, headers={"Origin": "https://evil.example"})
        assert r.status_code == 303 and "请求来源无效" in parse_qs(urlsplit(r.headers["location"]).query)["error"][0]
        html = await page(s, f"/ui/cases/{code}?error=" + quote(early["error"]))
        assert "请先签收" in html
        kinds = [e["kind"] for e in (await workflow(s, code))["timeline"]]
        assert kinds == ["collected", "accepted", "dispatched"]


async def test_the_whole_loop_through_the_forms(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        code = (await s.report())["case_code"]
        await login(s, "k-supervisor")
        html = await page(s, f"/ui/cases/{code}")
        assert 'data-action="register"' in html and "违规停车" in html
        assert "请填写不予受理理由" in (await act(s, code, "decline", reason=""))["error"]
        assert "未知事件分类" in (await act(s, code, "register", category="NOPE"))["error"]
        assert (await act(s, code, "register", category="JM-002", level=""))["ok"].startswith("已立案")
        assert (await workflow(s, code))["lead_unit"] == "D-JJ"
        assert (await act(s, code, "urge", note="请尽快"))["ok"] == "已催办"
        await login(s, "k-D-JJ")
        await act(s, code, "sign")
        assert (
            "延期"
            in (
                await act(
                    s, code, "extension", reason="需协调车主", **{"extra.amount": "2", "extra.unit": "working_days"}
                )
            )["ok"]
        )
        await login(s, "k-supervisor")
        assert 'data-action="decide_extension"' in await page(s, f"/ui/cases/{code}")
        assert (await act(s, code, "decide_extension", approve="1", note="同意"))["ok"] == "已同意延期"
        await login(s, "k-D-JJ")
        assert (await act(s, code, "complete", result="车辆已挪走"))["ok"] == "办理结果已提交"
        await login(s, "k-verifier")
        assert 'data-action="verify"' in await page(s, f"/ui/cases/{code}")
        assert (await act(s, code, "verify", passed="1", note="现场核实"))["ok"].startswith("核查通过")
        v = await workflow(s, code)
        assert v["step"] == "evaluate" and v["extensions"] == 1
        html = await page(s, f"/ui/cases/{code}")
        for label in ("催办", "签收", "延期申请", "同意延期", "办结", "核查通过", "综合评价"):
            assert label in html, label


async def test_plotly_is_served_from_the_package_with_a_long_cache(engine, dev_env):
    async with api_stack(engine, dev_env) as s:
        r = await s.http.get("/ui/static/plotly.min.js")
        assert r.status_code == 200 and "javascript" in r.headers["content-type"]
        assert "max-age=31536000" in r.headers["cache-control"] and "plotly.js" in r.text[:200]
        again = await s.http.get("/ui/static/plotly.min.js", headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304
        css = await s.http.get("/ui/static/style.css")
        assert css.status_code == 200 and ".lamp-red" in css.text
        assert (await s.http.get("/ui/static/..%2Fpages.py")).status_code == 404


async def test_with_temporal_never_reached_every_page_and_route_answers_without_a_500(engine, dev_env):
    """The API started while Temporal is away (its client connects lazily): reports are taken and
    queued; a case page still shows the case; reads and actions on a started case answer 503."""
    async with api_stack(engine, dev_env) as up:
        started = await registered(up)
    async with api_stack(engine, dev_env, temporal_address="127.0.0.1:1", intake_start_wait_seconds=0.1) as s:
        r = await s.http.post(
            "/intake/hotline_12345",
            headers=as_("k-intake"),
            json={
                "channel_ref": uuid.uuid4().hex,
                "phone": "13812341234",
                "grid": "G-LS-XL-01",
                "description": "路灯不亮已经一周了",
            },
        )
        assert r.status_code == 202 and r.json()["status"] == "queued", r.text
        queued = r.json()["case_code"]
        r = await s.http.get(f"/citizen/cases/{queued}", params={"phone_last4": "1234"})
        assert r.status_code == 200 and r.json()["step_label"] == "信息采集", r.text
        assert (await s.http.get(f"/cases/{queued}/actions", headers=as_("k-supervisor"))).status_code == 409
        r = await s.http.get(f"/cases/{queued}", headers=as_("k-supervisor"))
        assert r.status_code == 200 and r.json()["summary"]["step"] == "collect" and r.json()["workflow"] is None
        for path in (f"/cases/{started}", f"/cases/{started}/actions"):
            r = await s.http.get(path, headers=as_("k-supervisor"))
            assert r.status_code == 503 and r.json()["error"]["code"] == "WorkflowUnavailable", (path, r.text)
        r = await s.http.post(f"/cases/{started}/urge", json={"note": "请尽快"}, headers=as_("k-supervisor"))
        assert r.status_code == 503 and r.json()["error"]["code"] == "ActionUnconfirmed", r.text
        await login(s, "k-supervisor")
        assert "流程服务暂时不可用" in await page(s, f"/ui/cases/{started}", status=503)
        assert queued in await page(s, f"/ui/cases/{queued}")  # the stored report, no forms
        await page(s, "/ui/cases/NOPE-0", status=404)
        assert "2000–2099" in await page(s, "/ui/stats?end=9999-12-31")
