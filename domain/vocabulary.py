"""The one vocabulary of closeloop: every step, channel, verdict and event kind, the local time
zone, the role sets and the overdue rule. Chinese labels of these live in ``domain/labels.py``.

Chinese term in each docstring, English identifier everywhere in code, database and API.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import Enum, IntEnum

LOCAL_TZ = timezone(timedelta(hours=8), "CST")
"""北京时间 — the one local time zone: a fixed offset on purpose (no DST in China), so the
workflow sandbox needs no tz database. Configurable zones (Open311, the calendar) use settings."""


class Step(str, Enum):
    """六步闭环 — where a case is in the close loop (plus its terminal states)."""

    COLLECT = "collect"  # 信息采集
    CREATE = "create"  # 案件建立 / 立案
    DISPATCH = "dispatch"  # 任务派遣
    HANDLE = "handle"  # 事件处置
    VERIFY = "verify"  # 反馈核查
    EVALUATE = "evaluate"  # 综合评价 (incl. 回访)
    CLOSED = "closed"  # 结案归档
    DECLINED = "declined"  # 不予受理
    MERGED = "merged"  # 重复件, linked to its primary case

    @property
    def terminal(self) -> bool:
        return self in (Step.CLOSED, Step.DECLINED, Step.MERGED)


OPEN_STEPS = (Step.DISPATCH, Step.HANDLE)
"""The steps in which a unit holds the case (its clock runs); plain strings match too (str Enum)."""


STEP_LABELS = {
    Step.COLLECT: "信息采集",
    Step.CREATE: "案件建立",
    Step.DISPATCH: "任务派遣",
    Step.HANDLE: "事件处置",
    Step.VERIFY: "反馈核查",
    Step.EVALUATE: "综合评价",
    Step.CLOSED: "结案归档",
    Step.DECLINED: "不予受理",
    Step.MERGED: "重复件",
}


class Channel(str, Enum):
    """受理渠道 — where a report came in."""

    HOTLINE = "hotline_12345"  # 12345 热线
    GRID = "grid"  # 网格员巡查
    MINI_PROGRAM = "mini_program"  # 小程序 (网小格)
    POLICE_110 = "police_110"  # 110 非警务警情
    WINDOW = "window"  # 窗口


class WarningLevel(IntEnum):
    """预警等级 — 1 is the most serious (七日办结, reported up), 3 is handled on the spot."""

    LEVEL_1 = 1
    LEVEL_2 = 2
    LEVEL_3 = 3


class Lamp(str, Enum):
    """亮灯 — green within the limit, yellow near it (黄灯预警), red past it (红灯督办)."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class Verdict(str, Enum):
    """评价结果 — the citizen's verdict on the result."""

    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
    NO_ANSWER = "no_answer"  # 未评价 / 未接通


class UnitKind(str, Enum):
    """承办单位类型 — the four rings (区 + 镇 + 村 + N) plus functional departments."""

    DISTRICT = "district"  # 区综治中心
    TOWN = "town"  # 镇/街道综治分中心
    VILLAGE = "village"  # 村/社区工作组
    GRID = "grid"  # 网格
    DEPARTMENT = "department"  # 职能部门 (交警, 城管, 市场监管 …)
    COMMITTEE = "committee"  # 行业性专业性调解委员会 (the N ring)


class Role(str, Enum):
    """角色 — who may do what."""

    INTAKE = "intake"  # 受理渠道
    UNIT_STAFF = "unit_staff"  # 承办单位工作人员 (bound to one unit)
    SUPERVISOR = "supervisor"  # 综治中心 调度/督办
    VERIFIER = "verifier"  # 核查员 (center or grid member)
    ADMIN = "admin"
    CITIZEN = "citizen"  # 群众
    SYSTEM = "system"  # the workflow's own timers


CENTER_ROLES = (Role.SUPERVISOR, Role.ADMIN)  # 综治中心
VERIFIER_ROLES = (*CENTER_ROLES, Role.VERIFIER)  # who may 核查


class Awaiting(str, Enum):
    """等待 — what a case waits for within its step (``CaseView.awaiting``)."""

    ROUTING = "routing"  # 立案后分流派遣中
    MERGE = "merge"  # 关联主案中
    EVALUATION = "evaluation"  # 待群众评价
    DECISION = "decision"  # 不满意, 待中心决定 (重办或结案)
    VISIT_WAIT = "visit_wait"  # 等待回访时点
    VISIT = "visit"  # 待回访答复
    ASSIGNMENT = "assignment"  # 待中心指定 — the projection's column only (CaseView has awaiting_assignment)


class TaskStatus(str, Enum):
    """任务状态 — one unit's task within an assignment."""

    OPEN = "open"  # 待签收
    SIGNED = "signed"  # 办理中
    DONE = "done"  # 已完成
    RETURNED = "returned"  # 已退单
    WITHDRAWN = "withdrawn"  # 已撤回


class TimerName(str, Enum):
    """计时 — the named timers a case arms besides its clock's rungs (``CaseView.timers`` keys)."""

    VERIFY = "verify"  # 核查时限
    EVALUATION = "evaluation"  # 评价期限
    VISIT_DUE = "visit_due"  # 回访时点
    VISIT_ANSWER = "visit_answer"  # 回访答复期限


class Rung(str, Enum):
    """督办阶梯 — the timed rungs of one assignment's clock, in the order they fire."""

    SIGN_OVERDUE = "sign_overdue"  # 签收超时
    YELLOW = "yellow"  # 黄灯预警
    RED = "red"  # 红灯 at the deadline
    URGE = "urge"  # 催办
    SUPERVISE = "supervise"  # 督办
    ESCALATE = "escalate"  # 提级


class EventKind(str, Enum):
    """时间线事件 — every entry a case's timeline can hold."""

    COLLECTED = "collected"  # 信息采集
    ACCEPTED = "accepted"  # 立案
    DECLINED = "declined"  # 不予受理
    MERGED = "merged"  # 并入主案 (重复件)
    DUPLICATE_LINKED = "duplicate_linked"  # 主案关联重复件
    DISPATCHED = "dispatched"  # 派遣
    SIGNED = "signed"  # 签收
    RETURNED = "returned"  # 退单
    AWAITING_ASSIGNMENT = "awaiting_assignment"  # 退单过多, 待中心指定
    PROGRESS = "progress"  # 进展反馈
    CO_UNIT_DONE = "co_unit_done"  # 会办单位反馈
    EXTENSION_REQUESTED = "extension_requested"  # 延期申请
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_REFUSED = "extension_refused"
    COMPLETED = "completed"  # 办结 (unit reports the result)
    VERIFIED = "verified"  # 核查通过
    REWORK = "rework"  # 返工
    VERIFY_OVERDUE = "verify_overdue"  # 核查超时
    EVALUATED = "evaluated"  # 评价
    REOPENED = "reopened"  # 重新办理
    VISIT_DUE = "visit_due"  # 回访
    VISITED = "visited"  # 回访结果
    CLOSED = "closed"  # 结案归档
    URGED = "urged"  # 催办 (by a supervisor, outside the ladder)
    REASSIGNED = "reassigned"  # 改派
    ESCALATED = "escalated"  # 提级
    SIGN_OVERDUE = "sign_overdue"
    YELLOW = "yellow"
    RED = "red"
    LADDER_URGE = "ladder_urge"  # 超期自动催办
    LADDER_SUPERVISE = "ladder_supervise"  # 超期自动督办
    ACTION_FAILED = "action_failed"  # 操作未完成 (e.g. routing or linking failed)


def is_overdue(step: str, deadline: datetime | None, completed_at: datetime | None, now: datetime) -> bool:
    """超期 — completed after its deadline, or still held by a unit (派遣/处置) past it.

    The one rule behind case summaries, ``GET /cases?overdue=`` and the 考核 ``overdue`` figure."""
    if deadline is None:
        return False
    if completed_at is not None and completed_at > deadline:
        return True
    return step in OPEN_STEPS and deadline < now


EVENT_LABELS = {
    EventKind.COLLECTED: "信息采集",
    EventKind.ACCEPTED: "立案",
    EventKind.DECLINED: "不予受理",
    EventKind.MERGED: "并入主案",
    EventKind.DUPLICATE_LINKED: "关联重复件",
    EventKind.DISPATCHED: "派遣",
    EventKind.SIGNED: "签收",
    EventKind.RETURNED: "退单",
    EventKind.AWAITING_ASSIGNMENT: "待中心指定承办单位",
    EventKind.PROGRESS: "进展反馈",
    EventKind.CO_UNIT_DONE: "会办单位反馈",
    EventKind.EXTENSION_REQUESTED: "延期申请",
    EventKind.EXTENSION_APPROVED: "同意延期",
    EventKind.EXTENSION_REFUSED: "不同意延期",
    EventKind.COMPLETED: "办结",
    EventKind.VERIFIED: "核查通过",
    EventKind.REWORK: "返工",
    EventKind.VERIFY_OVERDUE: "核查超时",
    EventKind.EVALUATED: "评价",
    EventKind.REOPENED: "重新办理",
    EventKind.VISIT_DUE: "回访",
    EventKind.VISITED: "回访结果",
    EventKind.CLOSED: "结案归档",
    EventKind.URGED: "催办",
    EventKind.REASSIGNED: "改派",
    EventKind.ESCALATED: "提级督办",
    EventKind.SIGN_OVERDUE: "签收超时",
    EventKind.YELLOW: "黄灯预警",
    EventKind.RED: "红灯超期",
    EventKind.LADDER_URGE: "超期催办",
    EventKind.LADDER_SUPERVISE: "超期督办",
    EventKind.ACTION_FAILED: "操作未完成",
}
