"""64 allocations racing for 10 units: exactly 10 reserved, 54 held with the reason, never oversold."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orderhub.accounts.services import system_user
from orderhub.fulfilment.allocation import order_allocate
from orderhub.inventory.models import Reservation, Stock, StockMovement
from orderhub.orders.audit import audit_verify
from orderhub.orders.models import HoldReason, Order, OrderHold
from orderhub.orders.services import LineDraft
from orderhub.orders.states import OrderStatus
from tests.support import run_at_once

RACERS = 64
UNITS = 10


@pytest.mark.django_db(transaction=True)
def test_64_concurrent_allocations_for_10_units(approved, warehouses, skus, stock_in) -> None:
    system_user()  # exists in any running install (its first creation is not race-safe)
    stock_in(warehouses["HZ"], skus["OF-1102"], UNITS)
    orders = [approved(lines=[LineDraft("OF-1102", 1, Decimal("35.00"))]) for _ in range(RACERS)]
    results = run_at_once([lambda o=o: order_allocate(order_id=o.pk) for o in orders])
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]

    outcomes = [r.allocated for r in results]
    assert outcomes.count(True) == UNITS and outcomes.count(False) == RACERS - UNITS
    stock = Stock.objects.get(warehouse=warehouses["HZ"], sku=skus["OF-1102"])
    assert (stock.on_hand, stock.reserved) == (UNITS, UNITS)
    assert Reservation.objects.filter(status="active").count() == UNITS
    assert sum(StockMovement.objects.filter(stock=stock).values_list("reserved_delta", flat=True)) == UNITS
    ids = [o.pk for o in orders]
    assert Order.objects.filter(pk__in=ids, status=OrderStatus.ALLOCATING).count() == UNITS
    held = OrderHold.objects.filter(order_id__in=ids, reason=HoldReason.STOCK_CONFLICT, resolved_at=None)
    assert held.count() == RACERS - UNITS
    assert all("OF-1102 需 1，可用 0" in h.detail for h in held)
    assert Order.objects.filter(pk__in=ids, status=OrderStatus.PENDING_REVIEW).count() == RACERS - UNITS
    assert audit_verify().ok
