"""The sample district (modelled on Wendeng's 区 + 镇 + 村 + N) and its pure routing function."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from domain.district import SAMPLE_DISTRICT, District, UnknownCode
from domain.policy import DEFAULT_POLICY
from domain.vocabulary import UnitKind, WarningLevel

GROUPS = {"市容环境", "街面秩序", "矛盾纠纷", "安全隐患", "公共设施", "民生服务"}

GRID = "G-LS-XL-01"  # 龙山街道西楼社区第1网格
VILLAGE = "V-LS-XL"  # 龙山街道西楼社区
TOWN = "T-LS"  # 龙山街道综治分中心
CENTER = "WD-CENTER"


@pytest.fixture(scope="module")
def district() -> District:
    return District.load()


def sample_dict() -> dict:
    return json.loads(SAMPLE_DISTRICT.read_text(encoding="utf-8"))


# ---- the sample itself ---------------------------------------------------------------------


def test_sample_loads(district: District) -> None:
    assert district.code == "WD"
    assert district.center.code == CENTER
    assert district.center.name == "文登区社会治理综合服务中心"
    assert district.policy == DEFAULT_POLICY
    codes = [u.code for u in district.units]
    assert len(codes) == len(set(codes)), "unit codes are unique"
    cats = [c.code for c in district.categories]
    assert len(cats) == len(set(cats)), "category codes are unique"


def test_catalog_covers_all_groups(district: District) -> None:
    assert len(district.categories) >= 20
    groups = [c.group for c in district.categories]
    assert set(groups) == GROUPS
    assert all(groups.count(g) >= 3 for g in GROUPS)
    assert {c.level for c in district.categories} == set(WarningLevel)
    assert sum(1 for c in district.categories if c.co_units) >= 2


def test_catalog_units_match_their_kind(district: District) -> None:
    for c in district.categories:
        if c.unit_kind in (UnitKind.DEPARTMENT, UnitKind.COMMITTEE):
            assert c.unit, c.code
            assert district.unit(c.unit).kind == c.unit_kind, c.code
        else:
            assert c.unit is None, c.code
        for co in c.co_units:
            assert district.unit(co).kind in (UnitKind.DEPARTMENT, UnitKind.COMMITTEE), c.code


def test_organisation_tree(district: District) -> None:
    kinds = [u.kind for u in district.units]
    assert kinds.count(UnitKind.DISTRICT) == 1
    assert kinds.count(UnitKind.TOWN) >= 4
    assert kinds.count(UnitKind.DEPARTMENT) >= 12
    assert kinds.count(UnitKind.COMMITTEE) >= 2
    grids = [u for u in district.units if u.kind == UnitKind.GRID]
    assert len(grids) >= 16
    for g in grids:
        village = district.ancestor(g.code, UnitKind.VILLAGE)
        town = district.ancestor(g.code, UnitKind.TOWN)
        assert village is not None and village.code == g.parent, g.code
        assert town is not None and town.code == village.parent, g.code
        assert district.parent(town.code) == district.center
    for u in district.units:
        if u.kind in (UnitKind.DEPARTMENT, UnitKind.COMMITTEE, UnitKind.TOWN):
            assert u.parent == CENTER, u.code
    villages = [u for u in district.units if u.kind == UnitKind.VILLAGE]
    for v in villages:
        assert 2 <= sum(1 for g in grids if g.parent == v.code) <= 3, v.code


def test_parent_climbs_to_the_top(district: District) -> None:
    assert district.unit(GRID).name == "龙山街道西楼社区第1网格"
    chain = []
    unit = district.unit(GRID)
    while unit is not None:
        chain.append(unit.code)
        unit = district.parent(unit.code)
    assert chain == [GRID, VILLAGE, TOWN, CENTER]
    assert district.parent(CENTER) is None
    assert district.parent("D-CG") == district.center


# ---- routing -------------------------------------------------------------------------------


def test_grid_category_stays_in_the_reporting_grid(district: District) -> None:
    plan = district.route("SR-001", GRID)  # 乱堆乱放
    assert plan.lead == GRID
    assert plan.co_units == []
    assert plan.level == WarningLevel.LEVEL_3
    assert district.route("SR-001", "G-ZT-BQ-02").lead == "G-ZT-BQ-02"


def test_village_and_town_categories_go_to_the_ancestor(district: District) -> None:
    assert district.route("MD-001", GRID).lead == VILLAGE  # 邻里纠纷 → 村(社区)工作组
    assert district.route("MD-007", GRID).lead == TOWN  # 土地承包纠纷 → 镇街分中心


def test_department_category_with_co_units(district: District) -> None:
    plan = district.route("JM-001", GRID)  # 占道经营: 城管 主办, 市场监管 会办
    assert plan.lead == "D-CG"
    assert plan.co_units == ["D-SJ"]
    assert plan.level == WarningLevel.LEVEL_2
    plan = district.route("SR-004", GRID)  # 违章搭建: 城管 主办, 自然资源 会办
    assert (plan.lead, plan.co_units) == ("D-CG", ["D-ZR"])


def test_department_category_without_co_units(district: District) -> None:
    plan = district.route("JM-002", GRID)  # 违规停车 → 交警
    assert (plan.lead, plan.co_units, plan.level) == ("D-JJ", [], WarningLevel.LEVEL_2)


def test_committee_category(district: District) -> None:
    plan = district.route("MD-006", GRID)  # 医疗纠纷 → 医调委, 卫健 会办
    assert (plan.lead, plan.co_units) == ("C-YL", ["D-WJ"])


def test_level_one_category(district: District) -> None:
    plan = district.route("AQ-001", GRID)  # 燃气安全隐患
    assert (plan.lead, plan.co_units, plan.level) == ("D-ZJ", ["D-YJ"], WarningLevel.LEVEL_1)


def test_category_by_area_override_wins(district: District) -> None:
    # 违规停车 in 泽头镇 goes to the town sub-center, not to 交警
    assert district.route("JM-002", "G-ZT-ZT-01").lead == "T-ZT"
    assert district.route("JM-002", "G-ZT-BQ-02").lead == "T-ZT"
    # … while elsewhere it still goes to 交警
    assert district.route("JM-002", "G-TF-WC-01").lead == "D-JJ"
    # a rule on a single grid: 出店经营 on a commercial street goes to 城管
    assert district.route("JM-006", "G-TF-TF-01").lead == "D-CG"
    assert district.route("JM-006", "G-TF-TF-02").lead == "G-TF-TF-02"


def test_wildcard_category_rule_for_one_area(district: District) -> None:
    # 香水社区 (拆迁安置过渡期): every category goes to 环山街道 sub-center
    for cat in ("SR-001", "JM-002", "AQ-001", "MS-004"):
        assert district.route(cat, "G-HS-XS-01").lead == "T-HS", cat
    assert district.route("SR-001", "G-HS-HS-01").lead == "G-HS-HS-01"
    # the lead changes, but co-units and level still follow the category
    plan = district.route("AQ-001", "G-HS-XS-02")
    assert plan.co_units == ["D-YJ"] and plan.level == WarningLevel.LEVEL_1


def test_rule_sets_the_level(district: District) -> None:
    # 井盖缺失 in the main urban area (龙山街道) is level 1 …
    plan = district.route("GS-002", GRID)
    assert (plan.lead, plan.co_units, plan.level) == ("D-CG", ["D-SW"], WarningLevel.LEVEL_1)
    # … and level 2 elsewhere
    assert district.route("GS-002", "G-TF-WC-02").level == WarningLevel.LEVEL_2


def test_exclude_walks_down_the_candidates(district: District) -> None:
    # 占道经营: 城管 returned it → the town sub-center, then the district center
    plan = district.route("JM-001", GRID, exclude=frozenset({"D-CG"}))
    assert (plan.lead, plan.co_units) == (TOWN, ["D-SJ"])
    plan = district.route("JM-001", GRID, exclude=frozenset({"D-CG", TOWN}))
    assert (plan.lead, plan.co_units) == (CENTER, ["D-SJ"])
    # everyone returned it: the center takes it anyway (指定承办)
    plan = district.route("JM-001", GRID, exclude=frozenset({"D-CG", TOWN, CENTER}))
    assert plan.lead == CENTER
    # a grid-level case returned by the grid goes up to the town
    assert district.route("SR-001", GRID, exclude=frozenset({GRID})).lead == TOWN
    # an override returned: the catalog default comes next, with the category's own level
    assert district.route("JM-002", "G-ZT-ZT-01", exclude=frozenset({"T-ZT"})).lead == "D-JJ"
    plan = district.route("GS-002", GRID, exclude=frozenset({"D-CG"}))
    assert (plan.lead, plan.level) == (TOWN, WarningLevel.LEVEL_2)


def test_co_unit_becoming_lead_is_not_its_own_co_unit(district: District) -> None:
    plan = district.route("MD-005", GRID)  # 群体性欠薪: 人社 主办, 劳动争议调委会 + 住建 会办
    assert (plan.lead, plan.co_units, plan.level) == ("D-RS", ["C-LD", "D-ZJ"], WarningLevel.LEVEL_1)


# ---- errors --------------------------------------------------------------------------------


def test_unknown_codes_raise(district: District) -> None:
    with pytest.raises(UnknownCode):
        district.route("XX-999", GRID)
    with pytest.raises(UnknownCode):
        district.route("SR-001", "G-NOPE-01")
    with pytest.raises(UnknownCode):
        district.route("SR-001", VILLAGE)  # not a grid
    with pytest.raises(UnknownCode):
        district.category("XX-999")
    with pytest.raises(UnknownCode):
        district.unit("NOPE")
    with pytest.raises(UnknownCode):
        district.parent("NOPE")


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d["units"].append({"code": "G-X", "name": "孤儿网格", "kind": "grid", "parent": "V-NOPE"}),
        lambda d: d["categories"][0].update(unit_kind="department", unit="D-NOPE"),
        lambda d: d["categories"][0].update(co_units=["D-NOPE"]),
        lambda d: d["routing"].append({"category": "*", "area": "*", "unit": "D-NOPE"}),
    ],
    ids=["unit-parent", "category-unit", "co-unit", "routing-unit"],
)
def test_dangling_unit_reference_fails_validation(breakage, tmp_path) -> None:
    data = sample_dict()
    breakage(data)
    with pytest.raises(ValidationError, match="unknown unit codes"):
        District.model_validate(data)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationError):
        District.load(path)


def test_district_needs_a_center() -> None:
    data = sample_dict()
    data["units"] = [u for u in data["units"] if u["kind"] != "district"]
    for u in data["units"]:
        if u.get("parent") == CENTER:
            u["parent"] = None
    with pytest.raises(ValidationError, match="district"):
        District.model_validate(data)


def test_duplicate_codes_and_stray_routing_rules_are_rejected():
    import json

    import pytest

    from domain.district import SAMPLE_DISTRICT, District

    raw = json.loads(SAMPLE_DISTRICT.read_text(encoding="utf-8"))
    twice = {**raw, "categories": raw["categories"] + raw["categories"][:1]}
    with pytest.raises(ValueError, match="duplicate category"):
        District.model_validate(twice)
    stray = {**raw, "routing": raw["routing"] + [{"category": "NO-SUCH", "area": "*", "unit": "WD-CENTER"}]}
    with pytest.raises(ValueError, match="unknown categories"):
        District.model_validate(stray)
