"""How each case goes: its script, drawn from ``random.Random(f"{seed}:{index}")``.

A seed gives the same reports and decisions whatever the timing. Also the words the people on a
case use when they decline, return, ask for time, send back or evaluate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from simulator.scenes import CHANNELS, COLORS, FOODS, GIVEN, GRIDS, SCENES, SURNAMES, Scene

DECLINE_REASONS = (
    "诉求事项已进入诉讼程序，不属于受理范围，已告知诉求人",
    "经电话核实，诉求人表示问题已自行解决",
    "诉求内容不明确，多次联系诉求人未果，无法核实",
)
RETURN_REASONS = ("经现场核实，该事项属属地管理范围，请街道牵头处置", "该问题不属于本单位职责范围，建议由龙山街道处理")
EXTENSION_REASONS = ("需协调多个部门现场会商", "维修配件需要厂家调货", "当事人外出，需另约时间现场调解")
REWORK_NOTES = ("现场核查发现问题仍未彻底解决，请继续处理", "整改照片与现场不符，请重新处置并补充照片")
COMMENTS = {
    "satisfied": "处理很及时，谢谢！",
    "basically_satisfied": "基本解决了，希望以后多来看看。",
    "dissatisfied": "问题没有根本解决，过两天又恢复原样了。",
}


@dataclass(frozen=True)
class CaseScript:
    """How one case goes: who reports what, and every decision the people on it will take."""

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


def make_plan(seed: int, index: int, cases: int) -> CaseScript:
    """Case ``index`` of ``cases`` for ``seed``: the same script whatever the timing."""
    rng = random.Random(f"{seed}:{index}")
    report = _report(rng, seed, index)  # the draws come in a fixed order: a seed gives the same scripts
    roll = rng.random()
    outcome = "decline" if roll < 0.05 else "duplicate" if roll < 0.10 else "normal"
    # 超期: early in the run, so the wait past the deadline overlaps the rest of the simulation.
    overdue = outcome == "normal" and index < max(1, cases // 2) and rng.random() < 0.07
    department = report["scene"].lead.startswith("D-")
    returns = department and rng.random() < 0.14
    extension = not overdue and rng.random() < 0.10
    first = _weighted(rng, ("satisfied", "basically_satisfied", "dissatisfied", ""), (62, 20, 15, 3))
    after = _weighted(rng, ("satisfied", "basically_satisfied", "dissatisfied"), (70, 25, 5))
    level = 3 if overdue else 1 if rng.random() < 0.08 else None
    approve, progress, rework = rng.random() < 0.8, rng.random() < 0.6, rng.random() < 0.10
    reopen, probe, pick = rng.random() < 0.6, rng.random() < 0.05, rng.random()
    return CaseScript(
        index=index,
        **report,
        outcome=outcome,
        level=level,
        returns=returns,
        extension=extension,
        approve=approve,
        progress=progress,
        rework=rework,
        overdue=overdue,
        verdicts=(first, after, "dissatisfied"),
        reopen=reopen,
        probe=probe,
        pick=pick,
    )


def _report(rng: random.Random, seed: int, index: int) -> dict[str, Any]:
    """Who reports what, where and through which channel: the script's first fields."""
    channel, prefix, _ = _weighted(rng, CHANNELS, [weight for _, _, weight in CHANNELS])
    scene = _weighted(rng, SCENES, [each.weight for each in SCENES])
    if channel == "police_110" and not scene.police:
        channel, prefix = "hotline_12345", "GD"  # 110 transfers only what it receives: disputes, parking, nuisance
    grid = rng.choice(sorted(GRIDS))
    community, homes, spots, roads = GRIDS[grid]
    home = rng.choice(homes)
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    other = rng.choice(SURNAMES) + rng.choice(GIVEN)
    description = rng.choice(scene.texts).format(
        home=home,
        spot=rng.choice(spots),
        road=roads[0],
        road2=roads[1],
        color=rng.choice(COLORS),
        days=rng.randint(2, 9),
        food=rng.choice(FOODS),
        other=other,
    )
    phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
    address = f"文登区龙山街道{community}{home}{rng.randint(1, 6)}单元{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
    photos = (
        tuple(
            f"https://img.wendeng.example/{prefix.lower()}/{seed}-{index}-{number}.jpg"
            for number in range(rng.randint(1, 2))
        )
        if channel in ("grid", "mini_program")
        else ()
    )
    return {
        "channel": channel,
        "ref_prefix": prefix,
        "scene": scene,
        "grid": grid,
        "name": name,
        "phone": phone,
        "address": address,
        "description": description,
        "photos": photos,
    }
