"""Reads of the collaboration board (跨部门协作看板): per state a count and the most urgent cards.

Cheap at 100,000 active orders by construction: one GROUP BY for the counts, one count of held
orders, and per visible column one LIMITed query in urgency order (priority first, then longest
in the state), so the work does not grow with the number of orders shown in a column's count.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.query import prefetch_related_objects
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.core.errors import ValidationFailed
from orderhub.notify.routing import OWNER_INFORMED, RESPONSIBLE_ROLES
from orderhub.orders.models import OperationLog, Order, OrderHold, OrderLine
from orderhub.orders.permissions import allowed_transitions, scope_orders
from orderhub.orders.states import TERMINAL, OrderStatus, Transition
from orderhub.web.models import StateTarget, UserWarehouse
from orderhub.web.roles import Preset

S = OrderStatus
CARDS_PER_COLUMN = 10
DONE_DAYS = 7
MAX_PAGE = 100

# Minutes an order should stay in each state; settings ORDERHUB_STATE_TARGETS and the
# StateTarget table (admin) override them. Terminal states have no target.
DEFAULT_TARGETS: dict[str, int] = {
    S.PENDING_REVIEW: 120,
    S.SPLIT: 60,
    S.ALLOCATING: 240,
    S.LABEL_PRINTED: 240,
    S.SHIPPED: 72 * 60,
    S.EXCEPTION: 24 * 60,
}
DEFAULT_AMBER_PERCENT = 75


@dataclass
class BoardFilters:
    status: str = ""
    ordered_from: datetime | None = None
    ordered_to: datetime | None = None
    tier: str = ""
    channel: str = ""  # channel code
    warehouse: int | None = None
    owner: int | None = None
    entity: int | None = None
    mine: bool = False
    show_cancelled: bool = False


@dataclass(frozen=True)
class Target:
    minutes: int
    amber_percent: int


def state_targets() -> dict[str, Target]:
    """The time target of each state: defaults, then settings, then the StateTarget table."""
    minutes = {**DEFAULT_TARGETS, **getattr(settings, "ORDERHUB_STATE_TARGETS", {})}
    out = {s: Target(int(m), DEFAULT_AMBER_PERCENT) for s, m in minutes.items() if m}
    for row in StateTarget.objects.all():
        out[row.status] = Target(row.target_minutes, row.amber_percent)
    return out


@dataclass
class Card:
    order: Order
    age_minutes: int
    target: Target | None
    level: str  # ok / warn / late / none
    responsible: list[str]
    moves: list[Transition]
    promised_overdue: bool
    lines: list[tuple[str, int]] = field(default_factory=list)  # (name or SKU code, quantity)
    line_count: int = 0
    hold_reasons: list[str] = field(default_factory=list)  # codes of open holds

    @property
    def allowed_targets(self) -> str:
        return " ".join(t.target for t in self.moves)


@dataclass
class Column:
    status: str
    label: str
    count: int
    cards: list[Card] = field(default_factory=list)
    next_cursor: str | None = None
    held: list[Card] = field(default_factory=list)
    held_count: int = 0
    held_next_cursor: str | None = None
    sig: str = ""
    window_days: int = 0  # finished columns show only the last days
    unchanged: bool = False  # the client already shows this column (its cards were not built)

    @property
    def other_count(self) -> int:
        return self.count - self.held_count


@dataclass
class Board:
    columns: list[Column]
    total: int
    no_warehouse: bool  # "only mine" asked for a warehouse queue but the user has no warehouse


# --- the filtered set ---------------------------------------------------------------------------


def user_warehouse_ids(user: User) -> list[int]:
    return list(UserWarehouse.objects.filter(user=user).values_list("warehouse_id", flat=True))


def mine_condition(actor: User) -> tuple[Q, bool]:
    """What "only my orders" means for this person's roles, and whether a warehouse link is missing.

    Sales: the orders they own. Warehouse: its own warehouse(s). Anyone else: the orders they
    moved last. A person with several roles gets the union.
    """
    roles = actor.role_names
    cond = Q(pk__in=[])
    missing_warehouse = False
    if Role.SALES in roles:
        cond |= Q(owner=actor)
    if Role.WAREHOUSE in roles:
        ids = user_warehouse_ids(actor)
        if ids:
            cond |= Q(warehouse_id__in=ids)
        else:
            missing_warehouse = True
    if roles - {Role.SALES, Role.WAREHOUSE} or not roles:
        cond |= Q(last_operator=actor)
    return cond, missing_warehouse and Role.SALES not in roles


def board_queryset(*, actor: User, filters: BoardFilters) -> tuple[QuerySet[Order], bool]:
    """Orders the actor may see that match the filters (no ordering), and the no-warehouse flag."""
    qs = scope_orders(Order.objects.all(), actor)
    f = filters
    if f.ordered_from:
        qs = qs.filter(ordered_at__gte=f.ordered_from)
    if f.ordered_to:
        qs = qs.filter(ordered_at__lt=f.ordered_to)
    if f.tier:
        qs = qs.filter(customer_tier=f.tier)
    if f.channel:
        qs = qs.filter(channel__code=f.channel)
    if f.warehouse:
        qs = qs.filter(warehouse_id=f.warehouse)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.entity:
        qs = qs.filter(
            Q(selling_entity_id=f.entity) | Q(shipping_entity_id=f.entity) | Q(invoicing_entity_id=f.entity)
        )
    no_warehouse = False
    if f.mine:
        cond, no_warehouse = mine_condition(actor)
        qs = qs.filter(cond)
    return qs, no_warehouse


def visible_statuses(preset: Preset, filters: BoardFilters) -> list[str]:
    if filters.status:
        return [filters.status]
    return [s for s in preset.columns if s != S.CANCELLED or filters.show_cancelled]


# --- urgency order and its keyset cursor -----------------------------------------------------------

URGENCY = ("-priority", "status_changed_at", "pk")
CARD_RELATED = ("channel", "customer", "owner", "warehouse")
# What a card shows or its permission checks read (fewer columns, cheaper rows).
CARD_FIELDS = (
    "order_no",
    "status",
    "status_changed_at",
    "priority",
    "promised_at",
    "customer_tier",
    "receiver_name",
    "version",
    "owner_id",
    "warehouse_id",
    "channel__name",
    "customer__name",
    "owner__username",
    "owner__display_name",
    "warehouse__name",
)


def encode_cursor(order: Order) -> str:
    raw = f"{order.priority}|{order.status_changed_at.isoformat()}|{order.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        p, at_text, pk_text = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        at = parse_datetime(at_text)
        priority, pk = int(p), int(pk_text)
        if at is None or timezone.is_naive(at) or not 0 <= priority < 2**15 or not 0 < pk < 2**63:
            raise ValueError(cursor)
        return priority, at, pk
    except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error):
        raise ValidationFailed(_("分页游标无效"), field="cursor") from None


def _after(cursor: str) -> Q:
    p, at, pk = decode_cursor(cursor)
    return (
        Q(priority__lt=p)
        | Q(priority=p, status_changed_at__gt=at)
        | Q(priority=p, status_changed_at=at, pk__gt=pk)
    )


def _open_holds_of() -> QuerySet[OrderHold]:
    return OrderHold.objects.filter(resolved_at__isnull=True)


def _before(cursor: str) -> Q:
    _p, at, pk = decode_cursor(cursor)
    return Q(status_changed_at__lt=at) | Q(status_changed_at=at, pk__lt=pk)


def _page(
    qs: QuerySet[Order], limit: int, cursor: str | None, *, finished: bool = False
) -> tuple[list[Order], str | None]:
    """Open columns: most urgent first. Finished ones (completed, cancelled): newest first."""
    if cursor:
        qs = qs.filter(_before(cursor) if finished else _after(cursor))
    order_by = ("-status_changed_at", "-pk") if finished else URGENCY
    rows = list(qs.select_related(*CARD_RELATED).only(*CARD_FIELDS).order_by(*order_by)[: limit + 1])
    nxt = None
    if len(rows) > limit:
        last = rows[limit - 1]
        if finished:
            last = Order(pk=last.pk, priority=0, status_changed_at=last.status_changed_at)
        nxt = encode_cursor(last)
    return rows[:limit], nxt


Key = tuple[int, int]  # (pk, version): what a column's signature is made of


def _page_keys(qs: QuerySet[Order], limit: int, *, finished: bool = False) -> tuple[list[Key], str | None]:
    """The first page of a column as (pk, version) only: enough to tell whether it changed."""
    order_by = ("-status_changed_at", "-pk") if finished else URGENCY
    rows = list(
        qs.order_by(*order_by).values_list("pk", "version", "priority", "status_changed_at")[: limit + 1]
    )
    nxt = None
    if len(rows) > limit:
        pk, _v, priority, at = rows[limit - 1]
        nxt = encode_cursor(Order(pk=pk, priority=0 if finished else priority, status_changed_at=at))
    return [(pk, v) for pk, v, _p, _a in rows[:limit]], nxt


def _fetch(keys: list[Key]) -> dict[int, Order]:
    """Full card rows for the given orders, in one query."""
    if not keys:
        return {}
    rows = Order.objects.filter(pk__in=[pk for pk, _v in keys]).select_related(*CARD_RELATED)
    return {o.pk: o for o in rows.only(*CARD_FIELDS)}


def done_window_days() -> int:
    """Finished orders stay on the board this many days (they pile up forever otherwise)."""
    return int(getattr(settings, "ORDERHUB_BOARD_DONE_DAYS", DONE_DAYS))


def _in_column(qs: QuerySet[Order], status: str, now: datetime) -> QuerySet[Order]:
    qs = qs.filter(status=status)
    if status in TERMINAL:
        qs = qs.filter(status_changed_at__gte=now - timedelta(days=done_window_days()))
    return qs


def _counts(qs: QuerySet[Order], statuses: list[str], now: datetime) -> dict[str, int]:
    """Orders per visible column: open states counted whole, finished ones within the window."""
    open_ = [s for s in statuses if s not in TERMINAL]
    done = [s for s in statuses if s in TERMINAL]
    counts: dict[str, int] = {}
    if open_:
        rows = qs.filter(status__in=open_).order_by().values_list("status").annotate(n=Count("pk"))
        counts.update(rows.values_list("status", "n"))
    if done:
        since = now - timedelta(days=done_window_days())
        rows = (
            qs.filter(status__in=done, status_changed_at__gte=since)
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
        )
        counts.update(rows.values_list("status", "n"))
    return counts


# --- cards -----------------------------------------------------------------------------------------


def _responsible(order: Order, labels: dict[str, str]) -> list[str]:
    out = []
    for role in RESPONSIBLE_ROLES.get(order.status, ()):
        text = labels[role]
        if role == Role.WAREHOUSE and order.warehouse_id:
            text = f"{text} · {order.warehouse.name}"
        out.append(text)
    if order.status in OWNER_INFORMED and order.owner_id:
        out.append(str(order.owner))
    return out


def _lines_of(ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    """Each order's lines as (name or SKU code, quantity), in line order, without model instances."""
    out: dict[int, list[tuple[str, int]]] = {}
    rows = OrderLine.objects.filter(order_id__in=ids).order_by("order_id", "line_no")
    for order_id, name, code, quantity in rows.values_list("order_id", "name", "sku_code", "quantity"):
        out.setdefault(order_id, []).append((name or code, quantity))
    return out


def cards_build(actor: User, orders: list[Order], targets: dict[str, Target], now: datetime) -> list[Card]:
    """Cards with time in state against its target, who is responsible and the moves allowed."""
    # Only orders in 待审核 can be held, and only there do the guards read the holds.
    pending = [o for o in orders if o.status == S.PENDING_REVIEW]
    prefetch_related_objects(pending, Prefetch("holds", queryset=_open_holds_of().order_by("pk")))
    lines = _lines_of([o.pk for o in orders]) if orders else {}
    labels = {r.value: str(r.label) for r in Role}
    cards = []
    for o in orders:
        age = max(0, int((now - o.status_changed_at).total_seconds() // 60))
        target = targets.get(o.status)
        level = "none"
        if target:
            ratio = age * 100 / target.minutes
            level = "late" if ratio >= 100 else "warn" if ratio >= target.amber_percent else "ok"
        overdue = bool(o.promised_at and o.promised_at < now and o.status not in (S.COMPLETED, S.CANCELLED))
        own_lines = lines.get(o.pk, [])
        holds = [h.reason for h in o.holds.all()] if o.status == S.PENDING_REVIEW else []
        card = Card(o, age, target, level, _responsible(o, labels), allowed_transitions(actor, o), overdue)
        card.lines, card.line_count, card.hold_reasons = own_lines[:1], len(own_lines), holds
        cards.append(card)
    return cards


# --- the board -------------------------------------------------------------------------------------


def _sig_of(count: int, held_count: int, keys: list[Key]) -> str:
    raw = f"{count}|{held_count}|" + ",".join(f"{pk}:{v}" for pk, v in keys)
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:16]


def board_get(
    *,
    actor: User,
    preset: Preset,
    filters: BoardFilters,
    limit: int = CARDS_PER_COLUMN,
    now: datetime | None = None,
    known: dict[str, str] | None = None,
    targets: dict[str, Target] | None = None,
) -> Board:
    """Counts per state and the `limit` most urgent cards of each visible column.

    With `known` (the signatures a board already shows), columns whose signature is unchanged
    come back without cards (`unchanged`): a poll then builds only what it will send. `targets`:
    the state targets when the caller has read them already.
    """
    now = now or timezone.now()
    qs, no_warehouse = board_queryset(actor=actor, filters=filters)
    statuses = visible_statuses(preset, filters)
    counts = _counts(qs, statuses, now)
    held_ids = _open_holds_of().values("order_id")
    columns: list[Column] = []
    keys_of: dict[str, tuple[list[Key], list[Key]]] = {}  # status -> (held, others)
    for status in statuses:
        col = Column(status=status, label=str(OrderStatus(status).label), count=counts.get(status, 0))
        if status in TERMINAL:
            col.window_days = done_window_days()
        held: list[Key] = []
        others: list[Key] = []
        if col.count:
            in_col = _in_column(qs, status, now)
            if status == S.PENDING_REVIEW:
                col.held_count = in_col.filter(pk__in=held_ids).count()
                if col.held_count:
                    held, col.held_next_cursor = _page_keys(in_col.filter(pk__in=held_ids), limit)
                if col.other_count:
                    others, col.next_cursor = _page_keys(in_col.exclude(pk__in=held_ids), limit)
            else:
                others, col.next_cursor = _page_keys(in_col, limit, finished=status in TERMINAL)
        col.sig = _sig_of(col.count, col.held_count, [*held, *others])
        col.unchanged = known is not None and known.get(status) == col.sig
        keys_of[status] = (held, others)
        columns.append(col)
    wanted = [k for c in columns if not c.unchanged for k in (*keys_of[c.status][0], *keys_of[c.status][1])]
    rows = _fetch(wanted)
    orders = [rows[pk] for pk, _v in wanted if pk in rows]
    if targets is None:
        targets = state_targets() if orders else {}
    by_pk = {c.order.pk: c for c in cards_build(actor, orders, targets, now)}
    for col in columns:
        held, others = keys_of[col.status]
        col.held = [by_pk[pk] for pk, _v in held if pk in by_pk]
        col.cards = [by_pk[pk] for pk, _v in others if pk in by_pk]
    return Board(columns=columns, total=sum(counts.get(s, 0) for s in statuses), no_warehouse=no_warehouse)


def column_page(
    *,
    actor: User,
    filters: BoardFilters,
    status: str,
    cursor: str,
    held: bool = False,
    limit: int = CARDS_PER_COLUMN,
    now: datetime | None = None,
) -> tuple[list[Card], str | None]:
    """The next cards of one column ("more"), after `cursor` in urgency order."""
    if status not in OrderStatus.values:
        raise ValidationFailed(_("未知状态：%(to)s") % {"to": status}, field="status")
    limit = max(1, min(limit, MAX_PAGE))
    now = now or timezone.now()
    qs, _missing = board_queryset(actor=actor, filters=filters)
    qs = _in_column(qs, status, now)
    if status == S.PENDING_REVIEW:
        held_ids = _open_holds_of().values("order_id")
        qs = qs.filter(pk__in=held_ids) if held else qs.exclude(pk__in=held_ids)
    rows, nxt = _page(qs, limit, cursor, finished=status in TERMINAL)
    return cards_build(actor, rows, state_targets() if rows else {}, now), nxt


# A change committed out of id order (PostgreSQL sequences are not commit-ordered) is still seen:
# while the newest log entry is this recent, polls compare columns instead of trusting the stamp.
STAMP_SETTLE = timedelta(seconds=10)


@dataclass(frozen=True)
class Stamp:
    key: str
    settled: bool


def board_stamp(now: datetime | None = None) -> Stamp:
    """A cheap version of every order at once: the newest operation-log entry (one index lookup).

    Every change to an order — creation, transition, hold, release, edit — appends to the log.
    """
    now = now or timezone.now()
    newest = OperationLog.objects.order_by("-pk").values_list("pk", "at").first()
    if newest is None:
        return Stamp("0", True)
    return Stamp(str(newest[0]), newest[1] < now - STAMP_SETTLE)


def changed_columns(board: Board, client_sigs: dict[str, str]) -> list[Column]:
    """The columns whose content differs from what the client shows (by signature)."""
    return [c for c in board.columns if client_sigs.get(c.status) != c.sig]


def age_text(minutes: int) -> str:
    """「3天4小时」/「2小时5分」/「12分」 for the time an order has spent in its state."""
    d = timedelta(minutes=minutes)
    days, hours, mins = d.days, d.seconds // 3600, (d.seconds // 60) % 60
    if days:
        return _("%(d)s天%(h)s小时") % {"d": days, "h": hours} if hours else _("%(d)s天") % {"d": days}
    if hours:
        return _("%(h)s小时%(m)s分") % {"h": hours, "m": mins} if mins else _("%(h)s小时") % {"h": hours}
    return _("%(m)s分") % {"m": mins}


def responsible_text(card: Card) -> str:
    return "、".join(card.responsible) or "—"
