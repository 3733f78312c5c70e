"""Bulk variant of `order_create` for imports: one transaction per chunk, batched INSERTs.

It writes exactly what `order_create` writes for each order — the order in 待审核, its lines, its
holds (the same `_basic_holds` rules plus the importer's own), and its first operation-log entry —
but with one INSERT per table per chunk. The log entry's hash is computed in Python with
`orders.audit.entry_hash`, so the order id must be known before the INSERT: ids are reserved first
(a sequence on PostgreSQL; on SQLite the writer already holds the database's write lock, so the
next ids are simply max(id)+1…).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db import connection
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.catalog.models import Customer, CustomerTier
from orderhub.ingest.conf import ingest_setting
from orderhub.ingest.drafts import Catalog
from orderhub.ingest.models import Channel
from orderhub.orders.audit import GENESIS, entry_hash
from orderhub.orders.models import HoldReason, LogAction, OperationLog, Order, OrderHold, OrderLine, PhoneKind
from orderhub.orders.services import OrderDraft
from orderhub.orders.services.create import _basic_holds, new_order_no
from orderhub.orders.states import OrderStatus


@dataclass
class NewOrder:
    draft: OrderDraft
    fingerprint: str
    row_nos: list[int]
    order_id: int = 0
    holds: list[tuple[str, str]] | None = None


def reserve_ids(model: type[Order], n: int) -> list[int]:
    """n fresh primary keys for `model`, taken inside the caller's transaction."""
    if n == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
            )
            return [r[0] for r in cur.fetchall()]
        if connection.vendor == "sqlite":
            cur.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608 - our own table name
            top = cur.fetchone()[0]
            cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cur.fetchone()
            start = max(top, row[0] if row else 0) + 1
            return list(range(start, start + n))
    raise NotImplementedError(connection.vendor)


def _order_numbers(drafts: list[OrderDraft], now: datetime) -> list[str]:
    """Fresh order numbers (same format as `order_create`), unique within the chunk and the table."""
    numbers = [new_order_no(d.ordered_at or now) for d in drafts]
    for _attempt in range(5):
        taken = set(Order.objects.filter(order_no__in=numbers).values_list("order_no", flat=True))
        seen: set[str] = set()
        clash = False
        for i, no in enumerate(numbers):
            if no in taken or no in seen:
                numbers[i] = new_order_no(drafts[i].ordered_at or now)
                clash = True
            seen.add(numbers[i])
        if not clash:
            return numbers
    raise RuntimeError("could not allocate unique order numbers")


def _dup_key(d: OrderDraft) -> tuple[Any, ...] | None:
    # A masked or virtual number is shared by many buyers: it identifies nobody.
    if d.phone_kind != PhoneKind.NORMAL or not d.receiver_phone or not d.address_detail:
        return None
    goods = tuple(sorted((ln.sku_code, ln.quantity) for ln in d.lines))
    return (d.receiver_phone, d.receiver_name, d.address_detail, goods)


def duplicate_holds(new: list[NewOrder], seen_in_batch: dict[tuple[Any, ...], tuple[str, datetime]]) -> None:
    """Hold orders that look like another order (same receiver, address and goods within the window)
    under a different channel order number: in this batch, or already in OrderHub."""
    window = timedelta(hours=ingest_setting("DUPLICATE_WINDOW_HOURS"))
    keyed = [(n, _dup_key(n.draft)) for n in new]
    phones = {k[0] for _n, k in keyed if k}
    existing: dict[tuple[Any, ...], list[tuple[str, datetime]]] = {}
    times = [n.draft.ordered_at for n in new if n.draft.ordered_at]
    if phones:
        candidates = Order.objects.filter(receiver_phone__in=phones)
        if times and len(times) == len(new):
            # Compared through an expression on purpose: given the bare column, SQLite's planner
            # prefers the ordered_at range (a chunk spans weeks: most of the table) to the phone
            # lookups, and the check then grows with the table (150 ms a chunk at 200,000 orders).
            candidates = candidates.alias(_at=Coalesce("ordered_at", "created_at")).filter(
                _at__gte=min(times) - window, _at__lte=max(times) + window
            )
        candidates = (
            candidates.exclude(status=OrderStatus.CANCELLED)
            .prefetch_related("lines")
            .only(
                "id",
                "order_no",
                "channel_order_no",
                "receiver_phone",
                "receiver_name",
                "address_detail",
                "ordered_at",
            )
        )
        for o in candidates:
            goods = tuple(sorted((ln.sku_code, ln.quantity) for ln in o.lines.all()))
            key = (o.receiver_phone, o.receiver_name, o.address_detail, goods)
            existing.setdefault(key, []).append((o.channel_order_no or o.order_no, o.ordered_at))
    for n, key in keyed:
        if key is None:
            continue
        at = n.draft.ordered_at
        others = [*existing.get(key, [])]
        if key in seen_in_batch:
            others.append(seen_in_batch[key])
        for other_no, other_at in others:
            if other_no != n.draft.channel_order_no and (at is None or abs(at - other_at) <= window):
                n.draft.holds.append(
                    (HoldReason.DUPLICATE, _("与订单 %(o)s 收货人、地址、商品相同") % {"o": other_no})
                )
                break
        if at is not None:
            seen_in_batch.setdefault(key, (n.draft.channel_order_no or "", at))


def orders_bulk_create(
    *,
    new: list[NewOrder],
    channel: Channel,
    actor: User | None,
    now: datetime,
    batch_id: int,
    catalog: Catalog,
    customers: dict[str, Customer],
    owners: dict[str, int],
) -> list[int]:
    """Insert the orders of one chunk; returns their ids. The caller holds the chunk's transaction."""
    if not new:
        return []
    ids = reserve_ids(Order, len(new))
    numbers = _order_numbers([n.draft for n in new], now)
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    holds: list[dict[str, Any]] = []
    logs: list[dict[str, Any]] = []
    actor_id = actor.pk if actor else None
    actor_name = str(actor) if actor else ""
    skus = _SkuView(catalog)
    for n, pk, number in zip(new, ids, numbers, strict=True):
        d = n.draft
        customer = customers.get(d.customer_code) if d.customer_code else None
        owner_id = owners.get(d.owner_username or "") or (customer.owner_id if customer else None)
        goods = sum((ln.unit_price * ln.quantity for ln in d.lines), Decimal("0"))
        n.holds = _basic_holds(d, skus)  # type: ignore[arg-type]
        n.order_id = pk
        details = {"batch": batch_id, "channel": channel.code, "holds": [r for r, _d in n.holds]}
        # entry_hash reads attributes only: a namespace spares a model instance per order.
        entry = SimpleNamespace(
            order_id=pk,
            seq=1,
            action=LogAction.CREATE.value,
            transition="",
            from_status="",
            to_status=OrderStatus.PENDING_REVIEW.value,
            actor_id=actor_id,
            actor_name=actor_name,
            automatic=False,
            reason="",
            details=details,
            at=now,
            prev_hash=GENESIS,
        )
        entry.hash = entry_hash(entry)  # type: ignore[arg-type]
        logs.append(entry.__dict__)
        orders.append(
            {
                "id": pk,
                "order_no": number,
                "channel_id": channel.pk,
                "channel_order_no": d.channel_order_no or None,
                "ordered_at": d.ordered_at or now,
                "customer_id": customer.pk if customer else None,
                "customer_tier": d.customer_tier or (customer.tier if customer else CustomerTier.C),
                "status": OrderStatus.PENDING_REVIEW.value,
                "last_operator_id": actor_id,
                "updated_at": now,
                "status_changed_at": now,
                "created_at": now,
                "receiver_name": d.receiver_name,
                "receiver_phone": d.receiver_phone,
                "phone_kind": str(d.phone_kind),
                "province": d.province,
                "province_code": d.province_code,
                "city": d.city,
                "city_code": d.city_code,
                "district": d.district,
                "district_code": d.district_code,
                "address_detail": d.address_detail,
                "goods_amount": goods,
                "shipping_fee": d.shipping_fee,
                "total_amount": goods + d.shipping_fee,
                "remark": d.remark,
                "promised_at": d.promised_at,
                "priority": d.priority,
                "owner_id": owner_id,
                "lines_snapshot": snapshot(d, n.fingerprint, batch_id, n.row_nos),
                "version": 1,
                "log_seq": 1,
                "log_head": entry.hash,
            }
        )
        for i, ln in enumerate(d.lines, start=1):
            lines.append(
                {
                    "order_id": pk,
                    "line_no": i,
                    "sku_id": catalog.ids.get(ln.sku_code),
                    "sku_code": ln.sku_code,
                    "name": ln.name or catalog.names.get(ln.sku_code, ""),
                    "quantity": ln.quantity,
                    "unit_price": ln.unit_price,
                }
            )
        holds.extend(
            {
                "order_id": pk,
                "reason": str(r),
                "detail": dt[:255],
                "created_by_id": actor_id,
                "created_at": now,
            }
            for r, dt in n.holds
        )
    insert_rows(Order, orders)
    insert_rows(OrderLine, lines)
    insert_rows(OrderHold, holds)
    insert_rows(OperationLog, logs)
    held = [[n.order_id, [r for r, _d in n.holds or []]] for n in new if n.holds]
    if held:
        from orderhub.ingest.tasks import notify_import_holds

        notify_import_holds.enqueue(held)
    return ids


def _datetime_adapter() -> Any:
    """The backend's datetime adapter, remembering values: a chunk repeats `now` on every row."""
    adapt = connection.ops.adapt_datetimefield_value
    seen: dict[datetime, Any] = {}

    def convert(value: datetime) -> Any:
        out = seen.get(value)
        if out is None:
            out = seen[value] = adapt(value)
        return out

    return convert


def insert_rows(model: Any, rows: list[dict[str, Any]], *, batch: int = 500) -> None:
    """INSERT rows given as {attname: value} with executemany: what bulk_create does, without a
    model instance and the per-value field machinery for each row (several times faster for
    wide rows). Columns missing from a row take the field's default."""
    if not rows:
        return
    present = set(rows[0])
    fields = [f for f in model._meta.concrete_fields if f.attname in present or not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields if f.attname not in present}
    ops = connection.ops
    converters: list[Any] = []
    for f in fields:
        internal = f.get_internal_type()
        if internal == "DateTimeField":
            converters.append(_datetime_adapter())
        elif internal == "DecimalField":
            if connection.vendor == "sqlite":
                converters.append(str)  # what Django's registered sqlite3 adapter does for Decimal
            else:
                converters.append(
                    lambda v, f=f: ops.adapt_decimalfield_value(v, f.max_digits, f.decimal_places)
                )
        elif internal == "JSONField" and connection.vendor == "sqlite" and f.encoder is None:
            converters.append(json.dumps)  # what JSONField.get_db_prep_save does on SQLite
        elif internal == "JSONField":
            converters.append(lambda v, f=f: f.get_db_prep_save(v, connection))
        else:
            converters.append(None)
    qn = ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from our own models
        qn(model._meta.db_table),
        ", ".join(qn(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    plan = [(f.attname, conv, defaults.get(f.attname)) for f, conv in zip(fields, converters, strict=True)]
    values = []
    for r in rows:
        out = []
        for name, conv, default in plan:
            v = r.get(name, default)
            out.append(conv(v) if conv is not None and v is not None else v)
        values.append(out)
    if connection.vendor == "sqlite":
        # The driver's own cursor: Django's wrapper re-walks every parameter set in Python.
        connection.ensure_connection()
        raw = connection.connection.cursor()  # type: ignore[union-attr]
        try:
            with connection.wrap_database_errors:  # sqlite3 errors → django.db errors
                raw.executemany(sql.replace("%s", "?"), values)
        finally:
            raw.close()
        return
    with connection.cursor() as cur:
        for i in range(0, len(values), batch):
            cur.executemany(sql, values[i : i + batch])


class _SkuView(dict):  # type: ignore[type-arg]
    """`_basic_holds` only asks `code in skus`: answer from the catalogue without loading models."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__()
        self._names = catalog.names

    def __contains__(self, code: object) -> bool:
        return code in self._names


def snapshot(d: OrderDraft, fingerprint: str, batch_id: int | None, row_nos: list[int]) -> dict[str, Any]:
    """The order as the channel sent it: its lines, plus what re-imports compare against."""
    return {
        "lines": [
            {
                "sku_code": ln.sku_code,
                "quantity": ln.quantity,
                "unit_price": str(ln.unit_price),
                "name": ln.name,
            }
            for ln in d.lines
        ],
        "fingerprint": fingerprint,
        "batch": batch_id,
        "rows": row_nos[:50],
    }
