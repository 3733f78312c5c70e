"""Request and response shapes of the orders API, and how orders are turned into them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import prefetch_related_objects
from django.utils import timezone
from ninja import Schema
from pydantic import AfterValidator, Field, model_validator

from orderhub.accounts.models import User
from orderhub.catalog.models import CustomerTier
from orderhub.core.schemas import ErrorOut
from orderhub.orders.models import HoldReason, Order, OrderHold
from orderhub.orders.permissions import allowed_transitions
from orderhub.orders.selectors import OrderFilters, OrderPage, TimelineEvent
from orderhub.orders.services import LineDraft, OrderDraft, TransitionBatch
from orderhub.orders.states import OrderStatus

# --- input types ------------------------------------------------------------------------------

# Largest amount the order's money columns hold (14 digits, 2 after the point).
MAX_AMOUNT = Decimal("999999999999.99")
MAX_QUANTITY = 1_000_000
MAX_LINES = 500
MAX_VERSION = 2**31 - 1


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; refuse it here with a 422 rather than a 500 later.
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\x00) characters")
    return value


def _aware_in_range(value: datetime) -> datetime:
    """Naive times are Beijing time (Asia/Shanghai), as Chinese channels send them."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if not 1900 <= value.year <= 2999:
        raise ValueError("year must be between 1900 and 2999")
    return value


_NoNul = AfterValidator(_no_nul)
# Strings sized like the columns they land in.
Str6 = Annotated[str, Field(max_length=6), _NoNul]
Str32 = Annotated[str, Field(max_length=32), _NoNul]
Str64 = Annotated[str, Field(max_length=64), _NoNul]
Str128 = Annotated[str, Field(max_length=128), _NoNul]
Str150 = Annotated[str, Field(max_length=150), _NoNul]
Str200 = Annotated[str, Field(max_length=200), _NoNul]
Str255 = Annotated[str, Field(max_length=255), _NoNul]
Str2000 = Annotated[str, Field(max_length=2000), _NoNul]
Code32 = Annotated[str, Field(min_length=1, max_length=32), _NoNul]
Code64 = Annotated[str, Field(min_length=1, max_length=64), _NoNul]
ApiDatetime = Annotated[datetime, AfterValidator(_aware_in_range)]


class LineIn(Schema):
    sku_code: Code64 = Field(description="商家编码 (merchant SKU code)")
    quantity: int = Field(
        ge=-MAX_QUANTITY,
        le=MAX_QUANTITY,
        description="Quantity; zero or less is kept but holds the order (数量错误).",
    )
    unit_price: Decimal = Field(
        default=Decimal("0"), ge=0, max_digits=12, decimal_places=2, description="单价 (CNY)"
    )
    name: Str128 = ""
    sub_order_no: Str64 = Field(
        default="",
        description="渠道子订单号 (the channel's line id, e.g. 1688 sourceEntryId), for reporting back",
    )


class OrderIn(Schema):
    """An order as a channel or integration sends it. Unknown SKUs, bad quantities and an
    incomplete address do not refuse the order: they keep it in 待审核 with a hold."""

    channel: Code32 = Field(description="Channel code, e.g. `pdd`, `manual`.")
    channel_order_no: Str64 | None = Field(
        default=None, description="The channel's own order number; unique per channel."
    )
    ordered_at: ApiDatetime | None = Field(
        default=None, description="When the buyer ordered; naive times are Asia/Shanghai."
    )
    customer_code: Str64 | None = None
    receiver_name: Str64 = ""
    receiver_phone: Str32 = ""
    province: Str32 = ""
    province_code: Str6 = ""
    city: Str32 = ""
    city_code: Str6 = ""
    district: Str32 = ""
    district_code: Str6 = ""
    address_detail: Str255 = ""
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    remark: Str2000 = ""
    promised_at: ApiDatetime | None = None
    owner: Str150 | None = Field(default=None, description="Username of the salesperson.")

    @model_validator(mode="after")
    def _amount_fits(self) -> OrderIn:
        total = sum((ln.unit_price * ln.quantity for ln in self.lines), Decimal("0"))
        if abs(total) > MAX_AMOUNT:
            raise ValueError(f"order amount must not exceed {MAX_AMOUNT}")
        return self

    def to_draft(self) -> OrderDraft:
        return OrderDraft(
            channel_code=self.channel,
            channel_order_no=self.channel_order_no or None,
            ordered_at=self.ordered_at,
            customer_code=self.customer_code or None,
            receiver_name=self.receiver_name,
            receiver_phone=self.receiver_phone,
            province=self.province,
            province_code=self.province_code,
            city=self.city,
            city_code=self.city_code,
            district=self.district,
            district_code=self.district_code,
            address_detail=self.address_detail,
            lines=[
                LineDraft(ln.sku_code, ln.quantity, ln.unit_price, ln.name, ln.sub_order_no)
                for ln in self.lines
            ],
            remark=self.remark,
            promised_at=self.promised_at,
            owner_username=self.owner or None,
        )


class TransitionIn(Schema):
    to: OrderStatus = Field(description="Target state, e.g. `split`; see `allowed_transitions`.")
    expected_version: int = Field(
        ge=1, le=MAX_VERSION, description="The `version` you last read; a stale one gets 409."
    )
    reason: Str2000 = Field(
        default="", description="Required for rejections (驳回), cancellations and closing."
    )


MAX_BULK_TRANSITIONS = 200
MAX_ORDER_ID = 2**63 - 1  # the largest primary key the databases store


class BulkTransitionItem(Schema):
    id: int = Field(ge=1, le=MAX_ORDER_ID)
    expected_version: int = Field(
        ge=1, le=MAX_VERSION, description="The `version` you last read; a stale one is refused."
    )


class BulkTransitionIn(Schema):
    to: OrderStatus = Field(description="Target state for every listed order.")
    orders: list[BulkTransitionItem] = Field(min_length=1, max_length=MAX_BULK_TRANSITIONS)
    reason: Str2000 = Field(
        default="", description="Required for rejections (驳回), cancellations and closing."
    )


class BulkMovedOut(Schema):
    id: int
    order_no: str
    status: OrderStatus
    version: int


class BulkRefusedOut(Schema):
    id: int
    error: ErrorOut


class BulkTransitionOut(Schema):
    moved: list[BulkMovedOut]
    refused: list[BulkRefusedOut]


def bulk_transition_out(batch: TransitionBatch) -> BulkTransitionOut:
    return BulkTransitionOut(
        moved=[
            BulkMovedOut(id=o.pk, order_no=o.order_no, status=OrderStatus(o.status), version=o.version)
            for o in batch.moved
        ],
        refused=[
            BulkRefusedOut(id=order_id, error=ErrorOut(**exc.as_dict())) for order_id, exc in batch.refused
        ],
    )


class OrderListQuery(Schema):
    status: list[OrderStatus] = Field(default_factory=list, description="Repeatable.")
    channel: list[Str32] = Field(default_factory=list, description="Channel codes; repeatable.")
    customer_tier: list[CustomerTier] = Field(default_factory=list, description="Repeatable.")
    owner: Str150 | None = Field(default=None, description="Username, or `me`.")
    ordered_from: ApiDatetime | None = Field(default=None, description="Inclusive.")
    ordered_to: ApiDatetime | None = Field(default=None, description="Exclusive.")
    cursor: Str200 | None = Field(default=None, description="`next_cursor` of the last page.")
    limit: int = Field(default=50, ge=1, le=200)

    def to_filters(self) -> OrderFilters:
        return OrderFilters(
            status=[str(s) for s in self.status],
            channel=list(self.channel),
            customer_tier=[str(t) for t in self.customer_tier],
            owner=self.owner or None,
            ordered_from=self.ordered_from,
            ordered_to=self.ordered_to,
        )


# --- output types -----------------------------------------------------------------------------

# Times are answered in Beijing time (+08:00) whether the order was just created or read back.
LocalDatetime = Annotated[datetime, AfterValidator(timezone.localtime)]


class StatusOut(Schema):
    code: str = Field(examples=["pending_review"])
    label: str = Field(examples=["待审核"])


class ChannelOut(Schema):
    code: str
    name: str


class UserRefOut(Schema):
    username: str
    display_name: str


class CustomerOut(Schema):
    code: str
    name: str


class LineOut(Schema):
    line_no: int
    sku_code: str
    name: str
    quantity: int
    unit_price: Decimal


class HoldOut(Schema):
    id: int
    reason: str = Field(examples=["unknown_sku"])
    label: str = Field(examples=["未知商品"])
    detail: str
    created_at: LocalDatetime


class TransitionOptionOut(Schema):
    to: str = Field(examples=["split"])
    to_label: str = Field(examples=["已拆单"])
    name: str = Field(examples=["approve"])
    label: str = Field(examples=["审核通过"])
    requires_reason: bool


class OrderSummaryOut(Schema):
    id: int
    order_no: str
    channel: ChannelOut
    channel_order_no: str | None
    ordered_at: LocalDatetime
    customer_tier: str
    status: StatusOut
    version: int
    owner: UserRefOut | None
    total_amount: Decimal
    updated_at: LocalDatetime
    lines: list[LineOut]
    holds: list[HoldOut] = Field(description="Open holds (拦截) keeping the order in 待审核.")


class OrderOut(OrderSummaryOut):
    customer: CustomerOut | None
    receiver_name: str
    receiver_phone: str
    phone_kind: str
    province: str
    province_code: str
    city: str
    city_code: str
    district: str
    district_code: str
    address_detail: str
    goods_amount: Decimal
    shipping_fee: Decimal
    remark: str
    promised_at: LocalDatetime | None
    status_changed_at: LocalDatetime
    last_operator: UserRefOut | None
    created_at: LocalDatetime
    allowed_transitions: list[TransitionOptionOut] = Field(
        description="Moves you may make now (your role, your scope, the guards)."
    )


class OrderPageOut(Schema):
    items: list[OrderSummaryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")


class TimelineEventOut(Schema):
    at: LocalDatetime
    kind: str = Field(examples=["transition"])
    title: str
    actor: str
    automatic: bool
    from_status: StatusOut | None
    to_status: StatusOut | None
    reason: str
    details: dict[str, Any]


class TimelineOut(Schema):
    order_id: int
    order_no: str
    status: StatusOut
    events: list[TimelineEventOut]


# --- shaping ----------------------------------------------------------------------------------


_CENT = Decimal("0.01")


def _money(amount: Decimal) -> Decimal:
    # Freshly created orders carry computed amounts ("0", "1760"): answer like the database does.
    return Decimal(amount).quantize(_CENT)


def _status(code: str) -> StatusOut | None:
    if not code:
        return None
    label = OrderStatus(code).label if code in OrderStatus.values else code
    return StatusOut(code=code, label=str(label))


def _user(user: User | None) -> UserRefOut | None:
    if user is None:
        return None
    return UserRefOut(username=user.username, display_name=str(user))


def _open_holds(order: Order) -> list[HoldOut]:
    holds: list[OrderHold] = [h for h in order.holds.all() if h.resolved_at is None]
    return [
        HoldOut(
            id=h.pk,
            reason=h.reason,
            label=str(HoldReason(h.reason).label) if h.reason in HoldReason.values else h.reason,
            detail=h.detail,
            created_at=h.created_at,
        )
        for h in holds
    ]


def _summary_fields(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "order_no": order.order_no,
        "channel": ChannelOut(code=order.channel.code, name=order.channel.name),
        "channel_order_no": order.channel_order_no,
        "ordered_at": order.ordered_at,
        "customer_tier": order.customer_tier,
        "status": _status(order.status),
        "version": order.version,
        "owner": _user(order.owner),
        "total_amount": _money(order.total_amount),
        "updated_at": order.updated_at,
        "lines": [
            LineOut(
                line_no=ln.line_no,
                sku_code=ln.sku_code,
                name=ln.name,
                quantity=ln.quantity,
                unit_price=_money(ln.unit_price),
            )
            for ln in order.lines.all()
        ],
        "holds": _open_holds(order),
    }


def order_summary_out(order: Order) -> OrderSummaryOut:
    return OrderSummaryOut(**_summary_fields(order))


def order_page_out(page: OrderPage) -> OrderPageOut:
    return OrderPageOut(items=[order_summary_out(o) for o in page.items], next_cursor=page.next_cursor)


def order_out(order: Order, *, actor: User) -> OrderOut:
    """The full order card as `actor` sees it; lines and holds are fetched if not prefetched."""
    prefetch_related_objects([order], "lines", "holds")
    customer = order.customer
    return OrderOut(
        **_summary_fields(order),
        customer=CustomerOut(code=customer.code, name=customer.name) if customer else None,
        receiver_name=order.receiver_name,
        receiver_phone=order.receiver_phone,
        phone_kind=order.phone_kind,
        province=order.province,
        province_code=order.province_code,
        city=order.city,
        city_code=order.city_code,
        district=order.district,
        district_code=order.district_code,
        address_detail=order.address_detail,
        goods_amount=_money(order.goods_amount),
        shipping_fee=_money(order.shipping_fee),
        remark=order.remark,
        promised_at=order.promised_at,
        status_changed_at=order.status_changed_at,
        last_operator=_user(order.last_operator),
        created_at=order.created_at,
        allowed_transitions=[
            TransitionOptionOut(
                to=t.target,
                to_label=str(OrderStatus(t.target).label),
                name=t.name,
                label=str(t.label),
                requires_reason=t.requires_reason,
            )
            for t in allowed_transitions(actor, order)
        ],
    )


def timeline_out(order: Order, events: list[TimelineEvent]) -> TimelineOut:
    return TimelineOut(
        order_id=order.pk,
        order_no=order.order_no,
        status=_status(order.status),
        events=[
            TimelineEventOut(
                at=e.at,
                kind=e.kind,
                title=str(e.title),
                actor=str(e.actor),
                automatic=e.automatic,
                from_status=_status(e.from_status),
                to_status=_status(e.to_status),
                reason=e.reason,
                details=e.details,
            )
            for e in events
        ],
    )
