"""Reads on fulfilment's per-order hot path, where the ORM's per-query compilation shows.

The order row is read (and locked) with the core RowLoader, its SQL built once per process;
the small reference tables an order points at (channels, warehouses, carriers) come from the
per-process cache of config.py, so an order needs no joins to reach them; rows written once per
order (review runs, waybills, ship reports) go in through `RowInserter`, whose INSERT is built
once instead of by `Model.objects.create()` on every call.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.db import connection, connections, models
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.catalog.models import Customer
from orderhub.core.db import RowLoader
from orderhub.core.errors import NotFound
from orderhub.fulfilment.config import cache_clear, cached
from orderhub.fulfilment.models import Carrier
from orderhub.ingest.models import Channel
from orderhub.inventory.models import Warehouse
from orderhub.orders.models import Order

M = TypeVar("M", bound=models.Model)
_ORDERS = RowLoader(Order)
_CUSTOMERS = RowLoader(Customer)
# Only quoted model metadata in the text; the id is a bound parameter.
_HAS_PARTS = 'SELECT 1 FROM "orders_order" WHERE "parent_id" = %s LIMIT 1'


def order_locked(order_id: int) -> Order:
    """The order row, locked for the transaction (NotFound when absent)."""
    order = _ORDERS.get(order_id, for_update=True)
    if order is None:
        raise NotFound(_("订单 %(id)s 不存在") % {"id": order_id}, field="id")
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


class RowInserter(Generic[M]):
    """One-row INSERTs into `model`'s table with the statement built once per database vendor.

    `RowInserter(Waybill).insert(order_id=…, carrier_id=…, …)` takes attribute names (`order_id`,
    not `order`); a field left out gets its default (auto_now(_add) fields: now). Values are
    prepared by their fields exactly as `save()` would; database errors (an IntegrityError from a
    unique constraint) come out as Django's. Returns the new primary key. No signals are sent:
    only for rows that nothing listens to.
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self._names = {f.attname for f in self.fields}
        self._sql: dict[str, tuple[str, bool]] = {}

    def _statement(self, using: str) -> tuple[str, bool]:
        conn = connections[using]
        built = self._sql.get(conn.vendor)
        if built is None:
            qn = conn.ops.quote_name
            meta = self.model._meta
            returning = bool(conn.features.can_return_columns_from_insert)
            # Only quoted model metadata in the text; every value is a bound parameter.
            sql = "INSERT INTO {} ({}) VALUES ({}){}".format(  # noqa: S608
                qn(meta.db_table),
                ", ".join(qn(f.column) for f in self.fields),
                ", ".join(["%s"] * len(self.fields)),
                f" RETURNING {qn(meta.pk.column)}" if returning else "",
            )
            built = self._sql[conn.vendor] = (sql, returning)
        return built

    def _value(self, f: models.Field, values: dict[str, Any]) -> Any:
        if f.attname in values:
            return values[f.attname]
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            return timezone.now()
        return f.get_default()

    def insert(self, *, using: str = "default", **values: Any) -> int:
        unknown = set(values) - self._names
        if unknown:
            raise TypeError(f"{self.model.__name__} has no columns {sorted(unknown)}")
        conn = connections[using]
        sql, returning = self._statement(using)
        params = [f.get_db_prep_save(self._value(f, values), conn) for f in self.fields]
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()[0] if returning else cur.lastrowid
