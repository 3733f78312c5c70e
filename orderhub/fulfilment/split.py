"""Split (拆单): divide an approved order into parts that move on as their own cards.

Rules refine a list of parcels in table order: apart by handling (fragile, oversize, liquid),
by warehouse availability (when no single warehouse can ship everything), by maximum parcel
weight. One parcel means no split: the order itself moves on. Parts are orders with `parent`
and `part_no`, numbered `<order_no>-1`, `-2`, …; the parent follows its parts (effects.py).

The plan is made before any write transaction (SQLite's one write lock is taken at BEGIN): an
order that needs no split is never written, and one that does is locked, checked to be the
version planned for, and divided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.accounts.services import system_user
from orderhub.catalog.models import Sku
from orderhub.core.db import CompiledRows
from orderhub.core.errors import Conflict, InvalidTransition, ValidationFailed
from orderhub.fulfilment.allocation import active_warehouses
from orderhub.fulfilment.config import cached
from orderhub.fulfilment.models import SplitRule
from orderhub.fulfilment.rows import has_parts, order_locked, order_row
from orderhub.inventory.models import Stock
from orderhub.orders.audit import log_append
from orderhub.orders.errors import order_not_found
from orderhub.orders.models import LogAction, Order, OrderLine
from orderhub.orders.states import OrderStatus


@dataclass
class Piece:
    line: OrderLine
    quantity: int

    @property
    def sku(self) -> Sku | None:
        return self.line.sku

    @property
    def weight_g(self) -> int:
        return (self.sku.weight_g if self.sku else 0) * self.quantity


@dataclass
class Parcel:
    pieces: list[Piece]
    why: list[str] = field(default_factory=list)

    @property
    def weight_g(self) -> int:
        return sum(p.weight_g for p in self.pieces)


DEFAULT_RULES: tuple[tuple[str, dict[str, Any]], ...] = (
    (SplitRule.Kind.BY_HANDLING, {"apart": ["fragile", "oversize", "liquid"]}),
    (SplitRule.Kind.BY_WAREHOUSE, {}),
    (SplitRule.Kind.MAX_WEIGHT, {"max_kg": 30}),
)
HANDLING_LABELS = {"fragile": "易碎", "oversize": "超大件", "liquid": "液体"}


def rules_configured() -> list[tuple[str, dict[str, Any]]]:
    rows = cached("split_rules", lambda: list(SplitRule.objects.all()))
    if not rows:
        return [(k, dict(p)) for k, p in DEFAULT_RULES]
    return [(r.kind, r.params or {}) for r in rows if r.active]


def _by_handling(parcels: list[Parcel], params: dict[str, Any]) -> list[Parcel]:
    flags = [f for f in params.get("apart", ["fragile", "oversize"]) if f in HANDLING_LABELS]
    out = []
    for parcel in parcels:
        groups: dict[str, list[Piece]] = {}
        for piece in parcel.pieces:
            flag = next((f for f in flags if piece.sku and getattr(piece.sku, f)), "normal")
            groups.setdefault(flag, []).append(piece)
        for flag, pieces in groups.items():
            why = parcel.why + (
                [HANDLING_LABELS[flag] + "分开"] if len(groups) > 1 and flag != "normal" else []
            )
            out.append(Parcel(pieces, why))
    return out


# Stock of every SKU on the order's lines in the active warehouses.
_STOCK = CompiledRows(
    lambda order_id: Stock.objects.filter(
        sku_id__in=OrderLine.objects.filter(order_id=order_id).values("sku_id"), warehouse__active=True
    ).values_list("warehouse_id", "sku_id", "on_hand", "reserved")
)


def _availability(order_id: int) -> dict[int, dict[int, int]]:
    """warehouse_id → sku_id → available (unlocked: advice for splitting; allocation re-checks)."""
    avail: dict[int, dict[int, int]] = {}
    for wh, sku, on_hand, reserved in _STOCK.rows(order_id):
        avail.setdefault(wh, {})[sku] = on_hand - reserved
    return avail


def _by_warehouse(parcels: list[Parcel], params: dict[str, Any]) -> list[Parcel]:
    order_ids = {p.line.order_id for parcel in parcels for p in parcel.pieces}
    avail: dict[int, dict[int, int]] = {}
    for order_id in order_ids:  # one order's lines: one read
        for wh, stock in _availability(order_id).items():
            avail.setdefault(wh, {}).update(stock)
    priority = {w.pk: w.priority for w in active_warehouses()}
    out = []
    for parcel in parcels:
        remaining = list(parcel.pieces)
        groups: list[tuple[str, list[Piece]]] = []
        while remaining:
            # Greedy fewest parts: the warehouse covering the most remaining pieces, then priority.
            def covered(wh: int, pieces: list[Piece] = remaining) -> list[Piece]:
                return [p for p in pieces if avail.get(wh, {}).get(p.line.sku_id, 0) >= p.quantity]

            best = min(avail, key=lambda wh: (-len(covered(wh)), priority.get(wh, 999), wh), default=None)
            take = covered(best) if best is not None else []
            if not take:  # nothing covers the rest: keep it together; allocation will hold it
                groups.append(("", remaining))
                break
            if len(take) == len(remaining) and not groups:
                groups.append(("", remaining))  # one warehouse ships everything: no split
                break
            groups.append((str(best), take))
            for p in take:
                wh_avail = avail[best]
                wh_avail[p.line.sku_id] -= p.quantity
            remaining = [p for p in remaining if p not in take]
        for _wh, pieces in groups:
            why = parcel.why + ([_("按仓库库存拆分")] if len(groups) > 1 else [])
            out.append(Parcel(pieces, why))
    return out


def _by_weight(parcels: list[Parcel], params: dict[str, Any]) -> list[Parcel]:
    limit = int(Decimal(str(params.get("max_kg", 30))) * 1000)
    out = []
    for parcel in parcels:
        if parcel.weight_g <= limit:
            out.append(parcel)
            continue
        # First-fit decreasing over single units, then units of one line merged back per bin.
        units = sorted(
            ((p.line, p.sku.weight_g if p.sku else 0) for p in parcel.pieces for _ in range(p.quantity)),
            key=lambda u: -u[1],
        )
        loads: list[int] = []
        bins: list[dict[int, Piece]] = []
        for line, w in units:
            i = next((k for k, load in enumerate(loads) if load + w <= limit), None)
            if i is None:
                loads.append(0)
                bins.append({})
                i = len(bins) - 1
            loads[i] += w
            bins[i].setdefault(line.pk, Piece(line, 0)).quantity += 1
        why = [*parcel.why, _("超过单包 %(kg)s kg") % {"kg": limit / 1000}]
        out.extend(Parcel(list(b.values()), why) for b in bins)
    return out


SPLITTERS = {
    SplitRule.Kind.BY_HANDLING: _by_handling,
    SplitRule.Kind.BY_WAREHOUSE: _by_warehouse,
    SplitRule.Kind.MAX_WEIGHT: _by_weight,
}


_LINE_FIELDS = [f.attname for f in OrderLine._meta.concrete_fields]
_SKU_FIELDS = ["weight_g", "fragile", "oversize", "liquid"]  # what the splitters look at
_LINES = CompiledRows(
    lambda order_id: (
        OrderLine.objects.filter(order_id=order_id)
        .order_by("line_no")
        .values_list(*_LINE_FIELDS, *(f"sku__{f}" for f in _SKU_FIELDS))
    )
)


def _lines_with_skus(order_id: int) -> list[OrderLine]:
    """The order's lines, each with its SKU's handling flags and weight (the SKU's other fields
    are not read)."""
    n = len(_LINE_FIELDS)
    lines = []
    for row in _LINES.rows(order_id):
        line = OrderLine.from_db("default", _LINE_FIELDS, row[:n])
        if line.sku_id is not None:
            line.sku = Sku.from_db("default", ["id", *_SKU_FIELDS], (line.sku_id, *row[n:]))
        lines.append(line)
    return lines


def parcels_plan(order: Order, rules: list[tuple[str, dict[str, Any]]] | None = None) -> list[Parcel]:
    lines = _lines_with_skus(order.pk)
    parcels = [Parcel([Piece(ln, ln.quantity) for ln in lines])]
    for kind, params in rules if rules is not None else rules_configured():
        parcels = SPLITTERS[kind](parcels, params)
    return [p for p in parcels if p.pieces]


@dataclass
class SplitResult:
    order: Order
    parts: list[Order]
    details: dict[str, Any]


def _splittable(order: Order) -> Order:
    if order.status != OrderStatus.SPLIT or order.parent_id is not None:
        raise InvalidTransition(_("只有已审核（已拆单）的母单可以拆分"), field="status")
    if has_parts(order.pk):
        raise InvalidTransition(_("订单 %(no)s 已拆分") % {"no": order.order_no}, field="id")
    return order


def _locked_for_split(order_id: int) -> Order:
    return _splittable(order_locked(order_id))


_ATTEMPTS = 3


def order_split(*, order_id: int, actor: User | None = None, now: datetime | None = None) -> SplitResult:
    """Apply the split rules to an approved order; create parts when more than one parcel results.

    Planned with no transaction open; parts are created under the order's lock, for the version
    planned for (an order changed in between is planned again).
    """
    now = now or timezone.now()
    for attempt in range(_ATTEMPTS):
        seen = order_row(order_id)
        if seen is None:
            raise order_not_found(order_id)
        _splittable(seen)
        rules = rules_configured()
        parcels = parcels_plan(seen, rules)
        details = {
            "rule": "split",
            "rules": [k for k, _p in rules],
            "parcels": [
                {
                    "why": p.why,
                    "weight_g": p.weight_g,
                    "lines": {pc.line.sku_code: pc.quantity for pc in p.pieces},
                }
                for p in parcels
            ],
        }
        if len(parcels) < 2:
            return SplitResult(seen, [], details)  # nothing to write: the order itself moves on
        try:
            with transaction.atomic():
                order = _locked_for_split(order_id)
                if order.version != seen.version:
                    raise Conflict(_("订单已被他人修改，请刷新后重试"), code="version_conflict")
                parts = _parts_create(order, parcels, actor or system_user(), now, details, automatic=True)
                return SplitResult(order, parts, details)
        except Conflict as e:
            if e.code != "version_conflict" or attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def order_split_manual(
    *, order_id: int, parts: list[dict[int, int]], actor: User, now: datetime | None = None
) -> SplitResult:
    """Split by hand: each dict maps line_no → quantity; every line's quantities must add up."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked_for_split(order_id)
        lines = {ln.line_no: ln for ln in order.lines.select_related("sku")}
        if len(parts) < 2:
            raise ValidationFailed(_("手工拆单至少拆成两个子单"), field="parts")
        for no, ln in lines.items():
            total = sum(p.get(no, 0) for p in parts)
            if total != ln.quantity or any(p.get(no, 0) < 0 for p in parts):
                raise ValidationFailed(
                    _("第 %(no)s 行 %(sku)s 拆分数量合计 %(t)s，应为 %(q)s")
                    % {"no": no, "sku": ln.sku_code, "t": total, "q": ln.quantity},
                    field="parts",
                )
        unknown = {no for p in parts for no in p} - set(lines)
        if unknown:
            raise ValidationFailed(_("没有第 %(n)s 行") % {"n": sorted(unknown)}, field="parts")
        parcels = [
            Parcel([Piece(lines[no], q) for no, q in sorted(p.items()) if q > 0], [_("手工拆单")])
            for p in parts
        ]
        if any(not p.pieces for p in parcels):
            raise ValidationFailed(_("子单不能为空"), field="parts")
        details = {
            "rule": "manual_split",
            "parcels": [{pc.line.sku_code: pc.quantity for pc in p.pieces} for p in parcels],
        }
        created = _parts_create(order, parcels, actor, now, details, automatic=False)
        return SplitResult(order, created, details)


_COPIED = (
    "channel_id", "ordered_at", "customer_tier", "customer_id", "receiver_name", "receiver_phone",
    "phone_kind", "province", "province_code", "city", "city_code", "district", "district_code",
    "address_detail", "remark", "promised_at", "priority", "owner_id", "selling_entity_id",
    "shipping_entity_id", "invoicing_entity_id",
)  # fmt: skip


def _parts_create(
    parent: Order,
    parcels: list[Parcel],
    actor: User,
    now: datetime,
    details: dict[str, Any],
    *,
    automatic: bool,
) -> list[Order]:
    parts = []
    for n, parcel in enumerate(parcels, start=1):
        goods = sum((pc.line.unit_price * pc.quantity for pc in parcel.pieces), Decimal("0"))
        part = Order(
            **{f: getattr(parent, f) for f in _COPIED},
            order_no=f"{parent.order_no}-{n}",
            status=OrderStatus.SPLIT,
            last_operator=actor,
            updated_at=now,
            status_changed_at=now,
            goods_amount=goods,
            total_amount=goods,
            parent=parent,
            part_no=n,
            lines_snapshot=[
                {"sku_code": pc.line.sku_code, "quantity": pc.quantity, "parent_line": pc.line.line_no}
                for pc in parcel.pieces
            ],
        )
        part.save(force_insert=True)
        OrderLine.objects.bulk_create(
            OrderLine(
                order=part,
                line_no=i,
                sku_id=pc.line.sku_id,
                sku_code=pc.line.sku_code,
                name=pc.line.name,
                quantity=pc.quantity,
                unit_price=pc.line.unit_price,
            )
            for i, pc in enumerate(parcel.pieces, start=1)
        )
        log_append(
            order=part,
            action=LogAction.CREATE,
            actor=actor,
            at=now,
            to_status=OrderStatus.SPLIT,
            automatic=automatic,
            reason=_("由 %(p)s 拆出：%(why)s") % {"p": parent.order_no, "why": "，".join(parcel.why) or "—"},
            details={"split": {"parent": parent.order_no, "part_no": n, "why": parcel.why}},
        )
        Order.objects.filter(pk=part.pk).update(log_seq=part.log_seq, log_head=part.log_head)
        parts.append(part)
    log_append(
        order=parent,
        action=LogAction.EDIT,
        actor=actor,
        at=now,
        automatic=automatic,
        reason=_("拆为 %(n)s 个子单：%(nos)s")
        % {"n": len(parts), "nos": "、".join(p.order_no for p in parts)},
        details={"split": details},
    )
    Order.objects.filter(pk=parent.pk).update(
        log_seq=parent.log_seq,
        log_head=parent.log_head,
        version=F("version") + 1,
        updated_at=now,
        last_operator=actor,
    )
    return parts
