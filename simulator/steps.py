"""The close loop's steps, one method each: what every role does when a case stands at that step.

受理 (register, decline, duplicate), 派遣/签收 (reassign, sign, return), 办理 (会办, extensions,
progress, 办结), 核查 (verify or 返工), 评价/回访 (the citizen; the center's reopen or close). Human
actions go to the paths of ``api/actions.py``'s table (``ApiClient.send``); the citizen's own
evaluation and visit answer go to ``/citizen/cases/{code}/…`` with the case's token instead.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx

from domain.vocabulary import OPEN_STEPS
from simulator.books import Book, CaseState
from simulator.client import Abort, ApiClient, instant, utc_now
from simulator.keys import Keys
from simulator.plans import (
    COMMENTS,
    DECLINE_REASONS,
    EXTENSION_REASONS,
    RETURN_REASONS,
    REWORK_NOTES,
    CaseScript,
)


class CloseLoop(ApiClient):
    """Every role's next action on a case, by the step it stands at."""

    def __init__(self, http: httpx.AsyncClient, keys: Keys, seed: int, concurrency: int, timeout: float) -> None:
        super().__init__(http, keys, concurrency, timeout)
        self.seed = seed
        self.open: dict[str, CaseScript] = {}  # registered, not yet closed: candidates for 重复件
        self.notes: list[str] = []
        self.policy_version: str | None = None
        self.demo: bool | None = None

    def observe(self, book: Book, workflow: dict) -> None:
        """The deadline the case shows now; the time-limit policy, from the first case that shows it."""
        if workflow.get("clock"):
            book.deadline = instant(workflow["clock"]["deadline"])
        if workflow.get("policy") and self.policy_version is None:
            self.policy_version, self.demo = workflow["policy"]["version"], _is_demo(workflow["policy"])

    async def take_turn(self, case: CaseState, workflow: dict, summary: dict) -> bool:
        """The next action for the case's step; True when the simulator leaves the case."""
        step, lead = workflow["step"], workflow["lead_unit"]
        if step == "create":
            await self.register(case)
        elif step == "dispatch" and (workflow["awaiting_assignment"] or lead not in self.keys.units):
            await self.reassign(case, workflow)
        elif step in OPEN_STEPS and lead not in self.keys.units:
            raise Abort(f"{case.code}: led by {lead}, no key for it")
        elif step == "dispatch":
            await self.sign(case, workflow)
        elif step == "handle":
            await self.handle(case, workflow, summary)
        elif step == "verify":
            await self.verify(case)
        elif step == "evaluate":
            return await self.evaluate(case, workflow)
        else:
            raise Abort(f"{case.code}: unexpected step {step}")
        return False

    # --- 受理: the center registers, declines or links a duplicate --------------------------------

    async def register(self, case: CaseState) -> None:
        """不予受理 or 重复件 when scripted (once each), else 立案 with the scene's category and co-units."""
        script, supervisor = case.script, self.keys.supervisor
        if script.outcome == "decline" and not case.declined:
            case.declined = True
            await self.send("decline", case.code, supervisor, {"reason": DECLINE_REASONS[script.index % 3]})
        elif case.primary and script.outcome == "duplicate":
            ack = await self.send("duplicate", case.code, supervisor, {"primary": case.primary})
            case.primary = None  # once: if the link failed (primary closed meanwhile), it is registered
            if ack and ack["step"] == "create":
                self.actions["duplicate_failed"] += 1
        else:
            co_units = [unit for unit in script.scene.co_units if unit in self.keys.units]
            body = {
                "category": script.scene.category,
                "co_units": co_units,
                **({"level": script.level} if script.level else {}),
            }
            if await self.send("register", case.code, supervisor, body):
                case.book.accepted, case.book.category = True, script.scene.category
                self.open[case.code] = script

    # --- 派遣 and 签收 ---------------------------------------------------------------------------

    async def reassign(self, case: CaseState, workflow: dict) -> None:
        """改派 to a unit the simulator has a key for (the scene's lead when it can)."""
        units = self.keys.units
        target = case.script.scene.lead if case.script.scene.lead in units else sorted(units)[0]
        co_units = [unit for unit in workflow["co_units"] if unit in units and unit != target]
        body = {"unit": target, "co_units": co_units, "binding": True, "note": "中心指定承办单位"}
        await self.send("reassign", case.code, self.keys.supervisor, body)

    async def sign(self, case: CaseState, workflow: dict) -> None:
        """The lead unit signs for the case, or returns it once; before that, maybe a click out of turn."""
        script, lead = case.script, workflow["lead_unit"]
        unit_key = self.keys.units.get(lead or "")
        if script.probe and not case.probed:
            case.probed = True  # someone clicks out of turn: the API must refuse (counted, not fatal)
            others = [key for unit, key in sorted(self.keys.units.items()) if unit != lead]
            if script.index % 2 and others:  # another unit tries to sign for it: 403 WrongUnit
                await self.send("sign", case.code, others[0], {"note": "误签收"}, what="probe")
            else:  # the unit reports 办结 before signing for it: 409 WrongStep
                await self.send("complete", case.code, unit_key, {"result": "已处理完毕"}, what="probe")
        elif script.returns and not case.returned and not workflow["binding"] and lead == script.scene.lead:
            case.returned = True
            if await self.send("return", case.code, unit_key, {"reason": RETURN_REASONS[script.index % 2]}):
                case.book.returns += 1
                case.book.lead = lead
        elif await self.send("sign", case.code, unit_key, {"note": "已签收"}):
            case.book.lead = lead

    # --- 办理: co-units, extensions, progress, the deadline, 办结 ----------------------------------

    async def handle(self, case: CaseState, workflow: dict, summary: dict) -> None:
        """One thing a unit or the center does while the case is being handled."""
        script, lead, assignment = case.script, workflow["lead_unit"], workflow["assignment"]
        unit_key = self.keys.units.get(lead or "")
        co_open = [
            task["unit"]
            for task in workflow["tasks"]
            if task["assignment"] == assignment and not task["lead"] and task["status"] != "done"
        ]
        if co_open:
            await self.co_complete(case, co_open[0])
        elif workflow["pending_extension"]:
            note = "同意延期，请抓紧办理" if script.approve else "不同意延期，请按期办结"
            decision = {"approve": script.approve, "note": note}
            supervisor = self.keys.supervisor
            if await self.send("decide_extension", case.code, supervisor, decision, what="extension_decision"):
                case.book.extensions += script.approve
        elif script.extension and not case.extension_asked and workflow.get("policy"):
            case.extension_asked = True
            await self.ask_extension(case, workflow["policy"]["max_extension"], unit_key)
        elif script.progress and assignment not in case.progressed:
            case.progressed.add(assignment)
            await self.send("progress", case.code, unit_key, {"note": script.scene.progress[0]})
        elif script.overdue and self.demo and case.rounds == 0 and not summary["overdue"] and not case.late_seen:
            async with case.away():  # the unit lets the deadline pass (demo policy: minutes)
                await self.until(case.code, _past(case.book.deadline), timeout=self.timeout, at=case.book.deadline)
            case.late_seen = True
            self.actions["late"] += 1
        else:
            if script.overdue and not self.demo and self.demo is not None:
                self.notes_once("overdue")
            await self.complete(case, lead, unit_key)

    async def co_complete(self, case: CaseState, unit: str) -> None:
        """A 会办 unit finishes its part."""
        if unit not in self.keys.units:
            raise Abort(f"{case.code}: co-unit {unit} has no key")
        body = {"result": case.script.scene.co_result or "已配合完成会办事项。"}
        await self.send("complete", case.code, self.keys.units[unit], body, what="co_complete")

    async def ask_extension(self, case: CaseState, cap: dict, unit_key: str | None) -> None:
        """申请延期 for up to the policy's longest extension."""
        rng = random.Random(f"{self.seed}:{case.script.index}:x")
        extra = {"amount": rng.randint(1, cap["amount"]), "unit": cap["unit"]}
        reason = EXTENSION_REASONS[case.script.index % 3]
        await self.send("extension", case.code, unit_key, {"extra": extra, "reason": reason})

    async def complete(self, case: CaseState, lead: str, unit_key: str | None) -> None:
        """The lead unit reports 办结 with its result and a photo."""
        results = case.script.scene.results
        body = {
            "result": results[case.script.index % len(results)],
            "photos": [f"https://img.wendeng.example/done/{case.code}.jpg"],
        }
        before = utc_now()
        if await self.send("complete", case.code, unit_key, body):
            book = case.book
            book.lead = lead
            book.on_time = await self.on_time(case.code, book.deadline, before, utc_now(), case.late_seen)
            book.overdue_once = book.overdue_once or not book.on_time

    # --- 核查 ----------------------------------------------------------------------------------

    async def verify(self, case: CaseState) -> None:
        """The verifier sends it back for 返工 once (when scripted), else passes it."""
        if case.script.rework and not case.reworked:
            case.reworked = True
            note = REWORK_NOTES[case.script.index % 2]
            if await self.send(
                "verify",
                case.code,
                self.keys.verifier_for(case.script.grid),
                {"passed": False, "note": note},
                what="rework",
            ):
                case.book.reworks += 1
            return
        if await self.send(
            "verify",
            case.code,
            self.keys.verifier_for(case.script.grid),
            {"passed": True, "note": "现场核实已整改到位"},
        ):
            case.book.completed = True

    async def on_time(
        self, code: str, deadline: datetime | None, sent: datetime, answered: datetime, late: bool
    ) -> bool:
        """按期: the unit's 办结 landed at or before the deadline the case showed when it was sent."""
        if deadline is None:
            return True
        if late or sent > deadline:
            return False
        if answered <= deadline:
            return True
        workflow = (await self.detail(code))["workflow"]  # within one request of the deadline: the system's instant
        done = [entry["at"] for entry in workflow["timeline"] if entry["kind"] == "completed"]
        return instant(done[-1]) <= instant(workflow["clock"]["deadline"])

    # --- 评价 and 回访 ---------------------------------------------------------------------------

    async def evaluate(self, case: CaseState, workflow: dict) -> bool:
        """The citizen evaluates, the center answers 不满意, the citizen answers the return visit.
        True when the simulator leaves the case (no answer, or a visit due too late to wait for)."""
        awaiting = workflow["awaiting"]
        if awaiting == "evaluation":
            return await self.citizen_evaluates(case)
        if awaiting == "decision":
            await self.after_dissatisfied(case)
        elif awaiting == "visit_wait":
            return await self.wait_for_visit(case, workflow)
        elif awaiting == "visit":
            verdict = "satisfied" if case.book.verdict != "dissatisfied" else "basically_satisfied"
            body = {"token": case.book.token, "verdict": verdict}
            if await self.act("visit", f"/citizen/cases/{case.code}/visit", None, body):
                case.book.verdict = verdict  # a later 回访 answer stands over the evaluation
        else:
            raise Abort(f"{case.code}: unexpected state evaluate/{awaiting}")
        return False

    async def citizen_evaluates(self, case: CaseState) -> bool:
        """The scripted verdict for this round with the citizen's token; True if the citizen never answers."""
        verdicts, book = case.script.verdicts, case.book
        verdict = verdicts[min(case.rounds, len(verdicts) - 1)]
        if not verdict:
            self.actions["no_answer"] += 1
            return True  # the citizen never answers: the evaluation window lapses
        body = {"token": book.token, "verdict": verdict, "comment": COMMENTS[verdict]}
        if await self.act("evaluate", f"/citizen/cases/{case.code}/evaluation", None, body):
            case.rounds += 1
            book.verdict = verdict
        return False

    async def after_dissatisfied(self, case: CaseState) -> None:
        """不满意: the center reopens it (the first time, when scripted) or closes it with an explanation."""
        if case.script.reopen and case.rounds == 1:
            if await self.send("reopen", case.code, self.keys.supervisor, {"note": "群众不满意，责成重新办理"}):
                case.book.completed, case.book.on_time, case.late_seen = False, None, False
                case.book.reworks += 1  # 重办 counts as 返工
        else:
            reason = "已向群众解释政策依据，诉求合理部分已解决，予以结案"
            await self.send("close", case.code, self.keys.supervisor, {"reason": reason})

    async def wait_for_visit(self, case: CaseState, workflow: dict) -> bool:
        """Wait until the 回访 is due; True (leave the case) when it is due past the wait's limit."""
        due = instant(workflow["timers"].get("visit_due"))
        if due and (due - utc_now()).total_seconds() > self.timeout:
            self.notes_once("visits")
            return True  # 回访 due in working days: not waited for (the figures do not depend on it)
        async with case.away():
            await self.until(
                case.code, lambda detail: detail["workflow"]["awaiting"] != "visit_wait", timeout=self.timeout, at=due
            )
        return False

    def notes_once(self, what: str) -> None:
        note = {
            "overdue": f"时限规则 {self.policy_version} 不是演示时限（分钟），未模拟超期案件；"
            "用 ./closeloop dev --demo 启动系统可模拟超期。",
            "visits": "回访在模拟时限之后才到期，未等待回访答复（不影响考核指标）。",
        }[what]
        if note not in self.notes:
            self.notes.append(note)


def _past(deadline: datetime | None) -> Callable[[dict], bool]:
    """Red lamp (the ladder fired at the deadline); or overdue per the summary, seconds after it."""

    def check(detail: dict) -> bool:
        summary = detail["summary"]
        seconds_after = deadline is None or utc_now() > deadline + timedelta(seconds=5)
        return summary["lamp"] == "red" or (summary["overdue"] and seconds_after)

    return check


def _is_demo(policy: dict) -> bool:
    return policy["version"].startswith("demo") or any(
        level["limit"]["unit"] == "minutes" for level in policy["levels"].values()
    )
