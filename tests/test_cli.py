"""The command line: catalog check/load offline; overdue, show and simulate against a live API.

The live API is uvicorn in-process on a free port, with the laptop keys of deploy/dev-keys.json
(as ``./closeloop dev`` runs) and a worker on the shared dev server. Click commands run through
CliRunner in a thread: they call ``asyncio.run`` while the server runs on the test's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from pathlib import Path

import httpx
import uvicorn
from click.testing import CliRunner

import cli
from api.main import create_app
from config import Settings, get_settings
from domain.district import DEMO_POLICY, SAMPLE_DISTRICT
from tests.support import eventually
from worker import build_worker

WIDE = {"COLUMNS": "220"}


def run(*args: str):
    return CliRunner().invoke(cli.main, list(args), env=WIDE)


# --- catalog ---------------------------------------------------------------------------------


def test_catalog_check_counts_the_sample():
    result = run("catalog", "check", str(SAMPLE_DISTRICT))
    assert result.exit_code == 0, result.output
    assert "威海市文登区" in result.output and "事件分类 42 类" in result.output
    assert "单位 51 个" in result.output and "分流规则 5 条" in result.output


def broken(tmp_path: Path) -> Path:
    """The sample without 交警 (D-JJ), which categories and routing still name."""
    data = json.loads(SAMPLE_DISTRICT.read_text(encoding="utf-8"))
    data["units"] = [u for u in data["units"] if u["code"] != "D-JJ"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_catalog_check_reports_errors_in_chinese(tmp_path):
    result = run("catalog", "check", str(broken(tmp_path)))
    assert result.exit_code == 1
    assert "校验未通过" in result.output and "引用了未定义的单位编码" in result.output and "D-JJ" in result.output

    data = json.loads(SAMPLE_DISTRICT.read_text(encoding="utf-8"))
    data["categories"][0]["level"] = 5
    del data["units"][1]["name"]
    (tmp_path / "fields.json").write_text(json.dumps(data), encoding="utf-8")
    result = run("catalog", "check", str(tmp_path / "fields.json"))
    assert result.exit_code == 1
    assert "categories.0.level：取值不在允许范围内" in result.output and "units.1.name：缺少字段" in result.output

    (tmp_path / "cut.json").write_text('{"code": "WD", "units": [', encoding="utf-8")
    result = run("catalog", "check", str(tmp_path / "cut.json"))
    assert result.exit_code == 1 and "不是有效的 JSON" in result.output
    result = run("catalog", "check", str(tmp_path / "missing.json"))
    assert result.exit_code == 1 and "无法读取文件" in result.output


def test_catalog_load_copies_into_the_state_folder_used_by_dev(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("CLOSELOOP_DISTRICT_FILE", "CLOSELOOP_POLICY_FILE", "CLOSELOOP_API_KEYS", "CLOSELOOP_API_KEYS_FILE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        assert cli.dev_settings().district_file == SAMPLE_DISTRICT  # nothing loaded yet
        result = run("catalog", "load", str(broken(tmp_path)))
        assert result.exit_code == 1 and not (tmp_path / ".closeloop" / "district.json").exists()

        result = run("catalog", "load", str(SAMPLE_DISTRICT))
        assert result.exit_code == 0, result.output
        loaded = tmp_path / ".closeloop" / "district.json"
        assert loaded.read_bytes() == SAMPLE_DISTRICT.read_bytes() and "已载入" in result.output
        settings = cli.dev_settings(demo=True)
        assert Path(settings.district_file) == cli.LOADED_DISTRICT and settings.policy_file == DEMO_POLICY
        assert settings.api_keys_file == cli.DEV_KEYS

        monkeypatch.setenv("CLOSELOOP_DISTRICT_FILE", str(SAMPLE_DISTRICT))  # the environment wins
        get_settings.cache_clear()
        assert cli.dev_settings().district_file == SAMPLE_DISTRICT and cli.dev_settings().policy_file is None
    finally:
        get_settings.cache_clear()


# --- against a live API ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def instant_policy(tmp_path: Path) -> Path:
    """The demo policy with every limit at 0 minutes: a case is overdue as soon as it is dispatched."""
    policy = json.loads(DEMO_POLICY.read_text(encoding="utf-8"))
    policy["version"] = "demo-instant"
    for clock in policy["levels"].values():
        clock["limit"]["amount"] = 0
        clock["escalate_after"]["amount"] = 60
    policy["return_visit_delay"]["amount"] = policy["second_visit_delay"]["amount"] = 0
    path = tmp_path / "instant-policy.json"
    path.write_text(json.dumps(policy), encoding="utf-8")
    return path


@contextlib.asynccontextmanager
async def live_api(engine, env, tmp_path: Path):
    port = free_port()
    settings = Settings(
        task_queue=f"cli-{uuid.uuid4().hex[:8]}",
        database_url=str(engine.url),
        temporal_address=env.client.service_client.config.target_host,
        api_keys_file=cli.DEV_KEYS,
        intake_retry_seconds=0.2,
        policy_file=instant_policy(tmp_path),
        api_port=port,
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    server.capture_signals = contextlib.nullcontext  # the test process keeps its own signal handlers
    async with build_worker(env.client, settings, engine):
        serving = asyncio.create_task(server.serve())
        try:
            await eventually(lambda: server.started, timeout=30)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            await serving


async def invoke(*args: str):
    return await asyncio.to_thread(run, *args)


async def test_overdue_show_and_simulate_against_a_live_api(engine, dev_env, tmp_path):
    async with live_api(engine, dev_env, tmp_path) as url:
        sup = {"X-API-Key": "dev-supervisor"}
        async with httpx.AsyncClient(base_url=url) as http:
            r = await http.post(
                "/intake/hotline_12345",
                headers={"X-API-Key": "dev-intake"},
                json={
                    "channel_ref": uuid.uuid4().hex,
                    "name": "丛秀英",
                    "phone": "13906315678",
                    "address": "龙山街道西楼小区3号楼",
                    "grid": "G-LS-XL-01",
                    "description": "西楼小区门口消防通道上停了一辆白色轿车，三天没挪了",
                },
            )
            code = r.json()["case_code"]
            await eventually(lambda: _started(http, code), timeout=30)
            r = await http.post(f"/cases/{code}/register", headers=sup, json={"category": "JM-002"})
            assert r.status_code == 200, r.text
            await eventually(lambda: _red(http, code), timeout=30)  # 0-minute limit: red at once

        result = await invoke("overdue", "--api", url)
        assert result.exit_code == 0, result.output
        row = next(line for line in result.output.splitlines() if code in line)
        assert "JM-002 违规停车" in row and "D-JJ" in row and "红灯" in row and "已超" in row

        result = await invoke("show", code, "--api", url)
        assert result.exit_code == 0, result.output
        for text in (
            "任务派遣",
            "JM-002 / 2级",
            "D-JJ",
            "超期",
            "丛秀英 13906315678",
            "消防通道",
            "信息采集",
            "立案",
            "派遣",
            "红灯超期",
            "系统",
        ):
            assert text in result.output, text
        masked = await invoke("show", code, "--api", url, "--key", "dev-verifier")  # the grid's verifier: masked
        assert masked.exit_code == 0 and "丛*" in masked.output and "13906315678" not in masked.output
        holder = await invoke("show", code, "--api", url, "--key", "dev-unit-D-JJ")  # the unit on the case: not
        assert holder.exit_code == 0 and "13906315678" in holder.output

        unit = ("--api", url, "--key", "dev-unit-D-JJ")
        listed = await invoke("actions", code, *unit)
        assert listed.exit_code == 0 and f"closeloop act {code} sign" in listed.output and "签收" in listed.output
        unitless = await invoke("act", code, "extension", "extra.amount=2", "reason=需协调", *unit)
        assert unitless.exit_code == 1 and "请填写延期时长单位" in unitless.output
        refused = await invoke(
            "act", code, "extension", "extra.amount=2", "extra.unit=working_days", "reason=需协调", *unit
        )
        assert refused.exit_code == 1 and "申请延期未执行" in refused.output  # not signed for yet: the workflow says no
        short = await invoke("act", code, "return", "reason=x", *unit)
        assert short.exit_code == 1 and "请填写退单理由" in short.output  # checked before it is sent
        signed = await invoke("act", code, "sign", "note=命令行签收备注", *unit)
        assert signed.exit_code == 0 and "签收：已完成" in signed.output, signed.output
        result = await invoke("show", code, "--api", url)
        assert "命令行签收备注" in result.output  # the note typed with the CLI action, on the case timeline

        missing = await invoke("show", "WD-20000101-000001", "--api", url)
        assert missing.exit_code == 1 and "不存在" in missing.output
        wrong = await invoke("overdue", "--api", url, "--key", "nope")
        assert wrong.exit_code == 1 and "API 密钥无效" in wrong.output

        # every case overdue (0-minute limits), visits at once: the simulator's book still agrees with /stats
        result = await invoke("simulate", "--cases", "12", "--api", url, "--seed", "5", "--concurrency", "4")
        assert result.exit_code == 0, result.output
        assert "全部指标与统计接口一致" in result.output and "demo-instant" in result.output

    result = await invoke("overdue", "--api", url)  # the server is gone
    assert result.exit_code == 1 and "无法连接 API" in result.output


async def _started(http, code) -> bool:
    r = await http.get(f"/cases/{code}", headers={"X-API-Key": "dev-supervisor"})
    return r.status_code == 200 and r.json()["workflow"] is not None


async def _red(http, code) -> bool:
    r = await http.get(f"/cases/{code}", headers={"X-API-Key": "dev-supervisor"})
    return r.json()["summary"]["lamp"] == "red"


# --- accounts --------------------------------------------------------------------------------


def test_users_and_keys_are_managed_from_the_command_line(engine, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLOSELOOP_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CLOSELOOP_NEW_PASSWORD", "a-long-password-1")
    get_settings.cache_clear()
    login = f"clerk-{uuid.uuid4().hex[:6]}"
    try:
        added = run("users", "add", login, "--name", "王芳", "--role", "unit_staff", "--unit", "D-JJ")
        assert added.exit_code == 0 and "已开设账号" in added.output, added.output
        again = run("users", "add", login, "--name", "王芳", "--role", "unit_staff", "--unit", "D-JJ")
        assert again.exit_code == 1 and "已存在" in again.output
        unbound = run("users", "add", f"{login}-x", "--name", "某", "--role", "unit_staff")
        assert unbound.exit_code == 1 and "必须绑定" in unbound.output
        monkeypatch.setenv("CLOSELOOP_NEW_PASSWORD", "short")
        assert "密码长度" in run("users", "reset", login).output
        listed = run("users", "list")
        assert login in listed.output and "王芳" in listed.output and "在用" in listed.output
        assert run("users", "disable", login).exit_code == 0 and "已停用" in run("users", "list").output

        made = run("keys", "add", "12345热线", "--role", "intake", "--channel", "hotline_12345", "--scope", "write")
        assert made.exit_code == 0, made.output
        key = next(word for word in made.output.split() if word.startswith("clk_"))
        with engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT key_hash, prefix FROM api_keys").all()
        assert all(key not in row[0] for row in stored) and key[:10] in [row[1] for row in stored]  # digest only
        assert run("keys", "revoke", key[:10]).exit_code == 0 and "已吊销" in run("keys", "list").output
    finally:
        get_settings.cache_clear()
