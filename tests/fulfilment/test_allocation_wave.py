"""Allocation waves (分仓波次): the next N orders allocated together, each as one allocation would."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orderhub.accounts.roles import Role
from orderhub.core.errors import PermissionDenied
from orderhub.fulfilment.allocation import allocation_queue, order_allocate, orders_allocate
from orderhub.fulfilment.models import ProvincePreference
from orderhub.inventory.models import Reservation, Stock, StockMovement
from orderhub.orders.audit import audit_verify
from orderhub.orders.models import HoldReason, OperationLog, Order, OrderLine
from orderhub.orders.services import LineDraft, order_transition
from orderhub.orders.states import OrderStatus


def _last_transition(order: Order) -> OperationLog:
    return OperationLog.objects.filter(order=order, action="transition").order_by("-seq").first()


def test_a_wave_allocates_each_order_as_one_allocation_would(approved, warehouses, skus, stock_in) -> None:
    # Given 50 brake pads in Hangzhou and 100 in Guangzhou, 浙江 receivers preferring Hangzhou,
    # and three orders of 20 waiting in 已拆单
    stock_in(warehouses["HZ"], skus["BP-2231"], 50)
    stock_in(warehouses["GZ"], skus["BP-2231"], 100)
    ProvincePreference.objects.create(province="浙江省", warehouse=warehouses["HZ"], rank=1)
    first, second, third = approved(), approved(), approved()

    # When the next wave is allocated
    wave = orders_allocate(limit=10)

    # Then Hangzhou ships the first two; the third sees only 10 left there and goes to Guangzhou
    assert [r.order.pk for r in wave.allocated] == [first.pk, second.pk, third.pk]
    assert [r.warehouse.code for r in wave.allocated] == ["HZ", "HZ", "GZ"]
    assert not wave.held and not wave.skipped
    hz = Stock.objects.get(warehouse=warehouses["HZ"])
    gz = Stock.objects.get(warehouse=warehouses["GZ"])
    assert (hz.on_hand, hz.reserved, gz.on_hand, gz.reserved) == (50, 40, 100, 20)
    for order, wh in ((first, "HZ"), (second, "HZ"), (third, "GZ")):
        order.refresh_from_db()
        assert order.status == OrderStatus.ALLOCATING and order.warehouse.code == wh
        assert Reservation.objects.get(order=order).quantity == 20
        assert StockMovement.objects.get(order=order, kind="reserve").reserved_delta == 20
    # And each order's timeline says why, exactly as a single allocation records it
    why = _last_transition(third).details["allocation"]
    assert _last_transition(third).automatic and _last_transition(third).reason == "分配至 广州仓"
    assert why["warehouse"] == "GZ" and why["strategies"] == ["region", "stock_first", "priority"]
    assert [r["warehouse"] for r in why["ranking"]] == ["GZ"]  # HZ no longer covers 20
    assert why["needs"] == {"BP-2231": 20}
    assert audit_verify().ok


def test_the_same_decision_as_a_single_allocation(approved, warehouses, skus, stock_in) -> None:
    for wh in warehouses.values():
        stock_in(wh, skus["BP-2231"], 50)
    ProvincePreference.objects.create(province="浙江省", warehouse=warehouses["CD"], rank=1)
    alone, in_wave = approved(), approved()
    single = order_allocate(order_id=alone.pk)
    [waved] = orders_allocate(order_ids=[in_wave.pk]).allocated
    assert waved.warehouse == single.warehouse == warehouses["CD"]
    assert {k: v for k, v in waved.details.items() if k != "ranking"} == {
        k: v for k, v in single.details.items() if k != "ranking"
    }
    # CD had 50 for the single one and 30 for the wave's: only stock_first's key differs
    assert [r["key"] for r in single.details["ranking"]] == [[1, -50, 30], [500, -50, 10], [1000, -50, 20]]
    assert [r["key"] for r in waved.details["ranking"]] == [[1, -30, 30], [500, -50, 10], [1000, -50, 20]]


def test_scarce_stock_goes_to_the_most_urgent_order_and_the_rest_are_held(
    approved, warehouses, skus, stock_in
) -> None:
    # Given 25 units for two orders of 20, the later one urgent
    stock_in(warehouses["HZ"], skus["BP-2231"], 25)
    ordinary = approved()
    urgent = approved(priority=5)

    wave = orders_allocate(order_ids=[ordinary.pk, urgent.pk])

    # Then the urgent order gets the stock; the other is back in 待审核 with the single allocation's hold
    assert [r.order.pk for r in wave.allocated] == [urgent.pk]
    [held] = wave.held
    assert held.order.pk == ordinary.pk and not held.allocated
    ordinary.refresh_from_db()
    assert ordinary.status == OrderStatus.PENDING_REVIEW
    hold = ordinary.holds.get(resolved_at=None)
    assert hold.reason == HoldReason.STOCK_CONFLICT and "BP-2231 需 20，可用 5" in hold.detail
    entry = _last_transition(ordinary)
    assert entry.transition == "reject_split" and entry.automatic
    assert entry.details["allocation"]["shortfalls"] == [
        {"sku_code": "BP-2231", "needed": 20, "available": 5}
    ]
    assert Stock.objects.get(warehouse=warehouses["HZ"]).reserved == 20
    assert not Reservation.objects.filter(order=ordinary).exists()


def test_orders_that_cannot_be_allocated_are_left_as_they_are(
    approved, make_order, warehouses, skus, stock_in, staff
) -> None:
    stock_in(warehouses["HZ"], skus["BP-2231"], 100)
    good = approved()
    waiting = make_order()  # still in 待审核
    unknown = approved()
    # Its SKU was dropped from the catalogue after approval: the line keeps only the code.
    OrderLine.objects.filter(order=unknown).update(sku=None, sku_code="NO-SUCH")

    wave = orders_allocate(order_ids=[good.pk, waiting.pk, unknown.pk, 999_999], actor=staff[Role.WAREHOUSE])

    assert [r.order.pk for r in wave.allocated] == [good.pk]
    skipped = {order_id: e for order_id, e in wave.skipped}
    assert set(skipped) == {waiting.pk, unknown.pk, 999_999}
    assert "不在「已拆单」状态" in skipped[waiting.pk].message
    assert "订单含未知商品：NO-SUCH" in skipped[unknown.pk].message
    assert skipped[999_999].code == "not_found"
    for order, status in ((waiting, OrderStatus.PENDING_REVIEW), (unknown, OrderStatus.SPLIT)):
        order.refresh_from_db()
        assert order.status == status and not order.holds.exists()
    assert not _last_transition(good).automatic and _last_transition(good).actor == staff[Role.WAREHOUSE]


def test_the_next_wave_takes_the_longest_waiting_and_leaves_the_rest(
    approved, warehouses, skus, stock_in
) -> None:
    stock_in(warehouses["HZ"], skus["BP-2231"], 1000)
    orders = [approved() for _ in range(5)]
    assert allocation_queue(limit=3) == [o.pk for o in orders[:3]]

    wave = orders_allocate(limit=3, chunk=2)  # two transactions: 2 + 1

    assert [r.order.pk for r in wave.allocated] == [o.pk for o in orders[:3]]
    assert allocation_queue(limit=10) == [o.pk for o in orders[3:]]
    assert Order.objects.filter(status=OrderStatus.SPLIT).count() == 2


def test_a_parent_follows_its_parts_allocated_in_one_wave(
    make_order, warehouses, skus, stock_in, staff
) -> None:
    from orderhub.fulfilment.split import order_split

    for sku in skus.values():
        stock_in(warehouses["HZ"], sku, 10)
    order = make_order(lines=[LineDraft("BP-2231", 1, Decimal(1)), LineDraft("HL-8810", 1, Decimal(1))])
    order_transition(order_id=order.pk, to=OrderStatus.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    parts = order_split(order_id=order.pk, actor=staff[Role.CUSTOMER_SERVICE]).parts
    assert len(parts) == 2  # the lamp is fragile: it ships apart
    assert set(allocation_queue(limit=10)) == {p.pk for p in parts}  # never the parent itself

    wave = orders_allocate(order_ids=[order.pk, *(p.pk for p in parts)])

    assert {r.order.pk for r in wave.allocated} == {p.pk for p in parts}
    assert [(i, e.message) for i, e in wave.skipped] == [(order.pk, "母单按子单分仓")]
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATING and order.warehouse == warehouses["HZ"]


def test_a_role_that_may_not_allocate_is_refused_before_anything_changes(
    approved, warehouses, skus, stock_in, staff
) -> None:
    stock_in(warehouses["HZ"], skus["BP-2231"], 100)
    order = approved()
    with pytest.raises(PermissionDenied):
        orders_allocate(order_ids=[order.pk], actor=staff[Role.FINANCE])
    order.refresh_from_db()
    assert order.status == OrderStatus.SPLIT and Stock.objects.get().reserved == 0


def test_a_waves_statements_do_not_grow_with_its_orders(approved, warehouses, skus, stock_in) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .test_query_budget import THREE_LINES, _ours

    for sku in skus.values():
        stock_in(warehouses["HZ"], sku, 1000)
    orders_allocate(order_ids=[approved().pk])  # the rule tables are now cached, as in a running process
    counts = []
    for size in (3, 9):
        ids = [approved(lines=THREE_LINES).pk for _ in range(size)]
        with CaptureQueriesContext(connection) as ctx:
            assert len(orders_allocate(order_ids=ids).allocated) == size
        counts.append((len(ctx.captured_queries), len(_ours(ctx))))
    # All statements, and fulfilment's and inventory's own: lock the stock rows, one UPDATE for
    # every counter, ledger rows, reservations
    assert counts[0] == counts[1] and counts[0][1] == 4, counts


def test_the_next_wave_passes_over_an_order_it_cannot_allocate_once(
    approved, warehouses, skus, stock_in
) -> None:
    stock_in(warehouses["HZ"], skus["BP-2231"], 1000)
    stuck, *rest = [approved() for _ in range(3)]
    OrderLine.objects.filter(order=stuck).update(sku=None, sku_code="NO-SUCH")

    wave = orders_allocate(limit=3, chunk=1)  # one order per transaction

    assert [r.order.pk for r in wave.allocated] == [o.pk for o in rest]
    assert [order_id for order_id, _e in wave.skipped] == [stuck.pk]  # reported once, not retaken
    assert allocation_queue(limit=10) == [stuck.pk]
