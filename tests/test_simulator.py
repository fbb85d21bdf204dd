"""The simulator against the whole stack in-process (demo policy): its own book agrees with /stats."""

from __future__ import annotations

import time

from domain.district import DEMO_POLICY
from simulator import METRICS, Keys, make_plan, simulate
from tests.api_support import api_stack

UNITS = ("D-JJ", "D-CG", "D-SJ", "T-LS")
# deploy/dev-keys.json names → the stack's KEYS (tests/api_support.py)
TEST_KEYS = Keys.dev().mapped(
    {
        "dev-intake": "k-intake",
        "dev-supervisor": "k-supervisor",
        "dev-verifier": "k-verifier",
        **{f"dev-unit-{u}": f"k-{u}" for u in UNITS},
    }
)


def test_plans_are_reproducible_and_use_units_with_keys():
    assert [make_plan(7, i, 50) for i in range(50)] == [make_plan(7, i, 50) for i in range(50)]
    assert make_plan(7, 3, 50) != make_plan(8, 3, 50)
    assert set(TEST_KEYS.units) == set(UNITS) and TEST_KEYS.units["D-JJ"] == "k-D-JJ" and TEST_KEYS.intake == "k-intake"
    plans = [make_plan(1, i, 200) for i in range(200)]
    assert {p.scene.lead for p in plans} <= set(UNITS)
    assert {p.channel for p in plans} == {"hotline_12345", "grid", "mini_program", "police_110", "window"}


async def test_200_cases_agree_with_the_statistics(engine, dev_env):
    async with api_stack(engine, dev_env, policy_file=DEMO_POLICY) as s:
        began = time.monotonic()
        summary = await simulate(s.http, 200, TEST_KEYS, seed=20251124, concurrency=12)
        print(
            f"\nsimulated 200 cases in {time.monotonic() - began:.0f}s; actions {dict(summary.actions)}; "
            f"rejections {dict(summary.rejections)}"
        )

    assert not summary.errors, summary.errors
    assert summary.demo and summary.policy_version.startswith("demo")
    disagreements = [(x.label, m, x.mine[m], x.api.get(m)) for x in summary.lines for m in METRICS if not x.agrees(m)]
    assert summary.agree and not disagreements, disagreements
    total = summary.total.mine
    assert total["received"] == 200 and total["accepted"] < 200  # declined and merged ones are not accepted
    assert total["returned"] > 0 and total["reworked"] > 0 and total["extended"] > 0
    assert total["dissatisfied"] > 0 and total["overdue"] >= 1
    assert total["closed_on_time"] < total["closed"]
    categories = {x.key for x in summary.lines if x.label != "合计"}
    assert None in categories and len(categories) >= 4  # declined/merged ones are 未分类
    a = summary.actions
    assert a["decline"] and a["duplicate"] and a["co_complete"] and a["reopen"] and a["close"] and a["visit"]
    assert a["late"] >= 1 and a["extension_decision"] == a["extension"]
    assert {status for status, _ in summary.rejections} <= {403, 409} and summary.rejections  # the probes
