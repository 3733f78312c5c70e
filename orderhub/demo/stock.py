"""Stock of the demo warehouses, consistent with the replayed history.

Every SKU is stocked in every warehouse with a bin location. Orders that left a warehouse consumed
their units, orders being allocated or labelled hold reservations, and the ledger has a row for
every change, so counters reconcile with StockMovement as the inventory app requires.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models

from orderhub.demo import company
from orderhub.demo.masterdata import MasterData, SkuInfo
from orderhub.demo.plan import OrderPlan, S
from orderhub.inventory.models import Reservation, Stock, StockMovement, StockMovementKind

SHIPPED_STATES = frozenset({S.SHIPPED, S.EXCEPTION, S.COMPLETED})
RESERVED_STATES = frozenset({S.ALLOCATING, S.LABEL_PRINTED})


def backdate(model: type[models.Model], column: str, values: Iterable[tuple[int, Any]]) -> None:
    """Set a timestamp that `auto_now_add` filled in with today's date to when it really happened.

    One executemany: the demo back-fills tens of thousands of rows.
    """
    ops = connection.ops
    field = model._meta.get_field(column)
    rows = [(ops.adapt_datetimefield_value(at), pk) for pk, at in values]
    if not rows:
        return
    sql = (
        f"UPDATE {ops.quote_name(model._meta.db_table)} SET {ops.quote_name(field.column)} = %s "  # noqa: S608
        f"WHERE {ops.quote_name(model._meta.pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _zone(info: SkuInfo) -> str:
    cat = info.category
    if cat.oversize:
        return "X"  # floor storage for oversize items
    if cat.fragile:
        return "F"
    if cat.liquid:
        return "L"
    return "A" if cat.popularity >= 8 else "B"


def _moved_at(plan: OrderPlan, to: str, *, last: bool) -> datetime:
    times = [s.at for s in plan.steps if s.kind == "move" and s.to == to]
    return times[-1] if last else times[0]


def stock_create(rng: random.Random, md: MasterData, plans: list[OrderPlan], now: datetime) -> None:
    shipped: Counter[tuple[str, str]] = Counter()
    reserved: Counter[tuple[str, str]] = Counter()
    for plan in plans:
        if plan.warehouse is None or plan.final not in SHIPPED_STATES | RESERVED_STATES:
            continue
        counter = shipped if plan.final in SHIPPED_STATES else reserved
        for line in plan.draft.lines:
            counter[(plan.warehouse, line.sku_code)] += line.quantity
    stocks: dict[tuple[str, str], Stock] = {}
    for wh_code, warehouse in md.warehouses.items():
        slots: Counter[str] = Counter()
        for info in md.skus:
            zone = _zone(info)
            slots[zone] += 1
            n = slots[zone] - 1
            low = rng.random() < 0.04  # a few SKUs are (nearly) sold out: allocation rejections happen
            available = rng.randint(0, 3) if low else info.sku.pack_size * rng.randint(2, 24)
            key = (wh_code, info.sku.code)
            stocks[key] = Stock(
                warehouse=warehouse,
                sku=info.sku,
                on_hand=available + reserved[key],
                reserved=reserved[key],
                bin_location=f"{zone}{n // 48 + 1:02d}-{n // 8 % 6 + 1:02d}-{n % 8 + 1:02d}",
            )
    Stock.objects.bulk_create(stocks.values(), batch_size=500)
    _ledger(md, plans, stocks, shipped, now)


def _ledger(
    md: MasterData,
    plans: list[OrderPlan],
    stocks: dict[tuple[str, str], Stock],
    shipped: Counter[tuple[str, str]],
    now: datetime,
) -> None:
    opening = now - timedelta(days=91)
    movements: list[tuple[StockMovement, datetime]] = [
        (
            StockMovement(
                stock=stock,
                kind=StockMovementKind.RECEIPT,
                on_hand_delta=stock.on_hand + shipped[key],
                note="期初入库",
            ),
            opening,
        )
        for key, stock in stocks.items()
    ]
    reservations: list[tuple[Reservation, datetime]] = []
    wh_staff = {code: md.users[username] for code, username in company.WAREHOUSE_STAFF.items()}
    for plan in plans:
        if plan.warehouse is None or plan.final not in SHIPPED_STATES | RESERVED_STATES:
            continue
        allocated = _moved_at(plan, S.ALLOCATING, last=True)
        done = plan.final in SHIPPED_STATES
        actor = wh_staff[plan.warehouse]
        for line in plan.draft.lines:
            stock, qty = stocks[(plan.warehouse, line.sku_code)], line.quantity
            status = Reservation.Status.CONSUMED if done else Reservation.Status.ACTIVE
            reservations.append(
                (Reservation(order_id=plan.order_id, stock=stock, quantity=qty, status=status), allocated)
            )
            movements.append(
                (
                    StockMovement(
                        stock=stock,
                        kind=StockMovementKind.RESERVE,
                        reserved_delta=qty,
                        order_id=plan.order_id,
                        actor=md.system,
                    ),
                    allocated,
                )
            )
            if done:
                movements.append(
                    (
                        StockMovement(
                            stock=stock,
                            kind=StockMovementKind.SHIP,
                            on_hand_delta=-qty,
                            reserved_delta=-qty,
                            order_id=plan.order_id,
                            actor=actor,
                        ),
                        _moved_at(plan, S.SHIPPED, last=False),
                    )
                )
    Reservation.objects.bulk_create([r for r, _at in reservations], batch_size=1000)
    StockMovement.objects.bulk_create([m for m, _at in movements], batch_size=1000)
    backdate(Reservation, "created_at", ((r.pk, at) for r, at in reservations))
    backdate(StockMovement, "created_at", ((m.pk, at) for m, at in movements))
