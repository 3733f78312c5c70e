"""Estimated arrival: from the carrier when it says the parcel is out for delivery, otherwise
from OrderHub's own history of that carrier to that province."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from orderhub.orders.models import Order
from orderhub.portal.models import LookupEvent, TransitEstimate
from orderhub.portal.selectors import customer_orders, transit_estimates_refresh
from orderhub.tracking.models import Shipment

pytestmark = pytest.mark.django_db


def parcel(
    order: Order, no: str, shipped_hours_ago: float, transit_hours: float | None, **kw: object
) -> Shipment:
    now = timezone.now()
    shipped = now - timedelta(hours=shipped_hours_ago)
    return Shipment.objects.create(
        order=order,
        carrier=kw.pop("carrier", "zto"),
        tracking_no=no,
        provider="simulated",
        province_code=kw.pop("province_code", "330000"),
        shipped_at=shipped,
        quiet_since=shipped,
        delivered_at=shipped + timedelta(hours=transit_hours) if transit_hours is not None else None,
        status="delivered" if transit_hours is not None else kw.pop("status", "in_transit"),
        **kw,
    )


def test_estimate_from_our_history_of_that_carrier_to_that_province(make_order: Callable[..., Order]) -> None:
    done = make_order()
    for i, hours in enumerate([30, 40, 48, 50, 60]):  # zto → 浙江: median 48 h
        parcel(done, f"ZT{i}", 100, hours)
    parcel(done, "ZT9", 100, 10, province_code="110000")  # elsewhere: not the median for 浙江
    assert transit_estimates_refresh() == 2  # zto → 浙江 and zto anywhere; one parcel to 北京 is too few
    assert TransitEstimate.objects.get(carrier="zto", province_code="330000").median_hours == 48

    order = make_order()
    moving = parcel(order, "ZT100", 12, None)
    [seen] = customer_orders(order_ids=[order.pk])

    assert seen.eta == moving.shipped_at + timedelta(hours=48)
    assert seen.parcels[0].eta_source == "history"


def test_out_for_delivery_arrives_today(make_order: Callable[..., Order]) -> None:
    order = make_order()
    parcel(order, "ZT200", 20, None, status="out_for_delivery")
    [seen] = customer_orders(order_ids=[order.pk])

    assert seen.parcels[0].eta_source == "carrier"
    assert timezone.localtime(seen.eta).date() == timezone.localtime().date()


def test_countdown_on_the_page(make_order: Callable[..., Order]) -> None:
    order = make_order()
    TransitEstimate.objects.create(
        carrier="zto", province_code="", median_hours=36, samples=12, computed_at=timezone.now()
    )
    parcel(order, "ZT300", 6, None)
    client = Client()
    assert client.post("/track/order", {"order_no": order.order_no, "last4": "5678"}).status_code == 302

    body = client.get("/track/orders").content.decode()
    assert 'class="countdown" data-eta="' in body
    assert "预计送达" in body and "中通快递 ZT300" in body
    assert "按该快递到本省的历史时效估算" in body


def test_every_lookup_counts_for_the_self_service_share(make_order: Callable[..., Order]) -> None:
    from orderhub.insights.selectors import self_service_counts

    order = make_order()
    Client().post("/track/order", {"order_no": order.order_no, "last4": "5678"})
    Client().post("/track/order", {"order_no": order.order_no, "last4": "5678"})

    now = timezone.now()
    assert LookupEvent.objects.count() == 2
    assert self_service_counts(now - timedelta(hours=1), now + timedelta(hours=1))[0] == 2
