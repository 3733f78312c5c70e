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
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.catalog.models import Customer, CustomerTier
from orderhub.ingest.conf import ingest_setting
from orderhub.ingest.drafts import Catalog
from orderhub.ingest.models import Channel
from orderhub.orders.audit import GENESIS, _canonical, entry_hash
from orderhub.orders.models import HoldReason, LogAction, OperationLog, Order, OrderHold, OrderLine
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
    if not d.receiver_phone or not d.address_detail:
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
    if phones:
        candidates = (
            Order.objects.filter(receiver_phone__in=phones)
            .exclude(status=OrderStatus.CANCELLED)
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
) -> list[Order]:
    """Insert the orders of one chunk. The caller holds the chunk's transaction."""
    if not new:
        return []
    ids = reserve_ids(Order, len(new))
    numbers = _order_numbers([n.draft for n in new], now)
    orders: list[Order] = []
    lines: list[OrderLine] = []
    holds: list[OrderHold] = []
    logs: list[OperationLog] = []
    actor_name = str(actor) if actor else ""
    skus = _SkuView(catalog)
    for n, pk, number in zip(new, ids, numbers, strict=True):
        d = n.draft
        customer = customers.get(d.customer_code) if d.customer_code else None
        owner_id = owners.get(d.owner_username or "") or (customer.owner_id if customer else None)
        goods = sum((ln.unit_price * ln.quantity for ln in d.lines), Decimal("0"))
        n.holds = _basic_holds(d, skus)  # type: ignore[arg-type]
        n.order_id = pk
        details = json.loads(
            _canonical({"channel": channel.code, "holds": [r for r, _d in n.holds], "batch": batch_id})
        )
        entry = OperationLog(
            order_id=pk,
            seq=1,
            action=LogAction.CREATE,
            transition="",
            from_status="",
            to_status=OrderStatus.PENDING_REVIEW,
            actor=actor,
            actor_name=actor_name,
            automatic=False,
            reason="",
            details=details,
            at=now,
            prev_hash=GENESIS,
        )
        entry.hash = entry_hash(entry)
        logs.append(entry)
        orders.append(
            Order(
                pk=pk,
                order_no=number,
                channel=channel,
                channel_order_no=d.channel_order_no or None,
                ordered_at=d.ordered_at or now,
                customer=customer,
                customer_tier=d.customer_tier or (customer.tier if customer else CustomerTier.C),
                status=OrderStatus.PENDING_REVIEW,
                last_operator=actor,
                updated_at=now,
                status_changed_at=now,
                receiver_name=d.receiver_name,
                receiver_phone=d.receiver_phone,
                phone_kind=d.phone_kind,
                province=d.province,
                province_code=d.province_code,
                city=d.city,
                city_code=d.city_code,
                district=d.district,
                district_code=d.district_code,
                address_detail=d.address_detail,
                goods_amount=goods,
                shipping_fee=d.shipping_fee,
                total_amount=goods + d.shipping_fee,
                remark=d.remark,
                promised_at=d.promised_at,
                priority=d.priority,
                owner_id=owner_id,
                lines_snapshot=snapshot(d, n.fingerprint, batch_id, n.row_nos),
                version=1,
                log_seq=1,
                log_head=entry.hash,
            )
        )
        for i, ln in enumerate(d.lines, start=1):
            lines.append(
                OrderLine(
                    order_id=pk,
                    line_no=i,
                    sku_id=catalog.ids.get(ln.sku_code),
                    sku_code=ln.sku_code,
                    name=ln.name or catalog.names.get(ln.sku_code, ""),
                    quantity=ln.quantity,
                    unit_price=ln.unit_price,
                )
            )
        holds.extend(OrderHold(order_id=pk, reason=r, detail=dt[:255], created_by=actor) for r, dt in n.holds)
    Order.objects.bulk_create(orders)
    OrderLine.objects.bulk_create(lines)
    OrderHold.objects.bulk_create(holds)
    OperationLog.objects.bulk_create(logs)
    held = [(o, n.holds) for o, n in zip(orders, new, strict=True) if n.holds]
    if held:
        from orderhub.notify.services import notify_for_hold

        for order, order_holds in held:
            notify_for_hold(order, [r for r, _d in order_holds or []])
    return orders


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
