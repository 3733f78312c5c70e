"""Loading the demo company (台州恒驰汽配) into an empty database: seeded and reproducible.

`demo_load()` builds the master data, plans ~5,000 orders over the last 90 days, replays them
through the order services with back-dated times, and stocks the warehouses to match — all in
one transaction, so a load either completes or leaves nothing behind. Loading again is a no-op.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from orderhub.accounts.models import LegalEntity, User
from orderhub.catalog.models import Customer, Sku
from orderhub.core.statistics import statistics_refresh
from orderhub.demo import company
from orderhub.demo.history import parcels_follow, plan_history, replay_history
from orderhub.demo.masterdata import MasterData, create_master_data
from orderhub.demo.plan import OrderPlan, S
from orderhub.demo.stock import backdate, stock_create
from orderhub.fulfilment.models import Carrier, Waybill
from orderhub.inventory.models import Warehouse
from orderhub.notify.services import endpoints_simulated_ensure
from orderhub.orders.models import Order, OrderHold
from orderhub.orders.states import STATUS_ORDER

DEFAULT_SEED = 20241212  # 双十二
DEFAULT_ORDERS = 5000
CUSTOMERS = 327


class DemoConflict(Exception):
    """The database already holds data the demo would collide with (e.g. a user named admin)."""


@dataclass
class DemoLoadResult:
    created: bool
    seconds: float = 0.0
    orders: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def demo_exists() -> bool:
    return LegalEntity.objects.filter(code=company.MARKER_ENTITY).exists()


def demo_load(
    *,
    seed: int = DEFAULT_SEED,
    orders: int = DEFAULT_ORDERS,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoLoadResult:
    """Load the demo company once; returns at once (created=False) when it is already there.

    The same seed, order count and `now` give the same data (order numbers excepted: they are
    drawn from `secrets`, as in production).
    """
    if demo_exists():
        return DemoLoadResult(created=False, orders=Order.objects.count(), by_status=status_counts())
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    now = (now or timezone.now()).replace(microsecond=0)
    with transaction.atomic():
        if demo_exists():  # another process loaded it while we waited for the write lock
            return DemoLoadResult(created=False, orders=Order.objects.count(), by_status=status_counts())
        staff = User.objects.filter(username__in=[s[0] for s in company.STAFF])
        taken = sorted(staff.values_list("username", flat=True))
        if taken:
            raise DemoConflict(
                f"用户名已存在：{', '.join(taken)}；演示数据只能装入新数据库 / "
                "the demo loads into a fresh database only"
            )
        say("主数据：法人主体、仓库、渠道、员工、商品、客户 …")
        md = create_master_data(random.Random(f"{seed}:master"), customers=CUSTOMERS)
        # Robots and SMS go to the offline simulated provider (codes appear in the log).
        endpoints_simulated_ensure()
        say(f"规划 {orders} 个订单 …")
        plans = plan_history(random.Random(f"{seed}:orders"), md, now, orders)
        say("按时间回放订单历史（创建、审核、分仓、打单、发货、签收 …）…")
        replay_history(plans)
        _place_orders(md, plans)
        say("查询在途包裹的物流轨迹 …")
        parcels_follow(now)
        say("库存、库位与库存流水 …")
        stock_create(random.Random(f"{seed}:stock"), md, plans, now)
    statistics_refresh()  # after the transaction: the planner should know the demo's tables
    return DemoLoadResult(
        created=True, seconds=time.monotonic() - started, orders=len(plans), by_status=status_counts()
    )


def _place_orders(md: MasterData, plans: list[OrderPlan]) -> None:
    """Back-date creation times and record each allocated order's warehouse and shipping entity."""
    backdate(Order, "created_at", ((p.order_id, p.created_at) for p in plans))
    by_id = {p.order_id: p for p in plans}

    def held_at(order_id: int, reason: str) -> datetime:
        plan = by_id[order_id]
        return next((s.at for s in plan.steps if s.kind == "hold" and s.hold == reason), plan.created_at)

    holds = OrderHold.objects.values_list("pk", "order_id", "reason")
    backdate(OrderHold, "created_at", [(pk, held_at(order_id, reason)) for pk, order_id, reason in holds])
    for code, warehouse in md.warehouses.items():
        ids = [p.order_id for p in plans if p.warehouse == code]
        for start in range(0, len(ids), 500):
            Order.objects.filter(pk__in=ids[start : start + 500]).update(
                warehouse=warehouse, shipping_entity=warehouse.owner_entity
            )
    _live_waybills(plans)


def _live_waybills(plans: list[OrderPlan]) -> None:
    """Orders waiting to be packed hold the e-waybill printed for them (void or ship it in the demo)."""
    carriers = {c.code: c for c in Carrier.objects.all()}
    rows = []
    for plan in plans:
        if plan.final != S.LABEL_PRINTED:
            continue
        printed = [s for s in plan.steps if s.kind == "move" and s.to == S.LABEL_PRINTED][-1]
        assert printed.details is not None
        rows.append(
            Waybill(
                order_id=plan.order_id,
                carrier=carriers[printed.details["carrier"]],
                number=printed.details["waybill_no"],
                provider=Carrier.Provider.SIMULATED,
                created_at=printed.at,
            )
        )
    Waybill.objects.bulk_create(rows)


def status_counts() -> dict[str, int]:
    counts = dict(Order.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {s: counts.get(s, 0) for s in STATUS_ORDER}


def demo_summary() -> dict[str, object]:
    """What the demo holds, for the command's report and the tests."""
    return {
        "customers": Customer.objects.count(),
        "skus": Sku.objects.count(),
        "warehouses": Warehouse.objects.count(),
        "entities": LegalEntity.objects.count(),
        "orders": Order.objects.count(),
        "by_status": status_counts(),
    }
