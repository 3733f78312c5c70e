"""Allocation (分仓): pick one warehouse for an order (or a part) and reserve its stock.

Strategies are key functions in a registry (as Saleor's allocation strategies): each maps a
candidate warehouse to a sort key, a policy lists them in order, and warehouses are ranked by
the tuple of keys. Only warehouses that can ship every line are candidates; an order no single
warehouse can ship is split first (split.py) or held.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.accounts.services import system_user
from orderhub.core.errors import InvalidTransition
from orderhub.fulfilment.config import cached
from orderhub.fulfilment.entities import entities_assign
from orderhub.fulfilment.models import AllocationPolicy, ProvincePreference
from orderhub.fulfilment.rows import has_parts, order_locked, with_references
from orderhub.inventory.models import Stock, Warehouse
from orderhub.inventory.services import InsufficientStock, ReserveLine, Shortfall, stock_reserve
from orderhub.orders.models import HoldReason, Order
from orderhub.orders.services import order_hold, order_transition
from orderhub.orders.states import OrderStatus


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


def candidates_build(
    ctx: AllocationContext, stocks: list[Stock], warehouses: list[Warehouse]
) -> list[Candidate]:
    by_wh: dict[int, dict[int, Stock]] = {}
    for s in stocks:
        by_wh.setdefault(s.warehouse_id, {})[s.sku_id] = s
    out = []
    for wh in warehouses:
        rows = by_wh.get(wh.pk, {})
        c = Candidate(warehouse=wh, stocks=rows)
        for sku_id, qty in ctx.needs.items():
            s = rows.get(sku_id)
            avail = s.available if s else 0
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


def _context(order: Order) -> AllocationContext:
    needs: dict[int, int] = {}
    codes: dict[int, str] = {}
    unknown = []
    for sku_id, code, qty in order.lines.values_list("sku_id", "sku_code", "quantity"):
        if sku_id is None:
            unknown.append(code)
            continue
        needs[sku_id] = needs.get(sku_id, 0) + qty
        codes[sku_id] = code
    if unknown:
        raise InvalidTransition(_("订单含未知商品：%(c)s") % {"c": "、".join(unknown)}, field="lines")
    prefs = cached("province_preferences", _preferences).get(order.province, {})
    return AllocationContext(order=order, needs=needs, sku_codes=codes, preferences=prefs)


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
        if order.status != OrderStatus.SPLIT:
            raise InvalidTransition(
                _("订单 %(no)s 不在「已拆单」状态，不能分仓") % {"no": order.order_no}, field="status"
            )
        if order.parent_id is None and has_parts(order.pk):  # a part never has parts of its own
            raise InvalidTransition(_("母单按子单分仓"), field="id")
        ctx = _context(order)
        policy, keys = policy_for(order)
        warehouses = active_warehouses()
        if warehouse_id is not None:
            warehouses = [w for w in warehouses if w.pk == warehouse_id]
        # Lock every candidate stock row in primary-key order before reading availability.
        stocks = list(
            Stock.objects.select_for_update()
            .filter(sku_id__in=ctx.needs, warehouse_id__in=[w.pk for w in warehouses])
            .order_by("pk")
        )
        cands = candidates_build(ctx, stocks, warehouses)
        ranked = candidates_rank(ctx, [c for c in cands if c.covers], keys)
        details: dict[str, Any] = {
            "rule": "allocation",
            "policy": policy,
            "strategies": keys,
            "province": order.province,
            "ranking": [
                {"warehouse": c.warehouse.code, "covers": c.covers, "key": list(k[:-1])} for c, k in ranked
            ],
            "needs": {ctx.sku_codes[s]: q for s, q in ctx.needs.items()},
        }
        if ranked:
            chosen = ranked[0][0]
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
                ranked = []
        if not ranked and warehouse_id is not None:
            # A person chose the warehouse: tell them what it lacks; the order stays where it is.
            shortfalls = shortfalls_of(ctx, cands)
            raise InsufficientStock(
                _("所选仓库库存不足：") + "；".join(s.text() for s in shortfalls),
                field="warehouse",
                details={"shortfalls": [s.__dict__ for s in shortfalls]},
            )
        if not ranked:
            return _hold(order, ctx, cands, details, actor, automatic, now)
        details["warehouse"] = chosen.warehouse.code
        details["entities"] = entities_assign(order, chosen.warehouse, warehouse_id=chosen.warehouse.pk)
        moved = order_transition(
            order_id=order.pk,
            to=OrderStatus.ALLOCATING,
            actor=actor,
            details={"allocation": details},
            automatic=automatic,
            reason=_("分配至 %(wh)s") % {"wh": chosen.warehouse.name},
            now=now,
        )
        return AllocationResult(order=moved, allocated=True, warehouse=chosen.warehouse, details=details)


def _hold(
    order: Order,
    ctx: AllocationContext,
    cands: list[Candidate],
    details: dict[str, Any],
    actor: User,
    automatic: bool,
    now: datetime,
) -> AllocationResult:
    shortfalls = shortfalls_of(ctx, cands)
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
    order_hold(order_id=order.pk, reason=HoldReason.STOCK_CONFLICT, actor=actor, detail=text[:255], now=now)
    return AllocationResult(order=moved, allocated=False, warehouse=None, details=details)
