"""The one transition service: every status change of an order goes through here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Prefetch, Q, Subquery, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.core.db import RowLoader, RowUpdater
from orderhub.core.errors import (
    AppError,
    Conflict,
    InvalidTransition,
    PermissionDenied,
    ValidationFailed,
)
from orderhub.orders.audit import GENESIS, log_entry_insert, log_entry_next
from orderhub.orders.effects import EffectContext, effects_run, effects_run_many
from orderhub.orders.errors import order_not_found
from orderhub.orders.models import LogAction, OperationLog, Order, OrderHold
from orderhub.orders.permissions import can_see, may_perform
from orderhub.orders.states import TRANSITIONS, OrderStatus, Transition, transition_between

_ORDERS = RowLoader(Order)
_ORDER_ATTNAMES = frozenset(f.attname for f in Order._meta.concrete_fields)
# The columns a move writes (its conditional UPDATE, built once per set of extra columns); a
# caller's `changes` may not name them.
_MOVED_COLUMNS = (
    "status",
    "last_operator_id",
    "updated_at",
    "status_changed_at",
    "version",
    "log_seq",
    "log_head",
)
_MANAGED_COLUMNS = frozenset({*_MOVED_COLUMNS, "last_operator"})
_UPDATERS: dict[tuple[str, ...], RowUpdater[Order]] = {}


def _moved_update(order: Order, seen_version: int, changes: dict[str, Any]) -> int:
    """UPDATE the moved order's row if its version is still `seen_version`; the rows updated."""
    extra = tuple(changes)
    updater = _UPDATERS.get(extra)
    if updater is None:
        updater = _UPDATERS[extra] = RowUpdater(Order, (*_MOVED_COLUMNS, *extra), where=("id", "version"))
    values = {name: getattr(order, name) for name in _MOVED_COLUMNS}
    return updater.update({"id": order.pk, "version": seen_version}, **values, **changes)


def _lock_order(order_id: int) -> Order:
    # The row loader reads the wide order row with SQL built once: the ORM's get() would
    # compile it (and its ~40 columns) anew on every one of the many transitions a second.
    order = _ORDERS.get(order_id, for_update=True)
    if order is None:
        raise order_not_found(order_id)
    return order


def _label(status: str) -> str:
    return str(OrderStatus(status).label)


def _check(order: Order, to: str, actor: User, expected_version: int | None, reason: str) -> Transition:
    if not can_see(actor, order):
        # Out of scope looks exactly like absent: no probing of other salespeople's orders.
        raise order_not_found(order.pk)
    # A stale view is reported as a conflict first: what the person saw is no longer true.
    if expected_version is not None and expected_version != order.version:
        raise Conflict(
            _("订单 %(no)s 已被他人修改（当前版本 %(cur)s，您看到的是 %(exp)s），请刷新后重试")
            % {"no": order.order_no, "cur": order.version, "exp": expected_version},
            code="version_conflict",
            field="expected_version",
            details={"current_version": order.version, "current_status": order.status},
        )
    if to not in OrderStatus.values:
        raise ValidationFailed(_("未知状态：%(to)s") % {"to": to}, field="to")
    t = transition_between(order.status, to)
    if t is None:
        raise InvalidTransition(
            _("订单 %(no)s 当前为「%(src)s」，不能变为「%(dst)s」")
            % {"no": order.order_no, "src": _label(order.status), "dst": _label(to)},
            field="to",
        )
    if not may_perform(actor, t):
        raise PermissionDenied(_("您的角色不能执行「%(action)s」") % {"action": t.label}, field="to")
    if t.requires_reason and not reason.strip():
        raise ValidationFailed(_("「%(action)s」需要填写原因") % {"action": t.label}, field="reason")
    for guard in t.guards:
        message = guard(order)
        if message:
            raise InvalidTransition(message, code="guard_failed", field="to")
    return t


def _advance(
    order: Order,
    t: Transition,
    *,
    actor: User,
    now: datetime,
    reason: str,
    details: dict[str, Any] | None,
    automatic: bool,
) -> OperationLog:
    """Move the (locked, checked) order in memory and return its log entry, hashed, unsaved."""
    source = order.status
    order.status = t.target
    order.last_operator = actor
    order.updated_at = now
    order.status_changed_at = now
    order.version += 1
    return log_entry_next(
        order=order,
        action=LogAction.TRANSITION,
        actor=actor,
        at=now,
        transition=t.name,
        from_status=source,
        to_status=t.target,
        reason=reason.strip(),
        details=details,
        automatic=automatic,
    )


def order_transition(
    *,
    order_id: int,
    to: str,
    actor: User,
    expected_version: int | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
    automatic: bool = False,
    now: datetime | None = None,
    notify: bool = True,
    locked: Order | None = None,
    changes: Mapping[str, Any] | None = None,
) -> Order:
    """Move one order to `to`: permission, guard, version, status, log entry and owed jobs.

    All in one transaction; any refusal raises an AppError and changes nothing. `notify=False`
    is only for back-filling history (demo data, migrations from an old system).

    A caller that has already locked and read the order in its own transaction passes it as
    `locked` (it is not read again), and columns that change with the move (the warehouse an
    allocation chose) as `changes`, written by the same UPDATE.
    """
    now = now or timezone.now()
    changes = dict(changes or {})
    if _MANAGED_COLUMNS & changes.keys():
        raise ValueError(f"the transition itself sets {sorted(_MANAGED_COLUMNS & changes.keys())}")
    if changes.keys() - _ORDER_ATTNAMES:
        raise ValueError(
            f"not column attribute names of an order: {sorted(changes.keys() - _ORDER_ATTNAMES)}"
        )
    with transaction.atomic():
        if locked is not None:
            assert locked.pk == order_id, "the locked order is the one to move"
            order = locked
        else:
            order = _lock_order(order_id)
        t = _check(order, to, actor, expected_version, reason)
        seen_version = order.version
        entry = _advance(order, t, actor=actor, now=now, reason=reason, details=details, automatic=automatic)
        log_entry_insert(entry)
        # The conditional UPDATE is the optimistic lock: it holds even where the row lock is a
        # no-op (SQLite serialises writers instead).
        updated = _moved_update(order, seen_version, changes)
        if updated != 1:
            raise Conflict(_("订单已被他人修改，请刷新后重试"), code="version_conflict")
        for column, value in changes.items():
            setattr(order, column, value)
        effects_run(EffectContext(order=order, transition=t, entry=entry, notify=notify))
    return order


@dataclass
class TransitionBatch:
    """What `order_transition_many` did: the orders it moved and, per refused order, why not."""

    moved: list[Order] = field(default_factory=list)
    refused: list[tuple[int, AppError]] = field(default_factory=list)


def order_transition_many(
    *,
    order_ids: Sequence[int],
    to: str,
    actor: User,
    expected_versions: Mapping[int, int] | None = None,
    reason: str = "",
    details: Mapping[int, dict[str, Any]] | None = None,
    automatic: bool = False,
    now: datetime | None = None,
    notify: bool = True,
) -> TransitionBatch:
    """Move many orders to `to` in one transaction, each exactly as `order_transition` would.

    For bulk actions and waves (approve 200 selected cards, allocate the next wave): every order
    gets the same checks (scope, version, table, role, reason, guards), its own hash-chained log
    entry (`details` per order id) and its own notice job, and the transition effects run for
    each; but the rows are locked with one statement (in id order, so two batches cannot
    deadlock), and the entries, the status updates and the jobs are each written with one.
    An order that may not move is left as it is and listed in `refused` with the error that
    `order_transition` would raise; the others move. An error raised by an effect undoes the
    whole batch.
    """
    now = now or timezone.now()
    expected_versions = expected_versions or {}
    details = details or {}
    batch = TransitionBatch()
    ids = sorted(set(order_ids))
    with transaction.atomic():
        locked = list(Order.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        if any(t.guards for t in TRANSITIONS if t.target == to):
            # The guards (approve's) read open holds: one query for all rows.
            prefetch_related_objects(
                locked, Prefetch("holds", queryset=OrderHold.objects.filter(resolved_at__isnull=True))
            )
        orders = {order.pk: order for order in locked}
        steps: list[tuple[Order, Transition]] = []
        for order_id in ids:
            order = orders.get(order_id)
            try:
                if order is None:
                    raise order_not_found(order_id)
                t = _check(order, to, actor, expected_versions.get(order_id), reason)
            except AppError as exc:
                batch.refused.append((order_id, exc))
            else:
                steps.append((order, t))
        if not steps:
            return batch
        entries = [
            _advance(
                order,
                t,
                actor=actor,
                now=now,
                reason=reason,
                details=details.get(order.pk),
                automatic=automatic,
            )
            for order, t in steps
        ]
        OperationLog.objects.bulk_create(entries)
        # One conditional UPDATE for all rows, whose SQL grows only by the id list: a row moves
        # only if its chain head is still the one the new entry links to (so nobody moved it
        # since it was read: the optimistic lock of `order_transition`, for every row at once),
        # and takes that entry's hash as its new head.
        new_entry = OperationLog.objects.filter(order_id=OuterRef("pk"), seq=OuterRef("log_seq") + 1)
        updated = (
            Order.objects.filter(pk__in=[order.pk for order, _t in steps])
            .filter(Exists(new_entry.filter(Q(prev_hash=OuterRef("log_head")) | Q(seq=1, prev_hash=GENESIS))))
            .update(
                status=to,
                last_operator=actor,
                updated_at=now,
                status_changed_at=now,
                version=F("version") + 1,
                log_seq=F("log_seq") + 1,
                log_head=Subquery(new_entry.values("hash")[:1]),
            )
        )
        if updated != len(steps):
            raise Conflict(_("订单已被他人修改，请刷新后重试"), code="version_conflict")
        effects_run_many(
            [
                EffectContext(order=order, transition=t, entry=entry, notify=notify)
                for (order, t), entry in zip(steps, entries, strict=True)
            ]
        )
        batch.moved = [order for order, _t in steps]
    return batch
