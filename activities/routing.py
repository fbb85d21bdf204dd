"""分流 — route a case to its unit by category and area, and find the unit one level up."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.commands import RoutingDecision, RoutingRequest, UnitRef
from domain.district import District, UnknownCode
from domain.errors import Rejection


class RoutingActivities:
    def __init__(self, district: District) -> None:
        self.district = district

    @activity.defn
    def plan_case(self, req: RoutingRequest) -> RoutingDecision:
        try:
            route = self.district.route(req.category, req.grid, exclude=frozenset(req.exclude))
            co_units = route.co_units if req.co_units is None else [c for c in req.co_units if c != route.lead]
            for code in co_units:
                self.district.unit(code)
        except UnknownCode as err:
            raise ApplicationError(str(err), type=Rejection.UNKNOWN_CODE.value, non_retryable=True) from err
        return RoutingDecision(
            lead=route.lead, co_units=co_units, level=req.level or route.level, policy=self.district.policy
        )

    @activity.defn
    def parent_unit(self, ref: UnitRef) -> UnitRef:
        """提级 target, or ``code=None`` at the top of the tree."""
        if ref.code is None:
            return UnitRef(code=None)
        try:
            parent = self.district.parent(ref.code)
        except UnknownCode:
            parent = self.district.center if ref.code != self.district.center.code else None
        return UnitRef(code=parent.code if parent else None)
