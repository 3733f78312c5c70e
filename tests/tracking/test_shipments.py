"""Starting to follow a waybill, and carrier events on the order timeline."""

from __future__ import annotations

import pytest

from orderhub.accounts.roles import Role
from orderhub.core.errors import ValidationFailed
from orderhub.orders.models import Order
from orderhub.orders.selectors import order_timeline
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus as S
from orderhub.tracking.models import Shipment
from orderhub.tracking.services import tracking_refresh, tracking_start
from tests.tracking.conftest import T0, H, shipment_of, walk_to


def test_shipping_with_carrier_and_tracking_number_starts_following_the_waybill(ship) -> None:
    order = ship(carrier="sf", tracking_no="SF 1402 8836 1120")
    shipment = shipment_of(order)
    assert (shipment.carrier, shipment.tracking_no) == ("sf", "SF140288361120")
    assert (shipment.shipped_at, shipment.stall_due_at) == (T0, T0 + 24 * H)
    assert shipment.province_code == "330000"


def test_shipping_without_waybill_details_follows_nothing_yet(make_order, staff) -> None:
    order = walk_to(make_order(), S.LABEL_PRINTED, staff[Role.ADMIN], now=T0)
    order_transition(order_id=order.pk, to=S.SHIPPED, actor=staff[Role.WAREHOUSE], now=T0)
    assert not Shipment.objects.filter(order=order).exists()


def test_a_waybill_registered_before_scan_out_starts_its_clock_at_ship(make_order, staff) -> None:
    order = walk_to(make_order(), S.LABEL_PRINTED, staff[Role.ADMIN], now=T0 - 5 * H)
    shipment = tracking_start(order=order, carrier="zto", tracking_no="73100000000077", now=T0 - 5 * H)
    assert shipment.stall_due_at is None  # not shipped yet: nothing to watch
    order_transition(order_id=order.pk, to=S.SHIPPED, actor=staff[Role.WAREHOUSE], now=T0)
    shipment.refresh_from_db()
    assert (shipment.shipped_at, shipment.stall_due_at) == (T0, T0 + 24 * H)


def test_an_unknown_carrier_refuses_the_ship_and_changes_nothing(make_order, staff) -> None:
    order = walk_to(make_order(), S.LABEL_PRINTED, staff[Role.ADMIN], now=T0)
    with pytest.raises(ValidationFailed) as exc:
        order_transition(
            order_id=order.pk,
            to=S.SHIPPED,
            actor=staff[Role.WAREHOUSE],
            details={"carrier": "顺丰!", "tracking_no": "SF1"},
            now=T0,
        )
    assert exc.value.field == "carrier" and "未知承运商" in exc.value.message
    assert Order.objects.get(pk=order.pk).status == S.LABEL_PRINTED


def test_starting_twice_is_idempotent_but_a_waybill_belongs_to_one_order(ship, make_order) -> None:
    order = ship(carrier="zto", tracking_no="73100000000088")
    again = tracking_start(order=order, carrier="zto", tracking_no="73100000000088", now=T0 + H)
    assert again.pk == shipment_of(order).pk
    with pytest.raises(ValidationFailed) as exc:
        tracking_start(order=make_order(), carrier="zto", tracking_no="73100000000088")
    assert order.order_no in exc.value.message


def test_carrier_events_appear_on_the_order_timeline(ship, staff) -> None:
    order = ship(carrier="zto")
    tracking_refresh(shipment_id=shipment_of(order).pk, now=T0 + 7 * 24 * H)
    _order, events = order_timeline(actor=staff[Role.CUSTOMER_SERVICE], order_id=order.pk)
    tracking = [e for e in events if e.kind == "tracking"]
    assert tracking[0].title.startswith("已揽收：【杭州市】中通快递快递员 已揽收")
    assert tracking[-1].title.startswith("已签收：")
    assert tracking[-1].actor == f"中通快递 {shipment_of(order).tracking_no}"
    # Interleaved with the card's own moves, oldest first: the signing precedes 已完成.
    kinds = [(e.kind, e.to_status) for e in events]
    assert kinds.index(("tracking", "")) > kinds.index(("transition", S.SHIPPED))
    assert kinds[-1] == ("transition", S.COMPLETED)


def test_a_parent_order_shows_its_parts_parcels(ship, make_order, staff) -> None:
    parent = make_order()
    part = make_order()
    Order.objects.filter(pk=part.pk).update(parent=parent, part_no=1)
    ship(order=Order.objects.get(pk=part.pk))
    tracking_refresh(shipment_id=shipment_of(part).pk, now=T0 + 10 * H)
    _order, events = order_timeline(actor=staff[Role.MANAGER], order_id=parent.pk)
    tracking = [e for e in events if e.kind == "tracking"]
    assert tracking and all(e.details["part"] == part.order_no for e in tracking)


def test_the_tracking_timeline_source_is_two_index_lookups(ship) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orderhub.tracking.effects import _tracking_timeline

    order = ship()
    tracking_refresh(shipment_id=shipment_of(order).pk, now=T0 + 7 * 24 * H)
    with CaptureQueriesContext(connection) as queries:
        rows = _tracking_timeline(order)
    # The order's parts (none here), then the events of its parcels: no OR across a join.
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(rows) > 5 and len(sql) == 2 and not any(" OR " in s for s in sql)
