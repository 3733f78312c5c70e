"""Allocation (分仓): pick one warehouse for an order (or a part) and reserve its stock.

Strategies are key functions in a registry (as Saleor's allocation strategies): each maps a
candidate warehouse to a sort key, a policy lists them in order, and warehouses are ranked by
the tuple of keys. Only warehouses that can ship every line are candidates; an order no single
warehouse can ship is split first (split.py) or held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.accounts.services import system_user
from orderhub.core.errors import AppError, InvalidTransition, PermissionDenied, ValidationFailed
from orderhub.fulfilment.config import cached
from orderhub.fulfilment.entities import entities_decide
from orderhub.fulfilment.models import AllocationPolicy, ProvincePreference
from orderhub.fulfilment.rows import Line, has_parts, order_lines, order_locked, with_references
from orderhub.inventory.models import Stock, Warehouse
from orderhub.inventory.services import (
    InsufficientStock,
    ReserveLine,
    Shortfall,
    WaveReserveLine,
    stock_reserve,
    stock_reserve_wave,
    stocks_lock_for,
)
from orderhub.orders.errors import order_not_found
from orderhub.orders.models import HoldReason, Order, OrderLine
from orderhub.orders.permissions import can_see, may_perform
from orderhub.orders.services import order_hold, order_transition, order_transition_many
from orderhub.orders.states import TRANSITIONS_BY_NAME, OrderStatus


@dataclass
class Candidate:
    warehouse: Warehouse
    stocks: dict[int, Stock]  # sku_id → locked stock row
    covered_lines: int = 0
    covers: bool = False
    total_available: int = 0


@dataclass
class AllocationContext:
    order: Order
    needs: dict[int, int]  # sku_id → units
    sku_codes: dict[int, str]
    preferences: dict[int, int] = field(default_factory=dict)  # warehouse_id → rank


Strategy = Callable[[AllocationContext, Candidate], Any]
STRATEGIES: dict[str, tuple[str, Strategy]] = {}
DEFAULT_STRATEGIES: tuple[str, ...] = ("region", "stock_first", "priority")


def allocation_strategy(key: str, label: str) -> Callable[[Strategy], Strategy]:
    def wrap(fn: Strategy) -> Strategy:
        STRATEGIES[key] = (label, fn)
        return fn

    return wrap


@allocation_strategy("region", "就近发货（省份→仓库偏好表）")
def _region(ctx: AllocationContext, c: Candidate) -> int:
    if c.warehouse.pk in ctx.preferences:
        return ctx.preferences[c.warehouse.pk]
    # Without a preference row, the receiver's own province still beats the rest of the country.
    return 500 if ctx.order.province and c.warehouse.province == ctx.order.province else 1000


@allocation_strategy("stock_first", "库存优先（可用量多者先）")
def _stock_first(ctx: AllocationContext, c: Candidate) -> int:
    return -c.total_available


@allocation_strategy("priority", "仓库优先级")
def _priority(ctx: AllocationContext, c: Candidate) -> int:
    return c.warehouse.priority


@allocation_strategy("fewest_parts", "最少拆单（覆盖行数多者先）")
def _fewest_parts(ctx: AllocationContext, c: Candidate) -> int:
    return -c.covered_lines


def strategy_choices() -> list[tuple[str, str]]:
    return [(k, label) for k, (label, _fn) in STRATEGIES.items()]


def _policies() -> dict[int | None, tuple[str, list[str]]]:
    out = {}
    for p in AllocationPolicy.objects.filter(active=True).prefetch_related("steps"):
        keys = [s.strategy for s in p.steps.all() if s.strategy in STRATEGIES]
        out[p.selling_entity_id] = (p.name, keys or list(DEFAULT_STRATEGIES))
    return out


def policy_for(order: Order) -> tuple[str, list[str]]:
    """The policy of the order's selling entity, else the default one, else the built-in order."""
    policies = cached("allocation_policies", _policies)
    found = policies.get(order.selling_entity_id) or policies.get(None)
    return found or ("built-in", list(DEFAULT_STRATEGIES))


def _preferences() -> dict[str, dict[int, int]]:
    out: dict[str, dict[int, int]] = {}
    for province, wh, rank in ProvincePreference.objects.values_list("province", "warehouse_id", "rank"):
        out.setdefault(province, {})[wh] = rank
    return out


def active_warehouses() -> list[Warehouse]:
    return cached("warehouses", lambda: list(Warehouse.objects.filter(active=True)))


StockIndex = dict[int, dict[int, Stock]]  # warehouse_id → sku_id → locked stock row


def stocks_by_warehouse(stocks: Iterable[Stock]) -> StockIndex:
    """Index locked stock rows once (a wave decides hundreds of orders against the same rows)."""
    out: StockIndex = {}
    for s in stocks:
        out.setdefault(s.warehouse_id, {})[s.sku_id] = s
    return out


def candidates_build(
    ctx: AllocationContext, by_wh: StockIndex, warehouses: list[Warehouse]
) -> list[Candidate]:
    out = []
    for wh in warehouses:
        rows = by_wh.get(wh.pk, {})
        c = Candidate(warehouse=wh, stocks=rows)
        for sku_id, qty in ctx.needs.items():
            s = rows.get(sku_id)
            avail = s.on_hand - s.reserved if s else 0
            c.total_available += max(avail, 0)
            c.covered_lines += int(avail >= qty)
        c.covers = c.covered_lines == len(ctx.needs)
        out.append(c)
    return out


def candidates_rank(
    ctx: AllocationContext, cands: list[Candidate], keys: list[str]
) -> list[tuple[Candidate, tuple]]:
    fns = [STRATEGIES[k][1] for k in keys]
    ranked = [(c, (*(fn(ctx, c) for fn in fns), c.warehouse.pk)) for c in cands]
    ranked.sort(key=lambda pair: pair[1])
    return ranked


def shortfalls_of(ctx: AllocationContext, cands: list[Candidate]) -> list[Shortfall]:
    """Per SKU: what no single warehouse can cover (best single warehouse's availability)."""
    out = []
    for sku_id, qty in ctx.needs.items():
        best = max((c.stocks[sku_id].available for c in cands if sku_id in c.stocks), default=0)
        if best < qty:
            out.append(Shortfall(ctx.sku_codes[sku_id], qty, max(best, 0)))
    if not out:  # every SKU exists somewhere, but never all together
        out = [Shortfall(ctx.sku_codes[s], q, 0) for s, q in ctx.needs.items()]
    return out


@dataclass
class AllocationResult:
    order: Order
    allocated: bool
    warehouse: Warehouse | None
    details: dict[str, Any]


def _context(order: Order, lines: Iterable[Line]) -> AllocationContext:
    needs: dict[int, int] = {}
    codes: dict[int, str] = {}
    unknown = []
    for sku_id, code, qty in lines:
        if sku_id is None:
            unknown.append(code)
            continue
        needs[sku_id] = needs.get(sku_id, 0) + qty
        codes[sku_id] = code
    if unknown:
        raise InvalidTransition(_("订单含未知商品：%(c)s") % {"c": "、".join(unknown)}, field="lines")
    prefs = cached("province_preferences", _preferences).get(order.province, {})
    return AllocationContext(order=order, needs=needs, sku_codes=codes, preferences=prefs)


def _not_allocatable(order: Order, has_parts_: bool) -> InvalidTransition | None:
    """Why this order cannot be allocated at all (not a stock question), else None."""
    if order.status != OrderStatus.SPLIT:
        return InvalidTransition(
            _("订单 %(no)s 不在「已拆单」状态，不能分仓") % {"no": order.order_no}, field="status"
        )
    if order.parent_id is None and has_parts_:  # a part never has parts of its own
        return InvalidTransition(_("母单按子单分仓"), field="id")
    return None


@dataclass
class Decision:
    """The ranking of one order against the (locked) stock rows: the chosen warehouse and why."""

    ctx: AllocationContext
    cands: list[Candidate]
    chosen: Candidate | None
    details: dict[str, Any]


def allocation_decide(ctx: AllocationContext, by_wh: StockIndex, warehouses: list[Warehouse]) -> Decision:
    """Rank the warehouses that can ship every line by the order's policy; record why."""
    policy, keys = policy_for(ctx.order)
    cands = candidates_build(ctx, by_wh, warehouses)
    ranked = candidates_rank(ctx, [c for c in cands if c.covers], keys)
    details: dict[str, Any] = {
        "rule": "allocation",
        "policy": policy,
        "strategies": keys,
        "province": ctx.order.province,
        "ranking": [
            {"warehouse": c.warehouse.code, "covers": c.covers, "key": list(k[:-1])} for c, k in ranked
        ],
        "needs": {ctx.sku_codes[s]: q for s, q in ctx.needs.items()},
    }
    return Decision(ctx=ctx, cands=cands, chosen=ranked[0][0] if ranked else None, details=details)


def _stocks_locked(sku_ids: Iterable[int], warehouse_ids: Iterable[int]) -> list[Stock]:
    # Every candidate stock row, locked in primary-key order before availability is read.
    return stocks_lock_for(sku_ids=sku_ids, warehouse_ids=warehouse_ids)


def _entities_changes(order: Order, warehouse: Warehouse) -> tuple[dict[str, Any], dict[str, int]]:
    """Why each legal entity was chosen, and the order columns that change (warehouse included)."""
    decided = entities_decide(order, warehouse)
    changes = {
        f"{role}_entity_id": d["entity_id"]
        for role, d in decided.items()
        if getattr(order, f"{role}_entity_id") != d["entity_id"]
    }
    changes["warehouse_id"] = warehouse.pk
    return decided, changes


def _orders_set(orders: list[Order], changes: dict[str, int]) -> None:
    """One UPDATE of these (locked) order rows' warehouse and entity columns.

    As SQL: the ORM's update() compiled anew for every allocated order cost more than it ran.
    Only model metadata goes into the text; ids and values are bound parameters.
    """
    qn, meta = connection.ops.quote_name, Order._meta
    sets = ", ".join(f"{qn(meta.get_field(k).column)} = %s" for k in changes)
    ids = ", ".join(["%s"] * len(orders))
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {qn(meta.db_table)} SET {sets} WHERE {qn(meta.pk.column)} IN ({ids})",  # noqa: S608
            [*changes.values(), *(o.pk for o in orders)],
        )
    for order in orders:
        for k, v in changes.items():
            setattr(order, k, v)


def order_allocate(
    *,
    order_id: int,
    actor: User | None = None,
    warehouse_id: int | None = None,
    now: datetime | None = None,
) -> AllocationResult:
    """Allocate an order in 已拆单 to one warehouse and reserve its stock (→ 分仓中), in one transaction.

    When no warehouse can ship it, the order goes back to 待审核 with a stock-conflict hold
    naming every shortfall. `warehouse_id` forces a warehouse (a manager's choice).
    """
    now = now or timezone.now()
    actor = actor or system_user()
    automatic = Role.SYSTEM in actor.role_names
    with transaction.atomic():
        order = with_references(order_locked(order_id))
        refusal = _not_allocatable(order, order.parent_id is None and has_parts(order.pk))
        if refusal is not None:
            raise refusal
        ctx = _context(order, order_lines(order.pk))
        warehouses = active_warehouses()
        if warehouse_id is not None:
            warehouses = [w for w in warehouses if w.pk == warehouse_id]
        stocks = _stocks_locked(ctx.needs, [w.pk for w in warehouses])
        decision = allocation_decide(ctx, stocks_by_warehouse(stocks), warehouses)
        chosen, details = decision.chosen, decision.details
        if chosen is not None:
            try:
                stock_reserve(
                    order=order,
                    lines=[
                        ReserveLine(chosen.stocks[s].pk, q, ctx.sku_codes[s]) for s, q in ctx.needs.items()
                    ],
                    actor=actor,
                    note=_("分仓占用"),
                    locked=True,
                )
            except InsufficientStock:  # cannot happen under the locks; treated as a shortfall anyway
                chosen = None
        if chosen is None and warehouse_id is not None:
            # A person chose the warehouse: tell them what it lacks; the order stays where it is.
            shortfalls = shortfalls_of(ctx, decision.cands)
            raise InsufficientStock(
                _("所选仓库库存不足：") + "；".join(s.text() for s in shortfalls),
                field="warehouse",
                details={"shortfalls": [s.__dict__ for s in shortfalls]},
            )
        if chosen is None:
            return _hold(order, ctx, decision.cands, details, actor, automatic, now)
        details["warehouse"] = chosen.warehouse.code
        details["entities"], changes = _entities_changes(order, chosen.warehouse)
        moved = order_transition(
            order_id=order.pk,
            to=OrderStatus.ALLOCATING,
            actor=actor,
            details={"allocation": details},
            automatic=automatic,
            reason=_allocated_to(chosen.warehouse),
            now=now,
            locked=order,  # locked and read above: not read again
            changes=changes,  # warehouse and entities, written with the move
        )
        return AllocationResult(order=moved, allocated=True, warehouse=chosen.warehouse, details=details)


def _allocated_to(warehouse: Warehouse) -> str:
    return _("分配至 %(wh)s") % {"wh": warehouse.name}


def _hold(
    order: Order,
    ctx: AllocationContext,
    cands: list[Candidate],
    details: dict[str, Any],
    actor: User,
    automatic: bool,
    now: datetime,
    shortfalls: list[Shortfall] | None = None,
) -> AllocationResult:
    shortfalls = shortfalls if shortfalls is not None else shortfalls_of(ctx, cands)
    text = _("库存不足，无法分仓：") + "；".join(s.text() for s in shortfalls)
    details["shortfalls"] = [s.__dict__ for s in shortfalls]
    moved = order_transition(
        order_id=order.pk,
        to=OrderStatus.PENDING_REVIEW,
        actor=actor,
        reason=text,
        details={"allocation": details},
        automatic=automatic,
        now=now,
    )
    # The hold is the allocation rule's decision, whoever started the allocation (a warehouse
    # clerk may allocate but not place holds by hand).
    order_hold(
        order_id=order.pk, reason=HoldReason.STOCK_CONFLICT, actor=system_user(), detail=text[:255], now=now
    )
    return AllocationResult(order=moved, allocated=False, warehouse=None, details=details)


# --- waves: the next N orders allocated together ------------------------------------------------

WAVE_CHUNK = 200  # orders per transaction: long enough to share the locks, short enough to queue
# The board's urgency (its index serves the queue): higher priority, then longest in the state.
URGENCY = ("-priority", "status_changed_at", "pk")


@dataclass
class WaveResult:
    """What an allocation wave did: orders allocated, held for stock, and left (with why)."""

    allocated: list[AllocationResult] = field(default_factory=list)
    held: list[AllocationResult] = field(default_factory=list)
    skipped: list[tuple[int, AppError]] = field(default_factory=list)


def _ready_to_allocate() -> QuerySet[Order]:
    """Cards in 已拆单 that are allocated themselves: parts, and orders never split into parts."""
    return Order.objects.filter(status=OrderStatus.SPLIT).filter(
        ~Exists(Order.objects.filter(parent_id=OuterRef("pk")))
    )


def allocation_queue(*, limit: int) -> list[int]:
    """The next orders waiting for allocation: most urgent first, then longest in 已拆单."""
    qs = _ready_to_allocate().order_by(*URGENCY)
    return list(qs.values_list("pk", flat=True)[:limit])


def orders_allocate(
    *,
    order_ids: Sequence[int] | None = None,
    limit: int | None = None,
    actor: User | None = None,
    now: datetime | None = None,
    chunk: int = WAVE_CHUNK,
) -> WaveResult:
    """Allocate a wave — the given orders, or the next `limit` waiting — as `order_allocate` would each.

    One transaction per `chunk` orders: the orders locked (in id order; the next ones with SKIP
    LOCKED, so two waves take different orders), then the stock rows of every SKU involved,
    locked once in primary-key order (the order every allocation uses: waves and single
    allocations queue, never deadlock). Each order is decided by the same ranking as one
    allocation, most urgent first, against counters that already hold the wave's earlier
    reservations; the counters then move once per stock row. An order that may not be
    allocated (wrong state, unknown SKU, out of the actor's scope) is left as it is, in `skipped`.
    """
    if (order_ids is None) == (limit is None):
        raise ValidationFailed(_("请给出订单或数量（二选一）"), field="order_ids")
    now = now or timezone.now()
    actor = actor or system_user()
    if not may_perform(actor, TRANSITIONS_BY_NAME["allocate"]):
        raise PermissionDenied(_("您的角色不能执行「%(action)s」") % {"action": _("开始分仓")})
    result = WaveResult()
    if order_ids is not None:
        ids = sorted(set(order_ids))
        for start in range(0, len(ids), chunk):
            _wave_chunk(result, actor=actor, now=now, order_ids=ids[start : start + chunk])
        return result
    left_behind: set[int] = set()  # taken but not allocatable: still in 已拆单, not to be taken again
    left = limit or 0
    while left > 0:
        taken = _wave_chunk(result, actor=actor, now=now, limit=min(chunk, left), left_behind=left_behind)
        if not taken:
            break
        left -= taken
    return result


def _wave_orders_locked(order_ids: list[int] | None, limit: int, left_behind: set[int]) -> list[Order]:
    if order_ids is not None:
        return list(Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk"))
    skip = connection.features.has_select_for_update_skip_locked
    qs = _ready_to_allocate().exclude(pk__in=left_behind).select_for_update(skip_locked=skip)
    return list(qs.order_by(*URGENCY)[:limit])


def _wave_chunk(
    result: WaveResult,
    *,
    actor: User,
    now: datetime,
    order_ids: list[int] | None = None,
    limit: int = 0,
    left_behind: set[int] | None = None,
) -> int:
    """One transaction of a wave; returns how many orders it locked."""
    automatic = Role.SYSTEM in actor.role_names
    with transaction.atomic():
        orders = _wave_orders_locked(order_ids, limit, left_behind if left_behind is not None else set())
        if order_ids is not None:
            found = {o.pk for o in orders}
            result.skipped += [(i, order_not_found(i)) for i in order_ids if i not in found]
        skipped_before = len(result.skipped)
        contexts = _wave_contexts(orders, actor, result)
        if left_behind is not None:
            left_behind.update(order_id for order_id, _e in result.skipped[skipped_before:])
        warehouses = active_warehouses()
        stocks = _stocks_locked({s for c in contexts for s in c.needs}, [w.pk for w in warehouses])
        by_wh = stocks_by_warehouse(stocks)
        reserve: list[WaveReserveLine] = []
        allocated: list[Decision] = []
        held: list[tuple[Decision, list[Shortfall]]] = []
        # Scarce stock goes to the most urgent orders of the wave first.
        urgency = lambda c: (-c.order.priority, c.order.status_changed_at, c.order.pk)  # noqa: E731
        for ctx in sorted(contexts, key=urgency):
            decision = allocation_decide(ctx, by_wh, warehouses)
            if decision.chosen is None:
                held.append((decision, shortfalls_of(ctx, decision.cands)))
                continue
            for sku_id, qty in ctx.needs.items():
                stock = decision.chosen.stocks[sku_id]
                stock.reserved += qty  # the next orders of the wave see what this one took
                reserve.append(WaveReserveLine(ctx.order.pk, stock.pk, qty))
            decision.details["warehouse"] = decision.chosen.warehouse.code
            allocated.append(decision)
        stock_reserve_wave(lines=reserve, actor=actor, note=_("分仓占用"))
        _entities_assign_wave(allocated)
        _transitions_run(result, allocated, actor, automatic, now)
        for decision, shortfalls in held:
            ctx = decision.ctx
            result.held.append(
                _hold(ctx.order, ctx, decision.cands, decision.details, actor, automatic, now, shortfalls)
            )
    return len(orders)


def _wave_contexts(orders: list[Order], actor: User, result: WaveResult) -> list[AllocationContext]:
    """The allocatable orders' needs (lines read with one query); the others go to `skipped`."""
    ids = [o.pk for o in orders]
    parents = set(
        Order.objects.filter(parent_id__in=[o.pk for o in orders if o.parent_id is None]).values_list(
            "parent_id", flat=True
        )
    )
    lines: dict[int, list[Line]] = {i: [] for i in ids}
    for order_id, sku_id, code, qty in OrderLine.objects.filter(order_id__in=ids).values_list(
        "order_id", "sku_id", "sku_code", "quantity"
    ):
        lines[order_id].append((sku_id, code, qty))
    out = []
    for order in orders:
        try:
            if not can_see(actor, order):
                raise order_not_found(order.pk)
            refusal = _not_allocatable(order, order.pk in parents)
            if refusal is not None:
                raise refusal
            out.append(_context(with_references(order), lines[order.pk]))
        except AppError as e:
            result.skipped.append((order.pk, e))
    return out


def _entities_assign_wave(allocated: list[Decision]) -> None:
    """Warehouse and legal entities of every allocated order: one UPDATE per distinct change."""
    groups: dict[tuple[tuple[str, int], ...], list[Order]] = {}
    for decision in allocated:
        order = decision.ctx.order
        decision.details["entities"], changes = _entities_changes(order, decision.chosen.warehouse)  # type: ignore[union-attr]
        groups.setdefault(tuple(sorted(changes.items())), []).append(order)
    for changes, orders in groups.items():
        _orders_set(orders, dict(changes))


def _transitions_run(
    result: WaveResult, allocated: list[Decision], actor: User, automatic: bool, now: datetime
) -> None:
    """Move the allocated orders to 分仓中: one bulk transition per warehouse (the reason names it)."""
    by_warehouse: dict[int, list[Decision]] = {}
    for decision in allocated:
        by_warehouse.setdefault(decision.chosen.warehouse.pk, []).append(decision)  # type: ignore[union-attr]
    moved: dict[int, Order] = {}
    for decisions in by_warehouse.values():
        batch = order_transition_many(
            order_ids=[d.ctx.order.pk for d in decisions],
            to=OrderStatus.ALLOCATING,
            actor=actor,
            details={d.ctx.order.pk: {"allocation": d.details} for d in decisions},
            automatic=automatic,
            reason=_allocated_to(decisions[0].chosen.warehouse),  # type: ignore[union-attr]
            now=now,
        )
        if batch.refused:  # checked before reserving; should it happen, nothing of the wave stays
            raise batch.refused[0][1]
        moved.update((o.pk, o) for o in batch.moved)
    for d in allocated:
        wh = d.chosen.warehouse  # type: ignore[union-attr]
        result.allocated.append(
            AllocationResult(order=moved[d.ctx.order.pk], allocated=True, warehouse=wh, details=d.details)
        )
