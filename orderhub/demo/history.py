"""The demo's order history: plan every order, then replay the plans through the order services.

Each order is created with `order_create(now=…)` and moved with `order_transition(now=…,
notify=False)`; the events of all orders are replayed in time order, so the operation log reads
as the company's real day-to-day work would have written it.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from orderhub.demo.masterdata import MasterData
from orderhub.demo.paths import PathBuilder
from orderhub.demo.plan import ADDRESS_HOLD, SHOWCASE, OrderPlan, Planner, S, Step
from orderhub.orders.services import order_create, order_hold, order_hold_release, order_transition
from orderhub.tracking.models import Shipment
from orderhub.tracking.services import tracking_refresh

# How old a showcase order must be: a card that has sat in its state this long is overdue.
SHOWCASE_MIN_AGE: dict[str, timedelta] = {
    S.PENDING_REVIEW: timedelta(hours=0),
    ADDRESS_HOLD: timedelta(hours=0),
    S.SPLIT: timedelta(days=1),
    S.ALLOCATING: timedelta(days=2),
    S.LABEL_PRINTED: timedelta(days=3),
    S.SHIPPED: timedelta(days=6),
    S.EXCEPTION: timedelta(days=10),
    S.COMPLETED: timedelta(days=30),
    S.CANCELLED: timedelta(days=1),
}


def plan_history(rng: random.Random, md: MasterData, now: datetime, count: int) -> list[OrderPlan]:
    planner = Planner(rng, md, now)
    times = planner.ordered_times(count)
    targets = _showcase_targets(times, now)
    plans = []
    for index, at in enumerate(times):
        plan = planner.new_plan(index, at, targets.get(index))
        PathBuilder(planner, plan, target=targets.get(index)).build()
        _cut_at(plan, now)
        plans.append(plan)
    return plans


def _showcase_targets(times: list[datetime], now: datetime) -> dict[int, str]:
    """For each state, the most recent order old enough to have reached it ends there."""
    targets: dict[int, str] = {}
    for state in SHOWCASE:
        for index in range(len(times) - 1, -1, -1):
            if index not in targets and now - times[index] >= SHOWCASE_MIN_AGE[state]:
                targets[index] = state
                break
    return targets


def _cut_at(plan: OrderPlan, now: datetime) -> None:
    """Keep what happened before `now`; a hold still open then is recorded with the order itself."""
    kept = [s for s in plan.steps if s.at <= now]
    open_hold: Step | None = None
    for step in kept:
        if step.kind == "hold":
            open_hold = step
        elif step.kind == "release":
            open_hold = None
    if open_hold is not None:
        kept.remove(open_hold)
        plan.draft.holds = [(open_hold.hold, open_hold.reason)]
    plan.steps = kept
    moves = [s for s in kept if s.kind == "move"]
    plan.final = moves[-1].to if moves else S.PENDING_REVIEW
    if plan.final in (S.SHIPPED, S.EXCEPTION):
        # Still on the road at load time: tracking follows this parcel from its scan-out on.
        # Delivered parcels of the history are not re-tracked.
        ship = next(s for s in moves if s.to == S.SHIPPED)
        assert ship.details is not None
        ship.details = {**ship.details, "tracking_no": ship.details["waybill_no"]}
    allocations = [s for s in moves if s.to == S.ALLOCATING and s.details and "warehouse" in s.details]
    plan.warehouse = allocations[-1].details["warehouse"] if allocations else None  # type: ignore[index]


def _events(plans: list[OrderPlan]) -> Iterator[tuple[datetime, int, int]]:
    """(time, order index, step number) of every event, step -1 being the creation."""
    heap = [(p.created_at, p.index, -1) for p in plans]
    heapq.heapify(heap)
    while heap:
        at, index, n = heapq.heappop(heap)
        yield at, index, n
        steps = plans[index].steps
        if n + 1 < len(steps):
            heapq.heappush(heap, (steps[n + 1].at, index, n + 1))


def parcels_follow(now: datetime) -> int:
    """Ask the carrier (the simulated one in the demo) about every parcel on the road, as of `now`.

    Tracking then moves the orders whose parcels were signed for or ran into trouble meanwhile,
    and restarts the stall clocks from each parcel's last scan, so the worker's first stall scan
    flags only real stalls.
    """
    ids = list(Shipment.objects.filter(active=True).order_by("pk").values_list("pk", flat=True))
    for shipment_id in ids:
        tracking_refresh(shipment_id=shipment_id, now=now)
    return len(ids)


def replay_history(plans: list[OrderPlan]) -> None:
    """Apply every plan through the services, all orders interleaved in time order."""
    for at, index, n in _events(plans):
        plan = plans[index]
        if n < 0:
            order, created = order_create(draft=plan.draft, actor=plan.creator, now=at)
            assert created, f"demo order {plan.draft.channel_order_no} already exists"
            plan.order_id = order.pk
            continue
        step = plan.steps[n]
        assert plan.order_id is not None
        if step.kind == "hold":
            hold = order_hold(
                order_id=plan.order_id, reason=step.hold, actor=step.actor, detail=step.reason, now=at
            )
            plan.hold_id = hold.pk
        elif step.kind == "release":
            assert plan.hold_id is not None
            order_hold_release(
                order_id=plan.order_id, hold_id=plan.hold_id, actor=step.actor, resolution=step.reason, now=at
            )
        else:
            order_transition(
                order_id=plan.order_id,
                to=step.to,
                actor=step.actor,
                reason=step.reason,
                details=step.details,
                automatic=step.automatic,
                now=at,
                notify=False,
            )
