"""``act`` and ``actions``: send any human action from the action table, see which ones fit now.

    closeloop actions WD-20261124-000001 --key dev-D-JJ
    closeloop act WD-20261124-000001 progress note=已联系车主 --key dev-D-JJ
    closeloop act WD-20261124-000001 extension extra.amount=2 extra.unit=working_days reason=需协调

Fields are the action's JSON body as ``name=value`` (dotted for a nested field, repeated for a
list). Each call sends a fresh Idempotency-Key and retries once with the same key when the API
cannot confirm it (503 or a lost connection), so a retry is never applied twice.
"""

from __future__ import annotations

import uuid

import click
import httpx
from pydantic import ValidationError
from rich.table import Table
from starlette.datastructures import ImmutableMultiDict

import cli
from api.actions import ACTIONS, ACTIONS_LIST
from api.forms import explain, form_data
from cli import api_option, key_option, main
from cli.reads import _fetch, get_json

NAMES = click.Choice([a.name for a in ACTIONS_LIST])


def _fields(pairs: tuple[str, ...]) -> ImmutableMultiDict:
    parsed = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r}：请写成 字段=值", param_hint="FIELDS")
        parsed.append((name.strip(), value))
    return ImmutableMultiDict(parsed)


async def _send(http: httpx.AsyncClient, path: str, key: str, body: dict) -> httpx.Response:
    headers = {"X-API-Key": key, "Idempotency-Key": uuid.uuid4().hex}
    for attempt in (1, 2):
        try:
            response = await http.post(path, json=body, headers=headers)
        except httpx.TransportError:
            if attempt == 2:
                raise
            continue
        if response.status_code != 503 or attempt == 2:
            return response
    raise AssertionError("unreachable")


@main.command("act")
@click.argument("code")
@click.argument("action", type=NAMES)
@click.argument("fields", nargs=-1)
@api_option
@key_option
def act(code: str, action: str, fields: tuple[str, ...], api: str, key: str) -> None:
    """对案件执行一项操作（字段写成 名称=值）。"""
    chosen = ACTIONS[action]
    try:
        body = chosen.body.model_validate(form_data(_fields(fields), chosen.body))
    except ValidationError as err:
        raise click.ClickException(explain(err, chosen.labels)) from None
    try:
        response = _fetch(
            api, lambda http: _send(http, f"/cases/{code}/{chosen.path}", key, body.model_dump(mode="json"))
        )
    except httpx.TransportError as err:
        raise click.ClickException(f"无法连接 API {api}：{err}（请先运行 ./closeloop dev）") from None
    answer = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200:
        message = answer.get("error", {}).get("message") or response.text[:200]
        raise click.ClickException(f"{chosen.label}未执行：{message}")
    cli.console.print(f"{chosen.label}：已完成（案件 {answer['case_code']}，时间线第 {answer['seq']} 条）")


@main.command("actions")
@click.argument("code")
@api_option
@key_option
def actions(code: str, api: str, key: str) -> None:
    """列出当前身份此刻可对案件执行的操作。"""
    allowed = _fetch(api, lambda http: get_json(http, f"/cases/{code}/actions", key))
    if not allowed:
        cli.console.print("当前没有可执行的操作")
        return
    table = Table(title=f"案件 {code} 可执行的操作")
    for column in ("操作", "命令"):
        table.add_column(column)
    for item in allowed:
        table.add_row(item["label"], f"closeloop act {code} {item['name']}")
    cli.console.print(table)
