"""Fulfilment fixtures: three warehouses (Hangzhou, Guangzhou, Chengdu) with stock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.catalog.models import Sku
from orderhub.inventory.models import Stock, StockAdjustment, Warehouse
from orderhub.inventory.services import stock_adjust
from orderhub.orders.models import Order
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus


@pytest.fixture
def warehouses(db: Any) -> dict[str, Warehouse]:
    rows = [
        ("HZ", "杭州仓", "浙江省", "330000", 10),
        ("GZ", "广州仓", "广东省", "440000", 20),
        ("CD", "成都仓", "四川省", "510000", 30),
    ]
    return {
        code: Warehouse.objects.create(code=code, name=name, province=prov, province_code=pc, priority=prio)
        for code, name, prov, pc, prio in rows
    }


@pytest.fixture
def stock_in(staff: dict[str, User]) -> Callable[..., Stock]:
    """Receive units into a warehouse through the adjustment service (with its ledger row)."""

    def put(warehouse: Warehouse, sku: Sku, quantity: int, bin_location: str = "") -> Stock:
        stock_adjust(
            warehouse=warehouse,
            sku=sku,
            kind=StockAdjustment.Kind.RECEIPT,
            quantity=quantity,
            actor=staff[Role.WAREHOUSE],
            note="期初入库",
        )
        stock = Stock.objects.get(warehouse=warehouse, sku=sku)
        if bin_location:
            Stock.objects.filter(pk=stock.pk).update(bin_location=bin_location)
            stock.bin_location = bin_location
        return stock

    return put


@pytest.fixture
def approved(make_order: Callable[..., Order], staff: dict[str, User]) -> Callable[..., Order]:
    """An order that passed review (已拆单), ready for allocation."""

    def make(**kw: Any) -> Order:
        order = make_order(**kw)
        return order_transition(order_id=order.pk, to=OrderStatus.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])

    return make
