"""中文标签 — the Chinese label of every vocabulary value, defined once.

Keyed by the enum members; since they are ``str`` enums, a plain string value finds its label
too (``ROLE_LABELS["admin"]``). Step and event labels sit next to their enums in
``domain/vocabulary.py``; duration units next to ``DurationUnit`` in ``domain/policy.py``.
"""

from __future__ import annotations

from domain.vocabulary import Awaiting, Channel, Lamp, Role, TaskStatus, TimerName, UnitKind, Verdict

ROLE_LABELS = {
    Role.SUPERVISOR: "综治中心调度员",
    Role.ADMIN: "系统管理员",
    Role.VERIFIER: "核查员",
    Role.UNIT_STAFF: "承办单位",
    Role.INTAKE: "受理渠道",
    Role.CITIZEN: "群众",
    Role.SYSTEM: "系统",
}

VERDICT_LABELS = {
    Verdict.SATISFIED: "满意",
    Verdict.BASICALLY_SATISFIED: "基本满意",
    Verdict.DISSATISFIED: "不满意",
    Verdict.NO_ANSWER: "未答复",
}

UNIT_KIND_LABELS = {
    UnitKind.DISTRICT: "区综治中心",
    UnitKind.TOWN: "镇街",
    UnitKind.VILLAGE: "村社区",
    UnitKind.GRID: "网格",
    UnitKind.DEPARTMENT: "职能部门",
    UnitKind.COMMITTEE: "调解委员会",
}

CHANNEL_LABELS = {
    Channel.HOTLINE: "12345热线",
    Channel.GRID: "网格员巡查",
    Channel.MINI_PROGRAM: "小程序",
    Channel.POLICE_110: "110非警务",
    Channel.WINDOW: "窗口",
}

LAMP_LABELS = {Lamp.GREEN: "绿灯", Lamp.YELLOW: "黄灯", Lamp.RED: "红灯"}
LAMP_HINTS = {Lamp.GREEN: "时限内", Lamp.YELLOW: "临近时限", Lamp.RED: "已超期"}

TASK_STATUS_LABELS = {
    TaskStatus.OPEN: "待签收",
    TaskStatus.SIGNED: "办理中",
    TaskStatus.DONE: "已完成",
    TaskStatus.RETURNED: "已退单",
    TaskStatus.WITHDRAWN: "已撤回",
}

AWAITING_LABELS = {
    Awaiting.ROUTING: "分流派遣中",
    Awaiting.MERGE: "关联主案中",
    Awaiting.EVALUATION: "待群众评价",
    Awaiting.DECISION: "群众不满意，待中心决定（重办或结案）",
    Awaiting.VISIT_WAIT: "等待回访时点",
    Awaiting.VISIT: "待回访答复",
    Awaiting.ASSIGNMENT: "待中心指定承办单位",
}

TIMER_LABELS = {
    TimerName.VERIFY: "核查时限",
    TimerName.EVALUATION: "评价期限",
    TimerName.VISIT_DUE: "回访时点",
    TimerName.VISIT_ANSWER: "回访答复期限",
}
