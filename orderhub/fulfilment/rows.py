"""Reads on fulfilment's per-order hot path, where the ORM's per-query compilation shows.

The order row is read (and locked) with the core RowLoader, its SQL built once per process;
the small reference tables an order points at (channels, warehouses, carriers) come from the
per-process cache of config.py, so an order needs no joins to reach them; rows written once per
order (review runs, waybills, ship reports) go in through `core.db.RowInserter`, whose INSERT is
built once instead of by `Model.objects.create()` on every call.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import connection, models

from orderhub.catalog.models import Customer
from orderhub.core.db import CompiledRows, RowLoader
from orderhub.fulfilment.config import cache_clear, cached
from orderhub.fulfilment.models import Carrier
from orderhub.ingest.models import Channel
from orderhub.inventory.models import Warehouse
from orderhub.orders.errors import order_not_found
from orderhub.orders.models import Order, OrderLine

M = TypeVar("M", bound=models.Model)
_ORDERS = RowLoader(Order)
_CUSTOMERS = RowLoader(Customer)
# Only quoted model metadata in the text; the id is a bound parameter.
_HAS_PARTS = 'SELECT 1 FROM "orders_order" WHERE "parent_id" = %s LIMIT 1'


Line = tuple[int | None, str, int]  # (sku_id, sku_code, quantity) of one order line
# An order's lines, read by the review, the split and the allocation of every order.
_LINES = CompiledRows(
    lambda order_id: (
        OrderLine.objects.filter(order_id=order_id)
        .order_by("line_no")
        .values_list("sku_id", "sku_code", "quantity")
    )
)


def order_lines(order_id: int) -> list[Line]:
    return _LINES.rows(order_id)


def order_locked(order_id: int) -> Order:
    """The order row, locked for the transaction (NotFound when absent)."""
    order = _ORDERS.get(order_id, for_update=True)
    if order is None:
        raise order_not_found(order_id)
    return order


def order_row(order_id: int) -> Order | None:
    """The order row, unlocked (None when absent)."""
    return _ORDERS.get(order_id)


def with_customer(order: Order) -> Order:
    """Attach the order's customer, read fresh (credit limits and blacklisting change)."""
    if order.customer_id is not None:
        order.customer = _CUSTOMERS.get(order.customer_id)
    return order


def has_parts(order_id: int) -> bool:
    with connection.cursor() as cur:
        cur.execute(_HAS_PARTS, [order_id])
        return cur.fetchone() is not None


def _by_id(key: str, model: type[M], pk: int) -> M:
    """A row of a small reference table from the cache; a row newer than the cache reloads it."""
    rows = cached(key, lambda: {r.pk: r for r in model.objects.all()})
    if pk not in rows:  # created in another process since this one cached the table
        cache_clear()
        rows = cached(key, lambda: {r.pk: r for r in model.objects.all()})
    return rows[pk]


def channel(pk: int) -> Channel:
    return _by_id("channels_by_id", Channel, pk)


def warehouse(pk: int) -> Warehouse:
    return _by_id("warehouses_by_id", Warehouse, pk)


def carrier(pk: int) -> Carrier:
    return _by_id("carriers_by_id", Carrier, pk)


def with_references(order: Order) -> Order:
    """Attach the order's channel and warehouse from the cache (no query when cached)."""
    order.channel = channel(order.channel_id)
    if order.warehouse_id is not None:
        order.warehouse = warehouse(order.warehouse_id)
    return order
