"""The tamper-evident operation log: appending entries, sealing anchors, verifying.

Chain design:
- every order has its own chain: entry n stores hash(entry n-1 of the same order), and the order
  row stores its chain head (`log_seq`, `log_head`), so edits, deletions, reorderings and a cut
  tail are all detected without one global head that every writer would queue on;
- anchors seal consecutive id ranges of the whole log (count + digest of entry hashes, chained
  anchor to anchor), so deleting an order together with its entire history is detected too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from orderhub.accounts.models import User
from orderhub.core.db import RowInserter
from orderhub.orders.models import AuditAnchor, OperationLog, Order

GENESIS = "0" * 64


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)


def _at_text(at: datetime) -> str:
    # Normalise to UTC microseconds: both SQLite and PostgreSQL round-trip this exactly.
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _entry_text(order: Any, fields: Any) -> str:
    """The canonical text an entry's hash covers; `fields` has the entry's attributes."""
    return _canonical(
        {
            "order": order,
            "seq": fields.seq,
            "action": fields.action,
            "transition": fields.transition,
            "from": fields.from_status,
            "to": fields.to_status,
            "actor": fields.actor_id,
            "actor_name": fields.actor_name,
            "automatic": fields.automatic,
            "reason": fields.reason,
            "details": fields.details,
            "at": _at_text(fields.at),
            "prev": fields.prev_hash,
        }
    )


def entry_hash(entry: OperationLog) -> str:
    return hashlib.sha256(_entry_text(entry.order_id, entry).encode()).hexdigest()


_ORDER_MARK = "\x00order-id\x00"


def entry_hash_parts(fields: dict[str, Any]) -> tuple[str, str]:
    """The hashed text of an entry whose order id is not known yet, split where the id goes, so
    that a bulk writer builds it once for many orders: `entry_hash_for(parts, order_id)` is then
    exactly `entry_hash` of that entry. `fields`: the entry's fields but the order id and hash."""
    head, _mark, tail = _entry_text(_ORDER_MARK, SimpleNamespace(**fields)).partition(_canonical(_ORDER_MARK))
    return head, tail


def entry_hash_for(parts: tuple[str, str], order_id: int) -> str:
    """`entry_hash` of the entry `entry_hash_parts` split, for this order id."""
    return hashlib.sha256(f"{parts[0]}{int(order_id)}{parts[1]}".encode()).hexdigest()  # an int's JSON


def log_entry_next(
    *,
    order: Order,
    action: str,
    actor: User | None,
    at: datetime,
    transition: str = "",
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    details: dict[str, Any] | None = None,
    automatic: bool = False,
) -> OperationLog:
    """The order's next chain entry, hashed but not saved; the order's head moves to it.

    The caller holds the order's row lock and saves the entry (`log_append` does both; the bulk
    transition service saves many with one INSERT).
    """
    entry = OperationLog(
        order=order,
        seq=order.log_seq + 1,
        action=action,
        transition=transition,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        actor_name=str(actor) if actor else "",
        automatic=automatic,
        reason=reason,
        details=json.loads(_canonical(details or {})),
        at=at,
        prev_hash=order.log_head or GENESIS,
    )
    entry.hash = entry_hash(entry)
    order.log_seq = entry.seq
    order.log_head = entry.hash
    return entry


_LOG_ROWS = RowInserter(OperationLog)
_LOG_ATTNAMES = [f.attname for f in OperationLog._meta.concrete_fields if not f.primary_key]


def log_entry_insert(entry: OperationLog) -> None:
    """Save a new entry with an INSERT built once (`save()` builds it on every call)."""
    assert transaction.get_connection().in_atomic_block, "log entries are written in a transaction"
    entry.pk = _LOG_ROWS.insert(**{name: getattr(entry, name) for name in _LOG_ATTNAMES})
    entry._state.adding = False


def log_append(**fields: Any) -> OperationLog:
    """Append one entry to the order's chain (`log_entry_next`'s fields). The caller holds the
    order's row lock."""
    entry = log_entry_next(**fields)
    log_entry_insert(entry)
    return entry


# --- anchors ----------------------------------------------------------------------------------


def _digest(hashes: Iterator[str]) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    for value in hashes:
        h.update(value.encode())
        n += 1
    return h.hexdigest(), n


def _anchor_hash(anchor: AuditAnchor) -> str:
    payload = _canonical(
        {
            "first": anchor.first_log_id,
            "last": anchor.last_log_id,
            "count": anchor.entry_count,
            "digest": anchor.digest,
            "prev": anchor.prev_hash,
        }
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def audit_anchor_create(*, now: datetime | None = None) -> AuditAnchor | None:
    """Seal every log entry older than the anchor delay that no anchor covers yet.

    Only entries older than the delay are sealed, so a transaction that took an id earlier but
    commits later is never left outside the range it belongs to.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.ORDERHUB_AUDIT_ANCHOR_DELAY_SECONDS)
    with transaction.atomic():
        last = AuditAnchor.objects.select_for_update().order_by("-last_log_id").first()
        start_after = last.last_log_id if last else 0
        upper = (
            OperationLog.objects.filter(id__gt=start_after, at__lt=cutoff)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        if upper is None:
            return None
        digest, count = _digest(_hashes_between(start_after, upper))
        anchor = AuditAnchor(
            first_log_id=start_after + 1,
            last_log_id=upper,
            entry_count=count,
            digest=digest,
            prev_hash=last.hash if last else GENESIS,
        )
        anchor.hash = _anchor_hash(anchor)
        anchor.save()
        return anchor


def _hashes_between(after_id: int, upto_id: int) -> Iterator[str]:
    return (
        OperationLog.objects.filter(id__gt=after_id, id__lte=upto_id)
        .order_by("id")
        .values_list("hash", flat=True)
        .iterator(chunk_size=5000)
    )


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditProblem:
    kind: str
    message: str
    order_id: int | None = None
    log_id: int | None = None
    seq: int | None = None


@dataclass
class AuditReport:
    entries: int = 0
    orders: int = 0
    anchors: int = 0
    problems: list[AuditProblem] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> AuditProblem | None:
        return self.problems[0] if self.problems else None


# An entry's stored columns but its id (what a bulk writer inserts, in this order).
LOG_COLUMNS = (
    "order_id",
    "seq",
    "action",
    "transition",
    "from_status",
    "to_status",
    "actor_id",
    "actor_name",
    "automatic",
    "reason",
    "details",
    "at",
    "prev_hash",
    "hash",
)
_LOG_FIELDS = ("id", *LOG_COLUMNS)


def audit_verify(*, max_problems: int = 50) -> AuditReport:
    """Check every order's chain, every order's head and every anchor.

    Problems are listed in log order, so the first one names the first broken entry.
    """
    report = AuditReport(problems=[])
    problems: list[AuditProblem] = []
    heads = dict(Order.objects.values_list("id", "log_seq"))
    head_hashes = dict(Order.objects.values_list("id", "log_head"))
    state: dict[int, tuple[int, str]] = {}  # order_id -> (last seq, last hash)
    rows = (
        OperationLog.objects.order_by("order_id", "seq", "id")
        .values_list(*_LOG_FIELDS)
        .iterator(chunk_size=5000)
    )
    for row in rows:
        entry = OperationLog(**dict(zip(_LOG_FIELDS, row, strict=True)))
        report.entries += 1
        last_seq, last_hash = state.get(entry.order_id, (0, GENESIS))
        problem = None
        if entry.order_id not in heads:
            problem = ("orphan_entry", "日志所属订单已不存在 / entry of a deleted order")
        elif entry.seq != last_seq + 1:
            problem = (
                "sequence_gap",
                f"序号应为 {last_seq + 1}，实为 {entry.seq} / entry missing or reordered",
            )
        elif entry.prev_hash != last_hash:
            problem = ("broken_link", "前序哈希不符 / previous entry changed, removed or reordered")
        elif entry_hash(entry) != entry.hash:
            problem = ("content_changed", "内容与哈希不符 / entry edited after it was written")
        if problem:
            problems.append(AuditProblem(problem[0], problem[1], entry.order_id, entry.id, entry.seq))
        state[entry.order_id] = (entry.seq, entry.hash)
    for order_id, log_seq in heads.items():
        seq, last_hash = state.get(order_id, (0, GENESIS))
        if log_seq != seq or (log_seq and head_hashes[order_id] != last_hash):
            problems.append(
                AuditProblem(
                    "head_mismatch",
                    f"订单记录的最后序号为 {log_seq}，日志只到 {seq} / log tail removed or altered",
                    order_id=order_id,
                    seq=seq + 1,
                )
            )
    report.orders = len(heads)
    problems.sort(key=lambda p: (p.log_id is None, p.log_id or 0, p.order_id or 0))
    problems.extend(_verify_anchors(report))
    report.problems = problems[:max_problems]
    return report


def _verify_anchors(report: AuditReport) -> list[AuditProblem]:
    problems: list[AuditProblem] = []
    prev_hash, prev_last = GENESIS, 0
    for anchor in AuditAnchor.objects.order_by("last_log_id"):
        report.anchors += 1
        if (
            anchor.prev_hash != prev_hash
            or anchor.first_log_id != prev_last + 1
            or _anchor_hash(anchor) != anchor.hash
        ):
            problems.append(
                AuditProblem("anchor_chain", f"锚点 {anchor.pk} 被修改或删除 / anchor chain broken")
            )
        digest, count = _digest(_hashes_between(anchor.first_log_id - 1, anchor.last_log_id))
        if count != anchor.entry_count or digest != anchor.digest:
            problems.append(
                AuditProblem(
                    "anchor_mismatch",
                    f"日志 {anchor.first_log_id}–{anchor.last_log_id} 与锚点不符：应有 "
                    f"{anchor.entry_count} 条，现有 {count} 条 / sealed entries changed or deleted",
                    log_id=anchor.first_log_id,
                )
            )
        prev_hash, prev_last = anchor.hash, anchor.last_log_id
    return problems
