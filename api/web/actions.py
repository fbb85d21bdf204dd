"""页面操作 — every form on the case page and in the inbox posts here.

Each action builds the same domain message as its JSON route, with the actor taken from the
cookie's principal, and sends it to the case's workflow. The workflow's validator stays the
judge of what fits the step and the unit: the pages only hide forms that cannot fit, and a
rejection comes back as the validator's own Chinese message on the page, never as a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from api.auth import Principal
from api.deps import StateDep
from api.errors import ApiError, from_update_failure
from api.queries import load_case
from api.updates import KEY_PATTERN, apply
from api.web.session import CENTER_ROLES, ROLE_LABELS, ViewerDep, safe_local, same_origin, to_login
from domain.limits import printable
from domain.district import District, UnknownCode
from domain.messages import (
    CaseView,
    CloseCase,
    Completion,
    Decline,
    Evaluation,
    ExtensionDecision,
    ExtensionRequest,
    MarkDuplicate,
    ProgressReport,
    Reassign,
    Registration,
    ReturnTask,
    SupervisorAction,
    UnitAction,
    Verification,
)
from domain.policy import Duration, DurationUnit
from domain.vocabulary import Role, Step, Verdict, WarningLevel
from store.db import Database
from workflows.complaint import ComplaintWorkflow as W

router = APIRouter(include_in_schema=False)
WORKING = (Step.DISPATCH, Step.HANDLE)
SUPERVISOR = (Role.SUPERVISOR,)
VERIFIERS = (Role.SUPERVISOR, Role.VERIFIER)
UNIT = (Role.UNIT_STAFF,)


class FormError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


Form = Any  # starlette's FormData
Built = tuple[Any, Any, str]  # (workflow update or signal, its argument, the success message)


@dataclass(frozen=True)
class Action:
    roles: tuple[Role, ...]
    build: Callable[[Form, Principal, District, Database], Built]  # blocking: runs in the database pool


def text(form: Form, field: str, label: str, least: int = 0, most: int = 1000) -> str:
    value = str(form.get(field) or "").strip()
    if len(value) < least:
        raise FormError(f"请填写{label}（至少 {least} 个字）")
    if len(value) > most:
        raise FormError(f"{label}不能超过 {most} 个字")
    try:
        return printable(value)
    except ValueError:
        raise FormError(f"{label}不能包含控制字符") from None


def _register(f: Form, p: Principal, d: District, _: Database) -> Built:
    category = text(f, "category", "事件分类", 1, 40)
    level = str(f.get("level") or "").strip()
    try:
        d.category(category)
        chosen = WarningLevel(int(level)) if level else None
    except UnknownCode as err:
        raise FormError(str(err)) from None
    except ValueError:
        raise FormError("预警级别须为 1、2 或 3") from None
    return W.register, Registration(actor=p.actor(), category=category, level=chosen), "已立案，并已按分类自动派遣"


def _duplicate(f: Form, p: Principal, _: District, db: Database) -> Built:
    primary = text(f, "primary", "主案编码", 1, 40)
    load_case(db, primary)
    return W.mark_duplicate, MarkDuplicate(actor=p.actor(), primary=primary), f"已作为重复件关联到主案 {primary}"


def _reassign(f: Form, p: Principal, d: District, _: Database) -> Built:
    unit = text(f, "unit", "承办单位", 1, 40)
    try:
        d.unit(unit)
    except UnknownCode as err:
        raise FormError(str(err)) from None
    binding = f.get("binding") in ("1", "on", "true")
    arg = Reassign(actor=p.actor(), unit=unit, binding=binding, note=text(f, "note", "说明"))
    return W.reassign, arg, f"已改派至 {d.unit(unit).name}" + ("（不可退单）" if binding else "")


def _decide(f: Form, p: Principal, *_) -> Built:
    approve = f.get("approve") == "1"
    arg = ExtensionDecision(actor=p.actor(), approve=approve, note=text(f, "note", "审批意见"))
    return W.decide_extension, arg, "已同意延期" if approve else "已不同意延期"


def _verify(f: Form, p: Principal, *_) -> Built:
    passed = f.get("passed") == "1"
    arg = Verification(actor=p.actor(), passed=passed, note=text(f, "note", "核查意见"))
    return W.verify, arg, "核查通过，案件进入综合评价" if passed else "核查未通过，已退回承办单位返工"


def _verdict(update, what: str):
    def build(f: Form, p: Principal, *_) -> Built:
        try:
            verdict = Verdict(str(f.get("verdict") or ""))
        except ValueError:
            raise FormError("请选择评价结果") from None
        return update, Evaluation(actor=p.actor(), verdict=verdict), f"已代录{what}"

    return build


def _extension(f: Form, p: Principal, *_) -> Built:
    try:
        amount = int(str(f.get("amount") or "").strip())
        unit = DurationUnit(str(f.get("unit") or DurationUnit.WORKING_DAYS.value))
    except ValueError:
        raise FormError("请填写延期时长（正整数）") from None
    if amount <= 0:
        raise FormError("延期时长须为正数")
    extra = Duration(amount=amount, unit=unit)
    arg = ExtensionRequest(actor=p.actor(), extra=extra, reason=text(f, "reason", "延期理由", 2))
    return W.request_extension, arg, f"已申请延期 {extra}，待中心审批"


def _complete(f: Form, p: Principal, *_) -> Built:
    return W.complete_task, Completion(actor=p.actor(), result=text(f, "result", "办理结果", 2, 4000)), "办理结果已提交"


def _note(update, label: str, ok: str, least: int = 0):
    def build(f: Form, p: Principal, *_) -> Built:
        return update, SupervisorAction(actor=p.actor(), note=text(f, "note", label, least)), ok

    return build


ACTIONS: dict[str, Action] = {
    # 综治中心
    "register": Action(SUPERVISOR, _register),
    "decline": Action(SUPERVISOR, lambda f, p, *_: (W.decline, Decline(actor=p.actor(), reason=text(f, "reason", "不予受理理由", 2)), "已不予受理")),
    "duplicate": Action(SUPERVISOR, _duplicate),
    "reassign": Action(SUPERVISOR, _reassign),
    "escalate": Action(SUPERVISOR, _note(W.escalate, "提级说明", "已提级督办")),
    "urge": Action(SUPERVISOR, _note(W.urge_unit, "催办内容", "已催办")),
    "decide_extension": Action(SUPERVISOR, _decide),
    "verify": Action(VERIFIERS, _verify),
    "reopen": Action(SUPERVISOR, _note(W.reopen, "重办说明", "已重新办理，退回原承办单位")),
    "close": Action(SUPERVISOR, lambda f, p, *_: (W.close, CloseCase(actor=p.actor(), reason=text(f, "reason", "结案理由", 2)), "已结案归档")),
    "evaluate": Action(SUPERVISOR, _verdict(W.evaluate, "群众评价")),
    "visit": Action(SUPERVISOR, _verdict(W.answer_visit, "回访答复")),
    # 承办单位
    "sign": Action(UNIT, lambda f, p, *_: (W.sign_for, UnitAction(actor=p.actor(), note=text(f, "note", "签收说明")), "已签收")),
    "return": Action(UNIT, lambda f, p, *_: (W.return_task, ReturnTask(actor=p.actor(), reason=text(f, "reason", "退单理由", 2)), "已退单，中心将重新派遣")),
    "progress": Action(UNIT, lambda f, p, *_: (W.report_progress, ProgressReport(actor=p.actor(), note=text(f, "note", "进展情况", 1, 2000)), "进展已反馈")),
    "extension": Action(UNIT, _extension),
    "complete": Action(UNIT, _complete),
}


def available(v: CaseView | None, p: Principal) -> set[str]:
    """The forms worth showing: those that fit the case's step and the viewer's role and unit."""
    if v is None or v.step.terminal:
        return set()
    out: set[str] = set()
    if p.role in CENTER_ROLES:
        if v.step == Step.CREATE:
            out |= {"register", "decline", "duplicate"}
        if v.step in WORKING:
            out.add("reassign")
            if v.lead_unit:
                out |= {"escalate", "urge"}
            if v.pending_extension is not None:
                out.add("decide_extension")
        if v.step == Step.EVALUATE:
            out |= {"decision": {"reopen"}, "evaluation": {"evaluate"}, "visit": {"visit"}}.get(v.awaiting or "", set())
        if v.step != Step.COLLECT:
            out.add("close")
    if p.role in (*CENTER_ROLES, Role.VERIFIER) and v.step == Step.VERIFY:
        out.add("verify")
    if p.role == Role.UNIT_STAFF and v.step in WORKING:
        if p.unit == v.lead_unit:
            out.add("progress")
            if v.step == Step.DISPATCH:
                out |= {"sign"} if v.binding else {"sign", "return"}
            else:
                out |= {"complete"} if v.pending_extension is not None else {"complete", "extension"}
        elif p.unit in v.co_units:
            out.add("progress")
            mine = [t for t in v.tasks if t.assignment == v.assignment and t.unit == p.unit]
            if not any(t.status == "done" for t in mine):
                out.add("co_complete")
    return out


def flash(back: str, **message: str) -> RedirectResponse:
    parts = urlsplit(back)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("ok", "error")] + list(message.items())
    return RedirectResponse(f"{parts.path}?{urlencode(query)}", status_code=303)


def _allowed(p: Principal, roles: tuple[Role, ...]) -> None:
    """The JSON routes' role check (admin may do anything), with Chinese role names."""
    if p.role not in roles and p.role != Role.ADMIN:
        raise FormError("该操作需要角色：" + "、".join(ROLE_LABELS[r] for r in roles))


@router.post("/cases/{code}/actions/{name}")
async def act(code: str, name: str, request: Request, p: ViewerDep, s: StateDep):
    if p is None:
        return to_login(request)
    form = await request.form()
    back = safe_local(str(form.get("back") or "")) or f"/ui/cases/{quote(code, safe='')}"
    if not same_origin(request):
        return flash(back, error="请求来源无效，请在本系统页面内操作")
    action = ACTIONS.get(name)
    if action is None:
        return flash(back, error="未知操作")
    key = str(form.get("idempotency_key") or "")
    try:
        _allowed(p, action.roles)
        if not re.fullmatch(KEY_PATTERN, key):
            raise FormError("页面已过期，请刷新后重试")
        ref, arg, ok = await s.db.run(action.build, form, p, s.district, s.db)
        await apply(s, code, ref, arg, key)
    except (FormError, ApiError) as err:
        return flash(back, error=err.message)
    except WorkflowUpdateFailedError as err:
        return flash(back, error=from_update_failure(err).message)
    except ValidationError:
        return flash(back, error="填写内容不合规，请检查后重试")
    except RPCError:
        return flash(back, error="流程服务暂时不可用，请稍后重试")
    return flash(back, ok=ok)
