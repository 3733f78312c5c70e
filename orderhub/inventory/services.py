"""Stock writes. Counters change only through conditional UPDATEs, each with a ledger row.

Lock order, everywhere: the order row first (the transition service takes it), then stock rows
in primary-key order. Two allocations touching the same stocks therefore queue, never deadlock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.catalog.models import Sku
from orderhub.core.db import CompiledRows, RowInserter
from orderhub.core.errors import Conflict, ValidationFailed
from orderhub.inventory.models import (
    Reservation,
    Stock,
    StockAdjustment,
    StockMovement,
    StockMovementKind,
    Warehouse,
)
from orderhub.orders.effects import EffectContext, transition_batch_effect
from orderhub.orders.models import Order


class InsufficientStock(Conflict):
    """Every shortfall of one request, listed together (not just the first)."""

    code = "insufficient_stock"


@dataclass(frozen=True)
class Shortfall:
    sku_code: str
    needed: int
    available: int

    def text(self) -> str:
        return _("%(sku)s 需 %(n)s，可用 %(a)s") % {
            "sku": self.sku_code,
            "n": self.needed,
            "a": self.available,
        }


class _ShortfallError(Exception):
    """Internal: the conditional UPDATE moved fewer rows than asked; the savepoint rolls back."""


@dataclass(frozen=True)
class ReserveLine:
    stock_id: int
    quantity: int
    sku_code: str = ""


# Ledger rows and reservations: executemany of an INSERT built once (bulk_create prepared each
# value of each row through a model instance, which cost more than the database's work here).
_MOVEMENTS = RowInserter(StockMovement)
_RESERVATIONS = RowInserter(Reservation)
Movement = tuple[int, str, int, int, "int | None", str]  # stock, kind, on-hand Δ, reserved Δ, order, note


def _movements_insert(rows: list[Movement], actor: User | None) -> None:
    """Ledger rows, all by one actor at one time."""
    at, actor_id = timezone.now(), actor.pk if actor else None
    _MOVEMENTS.insert_many(
        [
            {
                "stock_id": stock_id,
                "kind": kind,
                "on_hand_delta": on_hand,
                "reserved_delta": reserved,
                "order_id": order_id,
                "note": note[:255],
                "actor_id": actor_id,
                "created_at": at,
            }
            for stock_id, kind, on_hand, reserved, order_id, note in rows
        ]
    )


def _reservations_insert(rows: list[tuple[int, int, int]]) -> None:
    """Active reservations (order_id, stock_id, quantity)."""
    at, active = timezone.now(), Reservation.Status.ACTIVE.value
    _RESERVATIONS.insert_many(
        [
            {
                "order_id": order_id,
                "stock_id": stock_id,
                "quantity": quantity,
                "status": active,
                "created_at": at,
            }
            for order_id, stock_id, quantity in rows
        ]
    )


_STOCK_ATTNAMES = [f.attname for f in Stock._meta.concrete_fields]


def stocks_lock_for(*, sku_ids: Iterable[int], warehouse_ids: Iterable[int]) -> list[Stock]:
    """The stock rows of these SKUs in these warehouses, locked in primary-key order.

    Written as SQL because the ORM's compilation of this query cost more than running it on the
    allocation path (once per order); ids are bound parameters, only model metadata is in the text.
    """
    skus, whs = sorted(set(sku_ids)), sorted(set(warehouse_ids))
    if not skus or not whs:
        return []
    qn = connection.ops.quote_name
    meta = Stock._meta
    columns = ", ".join(qn(meta.get_field(a).column) for a in _STOCK_ATTNAMES)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = (
        f"SELECT {columns} FROM {qn(meta.db_table)} WHERE {qn('sku_id')} IN ({', '.join(['%s'] * len(skus))})"  # noqa: S608
        f" AND {qn('warehouse_id')} IN ({', '.join(['%s'] * len(whs))}) ORDER BY {qn('id')}{lock}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [*skus, *whs])
        return [Stock.from_db(connection.alias, _STOCK_ATTNAMES, row) for row in cur.fetchall()]


def stocks_lock(stock_ids: Iterable[int]) -> dict[int, Stock]:
    """Lock stock rows in primary-key order (a no-op on SQLite, whose writers serialise)."""
    ids = sorted(set(stock_ids))
    if not ids:
        return {}
    return {s.pk: s for s in Stock.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def stock_reserve(
    *, order: Order, lines: list[ReserveLine], actor: User | None, note: str = "", locked: bool = False
) -> int:
    """Reserve units for an order; all or nothing. Raises InsufficientStock listing every shortfall.

    One conditional UPDATE moves every counter (`on_hand - reserved >= qty` per row in the WHERE),
    so a racing writer can never push `reserved` past `on_hand`, whatever the isolation level; a
    row count short of the rows asked for means a shortfall, and the savepoint undoes the rest.
    `locked`: the caller already holds the stock rows' locks (taken in primary-key order).
    """
    assert transaction.get_connection().in_atomic_block
    wanted: dict[int, int] = {}
    codes: dict[int, str] = {}
    for ln in lines:
        wanted[ln.stock_id] = wanted.get(ln.stock_id, 0) + ln.quantity
        codes[ln.stock_id] = ln.sku_code
    if not locked:
        stocks_lock(wanted)  # primary-key order, so two multi-row UPDATEs never deadlock
    # A savepoint lets a shortfall undo the rows already reserved. Under the caller's locks (taken
    # after reading availability) a shortfall cannot happen, so none is taken: should one happen
    # anyway, the error aborts the caller's whole transaction instead.
    try:
        with transaction.atomic(savepoint=not locked):
            updated = _counters_move(wanted, reserved=+1, on_hand=0, condition="available")
            if updated != len(wanted):
                if locked:
                    raise Conflict(_("库存记录与占用不一致，请盘点后重试"), code="stock_inconsistent")
                raise _ShortfallError
            reserve = StockMovementKind.RESERVE.value
            rows = sorted(wanted.items())
            _movements_insert([(sid, reserve, 0, q, order.pk, note) for sid, q in rows], actor)
            _reservations_insert([(order.pk, sid, q) for sid, q in rows])
    except _ShortfallError:
        shortfalls = _shortfalls(wanted, codes)  # read after the rollback: what is really there
        raise InsufficientStock(
            _("库存不足：") + "；".join(s.text() for s in shortfalls),
            details={"shortfalls": [s.__dict__ for s in shortfalls]},
        ) from None
    return sum(wanted.values())


@dataclass(frozen=True)
class WaveReserveLine:
    """One order's units of one stock row, in a wave reserved together."""

    order_id: int
    stock_id: int
    quantity: int


COUNTER_CHUNK = 500  # stock rows per counter UPDATE: bounds the CASE (and SQLite's variables)


def stock_reserve_wave(*, lines: Sequence[WaveReserveLine], actor: User | None, note: str = "") -> int:
    """Reserve the units of a whole allocation wave, under stock locks the caller holds.

    The caller locked every stock row (in primary-key order) and decided each order against
    those counters, so each row moves ONCE by the wave's total, through the same conditional
    UPDATE as one order (`on_hand - reserved >= qty`): it never oversells even if the caller's
    arithmetic were wrong, and a row it refuses aborts the caller's transaction. Ledger rows and
    reservations go in with one INSERT each (one per order and stock row, as for one order).
    """
    assert transaction.get_connection().in_atomic_block
    per_order: dict[tuple[int, int], int] = {}
    per_stock: dict[int, int] = {}
    for ln in lines:
        key = (ln.order_id, ln.stock_id)
        per_order[key] = per_order.get(key, 0) + ln.quantity
        per_stock[ln.stock_id] = per_stock.get(ln.stock_id, 0) + ln.quantity
    if not per_stock:
        return 0
    ids = sorted(per_stock)
    for start in range(0, len(ids), COUNTER_CHUNK):
        chunk = {sid: per_stock[sid] for sid in ids[start : start + COUNTER_CHUNK]}
        if _counters_move(chunk, reserved=+1, on_hand=0, condition="available") != len(chunk):
            raise Conflict(_("库存记录与占用不一致，请盘点后重试"), code="stock_inconsistent")
    keys = sorted(per_order)
    reserve = StockMovementKind.RESERVE.value
    _movements_insert([(sid, reserve, 0, per_order[(oid, sid)], oid, note) for oid, sid in keys], actor)
    _reservations_insert([(oid, sid, per_order[(oid, sid)]) for oid, sid in keys])
    return sum(per_stock.values())


def _shortfalls(wanted: dict[int, int], codes: dict[int, str]) -> list[Shortfall]:
    rows = {s["pk"]: s for s in Stock.objects.filter(pk__in=wanted).values("pk", "on_hand", "reserved")}
    out = []
    for sid in sorted(wanted):
        row = rows.get(sid, {"on_hand": 0, "reserved": 0})
        available = row["on_hand"] - row["reserved"]
        if available < wanted[sid]:
            out.append(Shortfall(codes[sid], wanted[sid], available))
    return out


def _active_query(orders: Any) -> Any:
    return (
        Reservation.objects.select_for_update()
        .filter(orders, status=Reservation.Status.ACTIVE)
        .order_by("stock_id", "pk")  # lock order: stock primary key, as everywhere
        .values_list(*_RESERVATION_COLUMNS)
    )


_RESERVATION_COLUMNS = ("id", "order_id", "stock_id", "quantity")
# One order's active reservations (every ship and cancel): built once, inside the first caller's
# transaction as select_for_update() requires.
_ACTIVE_OF_ORDER = CompiledRows(lambda order_id: _active_query(Q(order_id=order_id)))


def _active_locked(order_ids: list[int]) -> list[Reservation]:
    if len(order_ids) == 1:
        rows = _ACTIVE_OF_ORDER.rows(order_ids[0])
    else:
        rows = list(_active_query(Q(order_id__in=order_ids)))
    return [
        Reservation(**dict(zip(("id", "order_id", "stock_id", "quantity"), row, strict=True))) for row in rows
    ]


def _counters_move(per_stock: dict[int, int], *, reserved: int, on_hand: int, condition: str) -> int:
    """One conditional UPDATE moving each stock row by its own quantity; returns the rows moved.

    `reserved` / `on_hand`: the sign (+1, -1, 0) each counter moves by; `condition`: "available"
    (on_hand - reserved >= qty) or "reserved" (reserved >= qty). Written as SQL because the ORM's
    Case/When costs milliseconds of Python per call on this path; only the quoted names below
    go into the text, every id and quantity is a bound parameter.
    """
    case = "CASE " + " ".join(['WHEN "id" = %s THEN %s'] * len(per_stock)) + " END"
    case_params = [v for sid, q in per_stock.items() for v in (sid, q)]
    sets, params = [], []
    for column, sign in (("reserved", reserved), ("on_hand", on_hand)):
        if sign:
            sets.append(f'"{column}" = "{column}" {"+" if sign > 0 else "-"} {case}')
            params += case_params
    test = '"on_hand" - "reserved"' if condition == "available" else '"reserved"'
    ids = ", ".join(["%s"] * len(per_stock))
    sql = f'UPDATE "inventory_stock" SET {", ".join(sets)} WHERE "id" IN ({ids}) AND {test} >= {case}'  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, [*params, *per_stock, *case_params])
        return cur.rowcount


def _settle(notes: dict[int, str], actor: User | None, *, consume: bool) -> int:
    """Release or consume every active reservation of these orders ({order id: ledger note}):
    counters, ledger, status, with one statement of each kind however many orders.

    One UPDATE moves every stock row; `reserved >= qty` in its WHERE refuses to go negative if
    the ledger was bypassed (a row count short of the rows asked for aborts the transaction).
    """
    active = _active_locked(list(notes))
    if not active:
        return 0
    per_stock: dict[int, int] = {}
    for r in active:
        per_stock[r.stock_id] = per_stock.get(r.stock_id, 0) + r.quantity
    on_hand = -1 if consume else 0
    updated = _counters_move(per_stock, reserved=-1, on_hand=on_hand, condition="reserved")
    if updated != len(per_stock):
        raise Conflict(_("库存记录与占用不一致，请盘点后重试"), code="stock_inconsistent")
    kind = (StockMovementKind.SHIP if consume else StockMovementKind.RELEASE).value
    _movements_insert(
        [
            (r.stock_id, kind, on_hand * r.quantity, -r.quantity, r.order_id, notes[r.order_id])
            for r in active
        ],
        actor,
    )
    status = Reservation.Status.CONSUMED if consume else Reservation.Status.RELEASED
    Reservation.objects.filter(pk__in=[r.pk for r in active]).update(status=status)
    return sum(r.quantity for r in active)


def reservations_release(*, order: Order, actor: User | None, note: str = "") -> int:
    """Give back every active reservation of an order (cancel, void). Returns units released."""
    assert transaction.get_connection().in_atomic_block
    return _settle({order.pk: note}, actor, consume=False)


def reservations_consume(*, order: Order, actor: User | None, note: str = "") -> int:
    """Ship: the reserved units leave the warehouse (on-hand and reserved both drop)."""
    assert transaction.get_connection().in_atomic_block
    return _settle({order.pk: note}, actor, consume=True)


def _by_actor(
    contexts: list[EffectContext], note: Callable[[EffectContext], str]
) -> dict[Any, dict[int, str]]:
    """The transitions' {order id: note} per actor (a batch has one actor)."""
    groups: dict[User | None, dict[int, str]] = {}
    for ctx in contexts:
        groups.setdefault(ctx.entry.actor, {})[ctx.order.pk] = note(ctx)
    return groups


def _stock_row(warehouse: Warehouse, sku: Sku) -> Stock:
    try:
        with transaction.atomic():
            stock, _created = Stock.objects.get_or_create(warehouse=warehouse, sku=sku)
    except IntegrityError:  # created concurrently
        stock = Stock.objects.get(warehouse=warehouse, sku=sku)
    return stock


def stock_adjust(
    *,
    warehouse: Warehouse,
    sku: Sku,
    kind: str,
    quantity: int,
    actor: User | None,
    note: str = "",
) -> StockAdjustment:
    """Apply a receipt (+quantity on hand) or a count (on hand := quantity), with its ledger row."""
    if kind not in StockAdjustment.Kind.values:
        raise ValidationFailed(_("未知调整类型：%(k)s") % {"k": kind}, field="kind")
    if quantity < 0 or (kind == StockAdjustment.Kind.RECEIPT and quantity == 0):
        raise ValidationFailed(_("数量必须为正数"), field="quantity")
    stock = _stock_row(warehouse, sku)
    with transaction.atomic():
        stock = stocks_lock([stock.pk])[stock.pk]
        if kind == StockAdjustment.Kind.RECEIPT:
            delta = quantity
            Stock.objects.filter(pk=stock.pk).update(on_hand=F("on_hand") + quantity)
            mkind = StockMovementKind.RECEIPT
        else:
            if quantity < stock.reserved:
                raise ValidationFailed(
                    _("%(wh)s %(sku)s 盘点数 %(n)s 少于已占用 %(r)s：请先处理占用该库存的订单")
                    % {"wh": warehouse.code, "sku": sku.code, "n": quantity, "r": stock.reserved},
                    field="quantity",
                )
            delta = quantity - stock.on_hand
            # Conditional on the value read under the lock: a concurrent change makes this fail loudly.
            if not Stock.objects.filter(pk=stock.pk, on_hand=stock.on_hand).update(on_hand=quantity):
                raise Conflict(_("库存在盘点时被修改，请重试"), code="stock_changed")
            mkind = StockMovementKind.COUNT
        movement = StockMovement.objects.create(
            stock=stock, kind=mkind, on_hand_delta=delta, actor=actor, note=note[:255]
        )
        return StockAdjustment.objects.create(
            warehouse=warehouse,
            sku=sku,
            kind=kind,
            quantity=quantity,
            note=note[:255],
            movement=movement,
            actor=actor,
        )


@transition_batch_effect(on=["cancel", "reject_allocation"])
def _release_on_cancel(contexts: list[EffectContext]) -> None:
    """Cancelling, or sending an allocated order back to review, gives the reserved stock back."""
    for actor, notes in _by_actor(contexts, lambda ctx: ctx.entry.reason).items():
        _settle(notes, actor, consume=False)


@transition_batch_effect(on=["ship"])
def _consume_on_ship(contexts: list[EffectContext]) -> None:
    """Shipping takes the reserved units out of on-hand."""
    for actor, notes in _by_actor(contexts, lambda ctx: ctx.order.order_no).items():
        _settle(notes, actor, consume=True)
