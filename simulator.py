"""模拟器 — a realistic stream of complaints played through the HTTP API, then checked against 考核统计.

``simulate`` talks only to the API (``httpx.AsyncClient`` on a live server, or on the ASGI app in
tests). It files reports from all five channels and plays every role: the center registers,
declines (不予受理), links duplicates (重复件), decides extensions and handles 不满意 (重办 or 结案);
units sign for, return (退单), report progress, ask for more time, finish their 会办 parts and
办结; the verifier passes or sends back for 返工; citizens evaluate and answer return visits. With
the demo policy (minutes instead of working days) some units finish after the deadline (超期).

Each case's plan comes from ``random.Random(f"{seed}:{index}")``, so a seed gives the same
reports and decisions whatever the timing. The simulator keeps its own book of what it did and
counts every metric the way ``api/statistics.py`` DEFINITIONS word it; at the end it fetches
``GET /stats?by=unit`` for the simulation window and compares, unit by unit.

Scenarios use categories that the sample district (文登区) routes to D-JJ, D-CG, D-SJ and T-LS in
龙山街道's grids — the units ``deploy/dev-keys.json`` holds keys for. A unit returning a task sends
it to 龙山街道 (T-LS). If the system routes a case to a unit the simulator has no key for, the
supervisor reassigns it (改派) to one it has.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

import httpx
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

DEV_KEYS = Path(__file__).parent / "deploy" / "dev-keys.json"
BEIJING = timezone(timedelta(hours=8))
OPEN_STEPS = ("dispatch", "handle")
TERMINAL = ("closed", "declined", "merged")
UNDISPATCHED = "未派遣"


# --- keys --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """The API keys the simulator plays with: one per role, one per unit it can act for."""

    intake: str = "dev-intake"
    supervisor: str = "dev-supervisor"
    verifier: str = "dev-verifier"
    units: Mapping[str, str] = field(default_factory=dict)  # unit code → key

    @classmethod
    def dev(cls, path: Path | str = DEV_KEYS) -> "Keys":
        """From a key file in ``deploy/dev-keys.json``'s format: one key per role (dev-intake,
        dev-supervisor, dev-verifier when present) and every unit_staff key (dev-unit-<CODE>)."""
        raw = json.loads(Path(path).read_text(encoding="utf-8"))

        def pick(role: str, preferred: str) -> str:
            names = [k for k, spec in raw.items() if spec.get("role") == role and not spec.get("channel")]
            return preferred if preferred in names or not names else names[0]

        units = {spec["unit"]: key for key, spec in raw.items() if spec.get("role") == "unit_staff" and spec.get("unit")}
        return cls(pick("intake", "dev-intake"), pick("supervisor", "dev-supervisor"), pick("verifier", "dev-verifier"), units)

    def mapped(self, names: Mapping[str, str]) -> "Keys":
        """The same keys under other names, e.g. ``{"dev-intake": "k-intake", "dev-unit-D-JJ": "k-D-JJ"}``."""
        def n(key: str) -> str:
            return names.get(key, key)

        return Keys(n(self.intake), n(self.supervisor), n(self.verifier), {u: n(k) for u, k in self.units.items()})


# --- what people report ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    category: str
    lead: str  # where the sample district routes it in 龙山街道
    texts: tuple[str, ...]
    results: tuple[str, ...]
    progress: tuple[str, ...] = ("已安排工作人员到现场核实情况",)
    co_units: tuple[str, ...] = ()
    co_result: str = ""
    weight: int = 10
    police: bool = False  # what 110 transfers as 非警务警情


SCENES: tuple[Scene, ...] = (
    Scene("JM-002", "D-JJ", (
        "{home}楼下有车辆长期违规停放，堵住了小区出入口，早晚高峰车辆进出非常困难。",
        "{spot}门口的人行道上停满了私家车，行人只能走机动车道，老人孩子很危险。",
        "一辆{color}轿车在{home}的消防通道上停了{days}天了，联系不上车主。",
    ), ("已对违停车辆贴单告知并联系车主挪车，现场秩序恢复。", "已安排拖车将违停车辆拖离，并在路口增设禁停标志。"),
        ("已派民警到现场查看，正在联系车主。",), weight=16, police=True),
    Scene("GS-005", "D-JJ", (
        "{road}和{road2}交叉口的红绿灯{days}天不亮了，路口车辆乱成一团。",
        "{road}人行横道信号灯绿灯时间太短，老人过马路走不过去。",
    ), ("已通知信号灯维护单位更换故障灯组，信号灯恢复正常。", "已调整人行横道绿灯配时，延长至35秒。"),
        ("已通知维护单位，正在排查线路故障。",), weight=6, police=True),
    Scene("GS-001", "D-CG", (
        "{home}门前的路灯已经坏了{days}天，晚上一片漆黑，居民出行很不方便。",
        "{road}有一排路灯忽明忽暗，还有一根灯杆歪了，担心倒下砸到人。",
    ), ("已更换损坏灯具并加固灯杆，路灯恢复照明。",), ("已安排路灯维修班组现场勘查。",), weight=12),
    Scene("SR-006", "D-CG", (
        "{home}楼下的烧烤店油烟直排，熏得楼上居民不敢开窗。",
        "{spot}旁边一家饭店的排烟管道正对着{home}，每天中午晚上油烟很大。",
    ), ("已责令商户安装油烟净化设施并调整排烟口方向，经检测达标。",), ("已约谈商户负责人，限期整改。",), weight=8, police=True),
    Scene("JM-001", "D-CG", (
        "{spot}门口每天早上有十几个摊贩占道卖菜，道路堵塞，垃圾遍地。",
        "{road}夜市摊位摆到了机动车道上，晚上车辆通行很危险。",
    ), ("已联合市场监管部门劝导摊贩进入便民市场经营，占道现象已清理。",), ("已在早市时段安排执法队员值守。",),
        co_units=("D-SJ",), co_result="已对摊贩经营资质和食品安全进行检查，登记在册。", weight=8),
    Scene("JM-007", "D-SJ", (
        "{spot}附近新开了一家食品小作坊，没有营业执照，卫生条件很差。",
        "{road}有一家店铺没有营业执照就开始卖烟酒，怀疑有假货。",
    ), ("已现场检查，责令停业整改，并指导经营者办理营业执照。",), ("已调取经营主体登记信息。",), weight=7),
    Scene("AQ-007", "D-SJ", (
        "在{road}一家超市买的{food}已经过期了，货架上还在卖。",
        "{road}上学校门口的小摊卖三无食品，担心孩子吃坏肚子。",
    ), ("已下架过期食品并立案调查，督促商户落实进货查验制度。",), ("已抽检相关批次食品，等待检验结果。",), weight=8),
    Scene("AQ-002", "T-LS", (
        "{home}楼道里堆满了杂物和纸箱，消防通道被堵，一旦着火后果不堪设想。",
        "{home}地下车库的消防通道被电动车和杂物占用，多次反映物业没人管。",
    ), ("已联合物业清理楼道杂物，张贴消防安全提示，并建立每周巡查。",), ("已通知物业限期清理。",), weight=9, police=True),
    Scene("MS-001", "T-LS", (
        "家里老人生病花了很多钱，想咨询一下怎么申请低保，需要准备哪些材料。",
        "我丈夫去年因病去世，家里两个孩子上学，生活困难，想了解能不能申请救助。",
    ), ("已电话告知低保申请条件和材料清单，社区工作人员上门协助办理申请。",), ("社区工作人员已上门走访了解家庭情况。",), weight=6),
    Scene("MD-007", "T-LS", (
        "我家承包地的边界和邻居{other}家有争议，对方把界石挪了，多次协商没有结果。",
        "村里调整承包地时我家少分了两亩，找村委会几次都没有答复。",
    ), ("已组织双方到现场丈量确认，调解达成协议并签订调解书。",), ("已调取土地承包合同和确权资料。",), weight=5, police=True),
)

# grid → (community, residential buildings, public spots, two roads)
GRIDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, str]]] = {
    "G-LS-XL-01": ("西楼社区", ("西楼小区3号楼", "西楼小区8号楼"), ("西楼农贸市场", "西楼小学"), ("西楼路", "峰山路")),
    "G-LS-XL-02": ("西楼社区", ("西楼花园12号楼", "西楼花园5号楼"), ("西楼路便民服务站", "西楼幼儿园"), ("西楼路", "文山路")),
    "G-LS-MS-01": ("米山路社区", ("米山小区2号楼", "米山路88号院"), ("米山路农贸市场", "米山路超市"), ("米山路", "龙山路")),
    "G-LS-MS-02": ("米山路社区", ("米山花园7号楼", "龙山路12号院"), ("米山路菜市场", "龙山路口公交站"), ("米山路", "抱龙河路")),
    "G-LS-KY-01": ("昆嵛路社区", ("昆嵛小区5号楼", "昆嵛小区11号楼"), ("昆嵛路小学", "世纪大道路口"), ("昆嵛路", "世纪大道")),
    "G-LS-KY-02": ("昆嵛路社区", ("昆嵛花园3号楼", "天润家园9号楼"), ("昆嵛路商业街", "昆嵛路卫生服务站"), ("昆嵛路", "天润路")),
}

SURNAMES = "王李张刘于孙宋林丛毕谷姜杨陈赵徐高郭曲邹梁鞠慕"
GIVEN = ("建国", "秀英", "志强", "丽华", "海涛", "玉兰", "明军", "桂芳", "春梅", "德胜", "晓燕", "文杰", "淑珍", "立新",
         "红霞", "永刚", "翠萍", "凤英", "国庆", "海燕", "秀兰", "静", "磊", "伟", "敏", "军", "芳", "浩")
COLORS = ("白色", "黑色", "银色", "红色")
FOODS = ("牛奶", "面包", "火腿肠", "速冻水饺")
CHANNELS = (("hotline_12345", "GD", 40), ("grid", "WG", 25), ("mini_program", "WXG", 15), ("police_110", "JQ", 10),
            ("window", "CK", 10))
DECLINE_REASONS = ("诉求事项已进入诉讼程序，不属于受理范围，已告知诉求人", "经电话核实，诉求人表示问题已自行解决",
                   "诉求内容不明确，多次联系诉求人未果，无法核实")
RETURN_REASONS = ("经现场核实，该事项属属地管理范围，请街道牵头处置", "该问题不属于本单位职责范围，建议由龙山街道处理")
EXTENSION_REASONS = ("需协调多个部门现场会商", "维修配件需要厂家调货", "当事人外出，需另约时间现场调解")
REWORK_NOTES = ("现场核查发现问题仍未彻底解决，请继续处理", "整改照片与现场不符，请重新处置并补充照片")
COMMENTS = {"satisfied": "处理很及时，谢谢！", "basically_satisfied": "基本解决了，希望以后多来看看。",
            "dissatisfied": "问题没有根本解决，过两天又恢复原样了。"}


# --- one case's plan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    index: int
    channel: str
    ref_prefix: str
    scene: Scene
    grid: str
    name: str
    phone: str
    address: str
    description: str
    photos: tuple[str, ...]
    outcome: str  # normal, decline, duplicate
    level: int | None  # the center's 分级 override
    returns: bool
    extension: bool
    approve: bool
    progress: bool
    rework: bool
    overdue: bool
    verdicts: tuple[str, ...]  # first evaluation, then after each reopen; "" = the citizen never answers
    reopen: bool  # after 不满意: reopen (else close with an explanation)
    probe: bool  # a unit clicks out of turn (a rejection the API must answer)
    pick: float  # which open case a duplicate links to


def _weighted(rng: random.Random, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


def make_plan(seed: int, index: int, cases: int) -> Plan:
    rng = random.Random(f"{seed}:{index}")
    channel, prefix, _ = _weighted(rng, CHANNELS, [c[2] for c in CHANNELS])
    scene = _weighted(rng, SCENES, [s.weight for s in SCENES])
    if channel == "police_110" and not scene.police:
        channel, prefix = "hotline_12345", "GD"  # 110 transfers only what it receives: disputes, parking, nuisance
    grid = rng.choice(sorted(GRIDS))
    community, homes, spots, roads = GRIDS[grid]
    home = rng.choice(homes)
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    other = rng.choice(SURNAMES) + rng.choice(GIVEN)
    description = rng.choice(scene.texts).format(home=home, spot=rng.choice(spots), road=roads[0], road2=roads[1],
                                                 color=rng.choice(COLORS), days=rng.randint(2, 9), food=rng.choice(FOODS),
                                                 other=other)
    phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
    address = f"文登区龙山街道{community}{home}{rng.randint(1, 6)}单元{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
    photos = tuple(f"https://img.wendeng.example/{prefix.lower()}/{seed}-{index}-{n}.jpg"
                   for n in range(rng.randint(1, 2))) if channel in ("grid", "mini_program") else ()
    roll = rng.random()
    outcome = "decline" if roll < 0.05 else "duplicate" if roll < 0.10 else "normal"
    # 超期: early in the run, so the wait past the deadline overlaps the rest of the simulation.
    overdue = outcome == "normal" and index < max(1, cases // 2) and rng.random() < 0.07
    department = scene.lead.startswith("D-")
    returns = department and rng.random() < 0.14
    extension = not overdue and rng.random() < 0.10
    first = _weighted(rng, ("satisfied", "basically_satisfied", "dissatisfied", ""), (62, 20, 15, 3))
    after = _weighted(rng, ("satisfied", "basically_satisfied", "dissatisfied"), (70, 25, 5))
    level = 3 if overdue else 1 if rng.random() < 0.08 else None
    return Plan(index, channel, prefix, scene, grid, name, phone, address, description, photos, outcome, level,
                returns, extension, rng.random() < 0.8, rng.random() < 0.6, rng.random() < 0.10, overdue,
                (first, after, "dissatisfied"), rng.random() < 0.6, rng.random() < 0.05, rng.random())


# --- bookkeeping -------------------------------------------------------------------------------


@dataclass
class Book:
    """What the simulator did to one case: the facts every metric is counted from."""

    code: str
    token: str = ""  # the citizen's evaluation token, from the intake answer
    lead: str | None = None  # the unit it last acted for as 主办
    accepted: bool = False
    completed: bool = False  # verification passed (and not reopened since)
    on_time: bool | None = None
    deadline: datetime | None = None
    step: str = "create"
    returns: int = 0
    reworks: int = 0
    extensions: int = 0
    verdict: str | None = None  # the latest evaluation it gave
    dissatisfied_answers: int = 0
    aborted: str | None = None


METRICS = ("received", "accepted", "closed", "closed_on_time", "overdue", "returned", "reworked", "extended",
           "evaluated", "dissatisfied", "satisfaction_rate")
LABELS = {"received": "受理", "accepted": "立案", "closed": "办结", "closed_on_time": "按期办结", "overdue": "超期",
          "returned": "退单", "reworked": "返工", "extended": "延期", "evaluated": "参评", "dissatisfied": "不满意",
          "satisfaction_rate": "满意率"}


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def count(books: list[Book], now: datetime) -> dict[str, Any]:
    """Every compared metric over ``books``, worded as api/statistics.py DEFINITIONS."""
    f: dict[str, Any] = dict.fromkeys(METRICS, 0)
    satisfied = 0
    for b in books:
        f["received"] += 1
        f["accepted"] += b.accepted
        f["returned"] += b.returns
        f["reworked"] += b.reworks
        f["extended"] += b.extensions
        if b.completed:
            f["closed"] += 1
            f["closed_on_time"] += bool(b.on_time)
        if b.accepted and b.deadline is not None:
            late_done = b.completed and not b.on_time
            late_open = not b.completed and b.step in OPEN_STEPS and b.deadline < now
            f["overdue"] += late_done or late_open
        if b.verdict in ("satisfied", "basically_satisfied", "dissatisfied"):
            f["evaluated"] += 1
            satisfied += b.verdict != "dissatisfied"
    f["dissatisfied"] = f["evaluated"] - satisfied
    f["satisfaction_rate"] = _rate(satisfied, f["evaluated"])
    return f


def api_figures(row: dict) -> dict[str, Any]:
    out = {m: row.get(m) for m in METRICS if m != "dissatisfied"}
    out["dissatisfied"] = row["evaluated"] - row["satisfied"]
    return out


@dataclass
class Line:
    """One group (a lead unit, 未派遣, or 合计) with the simulator's and the API's figures."""

    key: str | None
    label: str
    mine: dict[str, Any]
    api: dict[str, Any]

    def agrees(self, metric: str) -> bool:
        return self.mine.get(metric) == self.api.get(metric)

    @property
    def agree(self) -> bool:
        return all(self.agrees(m) for m in METRICS)


@dataclass
class Summary:
    cases: int
    seed: int
    started_at: datetime
    seconds: float
    policy_version: str | None
    demo: bool | None
    lines: list[Line]  # per lead unit, then 合计 last
    agree: bool
    actions: Counter
    rejections: Counter  # (status, code) → count: business rejections the API answered
    errors: list[str]
    notes: list[str]

    @property
    def total(self) -> Line:
        return self.lines[-1]

    def line(self, key: str | None) -> Line:
        return next(x for x in self.lines if x.key == key and x.label != "合计")


# --- the simulation ----------------------------------------------------------------------------


class Abort(Exception):
    """A case the simulator cannot drive further (reported, the rest goes on)."""


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _now() -> datetime:
    return datetime.now(timezone.utc)


class _Run:
    def __init__(self, http: httpx.AsyncClient, keys: Keys, seed: int, cases: int, concurrency: int,
                 timeout: float, on_case_done) -> None:
        self.http, self.keys, self.seed, self.cases, self.timeout = http, keys, seed, cases, timeout
        self.admission = asyncio.Semaphore(concurrency)  # cases in active play
        self.requests = asyncio.Semaphore(concurrency)  # HTTP requests in flight
        self.books: list[Book] = []
        self.open: dict[str, Plan] = {}  # registered, not yet closed: candidates for 重复件
        self.actions: Counter = Counter()
        self.rejections: Counter = Counter()
        self.errors: list[str] = []
        self.notes: list[str] = []
        self.policy_version: str | None = None
        self.demo: bool | None = None
        self.waiting = 0
        self.tag = uuid.uuid4().hex[:6].upper()
        self.on_case_done = on_case_done

    # --- HTTP ----------------------------------------------------------------------------------

    async def call(self, method: str, path: str, key: str | None = None, body: dict | None = None,
                   params: dict | None = None) -> httpx.Response:
        """One request, repeated while the server answers 503: an action keeps its Idempotency-Key
        across the repeats, so one that was applied but not confirmed is not applied twice."""
        headers = {"X-API-Key": key} if key else {}
        if method == "POST":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        for attempt in range(6):
            try:
                async with self.requests:
                    r = await self.http.request(method, path, headers=headers, json=body, params=params)
            except httpx.TransportError as err:  # no answer: safe to repeat (an action keeps its Idempotency-Key)
                if attempt == 5:
                    raise Abort(f"{method} {path}: {err}") from None
            else:
                if r.status_code != 503:  # 503: Temporal away or the action unconfirmed: repeat it
                    return r
            await asyncio.sleep(0.5 * 2 ** attempt)
        return r

    async def act(self, what: str, path: str, key: str | None, body: dict | None = None) -> dict | None:
        """POST an action; the answer on success, None on a business rejection (403/409/422, counted)."""
        r = await self.call("POST", path, key, body or {})
        if r.status_code in (200, 202):
            self.actions[what] += 1
            return r.json()
        if r.status_code in (403, 409, 422):
            err = r.json().get("error", {})
            self.rejections[(r.status_code, err.get("code", "?"))] += 1
            return None
        raise Abort(f"{what} {path}: HTTP {r.status_code} {r.text[:200]}")

    async def detail(self, code: str) -> dict:
        r = await self.call("GET", f"/cases/{code}", self.keys.supervisor)
        if r.status_code != 200:
            raise Abort(f"GET /cases/{code}: HTTP {r.status_code} {r.text[:200]}")
        return r.json()

    async def until(self, code: str, done, timeout: float, at: datetime | None = None) -> dict:
        """Poll the case until ``done(detail)``; with ``at``, first sleep until that instant."""
        if at is not None:
            await asyncio.sleep(max(0.0, (at - _now()).total_seconds()))
        limit, interval = time.monotonic() + timeout, 0.2
        while True:
            d = await self.detail(code)
            if d["workflow"] is not None and done(d):
                return d
            if time.monotonic() > limit:
                raise Abort(f"{code}: state not reached within {timeout:.0f}s (step {d['summary']['step']})")
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, 2.0)

    # --- one case ------------------------------------------------------------------------------

    async def play(self, plan: Plan) -> None:
        book: Book | None = None
        holding = True
        await self.admission.acquire()

        @asynccontextmanager
        async def away():
            """A long wait: give the slot to the next case (a resumed case does not queue again)."""
            nonlocal holding
            if holding:
                self.admission.release()
                holding = False
            self.waiting += 1
            try:
                yield
            finally:
                self.waiting -= 1

        try:
            plan, primary = self.choose_primary(plan)
            book = await self.intake(plan, primary)
            await self.drive(plan, book, primary, away)
        except Abort as err:
            if book:
                book.aborted = str(err)
            self.errors.append(str(err))
        finally:
            if book:
                self.open.pop(book.code, None)
            if holding:
                self.admission.release()
            self.on_case_done()

    def choose_primary(self, plan: Plan) -> tuple[Plan, str | None]:
        """重复件: another citizen reports a problem already being handled (an open case)."""
        if plan.outcome != "duplicate":
            return plan, None
        candidates = sorted(self.open)
        if not candidates:
            return replace(plan, outcome="normal"), None
        code = candidates[int(plan.pick * len(candidates))]
        first = self.open[code]
        building = first.address.split("单元")[0][:-1]  # a neighbour of the first reporter
        return replace(plan, scene=first.scene, grid=first.grid, address=f"{building}{plan.index % 6 + 1}单元{plan.index % 5 + 1}02室",
                       description=f"{first.description}之前已经有人反映过，到现在还没解决，希望尽快处理。"), code

    async def intake(self, p: Plan, primary: str | None) -> Book:
        ref = f"{p.ref_prefix}{datetime.now(BEIJING):%Y%m%d}-{self.tag}-{p.index:05d}"
        body = {"channel_ref": ref, "name": p.name, "phone": p.phone, "address": p.address, "grid": p.grid,
                "description": p.description, "photos": list(p.photos)}
        r = await self.call("POST", f"/intake/{p.channel}", self.keys.intake, body)
        if r.status_code != 202:
            raise Abort(f"intake {p.channel}: HTTP {r.status_code} {r.text[:200]}")
        self.actions[f"intake:{p.channel}"] += 1
        book = Book(code=r.json()["case_code"], token=r.json()["citizen_token"])
        self.books.append(book)
        await self.until(book.code, lambda d: True, timeout=self.timeout)  # the workflow has started
        return book

    async def drive(self, p: Plan, b: Book, primary: str | None, away) -> None:
        keys, code = self.keys, b.code
        rounds = 0  # evaluations given so far
        progressed: set[int] = set()
        extension_asked = returned = probed = reworked = declined = False
        late_seen = False  # the case was seen past its deadline before its verification
        for _ in range(80):  # one action per round: a case that keeps being refused stops here
            d = await self.detail(code)
            w, s = d["workflow"], d["summary"]
            b.step = step = w["step"]
            awaiting = w["awaiting"]
            if step in TERMINAL:
                return
            if awaiting in ("routing", "merge"):
                await asyncio.sleep(0.2)  # the register/duplicate effect is still running
                continue
            lead, assignment = w["lead_unit"], w["assignment"]
            if w.get("clock"):
                b.deadline = _at(w["clock"]["deadline"])
            if w.get("policy") and self.policy_version is None:
                self.policy_version, self.demo = w["policy"]["version"], _is_demo(w["policy"])

            if step == "create":
                if p.outcome == "decline" and not declined:
                    declined = True
                    await self.act("decline", f"/cases/{code}/decline", keys.supervisor, {"reason": DECLINE_REASONS[p.index % 3]})
                elif primary and p.outcome == "duplicate":
                    ack = await self.act("duplicate", f"/cases/{code}/duplicate", keys.supervisor, {"primary": primary})
                    primary = None  # once: if the link failed (primary closed meanwhile), it is registered
                    if ack and ack["step"] == "create":
                        self.actions["duplicate_failed"] += 1
                else:
                    co = [u for u in p.scene.co_units if u in keys.units]
                    body = {"category": p.scene.category, "co_units": co, **({"level": p.level} if p.level else {})}
                    if await self.act("register", f"/cases/{code}/register", keys.supervisor, body):
                        b.accepted = True
                        self.open[code] = p
                continue

            if step == "dispatch" and (w["awaiting_assignment"] or lead not in keys.units):
                target = p.scene.lead if p.scene.lead in keys.units else sorted(keys.units)[0]
                co = [u for u in w["co_units"] if u in keys.units and u != target]
                await self.act("reassign", f"/cases/{code}/reassign", keys.supervisor,
                               {"unit": target, "co_units": co, "binding": True, "note": "中心指定承办单位"})
                continue
            if step in OPEN_STEPS and lead not in keys.units:
                raise Abort(f"{code}: led by {lead}, no key for it")
            unit_key = keys.units.get(lead or "")

            if step == "dispatch":
                if p.probe and not probed:
                    probed = True  # someone clicks out of turn: the API must refuse (counted, not fatal)
                    others = [k for u, k in sorted(keys.units.items()) if u != lead]
                    if p.index % 2 and others:  # another unit tries to sign for it: 403 WrongUnit
                        await self.act("probe", f"/cases/{code}/sign", others[0], {"note": "误签收"})
                    else:  # the unit reports 办结 before signing for it: 409 WrongStep
                        await self.act("probe", f"/cases/{code}/complete", unit_key, {"result": "已处理完毕"})
                elif p.returns and not returned and not w["binding"] and lead == p.scene.lead:
                    returned = True
                    if await self.act("return", f"/cases/{code}/return", unit_key, {"reason": RETURN_REASONS[p.index % 2]}):
                        b.returns += 1
                        b.lead = lead
                else:
                    if await self.act("sign", f"/cases/{code}/sign", unit_key, {"note": "已签收"}):
                        b.lead = lead
                continue

            if step == "handle":
                co_open = [t["unit"] for t in w["tasks"]
                           if t["assignment"] == assignment and not t["lead"] and t["status"] != "done"]
                if co_open:
                    unit = co_open[0]
                    if unit not in keys.units:
                        raise Abort(f"{code}: co-unit {unit} has no key")
                    await self.act("co_complete", f"/cases/{code}/complete", keys.units[unit],
                                   {"result": p.scene.co_result or "已配合完成会办事项。"})
                elif w["pending_extension"]:
                    decision = {"approve": p.approve, "note": "同意延期，请抓紧办理" if p.approve else "不同意延期，请按期办结"}
                    if await self.act("extension_decision", f"/cases/{code}/extension/decision", keys.supervisor, decision):
                        b.extensions += p.approve
                elif p.extension and not extension_asked and w.get("policy"):
                    extension_asked = True
                    cap = w["policy"]["max_extension"]
                    extra = {"amount": random.Random(f"{self.seed}:{p.index}:x").randint(1, cap["amount"]), "unit": cap["unit"]}
                    await self.act("extension", f"/cases/{code}/extension", unit_key,
                                   {"extra": extra, "reason": EXTENSION_REASONS[p.index % 3]})
                elif p.progress and assignment not in progressed:
                    progressed.add(assignment)
                    await self.act("progress", f"/cases/{code}/progress", unit_key, {"note": p.scene.progress[0]})
                elif p.overdue and self.demo and rounds == 0 and not s["overdue"] and not late_seen:
                    async with away():  # the unit lets the deadline pass (demo policy: minutes)
                        await self.until(code, _past(b.deadline), timeout=self.timeout, at=b.deadline)
                    late_seen = True
                    self.actions["late"] += 1
                else:
                    if p.overdue and not self.demo and self.demo is not None:
                        self.notes_once("overdue")
                    if await self.act("complete", f"/cases/{code}/complete", unit_key,
                                      {"result": p.scene.results[p.index % len(p.scene.results)],
                                       "photos": [f"https://img.wendeng.example/done/{code}.jpg"]}):
                        b.lead = lead
                continue

            if step == "verify":
                if p.rework and not reworked:
                    reworked = True
                    if await self.act("rework", f"/cases/{code}/verify", keys.verifier,
                                      {"passed": False, "note": REWORK_NOTES[p.index % 2]}):
                        b.reworks += 1
                    continue
                before = _now()
                if await self.act("verify", f"/cases/{code}/verify", keys.verifier, {"passed": True, "note": "现场核实已整改到位"}):
                    b.completed = True
                    b.on_time = await self.on_time(code, b.deadline, before, _now(), late_seen)
                continue

            if step == "evaluate":
                if awaiting == "evaluation":
                    verdict = p.verdicts[min(rounds, len(p.verdicts) - 1)]
                    if not verdict:
                        self.actions["no_answer"] += 1
                        return  # the citizen never answers: the evaluation window lapses
                    body = {"token": b.token, "verdict": verdict, "comment": COMMENTS[verdict]}
                    if await self.act("evaluate", f"/citizen/cases/{code}/evaluation", None, body):
                        rounds += 1
                        b.verdict = verdict
                        b.dissatisfied_answers += verdict == "dissatisfied"
                elif awaiting == "decision":
                    if p.reopen and rounds == 1:
                        if await self.act("reopen", f"/cases/{code}/reopen", keys.supervisor, {"note": "群众不满意，责成重新办理"}):
                            b.completed, b.on_time, late_seen = False, None, False
                    else:
                        await self.act("close", f"/cases/{code}/close", keys.supervisor,
                                       {"reason": "已向群众解释政策依据，诉求合理部分已解决，予以结案"})
                elif awaiting == "visit_wait":
                    due = _at(w["timers"].get("visit_due"))
                    if due and (due - _now()).total_seconds() > self.timeout:
                        self.notes_once("visits")
                        return  # 回访 due in working days: not waited for (the figures do not depend on it)
                    async with away():
                        await self.until(code, lambda d: d["workflow"]["awaiting"] != "visit_wait",
                                         timeout=self.timeout, at=due)
                elif awaiting == "visit":
                    verdict = "satisfied" if b.verdict != "dissatisfied" else "basically_satisfied"
                    await self.act("visit", f"/citizen/cases/{code}/visit", None,
                                   {"token": b.token, "verdict": verdict})
                else:
                    raise Abort(f"{code}: unexpected state evaluate/{awaiting}")
                continue
            raise Abort(f"{code}: unexpected step {step}")
        raise Abort(f"{code}: did not settle")

    async def on_time(self, code: str, deadline: datetime | None, sent: datetime, answered: datetime, late: bool) -> bool:
        """按期: the verification landed at or before the deadline the case showed when it was sent."""
        if deadline is None:
            return True
        if late or sent > deadline:
            return False
        if answered <= deadline:
            return True
        w = (await self.detail(code))["workflow"]  # within one request of the deadline: the system's instant
        return _at(w["completed_at"]) <= _at(w["clock"]["deadline"])

    def notes_once(self, what: str) -> None:
        note = {"overdue": f"时限规则 {self.policy_version} 不是演示时限（分钟），未模拟超期案件；"
                           "用 ./closeloop dev --demo 启动系统可模拟超期。",
                "visits": "回访在模拟时限之后才到期，未等待回访答复（不影响考核指标）。"}[what]
        if note not in self.notes:
            self.notes.append(note)


def _past(deadline: datetime | None):
    """Red lamp (the ladder fired at the deadline); or overdue per the summary, seconds after it."""
    def check(d: dict) -> bool:
        s = d["summary"]
        return s["lamp"] == "red" or (s["overdue"] and (deadline is None or _now() > deadline + timedelta(seconds=5)))

    return check


def _is_demo(policy: dict) -> bool:
    return policy["version"].startswith("demo") or any(c["limit"]["unit"] == "minutes" for c in policy["levels"].values())


async def simulate(http: httpx.AsyncClient, cases: int, keys: Keys, seed: int, *, concurrency: int = 8,
                   progress: Console | None = None, timeout: float = 600.0) -> Summary:
    """Play ``cases`` complaints through the API at ``http``; compare the book with ``GET /stats``.

    ``progress``: a console to show a progress bar on (None: silent). ``timeout`` bounds every
    wait for asynchronous state (seconds).
    """
    started, clock = _now(), time.monotonic()
    bar = None
    if progress is not None:
        bar = Progress(TextColumn("[bold]模拟诉求"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
                       TimeElapsedColumn(), console=progress, transient=False)
    task_id = bar.add_task("cases", total=cases, status="") if bar else None
    run: _Run

    def done() -> None:
        if bar is not None:
            bar.update(task_id, advance=1, status=f"等待时限/回访 {run.waiting} 件" if run.waiting else "")

    run = _Run(http, keys, seed, cases, concurrency, timeout, done)
    plans = [make_plan(seed, i, cases) for i in range(cases)]
    if bar:
        bar.start()
    try:
        # A case starts after the previous one got its slot: reports arrive in order.
        tasks = []
        for plan in plans:
            tasks.append(asyncio.create_task(run.play(plan)))
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
    finally:
        if bar:
            bar.stop()
    return await _compare(run, cases, seed, started, time.monotonic() - clock)


async def _compare(run: _Run, cases: int, seed: int, started: datetime, seconds: float) -> Summary:
    r = await run.call("GET", "/stats", run.keys.supervisor, params={"by": "unit", "reported_from": started.isoformat()})
    if r.status_code != 200:
        raise RuntimeError(f"GET /stats: HTTP {r.status_code} {r.text[:200]}")
    stats, now = r.json(), _now()
    api_rows = {row["key"]: row for row in stats["rows"]}
    groups: dict[str | None, list[Book]] = {}
    for b in run.books:
        groups.setdefault(b.lead if b.accepted else None, []).append(b)
    order = [row["key"] for row in stats["rows"]] + sorted((k for k in groups if k not in api_rows), key=str)
    empty = dict.fromkeys(METRICS, 0) | {"satisfaction_rate": None}
    lines = []
    for key in order:
        row = api_rows.get(key)
        lines.append(Line(key, row["label"] if row else (key or UNDISPATCHED), count(groups.get(key, []), now),
                          api_figures(row) if row else dict(empty)))
    lines.append(Line(None, "合计", count(run.books, now), api_figures(stats["total"])))
    return Summary(cases=cases, seed=seed, started_at=started, seconds=seconds, policy_version=run.policy_version,
                   demo=run.demo, lines=lines, agree=all(x.agree for x in lines), actions=run.actions,
                   rejections=run.rejections, errors=run.errors, notes=run.notes)


# --- rendering ---------------------------------------------------------------------------------


def _fmt(metric: str, value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if metric == "satisfaction_rate" else str(value)


SHOWN = ("received", "accepted", "closed", "closed_on_time", "overdue", "returned", "reworked", "extended",
         "dissatisfied", "satisfaction_rate")


def render(summary: Summary, console: Console) -> None:
    """The simulator's own figures per lead unit, then each figure next to the API's."""
    mine = Table(title=f"模拟结果（{summary.cases} 件，种子 {summary.seed}，用时 {summary.seconds:.0f} 秒，"
                       f"时限规则 {summary.policy_version or '—'}）")
    mine.add_column("主办单位")
    for m in SHOWN:
        mine.add_column(LABELS[m], justify="right")
    for line in summary.lines:
        style = "bold" if line.label == "合计" else None
        mine.add_row(escape(line.label), *[_fmt(m, line.mine[m]) for m in SHOWN], style=style)
    console.print(mine)

    check = Table(title="与考核统计 GET /stats?by=unit 对照（模拟器 / 接口）")
    check.add_column("主办单位")
    for m in METRICS:
        check.add_column(LABELS[m], justify="right")
    for line in summary.lines:
        cells = []
        for m in METRICS:
            a, b = _fmt(m, line.mine[m]), _fmt(m, line.api.get(m))
            cells.append(f"[green]{a} ✓[/]" if line.agrees(m) else f"[red]{a} ≠ {b}[/]")
        check.add_row(escape(line.label), *cells)
    console.print(check)

    did = ", ".join(f"{k} {v}" for k, v in sorted(summary.actions.items()))
    console.print(f"[dim]操作：{did}[/]")
    if summary.rejections:
        console.print("业务拒绝（已计数）：" + "，".join(f"{s} {c} ×{n}" for (s, c), n in sorted(summary.rejections.items())))
    for note in summary.notes:
        console.print(f"[yellow]注意：{note}[/]")
    for err in summary.errors[:10]:
        console.print(f"[red]未完成：{escape(err)}[/]")
    console.print("[bold green]全部指标与统计接口一致。[/]" if summary.agree else "[bold red]模拟器与统计接口不一致。[/]")
