"""人工操作表 — every human action declared once.

Each entry names the action, its Chinese label, the request body, who may send it, the workflow
update it becomes and how the body turns into the update's argument. The JSON routes
(``api/routes/actions.py``), the page forms (``api/web/actions.py``), the CLI and the simulator
all read this table; whether an action fits the case *now* is the workflow's own answer (its
``allowed_actions`` query dry-runs the validators), never a copy of its rules.

Adding an action: a transition and its check in ``workflows/``, an update with a validator in
``workflows/complaint.py``, one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from api.errors import ApiError
from api.queries import require_codes
from api.schemas import (
    CompleteBody,
    DecisionBody,
    DuplicateBody,
    ExtensionBody,
    NoteBody,
    ProgressBody,
    ReasonBody,
    ReassignBody,
    RegisterBody,
    VerdictBody,
    VerifyBody,
)
from api.updates import find_case
from domain.district import District
from domain.messages import (
    Actor,
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
from domain.vocabulary import CENTER_ROLES, VERIFIER_ROLES, Role
from security import pii
from store.db import Database
from workflows.complaint import ComplaintWorkflow

CENTER, VERIFIERS, UNIT = CENTER_ROLES, VERIFIER_ROLES, (Role.UNIT_STAFF,)


@dataclass(frozen=True)
class HumanAction:
    """一项人工操作."""

    name: str  # the page form's name and the CLI's word
    label: str  # 中文名
    path: str  # POST /cases/{code}/<path>
    update: Any  # the ComplaintWorkflow update it sends
    body: type[BaseModel]
    roles: tuple[Role, ...]
    build: Callable[[Any, Actor], BaseModel]  # body, actor → the update's argument
    done: Callable[[Any, District], str]  # what the page says once it happened
    summary: str = ""  # the OpenAPI summary when it says more than the label
    labels: dict[str, str] = field(default_factory=dict)
    check: Callable[[Any, District, Database], None] | None = None  # codes the district must know; blocking

    def prepare(self, body: Any, actor: Actor, district: District, db: Database) -> BaseModel:
        """The update's argument, its free text scrubbed; ApiError for a code the district or the
        database does not know. Blocking."""
        if self.check:
            self.check(body, district, db)
        return scrubbed(self.build(body, actor))


FREE_TEXT = ("note", "reason", "result", "comment")  # what staff type, in any update's argument


def scrubbed(arg: BaseModel) -> BaseModel:
    """``arg`` with phone, ID and bank card numbers and e-mail addresses cut out of its free text
    (``security/pii.py``): Temporal's history keeps update arguments for as long as the case's
    history lives, and the timeline shows the notes to everyone on the case. Same body, same
    argument, so a retried action (same Idempotency-Key) still sends what the first one sent."""
    changes = {
        name: pii.scrub(value) for name in FREE_TEXT if isinstance(value := getattr(arg, name, None), str) and value
    }
    return arg.model_copy(update=changes) if changes else arg


def _categories_and_units(body: RegisterBody, district: District, _: Database) -> None:
    require_codes(district, units=body.co_units or [], categories=[body.category])


def _units(body: ReassignBody, district: District, _: Database) -> None:
    require_codes(district, units=[body.unit, *body.co_units])


def _primary(body: DuplicateBody, _: District, db: Database) -> None:
    """The primary case must exist: a code in the body that is unknown is bad input (422), not a 404."""
    if find_case(db, body.primary) is None:
        raise ApiError(422, "UnknownCode", f"主案 {body.primary} 不存在")


def _always(text: str) -> Callable[[Any, District], str]:
    return lambda body, district: text


ACTIONS_LIST = [
    # 综治中心
    HumanAction(
        "register",
        "立案",
        "register",
        ComplaintWorkflow.register,
        RegisterBody,
        CENTER,
        lambda b, a: Registration(actor=a, category=b.category, level=b.level, co_units=b.co_units),
        _always("已立案，并已按分类自动派遣"),
        "立案（分类、分级），随后自动派遣",
        check=_categories_and_units,
    ),
    HumanAction(
        "decline",
        "不予受理",
        "decline",
        ComplaintWorkflow.decline,
        ReasonBody,
        CENTER,
        lambda b, a: Decline(actor=a, reason=b.reason),
        _always("已不予受理"),
        labels={"reason": "不予受理理由"},
    ),
    HumanAction(
        "duplicate",
        "重复件",
        "duplicate",
        ComplaintWorkflow.mark_duplicate,
        DuplicateBody,
        CENTER,
        lambda b, a: MarkDuplicate(actor=a, primary=b.primary),
        lambda b, d: f"已作为重复件关联到主案 {b.primary}",
        "重复件：关联到主案",
        check=_primary,
    ),
    HumanAction(
        "reassign",
        "改派",
        "reassign",
        ComplaintWorkflow.reassign,
        ReassignBody,
        CENTER,
        lambda b, a: Reassign(actor=a, unit=b.unit, co_units=b.co_units, binding=b.binding, note=b.note),
        lambda b, d: f"已改派至 {d.unit_name(b.unit)}" + ("（不可退单）" if b.binding else ""),
        "改派 / 指定承办单位（可设为不可退单）",
        check=_units,
    ),
    HumanAction(
        "escalate",
        "提级督办",
        "escalate",
        ComplaintWorkflow.escalate,
        NoteBody,
        CENTER,
        lambda b, a: SupervisorAction(actor=a, note=b.note),
        _always("已提级督办"),
        labels={"note": "提级说明"},
    ),
    HumanAction(
        "urge",
        "催办",
        "urge",
        ComplaintWorkflow.urge_unit,
        NoteBody,
        CENTER,
        lambda b, a: SupervisorAction(actor=a, note=b.note),
        _always("已催办"),
        "催办（一小时内不重复）",
        labels={"note": "催办内容"},
    ),
    HumanAction(
        "decide_extension",
        "审批延期",
        "extension/decision",
        ComplaintWorkflow.decide_extension,
        DecisionBody,
        CENTER,
        lambda b, a: ExtensionDecision(actor=a, approve=b.approve, note=b.note),
        lambda b, d: "已同意延期" if b.approve else "已不同意延期",
        "审批延期申请",
        labels={"note": "审批意见"},
    ),
    HumanAction(
        "verify",
        "反馈核查",
        "verify",
        ComplaintWorkflow.verify,
        VerifyBody,
        VERIFIERS,
        lambda b, a: Verification(actor=a, passed=b.passed, note=b.note, photos=b.photos),
        lambda b, d: "核查通过，案件进入综合评价" if b.passed else "核查未通过，已退回承办单位返工",
        "反馈核查：通过或返工",
        labels={"note": "核查意见"},
    ),
    HumanAction(
        "reopen",
        "重新办理",
        "reopen",
        ComplaintWorkflow.reopen,
        NoteBody,
        CENTER,
        lambda b, a: SupervisorAction(actor=a, note=b.note),
        _always("已重新办理，退回原承办单位"),
        "不满意案件重新办理",
        labels={"note": "重办说明"},
    ),
    HumanAction(
        "close",
        "结案",
        "close",
        ComplaintWorkflow.close,
        ReasonBody,
        CENTER,
        lambda b, a: CloseCase(actor=a, reason=b.reason),
        _always("已结案归档"),
        "结案（说明理由）",
        labels={"reason": "结案理由"},
    ),
    HumanAction(
        "evaluate",
        "代录群众评价",
        "evaluate",
        ComplaintWorkflow.evaluate,
        VerdictBody,
        CENTER,
        lambda b, a: Evaluation(actor=a, verdict=b.verdict),
        _always("已代录群众评价"),
        "代录群众评价（电话回访）",
    ),
    HumanAction(
        "visit",
        "代录回访答复",
        "visit",
        ComplaintWorkflow.answer_visit,
        VerdictBody,
        CENTER,
        lambda b, a: Evaluation(actor=a, verdict=b.verdict),
        _always("已代录回访答复"),
        "代录回访答复",
    ),
    # 承办单位
    HumanAction(
        "sign",
        "签收",
        "sign",
        ComplaintWorkflow.sign_for,
        NoteBody,
        UNIT,
        lambda b, a: UnitAction(actor=a, note=b.note),
        _always("已签收"),
        labels={"note": "签收说明"},
    ),
    HumanAction(
        "return",
        "退单",
        "return",
        ComplaintWorkflow.return_task,
        ReasonBody,
        UNIT,
        lambda b, a: ReturnTask(actor=a, reason=b.reason),
        _always("已退单，中心将重新派遣"),
        "退单（说明理由）",
        labels={"reason": "退单理由"},
    ),
    HumanAction(
        "progress",
        "进展反馈",
        "progress",
        ComplaintWorkflow.report_progress,
        ProgressBody,
        UNIT,
        lambda b, a: ProgressReport(actor=a, note=b.note, photos=b.photos),
        _always("进展已反馈"),
        "反馈办理进展",
        labels={"note": "进展情况"},
    ),
    HumanAction(
        "extension",
        "申请延期",
        "extension",
        ComplaintWorkflow.request_extension,
        ExtensionBody,
        UNIT,
        lambda b, a: ExtensionRequest(actor=a, extra=b.extra, reason=b.reason),
        lambda b, d: f"已申请延期 {b.extra}，待中心审批",
        labels={"reason": "延期理由"},
    ),
    HumanAction(
        "complete",
        "办结",
        "complete",
        ComplaintWorkflow.complete_task,
        CompleteBody,
        UNIT,
        lambda b, a: Completion(actor=a, result=b.result, photos=b.photos),
        _always("办理结果已提交"),
        "办结（主办）或反馈会办结果",
    ),
]
ACTIONS: dict[str, HumanAction] = {action.name: action for action in ACTIONS_LIST}
BY_UPDATE: dict[str, HumanAction] = {action.update.__name__: action for action in ACTIONS_LIST}
