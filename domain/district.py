"""辖区 — a district as data: event catalog, organisation tree, routing rules and SLA policy.

Loaded from a seed file (``domain/data/sample_district.json`` ships a sample modelled on
Wendeng's four rings, 区 + 镇 + 村 + N). Routing is a pure function so that the routing
activity, the API and tests all agree on where a case goes.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from domain.policy import DEFAULT_POLICY, SlaPolicy
from domain.vocabulary import UnitKind, WarningLevel

SAMPLE_DISTRICT = Path(__file__).parent / "data" / "sample_district.json"
DEMO_POLICY = Path(__file__).parent / "data" / "demo_policy.json"  # minutes instead of days


class Unit(BaseModel):
    """承办单位 — a node of the organisation tree (or a department / committee beside it)."""

    code: str
    name: str
    kind: UnitKind
    parent: str | None = Field(None, description="上级单位; 提级 re-dispatches here")


class Category(BaseModel):
    """事件分类 — one entry of the event catalog (Wendeng has 133 report templates)."""

    code: str
    name: str
    group: str = Field(description="大类, e.g. 市容环境, 矛盾纠纷")
    level: WarningLevel = Field(description="default warning level (分级)")
    unit_kind: UnitKind = Field(description="which ring handles it by default")
    unit: str | None = Field(None, description="the department/committee, when unit_kind names one")
    co_units: list[str] = Field(default_factory=list, description="会办 units joined by default")
    patrol_findable: bool = Field(
        False, description="巡查应发现: a grid member should find it on patrol (应报未报 check, api/unreported.py)"
    )


class RoutingRule(BaseModel):
    """分流规则 — category × area → unit (and optionally level); ``*`` matches anything."""

    category: str = "*"
    area: str = "*"
    unit: str
    level: WarningLevel | None = None

    def specificity(self) -> int:
        return (self.category != "*") * 2 + (self.area != "*")


class RoutePlan(BaseModel):
    """Where a case goes: the lead unit (主办), co-units (会办) and its level."""

    lead: str
    co_units: list[str] = Field(default_factory=list)
    level: WarningLevel


class UnknownCode(ValueError):
    """A category, unit or grid code that the district does not define."""


class District(BaseModel):
    code: str = Field(description="case-code prefix, e.g. WD")
    name: str
    units: list[Unit]
    categories: list[Category]
    routing: list[RoutingRule] = Field(default_factory=list)
    policy: SlaPolicy = DEFAULT_POLICY
    unreported_lookback_days: int = Field(
        7, ge=1, le=90, description="应报未报回溯天数 N: a grid report this many days before a citizen's covers it"
    )

    @model_validator(mode="after")
    def _consistent(self) -> District:
        units = {u.code for u in self.units}
        bad = [u.parent for u in self.units if u.parent and u.parent not in units]
        bad += [c.unit for c in self.categories if c.unit and c.unit not in units]
        bad += [x for c in self.categories for x in c.co_units if x not in units]
        bad += [r.unit for r in self.routing if r.unit not in units]
        if bad:
            raise ValueError(f"unknown unit codes referenced: {sorted(set(bad))}")
        for what, codes in (("unit", [u.code for u in self.units]), ("category", [c.code for c in self.categories])):
            twice = sorted({c for c in codes if codes.count(c) > 1})
            if twice:
                raise ValueError(f"duplicate {what} codes: {twice}")
        categories = {c.code for c in self.categories}
        stray = sorted({r.category for r in self.routing if r.category != "*" and r.category not in categories})
        stray_areas = sorted({r.area for r in self.routing if r.area != "*" and r.area not in units})
        if stray or stray_areas:
            raise ValueError(f"routing rules name unknown categories {stray} or areas {stray_areas}")
        if not any(u.kind == UnitKind.DISTRICT for u in self.units):
            raise ValueError("the district needs one unit of kind 'district' (综治中心)")
        return self

    @classmethod
    def load(cls, path: Path | str = SAMPLE_DISTRICT, policy: Path | str | None = None) -> District:
        """The district from its seed file; ``policy`` replaces its SLA policy (e.g. the demo one)."""
        district = cls.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
        if policy:
            override = SlaPolicy.model_validate(json.loads(Path(policy).read_text(encoding="utf-8")))
            district = district.model_copy(update={"policy": override})
        return district

    @cached_property
    def _units(self) -> dict[str, Unit]:
        return {u.code: u for u in self.units}

    @cached_property
    def _categories(self) -> dict[str, Category]:
        return {c.code: c for c in self.categories}

    @property
    def center(self) -> Unit:
        return next(u for u in self.units if u.kind == UnitKind.DISTRICT)

    def unit(self, code: str) -> Unit:
        try:
            return self._units[code]
        except KeyError:
            raise UnknownCode(f"未知单位: {code}") from None

    def unit_name(self, code: str) -> str:
        """The unit's name, or its code for a unit since removed from the district file."""
        unit = self._units.get(code)
        return unit.name if unit else code

    def category(self, code: str) -> Category:
        try:
            return self._categories[code]
        except KeyError:
            raise UnknownCode(f"未知事件分类: {code}") from None

    def ancestor(self, code: str, kind: UnitKind) -> Unit | None:
        unit: Unit | None = self.unit(code)
        while unit is not None and unit.kind != kind:
            unit = self._units.get(unit.parent) if unit.parent else None
        return unit

    def covers(self, area: str, code: str) -> bool:
        """Whether unit ``code`` is ``area`` itself or lies under it in the organisation tree."""
        current: str | None = code
        while current is not None:
            if current == area:
                return True
            unit = self._units.get(current)
            current = unit.parent if unit else None
        return False

    def parent(self, code: str) -> Unit | None:
        """提级 target: one level up, or None at the top."""
        parent = self.unit(code).parent
        return self.unit(parent) if parent else None

    def route(self, category: str, grid: str, exclude: frozenset[str] = frozenset()) -> RoutePlan:
        """按部门职能、层级分工自动分流: the first candidate not in ``exclude`` (units that returned it).

        Candidates in order: explicit rules (most specific first), the catalog's default ring or
        department, then the grid's town sub-center, then the district center.
        """
        cat = self.category(category)
        if self.unit(grid).kind != UnitKind.GRID:
            raise UnknownCode(f"{grid} 不是网格")
        town = self.ancestor(grid, UnitKind.TOWN)
        areas = {"*", grid} | {a.code for a in (self.ancestor(grid, k) for k in UnitKind) if a}
        rules = sorted(
            (r for r in self.routing if r.category in ("*", cat.code) and r.area in areas),
            key=lambda r: -r.specificity(),
        )
        candidates: list[tuple[str, WarningLevel]] = [(r.unit, r.level or cat.level) for r in rules]
        default = cat.unit or (self.ancestor(grid, cat.unit_kind) or self.center).code
        candidates.append((default, cat.level))
        if town:
            candidates.append((town.code, cat.level))
        candidates.append((self.center.code, cat.level))
        for unit, level in candidates:
            if unit not in exclude:
                co = [c for c in cat.co_units if c != unit]
                return RoutePlan(lead=unit, co_units=co, level=level)
        return RoutePlan(lead=self.center.code, co_units=[], level=cat.level)
