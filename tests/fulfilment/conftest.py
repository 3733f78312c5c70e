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


@pytest.fixture
def carrier_table(db: Any) -> dict[str, Any]:
    """The issue's carrier strategy: 江浙沪 → 中通, 新疆/西藏 → EMS, VIP → 顺丰, > 20 kg → 德邦, else 韵达."""
    from orderhub.fulfilment.models import Carrier, CarrierRule

    rows = [
        ("ZTO", "中通快递", "ZTO", "ZTO", "115", "7", 100_000_000_000),
        ("EMS", "邮政EMS", "EMS", "EMS", "118", "1", 100_000_000_000),
        ("SF", "顺丰速运", "SF", "SF", "44", "SF", 100_000_000_000),
        ("DBL", "德邦快递", "DBKD", "DBL", "131", "DPK", 100_000_000_000),
        ("YUNDA", "韵达快递", "YUNDA", "YUNDA", "121", "43", 100_000_000_000),
    ]
    carriers = {
        code: Carrier.objects.create(
            code=code,
            name=name,
            cp_code=cp,
            taobao_code=tb,
            pdd_logistics_id=pdd,
            number_prefix=prefix,
            range_start=start,
            next_number=start,
            range_end=start * 10 - 1,
        )
        for code, name, cp, tb, pdd, prefix, start in rows
    }
    CarrierRule.objects.create(
        position=1, name="江浙沪走中通", provinces="浙江省、江苏省、上海市", carrier=carriers["ZTO"]
    )
    CarrierRule.objects.create(
        position=2, name="新疆西藏走邮政", provinces="新疆、西藏", carrier=carriers["EMS"]
    )
    CarrierRule.objects.create(position=3, name="VIP走顺丰", customer_tiers="vip", carrier=carriers["SF"])
    CarrierRule.objects.create(position=4, name="大件走德邦", min_weight_kg=20, carrier=carriers["DBL"])
    CarrierRule.objects.create(position=9, name="默认韵达", carrier=carriers["YUNDA"])
    return carriers


@pytest.fixture
def allocated(approved: Callable[..., Order], warehouses, skus, stock_in) -> Callable[..., Order]:
    """An order in 分仓中 with stock reserved in Hangzhou."""
    from orderhub.fulfilment.allocation import order_allocate

    for sku in skus.values():
        stock_in(warehouses["HZ"], sku, 1000, bin_location=f"A-{sku.code[:2]}")
    Warehouse.objects.filter(pk=warehouses["HZ"].pk).update(
        contact_name="杭州仓发货组",
        contact_phone="0571-88886666",
        city="杭州市",
        district="余杭区",
        address="文一西路969号",
    )

    def make(**kw: Any) -> Order:
        order = approved(**kw)
        result = order_allocate(order_id=order.pk)
        assert result.allocated, result.details
        return result.order

    return make


@pytest.fixture(autouse=True)
def _rule_cache_cleared() -> None:
    """Rule tables are cached per process; a rolled-back test must not leak its rows."""
    from orderhub.fulfilment.config import cache_clear

    cache_clear()
