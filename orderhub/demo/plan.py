"""Planning the demo's order history: who ordered what, when, and how each order moved on.

Planning is pure (a random.Random and the master data in, plans out) so that a seed always gives
the same history; `replay.py` then applies the plans through the order services.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from orderhub.accounts.models import User
from orderhub.catalog.models import Customer, CustomerTier
from orderhub.demo import company, names, regions
from orderhub.demo.masterdata import MasterData, SkuInfo
from orderhub.orders.models import HoldReason, PhoneKind
from orderhub.orders.services import LineDraft, OrderDraft
from orderhub.orders.states import OrderStatus

S = OrderStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYS = 90
RETAIL_SHARE = 0.35
# Promised delivery (承诺送达) and dealer price (list price × discount) by customer tier.
PROMISE_HOURS: dict[str, int] = {"vip": 48, "a": 72, "b": 96, "c": 120}
DISCOUNT: dict[str, str] = {"vip": "0.82", "a": "0.88", "b": "0.93", "c": "1"}
# A few orders are planned to end in a given state, so every board column has a card (and an
# interception of each kind is on show) whatever the size of the demo.
ADDRESS_HOLD = "pending_review:incomplete_address"
SHOWCASE: tuple[str, ...] = (
    S.PENDING_REVIEW,
    ADDRESS_HOLD,
    S.SPLIT,
    S.ALLOCATING,
    S.LABEL_PRINTED,
    S.SHIPPED,
    S.EXCEPTION,
    S.COMPLETED,
    S.CANCELLED,
)

DEALER_REMARKS = (
    "周五前必须到货",
    "开增值税专用发票",
    "发德邦物流",
    "和上次一样包装",
    "急用，请优先发货",
    "货到付款",
    "请附合格证",
    "月底对账",
    "送到店里，电话联系老板",
)
RETAIL_REMARKS = ("请尽快发货", "不要放快递柜", "送货上门", "发顺丰，运费补差价", "要发票")
CANCEL_REASONS = (
    "客户取消",
    "重复下单",
    "客户改买其他型号",
    "缺货无法按期发货，客户同意取消",
    "价格有误，重新下单",
    "买家申请退款（平台）",
)
REJECT_SPLIT_REASONS = ("客户要求修改收货地址", "价格有误，退回重审", "客户追加商品，重新审核")
VOID_REASONS = ("面单打印不清晰，作废重打", "超大件改走德邦快运", "客户要求改发顺丰", "面单信息有误")
EXCEPTION_REASONS = (
    "快递公司反馈：地址不详",
    "快递公司反馈：外包装破损",
    "派件异常：收件人电话无人接听",
    "快递公司反馈：收件人拒收",
    "中转滞留",
)
CLOSE_REASONS = ("客户已签收，轨迹未同步", "丢件已理赔，补发新单", "拒收退回，已入库", "破损已理赔")
HOLD_STUCK = (
    (HoldReason.CREDIT_LIMIT, "超出信用额度，待财务确认", "财务确认已回款，放行"),
    (HoldReason.REMARK_KEYWORD, "备注含「改地址」，需联系客户", "已电话确认地址无误"),
    (HoldReason.DUPLICATE, "与 3 分钟前同客户同商品订单疑似重复", "确认重复"),
    (HoldReason.AMOUNT_REVIEW, "订单金额超过 5 万元，需主管审核", "主管已审核"),
)
HOLD_SHORT = (
    (HoldReason.AMOUNT_REVIEW, "订单金额异常，需人工审核", "已核对价格无误"),
    (HoldReason.STOCK_CONFLICT, "多单同时抢占同一库存", "已协调库存"),
    (HoldReason.REMARK_KEYWORD, "备注需处理：要求指定物流", "已按备注安排"),
)


@dataclass
class Step:
    at: datetime
    kind: str  # "hold" | "release" | "move"
    actor: User
    to: str = ""
    reason: str = ""
    details: dict[str, Any] | None = None
    automatic: bool = False
    hold: str = ""


@dataclass
class OrderPlan:
    index: int
    draft: OrderDraft
    creator: User
    created_at: datetime
    steps: list[Step] = field(default_factory=list)
    # warehouse code of the last allocation, if the order was ever allocated
    warehouse: str | None = None
    stuck_hold: tuple[str, str] | None = None
    final: str = S.PENDING_REVIEW
    order_id: int | None = None
    hold_id: int | None = None


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def dwell_hours(rng: random.Random, median: float, spread: float = 0.6) -> timedelta:
    """A log-normal dwell time: most near the median, a long tail of slow ones."""
    return timedelta(hours=median * math.exp(rng.gauss(0, spread)))


class Planner:
    def __init__(self, rng: random.Random, md: MasterData, now: datetime) -> None:
        self.rng = rng
        self.md = md
        self.now = now
        self.cs = md.staff("cs1", "cs2", "cs3")
        self.logistics = md.staff("logistics1", "logistics2")
        self.contacts = {c.code: names.person_name(rng) for c in md.customers}
        self.user_by_id = {u.pk: u for u in md.users.values()}
        self.used_nos: set[str] = set()
        self.daily_seq: dict[tuple[str, str], int] = {}

    # --- time ---------------------------------------------------------------------------------

    def work(self, t: datetime) -> datetime:
        """People act between 08:30 and 21:00 Shanghai time; later work waits for the morning."""
        local = t.astimezone(SHANGHAI)
        minutes = local.hour * 60 + local.minute
        if 510 <= minutes < 1260:
            return t
        day = local.date() if minutes < 510 else local.date() + timedelta(days=1)
        start = datetime(day.year, day.month, day.day, 8, 30, tzinfo=SHANGHAI)
        return start + timedelta(minutes=self.rng.uniform(0, 75))

    def ordered_times(self, count: int) -> list[datetime]:
        """Order times over the last 90 days: growing, busier the last three days (a sale), by hour."""
        rng = self.rng
        midnight = self.now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
        day_weights = [
            (1.0 + 0.6 * (DAYS - d) / DAYS)
            * (2.5 if d < 3 else 1.0)
            * (0.6 if (midnight - timedelta(days=d)).weekday() == 6 else 1.0)
            for d in range(DAYS)
        ]
        hour_weights = [1, 1, 0, 0, 0, 1, 2, 4, 8, 12, 13, 11, 8, 9, 12, 12, 11, 9, 7, 8, 10, 10, 7, 3]
        times = []
        for _ in range(count):
            d = rng.choices(range(DAYS), day_weights)[0]
            h = rng.choices(range(24), hour_weights)[0]
            t = midnight - timedelta(days=d) + timedelta(hours=h, seconds=rng.randrange(3600))
            if t > self.now - timedelta(minutes=30):
                t = self.now - timedelta(minutes=rng.randint(30, 600))
            times.append(t.replace(microsecond=0))
        return sorted(times)

    # --- drafts -------------------------------------------------------------------------------

    def _lines(self, dealer: bool, tier: str) -> list[LineDraft]:
        rng = self.rng
        n = (
            rng.choices((1, 2, 3, 4, 5, 6, 8), (15, 20, 20, 15, 12, 10, 8))[0]
            if dealer
            else rng.choices((1, 2, 3), (75, 20, 5))[0]
        )
        chosen: dict[str, SkuInfo] = {}
        while len(chosen) < n:
            info = rng.choices(self.md.skus, self.md.sku_weights)[0]
            chosen[info.sku.code] = info
        lines = []
        for info in chosen.values():
            cat = info.category
            qty = rng.choice(cat.dealer_qty if dealer else cat.retail_qty)
            price = info.sku.unit_price * Decimal(DISCOUNT[tier]) if dealer else info.sku.unit_price
            lines.append(LineDraft(info.sku.code, qty, _money(price), info.sku.name))
        return lines

    def _channel_no(self, channel: str, at: datetime) -> str | None:
        rng, local = self.rng, at.astimezone(SHANGHAI)
        if channel == "manual":
            return None
        while True:
            if channel in ("u8", "wechat"):
                key = (channel, f"{local:%Y%m%d}")
                self.daily_seq[key] = self.daily_seq.get(key, 0) + 1
                prefix = "SO" if channel == "u8" else "WX"
                no = f"{prefix}{local:%Y%m%d}{self.daily_seq[key]:04d}"
            elif channel == "pdd":
                no = f"{local:%y%m%d}-{rng.randrange(10**14, 10**15)}"
            elif channel == "douyin":
                no = f"69{rng.randrange(10**16, 10**17)}"
            elif channel == "taobao":
                no = f"3{rng.randrange(10**17, 10**18)}"
            else:  # 1688
                no = f"2{rng.randrange(10**17, 10**18)}"
            if no not in self.used_nos:
                self.used_nos.add(no)
                return no

    def _pick_channel(self, dealer: bool) -> str:
        codes = [c[0] for c in company.CHANNELS]
        weights = [c[4] if dealer else c[5] for c in company.CHANNELS]
        return self.rng.choices(codes, weights)[0]

    def _dealer_draft(self, customer: Customer, channel: str, at: datetime) -> OrderDraft:
        rng = self.rng
        place = regions.place_of(customer.province, customer.city, customer.district)
        lines = self._lines(True, customer.tier)
        goods = sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0"))
        free = customer.tier in (CustomerTier.VIP, CustomerTier.A) or goods >= 2000
        phone = customer.phone if customer.phone.startswith("1") else names.mobile(rng)
        remark = rng.choice(DEALER_REMARKS) if rng.random() < 0.15 else ""
        return OrderDraft(
            channel_code=channel,
            lines=lines,
            ordered_at=at,
            channel_order_no=self._channel_no(channel, at),
            customer_code=customer.code,
            receiver_name=self.contacts[customer.code],
            receiver_phone=phone,
            province=place.province,
            province_code=place.province_code,
            city=place.city,
            city_code=place.city_code,
            district=place.district,
            district_code=place.district_code,
            address_detail=customer.address_detail,
            shipping_fee=Decimal("0") if free else Decimal(rng.choice((15, 20, 25, 30))),
            remark=remark,
            promised_at=at + timedelta(hours=PROMISE_HOURS[customer.tier]),
            priority={CustomerTier.VIP: 2, CustomerTier.A: 1}.get(customer.tier, 0) + ("急" in remark),
            selling_entity_code=company.DEALER_ENTITY,
            invoicing_entity_code=company.DEALER_ENTITY,
        )

    def _retail_draft(self, channel: str, at: datetime) -> OrderDraft:
        rng = self.rng
        province = rng.choices(regions.PROVINCES, regions.PROVINCE_WEIGHTS)[0]
        place = rng.choice(regions.places_in(province))
        phone, kind = names.mobile(rng), PhoneKind.NORMAL
        if channel == "pdd":
            phone, kind = f"{phone[:3]}****{phone[-4:]}", PhoneKind.MASKED
        elif channel == "douyin":
            phone, kind = f"170{rng.randrange(10**8):08d}-{rng.randrange(10**4):04d}", PhoneKind.VIRTUAL
        detail = (
            f"{rng.choice(regions.STREETS)}{rng.randint(1, 999)}号{rng.choice(regions.RESIDENCES)}"
            f"{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元{rng.randint(1, 33)}0{rng.randint(1, 4)}室"
        )
        return OrderDraft(
            channel_code=channel,
            lines=self._lines(False, CustomerTier.C),
            ordered_at=at,
            channel_order_no=self._channel_no(channel, at),
            customer_tier=CustomerTier.C,
            receiver_name=names.person_name(rng),
            receiver_phone=phone,
            phone_kind=kind,
            province=place.province,
            province_code=place.province_code,
            city=place.city,
            city_code=place.city_code,
            district=place.district,
            district_code=place.district_code,
            address_detail=detail,
            remark=rng.choice(RETAIL_REMARKS) if rng.random() < 0.08 else "",
            promised_at=at + timedelta(hours=72),
            owner_username=company.ONLINE_SHOP_OWNER,
            selling_entity_code=company.RETAIL_ENTITY,
            invoicing_entity_code=company.RETAIL_ENTITY,
        )

    def drop_address(self, draft: OrderDraft) -> None:
        """A hand-typed order without the street address: order_create holds it (地址不完整)."""
        draft.address_detail = ""
        draft.remark = (draft.remark + " 地址见微信聊天记录").strip()

    def new_plan(self, index: int, at: datetime, target: str | None = None) -> OrderPlan:
        rng = self.rng
        if rng.random() < RETAIL_SHARE:
            channel = self._pick_channel(False)
            draft = self._retail_draft(channel, at)
        else:
            customer = rng.choices(self.md.customers, self.md.customer_weights)[0]
            channel = self._pick_channel(True)
            draft = self._dealer_draft(customer, channel, at)
        if target == ADDRESS_HOLD:
            self.drop_address(draft)
        if channel in company.AUTO_REVIEW_CHANNELS:
            creator = self.md.system
            created = at + timedelta(minutes=rng.uniform(1, 20 if channel == "u8" else 6))
        else:
            owner = self.owner_of(draft)
            creator = owner if owner is not None and rng.random() < 0.5 else rng.choice(self.cs)
            created = self.work(at + timedelta(minutes=rng.uniform(3, 60)))
        created = min(created, self.now - timedelta(minutes=rng.uniform(1, 20)))
        return OrderPlan(index=index, draft=draft, creator=creator, created_at=max(created, at))

    def owner_of(self, draft: OrderDraft) -> User | None:
        """The salesperson who owns the order (the dealer's, or the online shops' for retail)."""
        if draft.owner_username:
            return self.md.users[draft.owner_username]
        customer = self.md.customer_by_code[draft.customer_code or ""]
        return self.user_by_id.get(customer.owner_id) if customer.owner_id else None

    # --- paths --------------------------------------------------------------------------------

    def warehouse_for(self, draft: OrderDraft, avoid: str | None = None) -> str:
        nearest = regions.NEAREST_WAREHOUSE.get(draft.province, "TZ")
        codes = [c for c in ("TZ", "GZ", "CD") if c != avoid]
        if nearest in codes and self.rng.random() < 0.9:
            return nearest
        return self.rng.choice(codes)

    def waybill(self, draft: OrderDraft) -> tuple[str, str]:
        """(carrier code, waybill number): the carrier strategy's pick, now and then a person's."""
        rng = self.rng
        kg = sum(self.md.sku_by_code[ln.sku_code].sku.weight_g * ln.quantity for ln in draft.lines) / 1000
        code = carrier_by_rules(draft.province, self.tier_of(draft), kg)
        if code != "deppon" and rng.random() < 0.08:
            code = rng.choice(("zto", "yto", "yunda", "sf", "jd"))  # the customer asked for another
        prefix, digits = next((c[5], c[6] + 1) for c in company.CARRIERS if c[0] == code)
        while True:
            number = f"{prefix}{rng.randrange(10 ** (digits - 1), 10**digits)}"
            if number not in self.used_nos:  # a waybill number names one parcel only
                self.used_nos.add(number)
                return code, number

    def tier_of(self, draft: OrderDraft) -> str:
        if draft.customer_code:
            return self.md.customer_by_code[draft.customer_code].tier
        return draft.customer_tier or CustomerTier.C


def carrier_by_rules(province: str, tier: str, kg: float) -> str:
    """The first carrier rule of the demo's strategy table that matches (as fulfilment applies it)."""
    for _name, provinces, tiers, min_kg, code in company.CARRIER_RULES:
        if provinces and province not in provinces.split("、"):
            continue
        if tiers and tier not in tiers.split("、"):
            continue
        if min_kg is not None and kg <= min_kg:
            continue
        return code
    return company.CARRIER_RULES[-1][4]
