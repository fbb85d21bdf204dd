"""``users`` and ``keys``: people's accounts and machine clients' API keys, straight on the database
(run where the API runs, with its settings). Passwords are asked for, never shown."""

from __future__ import annotations

from collections.abc import Callable

import click
from rich.table import Table
from sqlmodel import select

import cli
from api.accounts import (
    AccountError,
    create_api_key,
    create_user,
    list_users,
    reset_password,
    revoke_api_key,
    set_active,
)
from config import get_settings
from domain.district import District
from domain.labels import ROLE_LABELS
from domain.vocabulary import Channel, Role
from store.accounts import ApiKeyRow
from store.db import Database

DEV_PASSWORD = "closeloop-dev"  # ./closeloop dev only: one account per deploy/dev-keys.json entry
ROLES = click.Choice([r.value for r in (Role.SUPERVISOR, Role.ADMIN, Role.VERIFIER, Role.UNIT_STAFF)])
password_option = click.option(
    "--password",
    envvar="CLOSELOOP_NEW_PASSWORD",
    prompt="新密码",
    hide_input=True,
    confirmation_prompt="再次输入",
    help="新密码（至少 10 位；不填则提示输入）",
)


def _open() -> tuple[Database, District]:
    """The database and district the API uses (the district ``catalog load`` put in place, if any)."""
    settings = get_settings()
    district_file = settings.district_file
    if "district_file" not in settings.model_fields_set and cli.LOADED_DISTRICT.exists():
        district_file = cli.LOADED_DISTRICT
    cli.STATE.mkdir(exist_ok=True)  # the default SQLite file lives there
    db = Database(settings.database_url)
    db.create_schema()
    return db, District.load(district_file, settings.policy_file)


def _change(operation: Callable[[Database, District], object], done: str = "") -> object:
    """Run one account operation on the database, then say ``done``; an AccountError becomes the
    command's error message."""
    db, district = _open()
    try:
        result = operation(db, district)
    except AccountError as err:
        raise click.ClickException(str(err)) from None
    if done:
        cli.console.print(done)
    return result


@cli.main.group()
def users() -> None:
    """工作人员账号：开设、停用、重置密码。"""


@users.command("add")
@click.argument("login")
@click.option("--name", required=True, help="姓名")
@click.option("--role", type=ROLES, required=True)
@click.option("--unit", help="承办单位编码（unit_staff）或核查网格/镇街编码（verifier）")
@password_option
def add_user(login: str, name: str, role: str, unit: str | None, password: str) -> None:
    done = f"已开设账号 {login}（{ROLE_LABELS[Role(role)]}{'，' + unit if unit else ''}）"
    _change(lambda db, district: create_user(db, district, login, name, Role(role), unit, password), done)


@users.command("list")
def list_accounts() -> None:
    db, _ = _open()
    table = Table("账号", "姓名", "角色", "单位/网格", "状态")
    for user in list_users(db):
        role = ROLE_LABELS.get(Role(user.role), user.role)
        table.add_row(user.login, user.name, role, user.unit or "—", "在用" if user.active else "已停用")
    cli.console.print(table)


@users.command("disable")
@click.argument("login")
def disable(login: str) -> None:
    """停用账号：其所有登录会话立即失效。"""
    _change(lambda db, _: set_active(db, login, False), f"已停用 {login}")


@users.command("enable")
@click.argument("login")
def enable(login: str) -> None:
    _change(lambda db, _: set_active(db, login, True), f"已启用 {login}")


@users.command("reset")
@click.argument("login")
@password_option
def reset(login: str, password: str) -> None:
    """重置密码：其所有登录会话立即失效。"""
    _change(lambda db, _: reset_password(db, login, password), f"已重置 {login} 的密码")


@cli.main.group()
def keys() -> None:
    """接口密钥（受理系统等机器客户端）：只保存摘要，密钥只显示一次。"""


@keys.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role if r not in (Role.SYSTEM, Role.CITIZEN)]))
@click.option("--unit")
@click.option("--channel", type=click.Choice([c.value for c in Channel]), help="受理渠道（intake）")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(["read", "write"]), help="可重复；不填即读写")
def add_key(name: str, role: str, unit: str | None, channel: str | None, scopes: tuple[str, ...]) -> None:
    chosen = Channel(channel) if channel else None
    key = _change(lambda db, district: create_api_key(db, district, name, Role(role), unit, chosen, list(scopes)))
    cli.console.print(f"密钥（只显示这一次，请妥善保存）：\n{key}", soft_wrap=True)


@keys.command("list")
def list_keys() -> None:
    db, _ = _open()
    with db.reading() as session:
        rows = session.exec(select(ApiKeyRow).order_by(ApiKeyRow.id)).all()
    table = Table("前缀", "名称", "角色", "单位/渠道", "权限", "状态")
    for row in rows:
        binding = row.unit or row.channel or "—"
        table.add_row(
            row.prefix, row.name, row.role, binding, ",".join(row.scopes) or "读写", "在用" if row.active else "已吊销"
        )
    cli.console.print(table)


@keys.command("revoke")
@click.argument("prefix")
def revoke(prefix: str) -> None:
    db, _ = _open()
    if not revoke_api_key(db, prefix):
        raise click.ClickException(f"没有前缀为 {prefix} 的密钥")
    cli.console.print(f"已吊销 {prefix}（各进程 30 秒内不再接受）")


def seed_dev_users(db: Database, district: District, keys: dict) -> list[str]:
    """``dev``: a person for each laptop key (same name), password ``closeloop-dev``; kept if present."""
    made = []
    for login, spec in keys.items():
        if spec.role in (Role.INTAKE, Role.SYSTEM, Role.CITIZEN):
            continue
        try:
            create_user(db, district, login, spec.user, spec.role, spec.unit, DEV_PASSWORD)
            made.append(login)
        except AccountError:
            pass  # already there (or bound to a unit this district lacks): leave it
    return made
