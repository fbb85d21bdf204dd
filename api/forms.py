"""表单 — a human action's body from form fields (pages) or ``name=value`` words (CLI), and its
problems in Chinese, naming each field as the page does."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel, ValidationError

from domain.labels import VERDICT_LABELS
from domain.policy import DURATION_UNIT_LABELS

# Chinese names of body fields, for forms and their error messages; an action may rename one.
FIELD_LABELS = {
    "note": "说明",
    "reason": "理由",
    "result": "办理结果",
    "category": "事件分类",
    "level": "预警级别",
    "primary": "主案编码",
    "unit": "承办单位",
    "co_units": "会办单位",
    "binding": "不可退单",
    "approve": "审批结果",
    "passed": "核查结果",
    "verdict": "评价结果",
    "extra": "延期时长",
    "amount": "延期时长",
    "extra.unit": "延期时长单位",
    "photos": "照片",
}

OPTION_LABELS = {
    str(value.value if hasattr(value, "value") else value): label
    for table in (VERDICT_LABELS, DURATION_UNIT_LABELS)
    for value, label in table.items()
}


def field_label(path: str, labels: dict[str, str]) -> str:
    """The Chinese name of a body field (``extra.unit`` for a nested one); ``labels`` override."""
    for name in (path, path.rsplit(".", 1)[-1]):
        if name in labels or name in FIELD_LABELS:
            return labels.get(name) or FIELD_LABELS[name]
    return path


FORM_ONLY = {"back", "idempotency_key"}  # page form fields that are not part of the body


def form_data(form, model: type[BaseModel]) -> dict[str, typing.Any]:
    """Form fields as the model's JSON: empty fields left out (the model's defaults apply), dotted
    names nested, list fields from repeated inputs."""
    data: dict[str, typing.Any] = {}
    for key in dict.fromkeys(form.keys()):
        values = [value.strip() for value in form.getlist(key) if isinstance(value, str) and value.strip()]
        if key in FORM_ONLY or not values:
            continue
        *parents, leaf = key.split(".")
        target = data
        for part in parents:
            target = target.setdefault(part, {})
        declared = model.model_fields.get(key)
        listed = declared is not None and typing.get_origin(declared.annotation) is list
        target[leaf] = values if listed else values[-1]
    return data


def explain(error: ValidationError, labels: dict[str, str] | None = None) -> str:
    """The first problem of a form, in Chinese, naming the field as the page does."""
    first = error.errors()[0]
    names = [str(part) for part in first.get("loc", ()) if isinstance(part, str)]
    label = field_label(".".join(names), labels or {})
    context = first.get("ctx") or {}
    match first.get("type"):
        case "missing":
            return f"请填写{label}"
        case "string_too_short":
            return f"请填写{label}（至少 {context.get('min_length')} 个字）"
        case "string_too_long":
            return f"{label}不能超过 {context.get('max_length')} 个字"
        case "value_error":
            return f"{label}：{context.get('error', '填写不正确')}"
        case "enum" | "literal_error":
            return f"请选择{label}"
    return f"{label}填写不正确"


@dataclass(frozen=True)
class FormField:
    """One input of a form built from a body model (for actions without a dedicated form)."""

    name: str  # dotted for a nested field
    label: str
    kind: str  # text · number · checkbox · select
    required: bool
    max_length: int | None = None
    options: tuple[tuple[str, str], ...] = ()  # (value, Chinese label)


def form_fields(model: type[BaseModel], labels: dict[str, str], prefix: str = "") -> list[FormField]:
    """The inputs a page shows for ``model``: nested models flattened with dotted names; lists
    (photos, co-units) are left to dedicated forms."""
    fields: list[FormField] = []
    for name, info in model.model_fields.items():
        path, annotation = prefix + name, info.annotation
        options = typing.get_args(annotation) or (annotation,)
        kind_of = next((option for option in options if option is not type(None)), str)
        if isinstance(kind_of, type) and issubclass(kind_of, BaseModel):
            fields += form_fields(kind_of, labels, prefix=f"{path}.")
            continue
        if typing.get_origin(annotation) is list:
            continue
        most = next((getattr(m, "max_length", None) for m in info.metadata if getattr(m, "max_length", None)), None)
        label, required = field_label(path, labels), info.is_required()
        if isinstance(kind_of, type) and issubclass(kind_of, Enum):
            fields.append(
                FormField(
                    path,
                    label,
                    "select",
                    required,
                    options=tuple((m.value, OPTION_LABELS.get(m.value, m.value)) for m in kind_of),
                )
            )
        elif kind_of is bool:
            fields.append(FormField(path, label, "checkbox", False))
        elif kind_of is int:
            fields.append(FormField(path, label, "number", required))
        else:
            fields.append(FormField(path, label, "text", required, max_length=most))
    return fields
