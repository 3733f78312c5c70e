"""Allocation (分仓): strategies pick the warehouse, stock is reserved, shortfalls hold the order."""

from __future__ import annotations

from decimal import Decimal

from orderhub.accounts.roles import Role
from orderhub.fulfilment.allocation import order_allocate
from orderhub.fulfilment.models import AllocationPolicy, AllocationStep, ProvincePreference
from orderhub.inventory.models import Reservation, Stock, StockMovement
from orderhub.orders.models import HoldReason, OperationLog, Order
from orderhub.orders.services import LineDraft, order_transition
from orderhub.orders.states import OrderStatus


def _last_transition(order: Order) -> OperationLog:
    return OperationLog.objects.filter(order=order, action="transition").order_by("-seq").first()


def test_region_preference_picks_the_nearby_warehouse_and_reserves(
    approved, warehouses, skus, stock_in
) -> None:
    # Given stock in all three warehouses and 浙江 receivers preferring Hangzhou
    for wh in warehouses.values():
        stock_in(wh, skus["BP-2231"], 50)
    ProvincePreference.objects.create(province="浙江省", warehouse=warehouses["HZ"], rank=1)
    order = approved()

    # When the order is allocated automatically
    result = order_allocate(order_id=order.pk)

    # Then it ships from Hangzhou, 20 units are reserved there, and the log says why
    assert result.allocated and result.warehouse == warehouses["HZ"]
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATING and order.warehouse == warehouses["HZ"]
    stock = Stock.objects.get(warehouse=warehouses["HZ"], sku=skus["BP-2231"])
    assert (stock.on_hand, stock.reserved) == (50, 20)
    assert Reservation.objects.get(order=order).quantity == 20
    assert StockMovement.objects.filter(order=order, kind="reserve", reserved_delta=20).count() == 1
    entry = _last_transition(order)
    assert entry.automatic and entry.actor.username == "system"
    why = entry.details["allocation"]
    assert why["warehouse"] == "HZ" and why["strategies"] == ["region", "stock_first", "priority"]
    assert why["ranking"][0] == {"warehouse": "HZ", "covers": True, "key": [1, -50, 10]}


def test_policy_stock_first_then_priority(approved, warehouses, skus, stock_in) -> None:
    stock_in(warehouses["HZ"], skus["BP-2231"], 30)
    stock_in(warehouses["CD"], skus["BP-2231"], 90)
    policy = AllocationPolicy.objects.create(name="库存优先")
    AllocationStep.objects.create(policy=policy, position=1, strategy="stock_first")
    AllocationStep.objects.create(policy=policy, position=2, strategy="priority")
    result = order_allocate(order_id=approved().pk)
    assert result.warehouse == warehouses["CD"]
    assert result.details["policy"] == "库存优先"
    assert [r["warehouse"] for r in result.details["ranking"]] == ["CD", "HZ"]


def test_only_a_warehouse_that_ships_every_line_is_chosen(approved, warehouses, skus, stock_in) -> None:
    stock_in(warehouses["HZ"], skus["BP-2231"], 100)
    stock_in(warehouses["GZ"], skus["BP-2231"], 5)
    stock_in(warehouses["GZ"], skus["OF-1102"], 5)
    stock_in(warehouses["CD"], skus["BP-2231"], 5)
    stock_in(warehouses["CD"], skus["OF-1102"], 5)
    order = approved(lines=[LineDraft("BP-2231", 2, Decimal(1)), LineDraft("OF-1102", 2, Decimal(1))])
    result = order_allocate(order_id=order.pk)
    assert result.warehouse == warehouses["GZ"]  # HZ has no filters; GZ beats CD on priority


def test_shortfall_holds_the_order_naming_every_missing_sku(approved, warehouses, skus, stock_in) -> None:
    stock_in(warehouses["HZ"], skus["BP-2231"], 3)
    order = approved(lines=[LineDraft("BP-2231", 5, Decimal(1)), LineDraft("HL-8810", 1, Decimal(1))])
    result = order_allocate(order_id=order.pk)
    assert not result.allocated
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_REVIEW
    hold = order.holds.get(resolved_at=None)
    assert hold.reason == HoldReason.STOCK_CONFLICT
    assert "BP-2231 需 5，可用 3" in hold.detail and "HL-8810 需 1，可用 0" in hold.detail
    entry = _last_transition(order)
    assert entry.transition == "reject_split" and entry.automatic
    assert {s["sku_code"] for s in entry.details["allocation"]["shortfalls"]} == {"BP-2231", "HL-8810"}
    assert Stock.objects.get(sku=skus["BP-2231"]).reserved == 0
    assert not Reservation.objects.filter(order=order).exists()


def test_cancel_releases_and_ship_consumes(approved, warehouses, skus, stock_in, staff) -> None:
    stock_in(warehouses["HZ"], skus["BP-2231"], 50)
    a, b = approved(), approved()
    order_allocate(order_id=a.pk)
    order_allocate(order_id=b.pk)
    stock = Stock.objects.get(warehouse=warehouses["HZ"])
    assert (stock.on_hand, stock.reserved) == (50, 40)

    order_transition(
        order_id=a.pk, to=OrderStatus.CANCELLED, actor=staff[Role.CUSTOMER_SERVICE], reason="客户取消"
    )
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (50, 20)
    assert Reservation.objects.get(order=a).status == "released"

    wh = staff[Role.WAREHOUSE]
    order_transition(order_id=b.pk, to=OrderStatus.LABEL_PRINTED, actor=wh)
    order_transition(order_id=b.pk, to=OrderStatus.SHIPPED, actor=wh)
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (30, 0)
    assert Reservation.objects.get(order=b).status == "consumed"
    # The ledger reconciles with the counters.
    moves = StockMovement.objects.filter(stock=stock)
    assert sum(m.on_hand_delta for m in moves) == 30 and sum(m.reserved_delta for m in moves) == 0


def test_sending_an_allocated_order_back_releases_its_stock(
    approved, warehouses, skus, stock_in, staff
) -> None:
    stock_in(warehouses["HZ"], skus["BP-2231"], 50)
    order = approved()
    order_allocate(order_id=order.pk)
    order_transition(
        order_id=order.pk, to=OrderStatus.PENDING_REVIEW, actor=staff[Role.WAREHOUSE], reason="货损"
    )
    assert Stock.objects.get(warehouse=warehouses["HZ"]).reserved == 0


def test_forced_warehouse_by_a_manager(approved, warehouses, skus, stock_in, staff) -> None:
    for wh in warehouses.values():
        stock_in(wh, skus["BP-2231"], 50)
    result = order_allocate(
        order_id=approved().pk, actor=staff[Role.MANAGER], warehouse_id=warehouses["CD"].pk
    )
    assert result.warehouse == warehouses["CD"]
    entry = _last_transition(result.order)
    assert not entry.automatic and entry.actor == staff[Role.MANAGER]


def test_a_forced_warehouse_without_stock_is_refused_and_nothing_changes(
    approved, warehouses, skus, stock_in, staff
) -> None:
    import pytest

    from orderhub.inventory.services import InsufficientStock

    stock_in(warehouses["HZ"], skus["BP-2231"], 50)
    order = approved()
    with pytest.raises(InsufficientStock, match="所选仓库库存不足：BP-2231 需 20，可用 0"):
        order_allocate(order_id=order.pk, actor=staff[Role.MANAGER], warehouse_id=warehouses["GZ"].pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.SPLIT and not order.holds.exists()


def test_a_warehouse_clerk_allocating_without_stock_gets_the_hold_recorded_by_the_rule(
    approved, warehouses, skus, stock_in, staff
) -> None:
    # A clerk may allocate but not hold orders by hand: the stock-conflict hold is the rule's own
    order = approved()
    result = order_allocate(order_id=order.pk, actor=staff[Role.WAREHOUSE])
    assert not result.allocated
    hold = order.holds.get(resolved_at=None)
    assert hold.reason == HoldReason.STOCK_CONFLICT and hold.created_by.username == "system"
    entry = _last_transition(order)
    assert entry.transition == "reject_split" and entry.actor == staff[Role.WAREHOUSE]
