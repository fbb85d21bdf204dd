"""The web pages in a real browser: headless Debian Chromium driven by Playwright, over real HTTP.

The app runs in uvicorn in-process on a free 127.0.0.1 port with the real worker, the Temporal
dev server and the database. Screenshots of each page go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import asyncio
import re
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from api.main import create_app
from config import Settings
from domain.district import District
from store.db import Database
from tests.api_support import KEYS, TEST_PASSWORD, as_, seed_people
from worker import build_worker

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium")
async_api = pytest.importorskip("playwright.async_api", reason="the playwright Python package is not installed")
expect = async_api.expect

ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


@asynccontextmanager
async def served(engine, env) -> AsyncIterator[str]:
    """The real app over HTTP (uvicorn in this event loop) with the real worker; yields its base URL."""
    target = env.client.service_client.config.target_host
    settings = Settings(
        task_queue=f"web-{uuid.uuid4().hex[:8]}",
        database_url=str(engine.url),
        temporal_address=target,
        api_keys=KEYS,
        intake_retry_seconds=0.2,
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections wait in the backlog until uvicorn serves: no start-up race
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False, lifespan="on"))
    async with build_worker(env.client, settings, engine):
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                assert (await http.get("/health")).status_code == 200
            db = Database.of(engine)
            try:
                seed_people(db, District.load(settings.district_file))
            finally:
                db.dispose()
            yield base
        finally:
            server.should_exit = True
            await serving
            sock.close()


async def file_and_register(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        body = {
            "channel_ref": uuid.uuid4().hex,
            "name": "王五",
            "phone": "13712345678",
            "address": "文登区龙山路66号",
            "grid": "G-LS-XL-01",
            "description": "龙山路口有车辆长期占用消防通道违规停放",
        }
        r = await http.post("/intake/hotline_12345", json=body, headers=as_("k-intake"))
        assert r.status_code == 202, r.text
        code = r.json()["case_code"]
        r = await http.post(f"/cases/{code}/register", json={"category": "JM-002"}, headers=as_("k-supervisor"))
        assert r.status_code == 200, r.text
        return code


async def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def log_in(page, base: str, key: str, lands_on: str) -> None:
    await page.goto(f"{base}/ui/login")
    await page.get_by_label("用户名").fill(key)  # each staff key has a person of the same login
    await page.get_by_label("密码").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(re.compile(re.escape(f"{base}{lands_on}")))


async def test_a_unit_and_the_center_close_a_case_in_the_browser(engine, dev_env):
    async with served(engine, dev_env) as base:
        code = await file_and_register(base)
        host = urlsplit(base).netloc
        async with async_api.async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            try:
                context = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
                outside: list[str] = []

                async def local_only(route):  # nothing may come from a CDN or anywhere else
                    if urlsplit(route.request.url).netloc == host:
                        await route.continue_()
                    else:
                        outside.append(route.request.url)
                        await route.abort()

                await context.route("**/*", local_only)
                page = await context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda err: errors.append(str(err)))

                # 承办单位: the task is in the inbox; sign for it, then report the result
                await page.goto(f"{base}/ui/inbox")
                await expect(page).to_have_url(re.compile(r"/ui/login"))
                await expect(page.get_by_role("heading", name="登录工作台")).to_be_visible()
                await shot(page, "login")
                await log_in(page, base, "k-D-JJ", "/ui/inbox")
                row = page.locator(f"tr[data-code='{code}']")
                await expect(row).to_be_visible()
                await expect(row.locator("td.step")).to_have_text("任务派遣")
                await shot(page, "inbox")
                await row.get_by_role("button", name="签收").click()
                await expect(page.locator(".flash.ok")).to_have_text("已签收")
                await expect(row.locator("td.step")).to_have_text("事件处置")
                await row.get_by_placeholder("办理结果").fill("已联系车主将车辆挪走，消防通道恢复畅通")
                await row.get_by_role("button", name="办结").click()
                await expect(page.locator(".flash.ok")).to_have_text("办理结果已提交")
                await expect(row).to_have_count(0)  # done: no longer an active task

                # 综治中心: the case waits for verification on the board; pass it on the case page
                await page.get_by_role("button", name="退出").click()
                await expect(page).to_have_url(re.compile(r"/ui/login"))
                await log_in(page, base, "k-supervisor", "/ui/board")
                row = page.locator(f"tr[data-code='{code}']")
                await expect(row.locator("td.step")).to_have_text("反馈核查")
                await expect(row.locator(".lamp")).to_be_visible()
                await shot(page, "board")
                await row.get_by_role("link", name=code).click()
                await expect(page.locator("#current-step")).to_have_text("反馈核查")
                await expect(page.locator("#report-phone")).to_have_text("13712345678")
                verify = page.locator("form[data-action='verify']")
                await verify.get_by_label("核查意见").fill("现场核实，消防通道已畅通")
                await verify.get_by_role("button", name="核查通过").click()
                await expect(page.locator(".flash.ok")).to_contain_text("核查通过")
                await expect(page.locator("#current-step")).to_have_text("综合评价")
                await expect(page.locator("table.timeline")).to_contain_text("核查通过")
                await shot(page, "case")

                await page.get_by_role("link", name="考核统计").click()
                await expect(page.get_by_role("heading", name="考核统计")).to_be_visible()
                for chart in ("chart-on-time", "chart-satisfaction", "chart-overdue"):
                    await expect(page.locator(f"#{chart} .main-svg").first).to_be_attached()
                await shot(page, "stats")
                assert not errors, errors
                assert not outside, outside
            finally:
                await browser.close()

        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            v = (await http.get(f"/cases/{code}", headers=as_("k-supervisor"))).json()["workflow"]
        assert v["step"] == "evaluate" and v["awaiting"] == "evaluation"
        assert [e["kind"] for e in v["timeline"]][-3:] == ["signed", "completed", "verified"]
