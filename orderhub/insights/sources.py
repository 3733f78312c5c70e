"""Where every figure comes from: the operation log, the orders, their holds and shipments.

Each source returns the rows behind one kind of figure for a time range and a scope; the
rollup counts them per day and the drill-down lists the orders behind them, so a figure and
its list can never disagree. Customer-facing figures (orders in, shipped, delivered, held,
touches) count root orders (not split parts); stage figures (dwell, rejection, operators) count
every card that does the work: a split parent only for its review, its parts after that.

Every row is counted from exactly one log entry (or, for orders in, one order), so a range can
also be cut by id (`Ids`): the figures of the entries up to a watermark and of those after it
add up to the figures of all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.insights.scope import Dims, Scope, scope_matches
from orderhub.orders.models import HoldReason, LogAction, OperationLog, Order
from orderhub.orders.states import TRANSITIONS_BY_NAME, Kind, OrderStatus

S = OrderStatus
ORDER_DIMS = ("channel_id", "warehouse_id", "customer_tier", "selling_entity_id")
LOG_DIMS = tuple(f"order__{f}" for f in ORDER_DIMS)
# Holds only a rule raises, whoever triggered the rule (e.g. a clerk's allocation finding no stock).
RULE_ONLY_HOLDS = frozenset({HoldReason.STOCK_CONFLICT, HoldReason.CHANGED_AFTER_ALLOCATION})
TOUCH_ACTIONS = (LogAction.TRANSITION, LogAction.EDIT, LogAction.HOLD, LogAction.RELEASE)
CHUNK = 400  # roots per query; with their parts well under SQLite's 999-variable floor


@dataclass(frozen=True)
class Ids:
    """Which log entries and orders count, by id: after < id ≤ upto (None leaves a side open).

    The periodic job counts today up to a watermark; the dashboard counts only the entries after
    it. Both bounds are given together so that SQLite reads the tail as a primary-key range
    rather than walking the day's `at` index.
    """

    log_after: int | None = None
    log_upto: int | None = None
    order_after: int | None = None
    order_upto: int | None = None

    def log_q(self) -> Q:
        return _id_q(self.log_after, self.log_upto)

    def order_q(self) -> Q:
        return _id_q(self.order_after, self.order_upto)


ALL = Ids()


def _id_q(after: int | None, upto: int | None) -> Q:
    q = Q()
    if after is not None:
        q &= Q(id__gt=after)
    if upto is not None:
        q &= Q(id__lte=upto)
    return q


@dataclass(frozen=True)
class Row:
    """One fact: an order (or card) at a moment, with its dimensions, a key and a value."""

    order_id: int
    at: datetime
    dims: Dims
    key: str = ""
    value: float | None = None
    flag: bool = False


@dataclass(frozen=True)
class Exit:
    """A card leaving a state: how long it stayed, whether it went back, who moved it."""

    order_id: int
    at: datetime
    dims: Dims
    state: str
    transition: str
    dwell: float | None
    backward: bool
    actor_id: int | None  # a person; None for automatic moves


def system_actor_ids() -> frozenset[int]:
    """Accounts that act for rules and jobs: their moves are not people's work."""
    return frozenset(
        User.objects.filter(Q(groups__name=Role.SYSTEM) | Q(username="system")).values_list("id", flat=True)
    )


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    items = sorted(set(ids))
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _cards_of(roots: list[int]) -> dict[int, int]:
    """Card id → root id for these root orders and their parts (index lookups only: an OR
    across the parent join would scan the whole log)."""
    cards = {r: r for r in roots}
    cards.update(Order.objects.filter(parent_id__in=roots).values_list("pk", "parent_id"))
    return cards


def _log(start: datetime, end: datetime, ids: Ids = ALL) -> QuerySet[OperationLog]:
    return OperationLog.objects.filter(ids.log_q(), at__gte=start, at__lt=end)


def _matching(
    qs: QuerySet[OperationLog], scope: Scope, fields: tuple[str, ...], *, roots: bool = False
) -> list[Any]:
    """`fields` and then the order's dimensions of the entries whose order is in the scope (and
    a root order, when `roots`).

    Filtered here rather than in SQL on purpose: given a condition on the orders' side, SQLite
    drives the join from the orders table (every root order, every order of a channel) as soon as
    that table has no statistics (a fresh installation, or a migration that rebuilt it), instead
    of reading the range's entries by time: seconds instead of milliseconds at a million orders.
    """
    n = len(fields)
    out = []
    for row in qs.values_list(*fields, "order__parent_id", *LOG_DIMS):
        if roots and row[n] is not None:
            continue
        dims = row[n + 1 :]
        if scope_matches(scope, dims):
            out.append((*row[:n], *dims))
    return out


def _secs(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds())


# --- orders in, shipped, delivered -------------------------------------------------------------


def orders_in(start: datetime, end: datetime, scope: Scope, ids: Ids = ALL) -> list[Row]:
    """Root orders placed in the range."""
    qs = Order.objects.filter(ids.order_q(), ordered_at__gte=start, ordered_at__lt=end)
    # Roots and scope picked here, not in SQL, for the reason given at _matching.
    rows = qs.values_list("id", "ordered_at", "parent_id", *ORDER_DIMS)
    return [
        Row(r[0], r[1], tuple(r[3:]))  # type: ignore[arg-type]
        for r in rows
        if r[2] is None and scope_matches(scope, r[3:])  # type: ignore[arg-type]
    ]


def shipped(start: datetime, end: datetime, scope: Scope, ids: Ids = ALL) -> list[Row]:
    """Root orders shipped (scanned out; a split order when its last part is) in the range,
    with order → shipped in seconds."""
    qs = _log(start, end, ids).filter(transition="ship")
    rows = _matching(qs, scope, ("order_id", "at", "order__ordered_at"), roots=True)
    return [Row(r[0], r[1], tuple(r[3:]), value=_secs(r[1], r[2])) for r in rows]  # type: ignore[arg-type]


def completed(start: datetime, end: datetime, scope: Scope, ids: Ids = ALL) -> list[Row]:
    """Root orders delivered (已完成) in the range, with order → delivered in seconds.

    key "promised" when the order had a promised time; flag when it was delivered after it.
    """
    qs = _log(start, end, ids).filter(action=LogAction.TRANSITION, to_status=S.COMPLETED)
    rows = _matching(qs, scope, ("order_id", "at", "order__ordered_at", "order__promised_at"), roots=True)
    return [
        Row(
            r[0],
            r[1],
            tuple(r[4:]),  # type: ignore[arg-type]
            key="promised" if r[3] else "",
            value=_secs(r[1], r[2]),
            flag=bool(r[3] and r[1] > r[3]),
        )
        for r in rows
    ]


# --- state exits: dwell, rejections, operators ------------------------------------------------


def exits(
    start: datetime, end: datetime, scope: Scope, *, system_ids: frozenset[int], ids: Ids = ALL
) -> list[Exit]:
    """Every move of a card out of a state in the range, with the time it spent there."""
    entered = (
        OperationLog.objects.filter(order_id=OuterRef("order_id"), seq__lt=OuterRef("seq"))
        .exclude(to_status="")
        .order_by("-seq")
        .values("at")[:1]
    )
    qs = (
        _log(start, end, ids)
        .filter(action=LogAction.TRANSITION)
        .annotate(has_parts=Exists(Order.objects.filter(parent_id=OuterRef("order_id"))))
        # A split parent only follows its parts after its review: the parts carry the work.
        .exclude(has_parts=True, from_status__in=[s for s in S.values if s != S.PENDING_REVIEW])
        .annotate(entered=Subquery(entered))
    )
    rows = _matching(
        qs, scope, ("order_id", "at", "from_status", "transition", "entered", "actor_id", "automatic")
    )
    out = []
    for order_id, at, state, name, entered_at, actor_id, automatic, *dims in rows:
        t = TRANSITIONS_BY_NAME.get(name)
        person = actor_id if (not automatic and actor_id is not None and actor_id not in system_ids) else None
        out.append(
            Exit(
                order_id=order_id,
                at=at,
                dims=tuple(dims),  # type: ignore[arg-type]
                state=state,
                transition=name,
                dwell=_secs(at, entered_at),
                backward=bool(t and t.kind == Kind.BACKWARD),
                actor_id=person,
            )
        )
    return out


# --- interceptions ---------------------------------------------------------------------------


def auto_hold_reasons(
    action: str, actor_id: int | None, details: Any, system_ids: frozenset[int]
) -> list[str]:
    """Hold reasons an entry raised by rule (not by a person's own decision)."""
    if not isinstance(details, dict):
        return []
    if action in (LogAction.CREATE, LogAction.EDIT):
        return [r for r in details.get("holds") or [] if r != HoldReason.MANUAL]
    reason = details.get("hold")
    if action != LogAction.HOLD or not reason or reason == HoldReason.MANUAL:
        return []
    by_rule = actor_id is None or actor_id in system_ids or reason in RULE_ONLY_HOLDS or "batch" in details
    return [reason] if by_rule else []


_HOLD_ACTIONS = (LogAction.CREATE, LogAction.EDIT, LogAction.HOLD)


def _hold_entries(qs: QuerySet[OperationLog]) -> QuerySet[OperationLog]:
    return (
        qs.filter(action__in=_HOLD_ACTIONS)
        .annotate(root=Coalesce("order__parent_id", "order_id"))
        .order_by("at", "id")
    )


def auto_holds(
    start: datetime, end: datetime, scope: Scope, *, system_ids: frozenset[int], ids: Ids = ALL
) -> tuple[list[Row], list[Row]]:
    """(orders, reasons): root orders first intercepted by a rule in the range, and for each
    reason the root orders first intercepted for it in the range.

    Cut by id, the entries before the cut count as "earlier": an order intercepted before
    the watermark is not counted again after it.
    """
    entries = _matching(
        _hold_entries(_log(start, end, ids)), scope, ("root", "at", "action", "actor_id", "details")
    )
    cands = [
        (root, at, reason, tuple(dims))
        for root, at, action, actor_id, details, *dims in entries
        for reason in auto_hold_reasons(action, actor_id, details, system_ids)
    ]
    seen_pairs: set[tuple[int, str]] = set()
    seen_roots: set[int] = set()
    for chunk in _chunks(c[0] for c in cands):
        cards = _cards_of(chunk)
        before = Q(at__lt=start)
        if ids.log_after is not None:
            before |= Q(at__lt=end, id__lte=ids.log_after)
        earlier = (
            OperationLog.objects.filter(order_id__in=list(cards), action__in=_HOLD_ACTIONS)
            .filter(before)
            .values_list("order_id", "action", "actor_id", "details")
        )
        for card, action, actor_id, details in earlier:
            root = cards[card]
            for reason in auto_hold_reasons(action, actor_id, details, system_ids):
                seen_pairs.add((root, reason))
                seen_roots.add(root)
    orders: list[Row] = []
    reasons: list[Row] = []
    for root, at, reason, dims in cands:
        if (root, reason) not in seen_pairs:
            seen_pairs.add((root, reason))
            reasons.append(Row(root, at, dims, key=reason, flag=reason == HoldReason.STOCK_CONFLICT))
        if root not in seen_roots:
            seen_roots.add(root)
            orders.append(Row(root, at, dims))
    return orders, reasons


# --- logistics exceptions --------------------------------------------------------------------


def exceptions(start: datetime, end: datetime, scope: Scope, ids: Ids = ALL) -> list[Row]:
    """Cards moved to 物流异常 in the range: key = carrier, value = detection lag in seconds
    (from the moment the stall threshold passed, or the carrier reported the problem, to the
    card's move; None when a person raised it)."""
    from orderhub.tracking.models import Shipment
    from orderhub.tracking.thresholds import Thresholds

    qs = _log(start, end, ids).filter(action=LogAction.TRANSITION, to_status=S.EXCEPTION)
    entries = _matching(qs, scope, ("order_id", "at", "details"))
    if not entries:
        return []
    ship_ids = {d.get("shipment_id") for _o, _a, d, *_ in entries if isinstance(d, dict)}
    by_id: dict[int, tuple[datetime, str, str]] = {}
    by_order: dict[int, str] = {}
    for chunk in _chunks(i for i in ship_ids if isinstance(i, int)):
        for pk, shipped_at, province, carrier in Shipment.objects.filter(pk__in=chunk).values_list(
            "pk", "shipped_at", "province_code", "carrier"
        ):
            by_id[pk] = (shipped_at, province, carrier)
    manual = [o for o, _a, d, *_ in entries if not (isinstance(d, dict) and d.get("source") == "tracking")]
    for chunk in _chunks(manual):
        for order_id, carrier in (
            Shipment.objects.filter(order_id__in=chunk).order_by("pk").values_list("order_id", "carrier")
        ):
            by_order.setdefault(order_id, carrier)
    thresholds = Thresholds.load()
    rows = []
    for order_id, at, details, *dims in entries:
        lag = None
        carrier = by_order.get(order_id, "")
        if isinstance(details, dict) and details.get("source") == "tracking":
            carrier = details.get("carrier") or carrier
            lag = _lag(at, details, by_id.get(details.get("shipment_id")), thresholds)
        rows.append(Row(order_id, at, tuple(dims), key=carrier, value=lag))  # type: ignore[arg-type]
    return rows


def _lag(
    at: datetime, details: dict[str, Any], shipment: tuple[datetime, str, str] | None, thresholds: Any
) -> float | None:
    from django.utils.dateparse import parse_datetime

    last = details.get("last_event") or {}
    last_at = parse_datetime(last["at"]) if isinstance(last, dict) and last.get("at") else None
    if details.get("kind") == "carrier_problem":
        return _secs(at, last_at)
    if details.get("kind") != "stalled" or shipment is None:
        return None
    shipped_at, province, carrier = shipment
    quiet_since = max(shipped_at, last_at) if last_at else shipped_at
    due = quiet_since + timedelta(hours=thresholds.hours(details.get("carrier") or carrier, province))
    return _secs(at, due)


# --- people's touches ------------------------------------------------------------------------


def finished(
    start: datetime, end: datetime, scope: Scope, *, system_ids: frozenset[int], ids: Ids = ALL
) -> list[Row]:
    """Root orders that reached 已完成 or 已取消 in the range; value = the manual touches
    (transitions, edits, holds, releases by people) on the order and its parts over its life."""
    qs = _log(start, end, ids).filter(action=LogAction.TRANSITION, to_status__in=[S.COMPLETED, S.CANCELLED])
    entries = _matching(qs, scope, ("order_id", "at"), roots=True)
    touches: dict[int, int] = {}
    for chunk in _chunks(e[0] for e in entries):
        cards = _cards_of(chunk)
        manual = (
            OperationLog.objects.filter(order_id__in=list(cards))
            .filter(action__in=TOUCH_ACTIONS, automatic=False, actor__isnull=False)
            .exclude(actor_id__in=system_ids)
            .annotate(src=KeyTextTransform("source", "details"))
            .values_list("order_id", "action", "src")
        )
        for card, action, src in manual:
            root = cards[card]
            if action == LogAction.EDIT and src == "channel":
                continue  # the channel changed the order; a person only ran the import
            touches[root] = touches.get(root, 0) + 1
    return [Row(o, at, tuple(dims), value=touches.get(o, 0)) for o, at, *dims in entries]  # type: ignore[arg-type]
