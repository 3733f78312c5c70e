"""One chunk of raw rows → orders ready to insert, without touching the database.

Mapping, validation, grouping into drafts, holds, snapshots and the column values of each order, its
lines, holds and first log entry are a pure function of the rows, the mapping, the catalogue and the
customers. So a second process can prepare chunk n+1 while the first writes chunk n
(ingest/parallel.py); the writer then only adds what needs the database: whether the channel order
exists already, duplicates, ids, order numbers and the log entry's hash (ingest/persist.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.catalog.models import Customer, CustomerTier
from orderhub.ingest.conf import ingest_setting
from orderhub.ingest.drafts import Catalog, Rejection, build_draft
from orderhub.ingest.mapping import MappedRow, map_row
from orderhub.ingest.models import Channel
from orderhub.ingest.writer import TableWriter
from orderhub.orders.audit import GENESIS, LOG_COLUMNS, entry_hash_parts
from orderhub.orders.models import LogAction, OperationLog, Order, OrderHold, OrderLine, PhoneKind
from orderhub.orders.services import OrderDraft
from orderhub.orders.services.create import _basic_holds
from orderhub.orders.states import OrderStatus

ORDER_COLUMNS = (
    "id",
    "order_no",
    "channel_id",
    "channel_order_no",
    "ordered_at",
    "customer_id",
    "customer_tier",
    "status",
    "last_operator_id",
    "updated_at",
    "status_changed_at",
    "created_at",
    "receiver_name",
    "receiver_phone",
    "phone_kind",
    "province",
    "province_code",
    "city",
    "city_code",
    "district",
    "district_code",
    "address_detail",
    "goods_amount",
    "shipping_fee",
    "total_amount",
    "remark",
    "promised_at",
    "priority",
    "owner_id",
    "lines_snapshot",
    "version",
    "log_seq",
    "log_head",
)
LINE_COLUMNS = ("order_id", "line_no", "sku_id", "sku_code", "name", "quantity", "unit_price")
HOLD_COLUMNS = ("order_id", "reason", "detail", "created_by_id", "created_at")


@dataclass(frozen=True, eq=False)
class Writers:
    order: TableWriter
    line: TableWriter
    hold: TableWriter
    log: TableWriter


@cache
def _writers(vendor: str) -> Writers:
    del vendor  # the cache key: column adapters differ per database
    return Writers(
        TableWriter(Order, ORDER_COLUMNS),
        TableWriter(OrderLine, LINE_COLUMNS),
        TableWriter(OrderHold, HOLD_COLUMNS),
        TableWriter(OperationLog, LOG_COLUMNS),
    )


def writers() -> Writers:
    """The INSERT writers of this process's database backend (no connection is opened)."""
    return _writers(connection.vendor)


@dataclass
class PrepareContext:
    """What preparing a chunk needs besides its rows; `customers_for` / `owners_for` look codes up
    (in the database when preparing in-process, in a preloaded map in the helper process)."""

    plan: Any  # pipeline.Plan
    channel: Channel
    catalog: Catalog
    batch_id: int
    actor_id: int | None
    actor_name: str
    customers_for: Callable[[set[str]], dict[str, Customer]]
    owners_for: Callable[[set[str]], dict[str, int]]
    keep_drafts: bool = True  # the helper process does not send them (pickling one costs ~30 µs)
    writers: Writers = field(default_factory=lambda: writers())


@dataclass
class PreparedOrder:
    """One order of the chunk as it will be inserted if its channel order number is new."""

    key: str
    row_nos: list[int]  # its rows, skipped duplicate rows excluded
    fingerprint: str
    draft: OrderDraft | None  # None from the helper: an update prepares its chunk again in-process
    dup_key: tuple[Any, ...] | None
    ordered_at: datetime | None
    number: str  # a fresh order number; the writer redraws it if taken
    holds: list[tuple[str, str]]
    draft_holds: int  # how many of `holds` the draft itself raised (a duplicate hold goes after)
    order_values: list[Any]
    line_values: list[list[Any]]
    hold_values: list[list[Any]]
    log_values: list[Any]
    hash_parts: tuple[str, str]  # the log entry's canonical text before and after the order id


@dataclass
class PreparedChunk:
    chunk_id: int
    now: datetime
    orders: list[PreparedOrder] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    rejected_keys: dict[int, str] = field(default_factory=dict)  # row_no → channel order number


_TOTAL_WORDS = ("合计", "总计", "小计", "汇总")


def is_total_row(cells: list[Any]) -> bool:
    """A totals line under the data (「合计」 in one of its first cells)."""
    for c in cells[:3]:
        text = str(c or "").replace(" ", "").rstrip(":：")
        if text in _TOTAL_WORDS:
            return True
    return False


def map_chunk_rows(plan: Any, chunk_rows: list[list[Any]]) -> tuple[list[MappedRow], list[Rejection]]:
    mapped: list[MappedRow] = []
    rejected: list[Rejection] = []
    max_cols = ingest_setting("MAX_COLUMNS")
    plans = plan.plans
    for row_no, cells, width in chunk_rows:
        if width > max_cols:
            rejected.append(
                Rejection(
                    row_no,
                    "",
                    "too_wide",
                    _("该行有 %(n)s 列，超过上限 %(m)s 列") % {"n": width, "m": max_cols},
                )
            )
            continue
        mapped.append(map_row(plans, row_no, cells))
    return mapped, rejected


def prepare_chunk(ctx: PrepareContext, chunk_id: int, chunk_rows: list[list[Any]]) -> PreparedChunk:
    """Map, validate and group one chunk's rows; build every order's insertable values."""
    out = PreparedChunk(chunk_id=chunk_id, now=timezone.now())
    mapped, rejected = map_chunk_rows(ctx.plan, chunk_rows)
    groups: dict[str, list[MappedRow]] = {}
    for r in mapped:
        key = str(r.values.get("channel_order_no") or "")
        if is_total_row(r.cells):
            out.skipped.append(r.row_no)
            continue
        if not key:
            errs = [e for e in r.errors if e.column]
            if errs:
                rejected.extend(Rejection(r.row_no, e.column, e.code, e.message) for e in errs)
            else:
                rejected.append(Rejection(r.row_no, _("渠道订单号"), "no_order_no", _("缺少渠道订单号")))
            continue
        groups.setdefault(key, []).append(r)
    customers = ctx.customers_for(
        {str(r.values["customer_code"]) for r in mapped if r.values.get("customer_code")}
    )
    owners = ctx.owners_for(
        {str(r.values["owner_username"]) for r in mapped if r.values.get("owner_username")}
    )
    for key, rows in groups.items():
        res = build_draft(key, rows, channel=ctx.channel, catalog=ctx.catalog, customers=customers)
        skipped = {s[0] for s in res.skipped}
        out.skipped.extend(skipped)
        if res.draft is None:
            rejected.extend(res.rejections)
            continue
        row_nos = [n for n in res.row_nos if n not in skipped]
        out.orders.append(prepare_order(ctx, res.draft, res.fingerprint, row_nos, out.now, customers, owners))
    out.rejected = rejected
    bad = {rj.row_no for rj in rejected}
    out.rejected_keys = {
        r.row_no: str(r.values.get("channel_order_no") or "")[:64] for r in mapped if r.row_no in bad
    }
    return out


def dup_key(d: OrderDraft) -> tuple[Any, ...] | None:
    """What makes two orders look like the same purchase (same receiver, address and goods)."""
    # A masked or virtual number is shared by many buyers: it identifies nobody.
    if d.phone_kind != PhoneKind.NORMAL or not d.receiver_phone or not d.address_detail:
        return None
    goods = tuple(sorted((ln.sku_code, ln.quantity) for ln in d.lines))
    return (d.receiver_phone, d.receiver_name, d.address_detail, goods)


class _SkuView(dict):  # type: ignore[type-arg]
    """`_basic_holds` only asks `code in skus`: answer from the catalogue without loading models."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__()
        self._names = catalog.names

    def __contains__(self, code: object) -> bool:
        return code in self._names


def prepare_order(
    ctx: PrepareContext,
    d: OrderDraft,
    fingerprint: str,
    row_nos: list[int],
    now: datetime,
    customers: dict[str, Customer],
    owners: dict[str, int],
) -> PreparedOrder:
    """What `order_create` would write for this draft, as column values (id and number left blank)."""
    w = ctx.writers
    customer = customers.get(d.customer_code) if d.customer_code else None
    owner_id = owners.get(d.owner_username or "") or (customer.owner_id if customer else None)
    goods = sum((ln.unit_price * ln.quantity for ln in d.lines), Decimal("0"))
    # Plain str and UTC datetimes: enum members and zoneinfo zones cost far more to unpickle.
    holds = [(str(r), dt) for r, dt in _basic_holds(d, _SkuView(ctx.catalog))]  # type: ignore[arg-type]
    ordered_at = d.ordered_at.astimezone(UTC) if d.ordered_at else None
    log_values, parts = _log_template(ctx, holds, now)
    order = {
        "channel_id": ctx.channel.pk,
        "channel_order_no": d.channel_order_no or None,
        "ordered_at": ordered_at or now,
        "customer_id": customer.pk if customer else None,
        "customer_tier": str(d.customer_tier or (customer.tier if customer else CustomerTier.C)),
        "status": OrderStatus.PENDING_REVIEW.value,
        "last_operator_id": ctx.actor_id,
        "updated_at": now,
        "status_changed_at": now,
        "created_at": now,
        "receiver_name": d.receiver_name,
        "receiver_phone": d.receiver_phone,
        "phone_kind": str(d.phone_kind),
        "province": d.province,
        "province_code": d.province_code,
        "city": d.city,
        "city_code": d.city_code,
        "district": d.district,
        "district_code": d.district_code,
        "address_detail": d.address_detail,
        "goods_amount": goods,
        "shipping_fee": d.shipping_fee,
        "total_amount": goods + d.shipping_fee,
        "remark": d.remark,
        "promised_at": d.promised_at.astimezone(UTC) if d.promised_at else None,
        "priority": d.priority,
        "owner_id": owner_id,
        "lines_snapshot": snapshot(d, fingerprint, ctx.batch_id, row_nos),
        "version": 1,
        "log_seq": 1,
    }
    catalog = ctx.catalog
    lines = [
        w.line.values(
            {
                "line_no": i,
                "sku_id": catalog.ids.get(ln.sku_code),
                "sku_code": ln.sku_code,
                "name": ln.name or catalog.names.get(ln.sku_code, ""),
                "quantity": ln.quantity,
                "unit_price": ln.unit_price,
            }
        )
        for i, ln in enumerate(d.lines, start=1)
    ]
    return PreparedOrder(
        key=d.channel_order_no or "",
        row_nos=row_nos,
        fingerprint=fingerprint,
        draft=d if ctx.keep_drafts else None,
        dup_key=dup_key(d),
        ordered_at=ordered_at,
        number=order_number(ordered_at or now),
        holds=holds,
        draft_holds=len({r for r, _d in d.holds}),
        order_values=w.order.values(order),
        line_values=lines,
        hold_values=hold_values(ctx, holds, now),
        log_values=log_values,
        hash_parts=parts,
    )


def hold_values(ctx: PrepareContext, holds: list[tuple[str, str]], now: datetime) -> list[list[Any]]:
    hold = ctx.writers.hold
    return [
        hold.values({"reason": str(r), "detail": dt[:255], "created_by_id": ctx.actor_id, "created_at": now})
        for r, dt in holds
    ]


def log_entry(ctx: PrepareContext, holds: list[tuple[str, str]], now: datetime) -> dict[str, Any]:
    """The fields of a new order's first log entry (all but the order id and the hash)."""
    return _entry(ctx.batch_id, ctx.channel.code, ctx.actor_id, ctx.actor_name, [r for r, _d in holds], now)


def _entry(
    batch_id: int,
    channel_code: str,
    actor_id: int | None,
    actor_name: str,
    reasons: list[str],
    now: datetime,
) -> dict[str, Any]:
    return {
        "seq": 1,
        "action": LogAction.CREATE.value,
        "transition": "",
        "from_status": "",
        "to_status": OrderStatus.PENDING_REVIEW.value,
        "actor_id": actor_id,
        "actor_name": actor_name,
        "automatic": False,
        "reason": "",
        "details": {"batch": batch_id, "channel": channel_code, "holds": reasons},
        "at": now,
        "prev_hash": GENESIS,
    }


def _log_template(
    ctx: PrepareContext, holds: list[tuple[str, str]], now: datetime
) -> tuple[list[Any], tuple[str, str]]:
    """The first log entry's column values and hash text: within a chunk they differ only by the
    holds (and the order id, filled in by the writer), so they are built once per set of holds."""
    values, parts = _log_cached(
        ctx.writers,
        ctx.batch_id,
        ctx.channel.code,
        ctx.actor_id,
        ctx.actor_name,
        tuple(r for r, _d in holds),
        now,
    )
    return list(values), parts


@lru_cache(maxsize=256)
def _log_cached(
    w: Writers,
    batch_id: int,
    channel_code: str,
    actor_id: int | None,
    actor_name: str,
    reasons: tuple[str, ...],
    now: datetime,
) -> tuple[tuple[Any, ...], tuple[str, str]]:
    entry = _entry(batch_id, channel_code, actor_id, actor_name, list(reasons), now)
    return tuple(w.log.values(entry)), entry_hash_parts(entry)


def order_number(at: datetime) -> str:
    """A fresh order number, as `orders.services.create.new_order_no` makes them (without its
    per-call time-zone lookup and formatting, most of its cost)."""
    return f"{_number_prefix(at)}{secrets.randbelow(10**8):08d}"


@lru_cache(maxsize=4096)
def _number_prefix(at: datetime) -> str:
    return f"OH{at.astimezone(timezone.get_default_timezone()):%y%m%d}"


def snapshot(d: OrderDraft, fingerprint: str, batch_id: int | None, row_nos: list[int]) -> dict[str, Any]:
    """The order as the channel sent it: its lines, plus what re-imports compare against."""
    return {
        "lines": [
            {
                "sku_code": ln.sku_code,
                "quantity": ln.quantity,
                "unit_price": str(ln.unit_price),
                "name": ln.name,
                **({"sub_order_no": ln.sub_order_no} if ln.sub_order_no else {}),
            }
            for ln in d.lines
        ],
        "fingerprint": fingerprint,
        "batch": batch_id,
        "rows": row_nos[:50],
    }
