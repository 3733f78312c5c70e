"""How one demo order moves through the states: dwell times, who acts, detours and reasons."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.demo import company, regions
from orderhub.demo.plan import (
    ADDRESS_HOLD,
    CANCEL_REASONS,
    CLOSE_REASONS,
    EXCEPTION_REASONS,
    HOLD_SHORT,
    HOLD_STUCK,
    REJECT_SPLIT_REASONS,
    VOID_REASONS,
    OrderPlan,
    Planner,
    S,
    Step,
    dwell_hours,
)
from orderhub.orders.models import HoldReason

SIGNERS = ("本人", "门卫", "快递柜", "同事代收", "店员")


class PathBuilder:
    """Appends the steps of one order's history to its plan, starting at its creation."""

    def __init__(self, planner: Planner, plan: OrderPlan, *, target: str | None = None) -> None:
        self.p = planner
        self.rng: random.Random = planner.rng
        self.plan = plan
        self.target = target
        self.t = plan.created_at
        self.owner = planner.owner_of(plan.draft)
        self.reviewed_by_rules = plan.draft.channel_code in company.AUTO_REVIEW_CHANNELS
        self.warehouse: str | None = None
        self.carrier: tuple[str, str] = ("", "")

    # --- primitives -----------------------------------------------------------------------------

    def chance(self, probability: float) -> bool:
        """A detour or a failure; the showcase orders (with a target) take the plain path."""
        return self.target is None and self.rng.random() < probability

    def _at(self, dwell: timedelta, human: bool) -> None:
        self.t = self.p.work(self.t + dwell) if human else self.t + dwell

    def move(
        self,
        to: str,
        actor: User,
        dwell: timedelta,
        *,
        human: bool = True,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        self._at(dwell, human)
        automatic = actor.username == "system"
        self.plan.steps.append(
            Step(
                at=self.t,
                kind="move",
                actor=actor,
                to=to,
                reason=reason,
                details=details,
                automatic=automatic,
            )
        )

    def hold(self, reason: str, detail: str) -> None:
        self._at(timedelta(minutes=1), human=False)
        self.plan.steps.append(
            Step(at=self.t, kind="hold", actor=self.p.md.system, hold=reason, reason=detail)
        )

    def release(self, reason: str, resolution: str, dwell: timedelta) -> None:
        actor = (
            self.p.md.users["manager"] if reason == HoldReason.CREDIT_LIMIT else self.rng.choice(self.p.cs)
        )
        self._at(dwell, human=True)
        self.plan.steps.append(Step(at=self.t, kind="release", actor=actor, hold=reason, reason=resolution))

    def waybill_details(self) -> dict[str, str]:
        return {"carrier": self.carrier[0], "waybill_no": self.carrier[1]}

    def wh_user(self) -> User:
        return self.p.md.users[company.WAREHOUSE_STAFF[self.warehouse or "TZ"]]

    # --- the path -------------------------------------------------------------------------------

    def build(self) -> None:
        """The order's path from 待审核 on; each phase says whether the order goes further."""
        for phase in (self._intake, self._review, self._allocation, self._labelling, self._shipping):
            if not phase():
                return
        self._deliver()

    def _intake(self) -> bool:
        if self.target == ADDRESS_HOLD or (self.target is None and self._incomplete_address()):
            return False
        if self.target == S.PENDING_REVIEW:
            reason, detail, _resolution = HOLD_STUCK[0]
            self.hold(reason, detail)
            return False
        return self.target is not None or self._interceptions()

    def _review(self) -> bool:
        if self.chance(0.03):
            self.cancel(timedelta(hours=3))
            return False
        self.approve()
        if self.chance(0.03):
            self.move(
                S.PENDING_REVIEW,
                self.rng.choice(self.p.cs),
                dwell_hours(self.rng, 1.0),
                reason=self.rng.choice(REJECT_SPLIT_REASONS),
            )
            self.approve(by_person=True)
        return self.target != S.SPLIT

    def _allocation(self) -> bool:
        if self.chance(0.005):
            self.cancel(timedelta(hours=1))
            return False
        self.allocate()
        if self.chance(0.04):
            self._reject_allocation()
        if self.target == S.ALLOCATING:
            return False
        if self.target == S.CANCELLED or self.chance(0.012):
            self.cancel(timedelta(hours=2))
            return False
        return True

    def _labelling(self) -> bool:
        self.print_label(stalled=self.chance(0.02))
        if self.chance(0.04):
            self.move(
                S.ALLOCATING,
                self.rng.choice([self.wh_user(), *self.p.logistics]),
                dwell_hours(self.rng, 0.8),
                reason=self.rng.choice(VOID_REASONS),
                details={"waybill_no": self.carrier[1]},
            )
            self.print_label()
        return self.target != S.LABEL_PRINTED

    def _shipping(self) -> bool:
        if self.chance(0.008):
            self.cancel(timedelta(hours=1))
            return False
        self.move(S.SHIPPED, self.wh_user(), dwell_hours(self.rng, 2.5), details=self.waybill_details())
        return self.target != S.SHIPPED

    def _incomplete_address(self) -> bool:
        """Hand-typed orders sometimes lack the street address: held as 地址不完整 until fixed."""
        draft = self.plan.draft
        recent = self.p.now - draft.ordered_at < timedelta(days=10)  # type: ignore[operator]
        if draft.channel_code in ("wechat", "manual") and recent and self.rng.random() < 0.1:
            self.p.drop_address(draft)
            return True
        return False

    def _interceptions(self) -> bool:
        """Holds by the review rules; False when the order ends (cancelled as a duplicate)."""
        r = self.rng.random()
        if r < 0.025:
            reason, detail, resolution = self.rng.choice(HOLD_STUCK)
            self.hold(reason, detail)
            self.release(reason, resolution, dwell_hours(self.rng, 20, 0.8))
            if reason == HoldReason.DUPLICATE:
                self.cancel(timedelta(minutes=10), reason="重复下单")
                return False
            self.reviewed_by_rules = False
        elif r < 0.06:
            reason, detail, resolution = self.rng.choice(HOLD_SHORT)
            self.hold(reason, detail)
            self.release(reason, resolution, dwell_hours(self.rng, 1.5))
            self.reviewed_by_rules = False
        return True

    def approve(self, *, by_person: bool = False) -> None:
        if self.reviewed_by_rules and not by_person:
            self.move(
                S.SPLIT,
                self.p.md.system,
                dwell_hours(self.rng, 0.05, 0.5),
                human=False,
                details={"rule": "自动审核", "parts": 1},
            )
        else:
            self.move(
                S.SPLIT, self.rng.choice(self.p.cs), dwell_hours(self.rng, 0.8, 0.9), details={"parts": 1}
            )

    def allocate(self, avoid: str | None = None) -> None:
        self.warehouse = self.p.warehouse_for(self.plan.draft, avoid)
        self.plan.warehouse = self.warehouse
        details = {"warehouse": self.warehouse}
        if self.rng.random() < 0.8:
            self.move(
                S.ALLOCATING,
                self.p.md.system,
                dwell_hours(self.rng, 0.3),
                human=False,
                details={**details, "rule": "就近发货"},
            )
        else:
            self.move(S.ALLOCATING, self.wh_user(), dwell_hours(self.rng, 1.0), details=details)

    def _reject_allocation(self) -> None:
        line = self.rng.choice(self.plan.draft.lines)
        wh_name = self.p.md.warehouses[self.warehouse or "TZ"].name
        self.move(
            S.PENDING_REVIEW,
            self.wh_user(),
            dwell_hours(self.rng, 2.0),
            reason=f"缺货：{line.sku_code} {line.name} 在{wh_name}库存不足",
        )
        self.approve(by_person=True)
        self.allocate(avoid=self.warehouse)

    def print_label(self, *, stalled: bool = False) -> None:
        # A stalled order waits for stock to arrive (等待补货) before it can be picked.
        dwell = dwell_hours(self.rng, 3.0, 0.7) + (dwell_hours(self.rng, 48, 0.4) if stalled else timedelta())
        self.carrier = self.p.waybill(self.plan.draft)
        actor = self.wh_user() if self.rng.random() < 0.85 else self.rng.choice(self.p.logistics)
        self.move(S.LABEL_PRINTED, actor, dwell, details=self.waybill_details())

    def cancel(self, median: timedelta, *, reason: str = "") -> None:
        sales = self.owner if self.owner is not None and Role.SALES in self.owner.role_names else None
        actor = sales if sales is not None and self.rng.random() < 0.4 else self.rng.choice(self.p.cs)
        self.move(
            S.CANCELLED,
            actor,
            dwell_hours(self.rng, median.total_seconds() / 3600),
            reason=reason or self.rng.choice(CANCEL_REASONS),
        )

    def _deliver(self) -> None:
        """Transit, sometimes an exception (stalled tracking or a carrier problem), then signed for."""
        rng, system = self.rng, self.p.md.system
        near = regions.NEAREST_WAREHOUSE.get(self.plan.draft.province) == self.warehouse
        transit = dwell_hours(rng, 30 if near else 60, 0.4)
        if self.target == S.EXCEPTION or self.chance(0.07):
            if rng.random() < 0.7:
                self.move(
                    S.EXCEPTION,
                    system,
                    dwell_hours(rng, 30, 0.3),
                    human=False,
                    reason="超过24小时无物流轨迹",
                    details={"monitor": "stall", "hours": 24},
                )
            else:
                self.move(
                    S.EXCEPTION,
                    rng.choice(self.p.logistics),
                    dwell_hours(rng, 20, 0.5),
                    reason=rng.choice(EXCEPTION_REASONS),
                    details={"source": "carrier"},
                )
            if self.target == S.EXCEPTION:
                return
            r = rng.random()
            if r < 0.55:
                self.move(
                    S.SHIPPED,
                    rng.choice(self.p.logistics),
                    dwell_hours(rng, 6, 0.8),
                    reason="已联系快递公司，恢复派送",
                )
                transit = dwell_hours(rng, 30, 0.5)
            else:
                closer = rng.choice([*self.p.logistics, *self.p.cs])
                self.move(
                    S.COMPLETED,
                    closer,
                    dwell_hours(rng, 20 if r < 0.85 else 150, 0.6),
                    reason=rng.choice(CLOSE_REASONS),
                )
                return
        if rng.random() < 0.85:
            self.move(
                S.COMPLETED,
                system,
                transit,
                human=False,
                details={"event": "快递签收", "signed_by": rng.choice(SIGNERS)},
            )
        else:
            self.move(S.COMPLETED, rng.choice(self.p.cs), transit, reason="客户电话确认收货")
