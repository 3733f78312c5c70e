"""Receipts and counts change on-hand through the service, each with a ledger row."""

from __future__ import annotations

import pytest

from orderhub.accounts.roles import Role
from orderhub.core.errors import ValidationFailed
from orderhub.inventory.models import Reservation, Stock, StockMovement, Warehouse
from orderhub.inventory.services import ReserveLine, stock_adjust, stock_reserve


@pytest.fixture
def wh(db) -> Warehouse:
    return Warehouse.objects.create(code="HZ", name="杭州仓", province="浙江省")


def test_receipt_then_count(wh, skus, staff) -> None:
    user = staff[Role.WAREHOUSE]
    stock_adjust(warehouse=wh, sku=skus["BP-2231"], kind="receipt", quantity=40, actor=user, note="采购入库")
    stock_adjust(warehouse=wh, sku=skus["BP-2231"], kind="receipt", quantity=10, actor=user)
    adj = stock_adjust(
        warehouse=wh, sku=skus["BP-2231"], kind="count", quantity=47, actor=user, note="月末盘点"
    )
    stock = Stock.objects.get(warehouse=wh, sku=skus["BP-2231"])
    assert stock.on_hand == 47
    assert list(
        StockMovement.objects.filter(stock=stock).order_by("pk").values_list("kind", "on_hand_delta")
    ) == [
        ("receipt", 40),
        ("receipt", 10),
        ("count", -3),
    ]
    assert adj.movement.actor == user and adj.movement.note == "月末盘点"


def test_count_below_reserved_is_refused(wh, skus, staff, make_order) -> None:
    user = staff[Role.WAREHOUSE]
    stock_adjust(warehouse=wh, sku=skus["BP-2231"], kind="receipt", quantity=30, actor=user)
    stock = Stock.objects.get(warehouse=wh)
    order = make_order()
    from django.db import transaction

    with transaction.atomic():
        stock_reserve(order=order, lines=[ReserveLine(stock.pk, 20, "BP-2231")], actor=user)
    with pytest.raises(ValidationFailed, match="盘点数 10 少于已占用 20"):
        stock_adjust(warehouse=wh, sku=skus["BP-2231"], kind="count", quantity=10, actor=user)
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (30, 20)
    assert Reservation.objects.filter(order=order).count() == 1


def test_reserve_lists_every_shortfall_and_reserves_nothing(wh, skus, staff, make_order) -> None:
    from django.db import transaction

    from orderhub.inventory.services import InsufficientStock

    user = staff[Role.WAREHOUSE]
    stock_adjust(warehouse=wh, sku=skus["BP-2231"], kind="receipt", quantity=5, actor=user)
    stock_adjust(warehouse=wh, sku=skus["OF-1102"], kind="receipt", quantity=1, actor=user)
    a = Stock.objects.get(sku=skus["BP-2231"])
    b = Stock.objects.get(sku=skus["OF-1102"])
    order = make_order()
    with transaction.atomic(), pytest.raises(InsufficientStock) as err:
        stock_reserve(
            order=order,
            lines=[ReserveLine(a.pk, 6, "BP-2231"), ReserveLine(b.pk, 2, "OF-1102")],
            actor=user,
        )
    assert "BP-2231 需 6，可用 5" in err.value.message and "OF-1102 需 2，可用 1" in err.value.message
    assert Stock.objects.filter(reserved__gt=0).count() == 0
