"""Automatic review (自动审单): an ordered, configurable rule set approves or holds an order.

Each rule is a function in a registry returning a verdict with the inputs it looked at; the
verdicts are stored (ReviewRun) and put on the order's timeline, so every automatic approval or
hold says which rule decided and why.

The rules read (lines, stock, look-alike orders, open amounts) before the write transaction
opens: SQLite takes its one write lock at BEGIN, so reading inside would keep every other writer
waiting. The version the rules saw is checked under the lock; an order changed in between is
reviewed again. When every rule passes, the open holds are read once, by the approve guard. The
per-order reads are compiled once (core.db.CompiledRows), since building them costs more CPU
than running them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.accounts.services import system_user
from orderhub.core.db import CompiledRows, RowInserter
from orderhub.core.errors import Conflict, InvalidTransition
from orderhub.fulfilment.config import cached
from orderhub.fulfilment.models import BlacklistEntry, ReviewRule, ReviewRun
from orderhub.fulfilment.rows import order_lines, order_locked, order_row, with_customer
from orderhub.inventory.models import Stock
from orderhub.orders.errors import order_not_found
from orderhub.orders.models import HoldReason, Order, OrderLine, PhoneKind, open_holds
from orderhub.orders.services import order_hold, order_hold_release, order_transition
from orderhub.orders.states import OrderStatus


@dataclass
class Verdict:
    rule: str
    name: str
    passed: bool
    hold: str = ""  # HoldReason when not passed
    detail: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The verdict as stored on the review run (a shallow copy: `asdict` deep-copies the inputs)."""
        return {**self.__dict__, "hold": str(self.hold)}


@dataclass
class RuleSpec:
    key: str
    label: str
    hold: str
    fn: Callable[[Order, dict[str, Any]], tuple[bool, str, dict[str, Any]]]
    defaults: dict[str, Any]
    # Holds of this rule are lifted by a later automatic review that passes (stock arrived).
    auto_release: bool = False


RULES: dict[str, RuleSpec] = {}


def review_rule(
    key: str, label: str, hold: str, defaults: dict[str, Any] | None = None, *, auto_release: bool = False
) -> Callable[[Callable], Callable]:
    def wrap(fn: Callable) -> Callable:
        RULES[key] = RuleSpec(key, label, hold, fn, defaults or {}, auto_release)
        return fn

    return wrap


def rule_choices() -> list[tuple[str, str]]:
    return [(k, s.label) for k, s in RULES.items()]


# Available units per SKU of the order, over every active warehouse.
_AVAILABLE = CompiledRows(
    lambda order_id: (
        Stock.objects.filter(
            sku_id__in=OrderLine.objects.filter(order_id=order_id).values("sku_id"), warehouse__active=True
        )
        .values("sku_id")
        .annotate(n=Sum("on_hand") - Sum("reserved"))
        .values_list("sku_id", "n")
    )
)
_REVIEW_RUNS = RowInserter(ReviewRun)


def _lines(order: Order) -> list[tuple[int | None, str, int]]:
    """(sku_id, sku_code, quantity) of the order's lines, read once per review."""
    if "_review_lines" not in order.__dict__:
        order.__dict__["_review_lines"] = order_lines(order.pk)
    return order.__dict__["_review_lines"]


# --- the rules --------------------------------------------------------------------------------

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
VIRTUAL = re.compile(r"^1[3-9]\d{9}[-_#转]\d{1,6}$")


@review_rule(
    "address_complete", "地址完整", HoldReason.INCOMPLETE_ADDRESS, {"require_district": True, "min_detail": 4}
)
def _address(order: Order, p: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    fields = {"province": order.province, "city": order.city, "address_detail": order.address_detail}
    if p.get("require_district", True):
        fields["district"] = order.district
    missing = [k for k, v in fields.items() if not v.strip()]
    short = len(order.address_detail.strip()) < int(p.get("min_detail", 4))
    ok = not missing and not short
    detail = "" if ok else _("缺少：%(m)s") % {"m": "、".join(missing or ["address_detail"])}
    return ok, detail, {"missing": missing, "detail_length": len(order.address_detail.strip())}


@review_rule(
    "phone_valid", "电话有效", HoldReason.INVALID_PHONE, {"allow_masked": True, "allow_virtual": True}
)
def _phone(order: Order, p: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    phone = order.receiver_phone.strip().replace(" ", "")
    inputs = {"phone_kind": order.phone_kind, "phone_tail": phone[-4:]}
    if order.phone_kind == PhoneKind.MASKED:
        return bool(p.get("allow_masked", True)), _("平台打码电话"), inputs
    if order.phone_kind == PhoneKind.VIRTUAL or VIRTUAL.match(phone):
        return bool(p.get("allow_virtual", True)), _("虚拟号"), inputs
    ok = bool(MOBILE.match(phone) or LANDLINE.match(phone))
    return ok, "" if ok else _("电话「%(p)s」格式无效") % {"p": phone or "—"}, inputs


@review_rule("stock_available", "库存充足（全部仓库）", HoldReason.STOCK_CONFLICT, auto_release=True)
def _stock(order: Order, p: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    needs: dict[int, int] = {}
    codes: dict[int, str] = {}
    for sku_id, code, qty in _lines(order):
        if sku_id is None:
            continue  # an unknown SKU is the review's other concern, not a stock shortfall
        needs[sku_id] = needs.get(sku_id, 0) + qty
        codes[sku_id] = code
    avail = dict(_AVAILABLE.rows(order.pk)) if needs else {}
    short = {codes[s]: [q, avail.get(s, 0)] for s, q in needs.items() if avail.get(s, 0) < q}
    text = "；".join(
        _("%(c)s 需 %(q)s，可用 %(a)s") % {"c": c, "q": q, "a": a} for c, (q, a) in short.items()
    )
    return not short, text, {"available": {codes[s]: avail.get(s, 0) for s in needs}, "short": short}


def _decimal(v: Any, default: str) -> Decimal:
    try:
        return Decimal(str(v))
    except (InvalidOperation, ValueError):
        return Decimal(default)


@review_rule("amount_threshold", "大额人工审核", HoldReason.AMOUNT_REVIEW, {"threshold": "20000"})
def _amount(order: Order, p: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    limit = _decimal(p.get("threshold"), "20000")
    ok = order.total_amount <= limit
    detail = "" if ok else _("订单金额 %(a)s 超过 %(l)s") % {"a": order.total_amount, "l": limit}
    return ok, detail, {"total_amount": str(order.total_amount), "threshold": str(limit)}


def _blacklist_entries() -> dict[tuple[str, str], str]:
    """Active entries as {(kind, value): note}, cached per process like the rule tables."""
    return {
        (k, v): n
        for k, v, n in BlacklistEntry.objects.filter(active=True).values_list("kind", "value", "note")
    }


@review_rule("blacklist", "黑名单", HoldReason.BLACKLISTED)
def _blacklist(order: Order, p: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    kind = BlacklistEntry.Kind
    keys = [(kind.PHONE.value, order.receiver_phone.strip())]
    if order.customer_id:
        keys.append((kind.CUSTOMER.value, order.customer.code))
    if order.receiver_name:
        keys.append((kind.RECEIVER.value, order.receiver_name.strip()))
    entries = cached("blacklist", _blacklist_entries)
    hits = [(k, v, entries[(k, v)]) for k, v in keys if (k, v) in entries]
    detail = "；".join(f"{k}:{v}{'（' + n + '）' if n else ''}" for k, v, n in hits)
    return not hits, detail, {"hits": [{"kind": k, "value": v} for k, v, _n in hits]}


@review_rule(
    "remark_keywords",
    "备注关键词",
    HoldReason.REMARK_KEYWORD,
    {"keywords": ["改地址", "加急", "修改地址", "退款", "换货", "发票", "不要发"]},
)
def _remark(order: Order, p: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    found = [k for k in p.get("keywords", []) if k and k in order.remark]
    return not found, _("备注含：%(k)s") % {"k": "、".join(found)} if found else "", {"found": found}


# Other live top-level orders to the same receiver, within the window, sharing a SKU code with
# this order's lines. Only quoted model metadata in the text; every value is a bound parameter.
_DUPLICATES = (
    'SELECT DISTINCT o."order_no" FROM "orders_order" o'
    ' INNER JOIN "orders_orderline" l ON l."order_id" = o."id"'
    ' WHERE o."receiver_phone" = %s AND o."receiver_name" = %s'
    ' AND o."ordered_at" >= %s AND o."ordered_at" <= %s AND o."parent_id" IS NULL'
    ' AND l."sku_code" IN (SELECT m."sku_code" FROM "orders_orderline" m WHERE m."order_id" = %s)'
    ' AND o."id" NOT IN (%s, %s) AND o."status" <> %s'
    ' ORDER BY o."order_no" LIMIT 5'
)


@review_rule("duplicate", "疑似重复", HoldReason.DUPLICATE, {"hours": 24})
def _duplicate(order: Order, p: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    hours = float(p.get("hours", 24))
    if not order.receiver_phone:
        return True, "", {"hours": hours}
    window = timedelta(hours=hours)
    at = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cur:
        cur.execute(
            _DUPLICATES,
            [
                order.receiver_phone,
                order.receiver_name,
                at(order.ordered_at - window),
                at(order.ordered_at + window),
                order.pk,
                order.pk,
                order.parent_id or 0,  # a part is no duplicate of its own parent
                OrderStatus.CANCELLED.value,
            ],
        )
        others = [no for (no,) in cur.fetchall()]
    detail = _("%(h)s 小时内同收货人同商品：%(o)s") % {"h": hours, "o": "、".join(others)} if others else ""
    return not others, detail, {"hours": hours, "matches": others}


@review_rule("credit_limit", "经销商信用额度", HoldReason.CREDIT_LIMIT)
def _credit(order: Order, p: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    c = order.customer
    if c is None or not c.is_dealer or c.credit_limit <= 0:
        return True, "", {"applies": False}
    open_amount = Order.objects.filter(customer=c, parent__isnull=True).exclude(
        status__in=[OrderStatus.COMPLETED, OrderStatus.CANCELLED]
    ).aggregate(s=Sum("total_amount"))["s"] or Decimal(0)
    open_amount = Decimal(open_amount).quantize(Decimal("0.01"))
    ok = open_amount <= c.credit_limit
    detail = (
        "" if ok else _("未结订单合计 %(o)s 超过信用额度 %(l)s") % {"o": open_amount, "l": c.credit_limit}
    )
    return ok, detail, {"open_amount": str(open_amount), "credit_limit": str(c.credit_limit)}


# --- running them -----------------------------------------------------------------------------


def rules_configured() -> list[tuple[str, RuleSpec, dict[str, Any]]]:
    """(name, spec, params) in order: the manager's table, or every built-in rule with defaults."""
    rows = cached("review_rules", lambda: list(ReviewRule.objects.all()))
    if not rows:
        return [(s.label, s, dict(s.defaults)) for s in RULES.values()]
    return [
        (r.name, RULES[r.rule], {**RULES[r.rule].defaults, **(r.params or {})})
        for r in rows
        if r.active and r.rule in RULES
    ]


def order_evaluate(
    order: Order, rules: list[tuple[str, RuleSpec, dict[str, Any]]] | None = None
) -> list[Verdict]:
    out = []
    for name, spec, params in rules if rules is not None else rules_configured():
        ok, detail, inputs = spec.fn(order, params)
        out.append(Verdict(spec.key, name, ok, "" if ok else spec.hold, detail, {**inputs, "params": params}))
    return out


@dataclass
class ReviewOutcome:
    order: Order
    approved: bool
    verdicts: list[Verdict]


_ATTEMPTS = 3


def order_auto_review(
    *, order_id: int, actor: User | None = None, now: datetime | None = None
) -> ReviewOutcome:
    """Run every review rule on an order in 待审核: approve it (→ 已拆单) or hold it with reasons.

    `actor` is the system account (pass it to save a lookup per order in a batch). The rules
    read before the write transaction; if the order changes in between, it is reviewed again.
    """
    now = now or timezone.now()
    actor = actor or system_user()
    for attempt in range(_ATTEMPTS):
        seen = order_row(order_id)
        if seen is None:
            raise order_not_found(order_id)
        if seen.status != OrderStatus.PENDING_REVIEW:
            raise InvalidTransition(_("订单 %(no)s 不在待审核") % {"no": seen.order_no}, field="status")
        verdicts = order_evaluate(with_customer(seen))
        try:
            if all(v.passed for v in verdicts):
                try:
                    return _review_approve(seen, verdicts, actor, now)
                except InvalidTransition as e:
                    if e.code != "guard_failed":
                        raise
                    # The approve guard found open holds: release what this review may, or stay held.
            return _review_record(seen, verdicts, open_holds(seen.pk), actor, now)
        except Conflict as e:
            if e.code != "version_conflict" or attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _approve_move(verdicts: list[Verdict], actor: User, now: datetime) -> dict[str, Any]:
    return {
        "to": OrderStatus.SPLIT,
        "actor": actor,
        "automatic": True,
        "reason": _("自动审单通过（%(n)s 条规则）") % {"n": len(verdicts)},
        "details": {
            "review": [{"rule": v.rule, "name": v.name, "passed": True, "inputs": v.inputs} for v in verdicts]
        },
        "now": now,
    }


def _review_approve(seen: Order, verdicts: list[Verdict], actor: User, now: datetime) -> ReviewOutcome:
    """Every rule passed: approve the order, as the rules `seen` it, and record the run.

    The common case, with the holds read once: by the transition's guard, which refuses an order
    with open holds (InvalidTransition, guard_failed). The transition also checks, under its
    lock, that the order is still the version the rules saw (Conflict, version_conflict).
    """
    results = [v.as_dict() for v in verdicts]
    with transaction.atomic():
        moved = order_transition(
            order_id=seen.pk, expected_version=seen.version, **_approve_move(verdicts, actor, now)
        )
        _REVIEW_RUNS.insert(order_id=seen.pk, at=now, outcome=ReviewRun.Outcome.APPROVED, results=results)
    return ReviewOutcome(moved, True, verdicts)


def _review_record(
    seen: Order, verdicts: list[Verdict], open_holds: list[tuple[int, str]], actor: User, now: datetime
) -> ReviewOutcome:
    """Write the review of an order with failed rules or open holds, as the rules `seen` it.

    Raises Conflict (version_conflict) when the order changed since; nothing is written then.
    """
    failed = [v for v in verdicts if not v.passed]
    releasable = {RULES[v.rule].hold for v in verdicts if v.passed and RULES[v.rule].auto_release}
    release = [hold_id for hold_id, reason in open_holds if reason in releasable]
    approve = not failed and len(release) == len(open_holds)
    if approve and not release:
        return _review_approve(seen, verdicts, actor, now)
    with transaction.atomic():
        order = order_locked(seen.pk)
        if order.version != seen.version:
            raise Conflict(_("订单已被他人修改，请刷新后重试"), code="version_conflict")
        for hold_id in release:
            order_hold_release(
                order_id=order.pk, hold_id=hold_id, actor=actor, resolution=_("自动审单复核通过"), now=now
            )
        # The run records the rules' verdict; an open hold of a person's keeps the order held.
        outcome = ReviewRun.Outcome.HELD if failed else ReviewRun.Outcome.APPROVED
        _REVIEW_RUNS.insert(
            order_id=order.pk, at=now, outcome=outcome, results=[v.as_dict() for v in verdicts]
        )
        for v in failed:
            order_hold(
                order_id=order.pk, reason=v.hold, actor=actor, detail=f"[{v.name}] {v.detail}"[:255], now=now
            )
        if not approve:
            return ReviewOutcome(order_row(order.pk) or order, False, verdicts)
        moved = order_transition(order_id=order.pk, **_approve_move(verdicts, actor, now))
        return ReviewOutcome(moved, True, verdicts)


@dataclass
class DryRunRow:
    order_id: int
    order_no: str
    ordered_at: datetime
    detail: str
    inputs: dict[str, Any]


def review_rule_dry_run(
    *,
    rule: str,
    params: dict[str, Any] | None = None,
    days: int = 7,
    now: datetime | None = None,
    limit: int = 500,
) -> tuple[int, list[DryRunRow]]:
    """Which of the last `days` days' orders this rule would have held. Returns (checked, held)."""
    now = now or timezone.now()
    spec = RULES[rule]
    rules = [(spec.label, spec, {**spec.defaults, **(params or {})})]
    orders = (
        Order.objects.filter(ordered_at__gte=now - timedelta(days=days), parent__isnull=True)
        .select_related("customer")
        .order_by("-ordered_at")[:limit]
    )
    checked, held = 0, []
    for order in orders:
        checked += 1
        v = order_evaluate(order, rules)[0]
        if not v.passed:
            held.append(DryRunRow(order.pk, order.order_no, order.ordered_at, v.detail, v.inputs))
    return checked, held
