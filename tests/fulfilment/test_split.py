"""Split (拆单): fragile apart, by warehouse availability, by parcel weight, by hand; parent aggregates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orderhub.accounts.roles import Role
from orderhub.core.errors import ValidationFailed
from orderhub.fulfilment.allocation import order_allocate
from orderhub.fulfilment.models import SplitRule
from orderhub.fulfilment.split import order_split, order_split_manual
from orderhub.orders.audit import audit_verify
from orderhub.orders.models import OperationLog, Order
from orderhub.orders.services import LineDraft, order_transition
from orderhub.orders.states import OrderStatus

THREE = [
    LineDraft("BP-2231", 2, Decimal("88.00")),
    LineDraft("OF-1102", 4, Decimal("35.00")),
    LineDraft("HL-8810", 1, Decimal("680.00")),
]


def _lines(order: Order) -> dict[str, int]:
    return dict(order.lines.values_list("sku_code", "quantity"))


def test_no_split_needed_keeps_one_card(approved, warehouses, skus, stock_in) -> None:
    for sku in skus.values():
        stock_in(warehouses["HZ"], sku, 50)
    order = approved(lines=THREE[:2])
    result = order_split(order_id=order.pk)
    assert result.parts == [] and not Order.objects.filter(parent=order).exists()


def test_fragile_goes_apart_and_parts_are_numbered(approved, warehouses, skus, stock_in) -> None:
    for sku in skus.values():
        stock_in(warehouses["HZ"], sku, 50)
    order = approved(lines=THREE)
    result = order_split(order_id=order.pk)
    nos = [p.order_no for p in result.parts]
    assert nos == [f"{order.order_no}-1", f"{order.order_no}-2"]
    one, two = result.parts
    assert _lines(one) == {"BP-2231": 2, "OF-1102": 4} and _lines(two) == {"HL-8810": 1}
    assert two.goods_amount == Decimal("680.00") and one.parent == order and two.part_no == 2
    create = OperationLog.objects.get(order=two, action="create")
    assert create.automatic and "易碎分开" in create.reason
    parent_entry = OperationLog.objects.filter(order=order, action="edit").get()
    assert (
        "拆为 2 个子单" in parent_entry.reason and parent_entry.details["split"]["rules"][0] == "by_handling"
    )
    assert audit_verify().ok


def test_split_by_warehouse_availability(approved, warehouses, skus, stock_in) -> None:
    SplitRule.objects.create(position=1, kind="by_warehouse")
    stock_in(warehouses["HZ"], skus["BP-2231"], 10)
    stock_in(warehouses["GZ"], skus["OF-1102"], 10)
    stock_in(warehouses["GZ"], skus["HL-8810"], 10)
    order = approved(lines=THREE)
    parts = order_split(order_id=order.pk).parts
    assert [_lines(p) for p in parts] == [{"OF-1102": 4, "HL-8810": 1}, {"BP-2231": 2}]
    # Each part then allocates to the warehouse that has it.
    assert [order_allocate(order_id=p.pk).warehouse.code for p in parts] == ["GZ", "HZ"]


def test_split_by_max_parcel_weight(approved, warehouses, skus, stock_in) -> None:
    SplitRule.objects.create(position=1, kind="max_weight", params={"max_kg": 5})
    order = approved(lines=[LineDraft("BP-2231", 5, Decimal("88.00"))])  # 5 × 1.8 kg = 9 kg
    parts = order_split(order_id=order.pk).parts
    assert [_lines(p)["BP-2231"] for p in parts] == [2, 2, 1]
    assert "超过单包 5.0 kg" in OperationLog.objects.get(order=parts[0], action="create").reason


def test_manual_split_must_add_up(approved, staff) -> None:
    order = approved(lines=THREE)
    with pytest.raises(ValidationFailed, match="OF-1102 拆分数量合计 3，应为 4"):
        order_split_manual(
            order_id=order.pk, parts=[{1: 2, 2: 1}, {2: 2, 3: 1}], actor=staff[Role.CUSTOMER_SERVICE]
        )
    result = order_split_manual(
        order_id=order.pk, parts=[{1: 1, 2: 4}, {1: 1, 3: 1}], actor=staff[Role.CUSTOMER_SERVICE]
    )
    assert [_lines(p) for p in result.parts] == [{"BP-2231": 1, "OF-1102": 4}, {"BP-2231": 1, "HL-8810": 1}]
    assert not OperationLog.objects.get(order=result.parts[0], action="create").automatic


def test_parent_shows_the_aggregate_of_its_parts(approved, warehouses, skus, stock_in, staff) -> None:
    for sku in skus.values():
        stock_in(warehouses["HZ"], sku, 50)
    order = approved(lines=THREE)
    one, two = order_split(order_id=order.pk).parts
    wh = staff[Role.WAREHOUSE]
    order_allocate(order_id=one.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.SPLIT  # part 2 not allocated yet
    order_allocate(order_id=two.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATING and order.warehouse == warehouses["HZ"]
    for part in (one, two):
        order_transition(order_id=part.pk, to=OrderStatus.LABEL_PRINTED, actor=wh)
    order_transition(order_id=one.pk, to=OrderStatus.SHIPPED, actor=wh)
    order.refresh_from_db()
    assert order.status == OrderStatus.LABEL_PRINTED
    order_transition(order_id=two.pk, to=OrderStatus.SHIPPED, actor=wh)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    last = OperationLog.objects.filter(order=order).order_by("-seq").first()
    assert last.automatic and last.details["parts"] == {one.order_no: "shipped", two.order_no: "shipped"}


def test_cancelling_the_parent_cancels_its_parts_and_releases_stock(
    approved, warehouses, skus, stock_in, staff
) -> None:
    from orderhub.inventory.models import Stock

    for sku in skus.values():
        stock_in(warehouses["HZ"], sku, 50)
    order = approved(lines=THREE)
    parts = order_split(order_id=order.pk).parts
    for p in parts:
        order_allocate(order_id=p.pk)
    assert Stock.objects.filter(reserved__gt=0).count() == 3
    order_transition(
        order_id=order.pk, to=OrderStatus.CANCELLED, actor=staff[Role.CUSTOMER_SERVICE], reason="客户取消"
    )
    assert list(Order.objects.filter(parent=order).values_list("status", flat=True)) == [
        "cancelled",
        "cancelled",
    ]
    assert Stock.objects.filter(reserved__gt=0).count() == 0
    entry = OperationLog.objects.filter(order=parts[0]).order_by("-seq").first()
    assert entry.automatic and entry.reason == "母单取消：客户取消"
