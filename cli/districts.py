"""``catalog check|load``: validate a district file (errors in Chinese) and load it for ``dev``."""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import click
from pydantic import ValidationError
from rich.markup import escape

import cli
from cli import LOADED_DISTRICT, STATE, main
from domain.district import District
from domain.labels import UNIT_KIND_LABELS


@main.group()
def catalog() -> None:
    """辖区文件（事件目录、组织架构、分流规则）：校验与载入。"""


PROBLEMS = {
    "missing": "缺少字段",
    "enum": "取值不在允许范围内",
    "int_parsing": "应为整数",
    "string_type": "应为字符串",
    "list_type": "应为列表",
    "model_type": "应为对象",
    "dict_type": "应为对象",
    "literal_error": "取值无效",
    "extra_forbidden": "不允许的字段",
}


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
            "the district needs one unit of kind 'district' (综治中心)", "缺少类型为 district 的单位（区综治中心）"
        )
        lines.append(f"{where}：{PROBLEMS.get(e['type'], message)}")
    return lines


def _check(path: Path) -> District:
    try:
        district = District.load(path)
    except Exception as err:  # every way a file can be wrong is reported, in Chinese
        cli.console.print(f"[red]辖区文件 {escape(str(path))} 校验未通过：[/]")
        for line in _explain(err):
            cli.console.print(f"  [red]✗[/] {escape(line)}")
        sys.exit(1)
    kinds = Counter(u.kind.value for u in district.units)
    by_kind = "、".join(f"{UNIT_KIND_LABELS.get(k, k)} {n}" for k, n in kinds.items())
    cli.console.print(
        f"[green]✓[/] {escape(district.name)}（{escape(district.code)}）：事件分类 {len(district.categories)} 类，"
        f"单位 {len(district.units)} 个（{by_kind}），分流规则 {len(district.routing)} 条，"
        f"时限规则 {district.policy.version}"
    )
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
    cli.console.print(
        f"已载入到 {LOADED_DISTRICT}；./closeloop dev 下次启动时使用（设置了 CLOSELOOP_DISTRICT_FILE 时以其为准）。"
    )
