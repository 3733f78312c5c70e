"""A realistic shop floor for the workspace tests: orders in every state, two warehouses, a held
order, a waybill and a tracked parcel — all made through the services, as in production."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from orderhub.accounts.models import LegalEntity, User
from orderhub.accounts.roles import Role
from orderhub.catalog.models import CustomerTier
from orderhub.fulfilment.models import Carrier, Waybill
from orderhub.inventory.models import Warehouse
from orderhub.notify.models import Delivery
from orderhub.notify.services import deliveries_dispatch
from orderhub.orders.models import Order, OrderHold
from orderhub.orders.services import order_hold, order_hold_release, order_transition
from orderhub.tracking.models import TrackingEvent
from orderhub.web.models import UserWarehouse


@dataclass
class Floor:
    orders: dict[str, Order]
    hangzhou: Warehouse
    ningbo: Warehouse
    entity: LegalEntity
    waybill_no: str
    tracking_no: str
    star: Order  # the order whose timeline has a bit of everything

    def refresh(self, key: str) -> Order:
        return Order.objects.get(pk=self.orders[key].pk)


def _walk(order: Order, path: list[str], actor: User, **extra: object) -> Order:
    for to in path:
        reason = "客户要求取消" if to == "cancelled" else ""
        order = order_transition(order_id=order.pk, to=to, actor=actor, reason=reason, **extra)  # type: ignore[arg-type]
    return order


def build_floor(staff: dict[str, User], make_order: Callable[..., Order]) -> Floor:
    manager = staff[Role.MANAGER]
    hangzhou = Warehouse.objects.create(code="HZ", name="杭州仓", province="浙江省")
    ningbo = Warehouse.objects.create(code="NB", name="宁波仓", province="浙江省")
    entity = LegalEntity.objects.create(code="HT", name="台州恒通贸易有限公司")
    UserWarehouse.objects.create(user=staff[Role.WAREHOUSE], warehouse=hangzhou)
    now = timezone.now()
    o: dict[str, Order] = {}
    o["pending"] = make_order(priority=2, promised_at=now + timedelta(days=2))
    o["held"] = make_order(address_detail="")  # incomplete address → held in 待审核
    o["pending_pdd"] = make_order(
        channel_code="pdd",
        customer_tier=CustomerTier.VIP,
        owner_username="sales2",
        channel_order_no="PDD-240001",
    )
    o["split"] = _walk(make_order(), ["split"], manager)
    o["alloc_hz"] = _walk(make_order(), ["split", "allocating"], manager)
    o["alloc_nb"] = _walk(make_order(owner_username="sales2"), ["split", "allocating"], manager)
    o["printed"] = _walk(make_order(), ["split", "allocating", "label_printed"], manager)
    o["shipped"] = make_order()
    o["exception"] = _walk(
        make_order(), ["split", "allocating", "label_printed", "shipped", "exception"], manager
    )
    o["completed"] = _walk(
        make_order(), ["split", "allocating", "label_printed", "shipped", "completed"], manager
    )
    o["cancelled"] = _walk(make_order(), ["cancelled"], manager)
    Order.objects.filter(pk__in=[o["alloc_hz"].pk, o["printed"].pk, o["shipped"].pk]).update(
        warehouse=hangzhou
    )
    Order.objects.filter(pk=o["alloc_nb"].pk).update(warehouse=ningbo, selling_entity=entity)
    carrier = Carrier.objects.create(code="zto", name="中通快递", number_prefix="ZT")
    waybill_no = "ZT7300012345"
    Waybill.objects.create(
        order=o["printed"], carrier=carrier, number=waybill_no, provider="simulated", created_at=now
    )

    # The star: held, released, approved … shipped with a tracked parcel and a promise.
    star = make_order(
        address_detail="",
        receiver_phone="13957112345",
        channel_order_no="TB-88001",
        promised_at=now + timedelta(days=1),
    )
    hold = OrderHold.objects.get(order=star, resolved_at__isnull=True)
    order_hold_release(
        order_id=star.pk, hold_id=hold.pk, actor=staff[Role.CUSTOMER_SERVICE], resolution="已电话核实地址"
    )
    order_hold(order_id=star.pk, reason="manual", actor=staff[Role.CUSTOMER_SERVICE], detail="客户要求延后")
    manual = OrderHold.objects.get(order=star, resolved_at__isnull=True)
    order_hold_release(
        order_id=star.pk, hold_id=manual.pk, actor=staff[Role.CUSTOMER_SERVICE], resolution="可以发"
    )
    star = _walk(star, ["split", "allocating", "label_printed"], manager)
    tracking_no = "YT5500667788"
    star = order_transition(
        order_id=star.pk,
        to="shipped",
        actor=staff[Role.WAREHOUSE],
        details={"carrier": "yto", "tracking_no": tracking_no},
    )
    shipment = star.shipments.get()
    TrackingEvent.objects.create(
        shipment=shipment,
        at=now + timedelta(minutes=5),
        status="in_transit",
        description="快件已到达【杭州转运中心】",
        area="杭州",
        source="poll",
        received_at=now,
    )
    o["star"] = star
    # What the worker would do: deliver the star's notifications (in-app messages).
    for source in set(Delivery.objects.filter(order=star).values_list("source", flat=True)):
        deliveries_dispatch(source)
    o["shipped"] = _walk(o["shipped"], ["split", "allocating", "label_printed", "shipped"], manager)
    return Floor(o, hangzhou, ningbo, entity, waybill_no, tracking_no, star)
