"""Writing one prepared chunk: bulk variant of `order_create` for imports, in the chunk's transaction.

It writes exactly what `order_create` writes for each new order — the order in 待审核, its lines, its
holds (the same `_basic_holds` rules plus the importer's own), and its first operation-log entry —
with one INSERT per table per chunk; orders the channel sent before go through
`order_update_from_channel`. The log entry's hash covers the order id, so ids are reserved first
(a sequence on PostgreSQL; on SQLite the writer already holds the database's write lock, so the
next ids are simply max(id)+1…). Everything that does not need the database was done beforehand
by ingest/prepare.py, possibly in a helper process.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.ingest.conf import ingest_setting
from orderhub.ingest.models import ImportBatch, ImportChunk, ImportIssue, RowOutcome
from orderhub.ingest.prepare import (
    PrepareContext,
    PreparedChunk,
    PreparedOrder,
    hold_values,
    log_entry,
    prepare_chunk,
)
from orderhub.orders.audit import entry_hash_for, entry_hash_parts
from orderhub.orders.models import HoldReason, Order
from orderhub.orders.services.create import new_order_no
from orderhub.orders.states import OrderStatus


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


def _order_numbers(new: list[PreparedOrder], now: datetime) -> list[str]:
    """The prepared order numbers (same format as `order_create`), redrawn where one is taken in
    the table or repeated in the chunk."""
    numbers = [n.number for n in new]
    for _attempt in range(5):
        taken = _taken_numbers(numbers)
        seen: set[str] = set()
        clash = False
        for i, no in enumerate(numbers):
            if no in taken or no in seen:
                numbers[i] = new_order_no(new[i].ordered_at or now)
                clash = True
            seen.add(numbers[i])
        if not clash:
            return numbers
    raise RuntimeError("could not allocate unique order numbers")


def _in_list(n: int) -> str:
    return ", ".join(["%s"] * n)


def _existing_orders(channel_id: int, keys: list[str]) -> list[tuple[str, int, str | None]]:
    """(channel order number, id, lines_snapshot as JSON text) of the orders these keys name."""
    if not keys:
        return []
    # Plain SQL, like _taken_numbers; the snapshot is cast to text on both databases.
    snapshot = "lines_snapshot::text" if connection.vendor == "postgresql" else "lines_snapshot"
    sql = (
        f'SELECT channel_order_no, id, {snapshot} FROM "orders_order" '  # noqa: S608 - no user text
        f"WHERE channel_id = %s AND channel_order_no IN ({_in_list(len(keys))})"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [channel_id, *keys])
        return cur.fetchall()


def _taken_numbers(numbers: list[str]) -> set[str]:
    # Plain SQL: the ORM spends longer building a 2,000-value IN than the database answering it.
    sql = 'SELECT order_no FROM "orders_order" WHERE order_no IN ({})'.format(  # noqa: S608
        ", ".join(["%s"] * len(numbers))
    )
    with connection.cursor() as cur:
        cur.execute(sql, numbers)
        return {r[0] for r in cur.fetchall()}


def duplicate_holds(new: list[PreparedOrder]) -> dict[int, tuple[str, str]]:
    """Orders that look like another order (same receiver, address and goods within the window)
    under a different channel order number, in this chunk or already in OrderHub: {index: hold}.

    Orders of earlier chunks of the batch are already in the table, so only this chunk's are
    remembered here."""
    window = timedelta(hours=ingest_setting("DUPLICATE_WINDOW_HOURS"))
    phones = {n.dup_key[0] for n in new if n.dup_key}
    if not phones:
        return {}
    existing: dict[tuple[Any, ...], list[tuple[str, datetime]]] = {}
    times = [n.ordered_at for n in new if n.ordered_at]
    # Plain SQL for the 2,000-value IN (see _taken_numbers); the few candidates through the ORM.
    sql = f'SELECT id FROM "orders_order" WHERE receiver_phone IN ({_in_list(len(phones))}) AND status <> %s'  # noqa: S608
    params: list[Any] = [*phones, OrderStatus.CANCELLED.value]
    if times and len(times) == len(new):
        # Compared through an expression on purpose: given the bare column, SQLite's planner
        # prefers the ordered_at range (a chunk spans weeks: most of the table) to the phone
        # lookups, and the check then grows with the table (150 ms a chunk at 200,000 orders).
        sql += " AND COALESCE(ordered_at, created_at) >= %s AND COALESCE(ordered_at, created_at) <= %s"
        adapt = connection.ops.adapt_datetimefield_value
        params += [adapt(min(times) - window), adapt(max(times) + window)]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        ids = [r[0] for r in cur.fetchall()]
    candidates = (
        Order.objects.filter(pk__in=ids)
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
        if ids
        else []
    )
    for o in candidates:
        goods = tuple(sorted((ln.sku_code, ln.quantity) for ln in o.lines.all()))
        key = (o.receiver_phone, o.receiver_name, o.address_detail, goods)
        existing.setdefault(key, []).append((o.channel_order_no or o.order_no, o.ordered_at))
    seen_in_chunk: dict[tuple[Any, ...], tuple[str, datetime]] = {}
    found: dict[int, tuple[str, str]] = {}
    for i, n in enumerate(new):
        if n.dup_key is None:
            continue
        at = n.ordered_at
        others = [*existing.get(n.dup_key, [])]
        if n.dup_key in seen_in_chunk:
            others.append(seen_in_chunk[n.dup_key])
        for other_no, other_at in others:
            if other_no != n.key and (at is None or abs(at - other_at) <= window):
                found[i] = (HoldReason.DUPLICATE, _("与订单 %(o)s 收货人、地址、商品相同") % {"o": other_no})
                break
        if at is not None:
            seen_in_chunk.setdefault(n.dup_key, (n.key, at))
    return found


def orders_insert(
    *,
    new: list[PreparedOrder],
    prep: PrepareContext,
    now: datetime,
) -> list[int]:
    """Insert the prepared new orders of one chunk; returns their ids. The caller holds the chunk's
    transaction."""
    if not new:
        return []
    for i, hold in duplicate_holds(new).items():
        _add_hold(new[i], hold, prep, now)
    ids = reserve_ids(Order, len(new))
    numbers = _order_numbers(new, now)
    w = prep.writers
    at_id, at_no, at_head = w.order.pos["id"], w.order.pos["order_no"], w.order.pos["log_head"]
    line_order, hold_order = w.line.pos["order_id"], w.hold.pos["order_id"]
    log_order, log_hash = w.log.pos["order_id"], w.log.pos["hash"]
    orders, lines, holds, logs = [], [], [], []
    for n, pk, number in zip(new, ids, numbers, strict=True):
        digest = entry_hash_for(n.hash_parts, pk)
        values = n.order_values
        values[at_id], values[at_no], values[at_head] = pk, number, digest
        orders.append(values)
        for line in n.line_values:
            line[line_order] = pk
            lines.append(line)
        for hold in n.hold_values:
            hold[hold_order] = pk
            holds.append(hold)
        log = n.log_values
        log[log_order], log[log_hash] = pk, digest
        logs.append(log)
    w.order.insert(orders)
    w.line.insert(lines)
    w.hold.insert(holds)
    w.log.insert(logs)
    held = [[pk, [r for r, _d in n.holds]] for n, pk in zip(new, ids, strict=True) if n.holds]
    if held:
        from orderhub.ingest.tasks import notify_import_holds

        notify_import_holds.enqueue(held)
    return ids


def _add_hold(n: PreparedOrder, hold: tuple[str, str], prep: PrepareContext, now: datetime) -> None:
    """Add a hold the writer found (a duplicate) where `_basic_holds` would have put it: after the
    draft's own holds; the log entry, which lists the holds, is built again."""
    own = n.holds[: n.draft_holds]
    merged = [*own, hold, *n.holds[n.draft_holds :]]
    seen: set[str] = set()
    n.holds = [(r, d) for r, d in merged if not (r in seen or seen.add(r))]
    n.draft_holds = len({r for r, _d in own} | {hold[0]})
    n.hold_values = hold_values(prep, n.holds, now)
    entry = log_entry(prep, n.holds, now)
    n.log_values = prep.writers.log.values(entry)
    n.hash_parts = entry_hash_parts(entry)


def chunk_persist(
    *,
    batch: ImportBatch,
    prepared: PreparedChunk,
    prep: PrepareContext,
    actor: User | None,
) -> tuple[list[list[Any]], list[ImportIssue]]:
    """Write one prepared chunk of orders; returns each row's outcome and the chunk's issues."""
    outcomes: list[list[Any]] = [[n, RowOutcome.SKIPPED, None] for n in prepared.skipped]
    issues: list[ImportIssue] = []
    existing: dict[str, int] = {}
    this_batch: set[str] = set()
    for no, pk, snap in _existing_orders(prep.channel.pk, [n.key for n in prepared.orders]):
        existing[no] = pk
        snap = json.loads(snap) if snap else None
        if isinstance(snap, dict) and snap.get("batch") == batch.pk:
            this_batch.add(no)
    if existing and any(n.draft is None for n in prepared.orders if n.key in existing):
        # Prepared by the helper, which leaves drafts out: an update needs them, so prepare the
        # chunk again here (a re-import runs at the in-process speed).
        rows = ImportChunk.objects.filter(pk=prepared.chunk_id).values_list("rows", flat=True).get()
        prepared = prepare_chunk(prep, prepared.chunk_id, rows)
    new: list[PreparedOrder] = []
    for n in prepared.orders:
        if n.key not in existing:
            new.append(n)
            continue
        order_id = existing[n.key]
        outcome = _update_existing(batch, actor, n, order_id, n.key in this_batch)
        outcomes.extend([row_no, outcome, order_id] for row_no in n.row_nos)
        if outcome == RowOutcome.CONFLICT:
            issues.append(
                ImportIssue(
                    batch=batch,
                    row_no=n.row_nos[0],
                    outcome=RowOutcome.CONFLICT,
                    code=HoldReason.CHANGED_AFTER_ALLOCATION,
                    message=str(HoldReason.CHANGED_AFTER_ALLOCATION.label),
                    channel_order_no=n.key,
                    order_id=order_id,
                )
            )
    created = orders_insert(new=new, prep=prep, now=prepared.now)
    for n, order_id in zip(new, created, strict=True):
        outcome = RowOutcome.HELD if n.holds else RowOutcome.CREATED
        outcomes.extend([row_no, outcome, order_id] for row_no in n.row_nos)
        issues.extend(_hold_issues(batch, n, order_id))
    rejected_rows: set[int] = set()
    for rj in prepared.rejected:
        if rj.row_no not in rejected_rows:
            rejected_rows.add(rj.row_no)
            outcomes.append([rj.row_no, RowOutcome.REJECTED, None])
        issues.append(
            ImportIssue(
                batch=batch,
                row_no=rj.row_no,
                column=rj.column[:128],
                outcome=RowOutcome.REJECTED,
                code=rj.code[:32],
                message=rj.message[:500],
                channel_order_no=prepared.rejected_keys.get(rj.row_no, ""),
            )
        )
    outcomes.sort(key=lambda o: o[0])
    return outcomes, issues


def _hold_issues(batch: ImportBatch, n: PreparedOrder, order_id: int) -> Iterable[ImportIssue]:
    for reason, detail in n.holds:
        label = HoldReason(reason).label
        yield ImportIssue(
            batch=batch,
            row_no=n.row_nos[0],
            outcome=RowOutcome.HELD,
            code=reason,
            message=(f"{label}：{detail}" if detail else str(label))[:500],
            channel_order_no=n.key,
            order_id=order_id,
        )


def _update_existing(
    batch: ImportBatch, actor: User | None, n: PreparedOrder, order_id: int, seen_in_batch: bool
) -> str:
    from decimal import Decimal

    from orderhub.ingest.drafts import draft_fingerprint
    from orderhub.ingest.services import order_update_from_channel
    from orderhub.orders.services import LineDraft

    draft = n.draft
    assert draft is not None
    fingerprint = n.fingerprint
    if seen_in_batch:
        # More lines of an order that an earlier chunk of this same file already created.
        prev = Order.objects.filter(pk=order_id).values_list("lines_snapshot", flat=True).first() or {}
        lines = [
            LineDraft(
                ln["sku_code"],
                int(ln["quantity"]),
                Decimal(str(ln["unit_price"])),
                ln.get("name", ""),
                ln.get("sub_order_no", ""),
            )
            for ln in (prev.get("lines", []) if isinstance(prev, dict) else [])
        ]
        draft.lines = lines + draft.lines
        fingerprint = draft_fingerprint(draft)
    return order_update_from_channel(
        order_id=order_id,
        draft=draft,
        actor=actor,
        fingerprint=fingerprint,
        batch_id=batch.pk,
        row_nos=n.row_nos,
    )
