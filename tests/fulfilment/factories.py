"""Fulfilment objects built through the services, for tests outside this package (the OpenAPI test)."""

from __future__ import annotations

from dataclasses import dataclass

from orderhub.accounts.models import User
from orderhub.catalog.models import Sku
from orderhub.fulfilment.allocation import order_allocate
from orderhub.fulfilment.labels import wave_create
from orderhub.fulfilment.models import Carrier, CarrierRule, Wave
from orderhub.fulfilment.waybills import waybills_issue
from orderhub.inventory.models import StockAdjustment, Warehouse
from orderhub.inventory.services import stock_adjust
from orderhub.orders.models import Order
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus


@dataclass
class LabelledWave:
    order: Order  # 已打单, with a live waybill
    wave: Wave
    sku: Sku


def labelled_wave(*, order: Order, actor: User) -> LabelledWave:
    """Take a fresh order through approve → allocate → e-waybill, and put it in a wave of its warehouse."""
    wh = Warehouse.objects.create(code="HZ", name="杭州仓", province="浙江省", province_code="330000")
    carrier = Carrier.objects.create(
        code="ZTO", name="中通快递", cp_code="ZTO", number_prefix="7", range_start=1, next_number=1
    )
    CarrierRule.objects.create(position=1, name="默认中通", carrier=carrier)
    for line in order.lines.select_related("sku"):
        stock_adjust(
            warehouse=wh,
            sku=line.sku,
            kind=StockAdjustment.Kind.RECEIPT,
            quantity=line.quantity,
            actor=actor,
            note="期初入库",
        )
    order_transition(order_id=order.pk, to=OrderStatus.SPLIT, actor=actor)
    assert order_allocate(order_id=order.pk, actor=actor).allocated
    [issued] = waybills_issue(order_ids=[order.pk], actor=actor)
    assert issued.ok, issued.error
    wave = wave_create(warehouse_id=wh.pk, actor=actor, order_ids=[order.pk])
    order.refresh_from_db()
    return LabelledWave(order=order, wave=wave, sku=order.lines.get().sku)
