"""Waves and single allocations racing for 10 units: exactly 10 reserved, never oversold, no deadlock."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from orderhub.accounts.services import system_user
from orderhub.core.errors import InvalidTransition
from orderhub.fulfilment.allocation import WaveResult, order_allocate, orders_allocate
from orderhub.inventory.models import Reservation, Stock, StockMovement
from orderhub.orders.audit import audit_verify
from orderhub.orders.models import HoldReason, Order, OrderHold
from orderhub.orders.services import LineDraft
from orderhub.orders.states import OrderStatus
from tests.support import run_at_once

ORDERS = 48
UNITS = 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_waves_and_single_allocations_for_10_units(approved, warehouses, skus, stock_in) -> None:
    # Given 10 oil filters (Hangzhou only) and plenty of brake pads in Hangzhou and Guangzhou,
    # and 48 orders that each want one filter; half also want a pad, listed in either order
    system_user()  # exists in any running install (its first creation is not race-safe)
    stock_in(warehouses["HZ"], skus["OF-1102"], UNITS)
    stock_in(warehouses["HZ"], skus["BP-2231"], 1000)
    stock_in(warehouses["GZ"], skus["BP-2231"], 1000)
    filter_, pad = LineDraft("OF-1102", 1, Decimal(35)), LineDraft("BP-2231", 1, Decimal(88))
    shapes = [[filter_], [filter_, pad], [pad, filter_]]
    ids = [approved(lines=shapes[n % 3]).pk for n in range(ORDERS)]

    # When four waves (two over overlapping ids, two taking "the next 10") and 24 single
    # allocations start at the same moment
    jobs: list[Callable[[], object]] = [
        lambda: orders_allocate(order_ids=ids[0:20], chunk=8),
        lambda: orders_allocate(order_ids=ids[10:30]),
        lambda: orders_allocate(limit=10),
        lambda: orders_allocate(limit=10, chunk=4),
    ]
    jobs += [lambda i=i: order_allocate(order_id=i) for i in ids[24:]]
    results = run_at_once(jobs)
    # A single allocation of an order a wave already took is refused; anything else is an error.
    outcomes = [r for r in results if not isinstance(r, BaseException) or isinstance(r, InvalidTransition)]
    errors = [r for r in results if isinstance(r, BaseException) and not isinstance(r, InvalidTransition)]

    # Then nothing failed (no deadlock, no lost update), exactly 10 filters are reserved,
    # and every other order is back in 待审核, held for stock with the reason
    assert not errors, errors[:3]
    refused = [o for o in outcomes if isinstance(o, InvalidTransition)]
    assert all("不在「已拆单」状态" in e.message for e in refused)
    waves = [o for o in outcomes if isinstance(o, WaveResult)]
    singles = [o for o in outcomes if not isinstance(o, WaveResult | InvalidTransition)]
    allocated = sum(len(w.allocated) for w in waves) + sum(r.allocated for r in singles)
    assert allocated == UNITS
    stock = Stock.objects.get(warehouse=warehouses["HZ"], sku=skus["OF-1102"])
    assert (stock.on_hand, stock.reserved) == (UNITS, UNITS)
    assert Reservation.objects.filter(stock=stock, status="active").count() == UNITS
    assert sum(StockMovement.objects.filter(stock=stock).values_list("reserved_delta", flat=True)) == UNITS
    for pad_stock in Stock.objects.filter(sku=skus["BP-2231"]):
        reserved = Reservation.objects.filter(stock=pad_stock, status="active").count()
        assert pad_stock.reserved == reserved  # the counters reconcile with the reservations
    assert Order.objects.filter(pk__in=ids, status=OrderStatus.ALLOCATING).count() == UNITS
    held = OrderHold.objects.filter(order_id__in=ids, reason=HoldReason.STOCK_CONFLICT, resolved_at=None)
    assert held.count() == ORDERS - UNITS
    assert all("OF-1102 需 1，可用 0" in h.detail for h in held)
    assert Order.objects.filter(pk__in=ids, status=OrderStatus.PENDING_REVIEW).count() == ORDERS - UNITS
    assert audit_verify().ok
