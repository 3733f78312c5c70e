"""Creating orders: the one entry point used by the API, importers and the demo."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import LegalEntity, User
from orderhub.catalog.models import Customer, CustomerTier, Sku
from orderhub.core.db import CompiledRows, RowInserter, RowLoader, RowUpdater
from orderhub.core.errors import NotFound, ValidationFailed
from orderhub.ingest.models import Channel
from orderhub.orders.audit import log_append
from orderhub.orders.models import HoldReason, LogAction, Order, OrderHold, OrderLine, PhoneKind
from orderhub.orders.states import OrderStatus


@dataclass
class LineDraft:
    sku_code: str
    quantity: int
    unit_price: Decimal = Decimal("0")
    name: str = ""
    # The channel's id of this line (子订单号; 1688's sourceEntryId), kept in the order's
    # snapshot for reporting the shipment back line by line.
    sub_order_no: str = ""


@dataclass
class OrderDraft:
    """A validated, typed order as received from any channel."""

    channel_code: str
    lines: list[LineDraft]
    ordered_at: datetime | None = None
    channel_order_no: str | None = None
    customer_code: str | None = None
    customer_tier: str | None = None
    receiver_name: str = ""
    receiver_phone: str = ""
    phone_kind: str = PhoneKind.NORMAL
    province: str = ""
    province_code: str = ""
    city: str = ""
    city_code: str = ""
    district: str = ""
    district_code: str = ""
    address_detail: str = ""
    shipping_fee: Decimal = Decimal("0")
    remark: str = ""
    promised_at: datetime | None = None
    priority: int = 0
    owner_username: str | None = None
    selling_entity_code: str | None = None
    invoicing_entity_code: str | None = None
    holds: list[tuple[str, str]] = field(default_factory=list)
    raw: dict[str, Any] | None = None


ORDER_NO_ATTEMPTS = 5


def new_order_no(at: datetime) -> str:
    return f"OH{timezone.localtime(at):%y%m%d}{secrets.randbelow(10**8):08d}"


def _unknown(label: str, code: str, field_name: str) -> NotFound:
    return NotFound(_("%(label)s「%(code)s」不存在") % {"label": label, "code": code}, field=field_name)


def _resolve(model: Any, code: str | None, label: str, field_name: str) -> Any:
    if not code:
        return None
    try:
        return model.objects.get(code=code)
    except model.DoesNotExist:
        raise _unknown(label, code, field_name) from None


def _basic_holds(draft: OrderDraft, skus: dict[str, Sku]) -> list[tuple[str, str]]:
    """Problems that keep an order in 待审核 without refusing it (nothing received is lost)."""
    holds = list(draft.holds)
    unknown = sorted({ln.sku_code for ln in draft.lines if ln.sku_code not in skus})
    if unknown:
        holds.append((HoldReason.UNKNOWN_SKU, "、".join(unknown)[:255]))
    bad = [ln.sku_code for ln in draft.lines if ln.quantity <= 0]
    if bad:
        holds.append((HoldReason.BAD_QUANTITY, "、".join(bad)[:255]))
    if not (draft.province and draft.city and draft.address_detail):
        holds.append((HoldReason.INCOMPLETE_ADDRESS, _("省/市/详细地址缺失")))
    seen: set[str] = set()
    return [(r, d) for r, d in holds if not (r in seen or seen.add(r))]


# The look-ups of every order creation, compiled once (their compilation cost more than running
# them): the channel by code, an order already made for the channel order number, the customer.
_CHANNEL_ID = CompiledRows(lambda code: Channel.objects.filter(code=code).values_list("pk"), keys=(str,))
_EXISTING = CompiledRows(
    lambda channel_id, no: Order.objects.filter(channel_id=channel_id, channel_order_no=no).values_list("pk"),
    keys=(int, str),
)
_CUSTOMER = CompiledRows(
    lambda code: Customer.objects.filter(code=code).values_list("pk", "tier", "owner_id"), keys=(str,)
)
_ORDERS = RowLoader(Order)
_ORDER_ROWS = RowInserter(Order)
_ORDER_ATTNAMES = [f.attname for f in Order._meta.concrete_fields if not f.primary_key]
_LINE_ROWS = RowInserter(OrderLine)
_HEAD = RowUpdater(Order, ("log_seq", "log_head"))


@dataclass(frozen=True)
class _Customer:
    pk: int
    tier: str
    owner_id: int | None


def _existing(channel_id: int, channel_order_no: str | None) -> Order | None:
    if not channel_order_no:
        return None
    found = _EXISTING.rows(channel_id, channel_order_no)
    return _ORDERS.get(found[0][0]) if found else None


def order_create(*, draft: OrderDraft, actor: User, now: datetime | None = None) -> tuple[Order, bool]:
    """Create an order in 待审核, or return the existing one for the same channel order number.

    Returns (order, created). Unknown SKUs, bad quantities and incomplete addresses become holds.
    """
    now = now or timezone.now()
    if not draft.lines:
        raise ValidationFailed(_("订单至少需要一行商品"), field="lines")
    found = _CHANNEL_ID.rows(draft.channel_code)
    if not found:
        raise NotFound(_("渠道「%(code)s」不存在") % {"code": draft.channel_code}, field="channel")
    channel_id = found[0][0]
    existing = _existing(channel_id, draft.channel_order_no)
    if existing:
        return existing, False
    customer = None
    if draft.customer_code:
        rows = _CUSTOMER.rows(draft.customer_code)
        if not rows:
            raise _unknown(_("客户"), draft.customer_code, "customer_code")
        customer = _Customer(*rows[0])
    owner_id = None
    if draft.owner_username:
        owner_id = User.objects.filter(username=draft.owner_username).values_list("pk", flat=True).first()
        if owner_id is None:
            raise NotFound(_("销售「%(u)s」不存在") % {"u": draft.owner_username}, field="owner")
    elif customer is not None:
        owner_id = customer.owner_id  # the id is enough: no need to read the salesperson
    skus = {s.code: s for s in Sku.objects.filter(code__in={ln.sku_code for ln in draft.lines})}
    for attempt in range(ORDER_NO_ATTEMPTS):
        try:
            with transaction.atomic():
                return _insert(draft, actor, now, channel_id, customer, owner_id, skus), True
        except IntegrityError:
            # A concurrent request created the same channel order first: return that one.
            existing = _existing(channel_id, draft.channel_order_no)
            if existing:
                return existing, False
            # Otherwise the random order number was taken (about 50 a day at 100,000 orders a
            # day): draw another one.
            if attempt == ORDER_NO_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _insert(
    draft: OrderDraft,
    actor: User,
    now: datetime,
    channel_id: int,
    customer: _Customer | None,
    owner_id: int | None,
    skus: dict[str, Sku],
) -> Order:
    goods = sum((ln.unit_price * ln.quantity for ln in draft.lines), Decimal("0"))
    tier = draft.customer_tier or (customer.tier if customer else CustomerTier.C)
    ordered_at = draft.ordered_at or now
    order = Order(
        order_no=new_order_no(ordered_at),
        channel_id=channel_id,
        channel_order_no=draft.channel_order_no or None,
        ordered_at=ordered_at,
        customer_id=customer.pk if customer else None,
        customer_tier=tier,
        status=OrderStatus.PENDING_REVIEW,
        last_operator=actor,
        updated_at=now,
        status_changed_at=now,
        receiver_name=draft.receiver_name,
        receiver_phone=draft.receiver_phone,
        phone_kind=draft.phone_kind,
        province=draft.province,
        province_code=draft.province_code,
        city=draft.city,
        city_code=draft.city_code,
        district=draft.district,
        district_code=draft.district_code,
        address_detail=draft.address_detail,
        goods_amount=goods,
        shipping_fee=draft.shipping_fee,
        total_amount=goods + draft.shipping_fee,
        remark=draft.remark,
        promised_at=draft.promised_at,
        priority=draft.priority,
        owner_id=owner_id,
        selling_entity=_resolve(LegalEntity, draft.selling_entity_code, _("销售主体"), "selling_entity"),
        invoicing_entity=_resolve(
            LegalEntity, draft.invoicing_entity_code, _("开票主体"), "invoicing_entity"
        ),
        lines_snapshot=draft.raw
        if draft.raw is not None
        else [
            {
                "sku_code": ln.sku_code,
                "quantity": ln.quantity,
                "unit_price": str(ln.unit_price),
                "name": ln.name,
                **({"sub_order_no": ln.sub_order_no} if ln.sub_order_no else {}),
            }
            for ln in draft.lines
        ],
    )
    # INSERTs built once (save() and bulk_create() build theirs on every order).
    order.created_at = timezone.now()  # auto_now_add, as save() sets it
    order.pk = _ORDER_ROWS.insert(**{name: getattr(order, name) for name in _ORDER_ATTNAMES})
    order._state.adding = False
    _LINE_ROWS.insert_many(
        [
            {
                "order_id": order.pk,
                "line_no": i,
                "sku_id": skus[ln.sku_code].pk if ln.sku_code in skus else None,
                "sku_code": ln.sku_code,
                "name": ln.name or (skus[ln.sku_code].name if ln.sku_code in skus else ""),
                "quantity": ln.quantity,
                "unit_price": ln.unit_price,
            }
            for i, ln in enumerate(draft.lines, start=1)
        ]
    )
    holds = _basic_holds(draft, skus)
    OrderHold.objects.bulk_create(
        OrderHold(order=order, reason=r, detail=d[:255], created_by=actor) for r, d in holds
    )
    log_append(
        order=order,
        action=LogAction.CREATE,
        actor=actor,
        at=now,
        to_status=OrderStatus.PENDING_REVIEW,
        details={"channel": draft.channel_code, "holds": [r for r, _d in holds]},
    )
    _HEAD.update({"id": order.pk}, log_seq=order.log_seq, log_head=order.log_head)
    if holds:
        from orderhub.notify.services import notify_for_hold

        notify_for_hold(order, [r for r, _d in holds])
    return order
