"""A small company history with known timings, written through the order services with a
controlled clock (every create, move and hold carries its own `now`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.catalog.models import Customer
from orderhub.ingest.models import Channel
from orderhub.orders.models import HoldReason, Order
from orderhub.orders.services import LineDraft, OrderDraft, order_create, order_hold, order_transition
from orderhub.orders.states import Kind, transition_between
from orderhub.tracking.monitor import stall_scan
from orderhub.tracking.services import tracking_start

SH = ZoneInfo("Asia/Shanghai")
H = 3600


def at(day: int, hour: float, month: int = 3) -> datetime:
    """2025-<month>-<day> at <hour> o'clock in Asia/Shanghai."""
    return datetime(2025, month, day, tzinfo=SH) + timedelta(hours=hour)


NOW = at(12, 10)  # "today" is 2025-03-12, 10:00


@dataclass
class History:
    staff: dict[str, User]
    customer: Customer
    channels: dict[str, Channel]
    counter: int = 0

    def order(self, ordered: datetime, **overrides: Any) -> Order:
        self.counter += 1
        draft = OrderDraft(
            channel_code=overrides.pop("channel_code", "manual"),
            channel_order_no=f"H{self.counter:05d}",
            customer_code=self.customer.code,
            ordered_at=ordered,
            receiver_name="王师傅",
            receiver_phone="13812345678",
            province="浙江省",
            province_code="330000",
            city="台州市",
            city_code="331000",
            district="椒江区",
            district_code="331002",
            address_detail="东环大道88号",
            lines=[LineDraft("BP-2231", 2, Decimal("88.00"))],
        )
        for key, value in overrides.items():
            setattr(draft, key, value)
        order, created = order_create(draft=draft, actor=self.staff[Role.CUSTOMER_SERVICE], now=ordered)
        assert created
        return order

    def move(self, order: Order, to: str, when: datetime, who: str, reason: str = "", **kw: Any) -> Order:
        user = self.staff[who]
        return order_transition(
            order_id=order.pk,
            to=to,
            actor=user,
            reason=reason,
            now=when,
            automatic=kw.pop("automatic", who == "system"),
            **kw,
        )

    def walk(self, order: Order, steps: list[tuple[str, datetime, str]]) -> Order:
        for to, when, who in steps:
            t = transition_between(order.status, to)
            reason = "驳回：缺货" if t is not None and t.kind != Kind.FORWARD else ""
            order = self.move(order, to, when, who, reason)
        return order

    def hold(self, order: Order, reason: str, when: datetime, who: str = "system") -> None:
        order_hold(order_id=order.pk, reason=reason, actor=self.staff[who], now=when)


@pytest.fixture
def history(
    staff: dict[str, User],
    make_user: Callable[..., User],
    customer: Customer,
    channels: dict[str, Channel],
    skus: Any,
) -> History:
    staff["warehouse2"] = make_user("warehouse2", Role.WAREHOUSE)
    return History(staff=staff, customer=customer, channels=channels)


def forward(day: int, start: float, gaps: list[float], who: list[str]) -> list[tuple[str, datetime, str]]:
    """approve → allocate → print_label → ship, each `gap` hours after the previous step."""
    states = ["split", "allocating", "label_printed", "shipped"]
    steps, t = [], start
    for state, gap, person in zip(states, gaps, who, strict=True):
        t += gap
        steps.append((state, at(day, t), person))
    return steps


CS, WH1, WH2, LG, SYS = Role.CUSTOMER_SERVICE, Role.WAREHOUSE, "warehouse2", Role.LOGISTICS, "system"


@dataclass
class Story:
    orders: dict[str, Order]


@pytest.fixture
def story(history: History) -> Story:
    """The week of 2025-03-08 … 03-12 (see test_metrics.py for the expected figures)."""
    o: dict[str, Order] = {}
    # --- previous period (03-08, 03-09) ---
    g = history.order(at(8, 10))
    g = history.walk(
        g,
        [
            ("split", at(8, 11), CS),
            ("allocating", at(8, 12), CS),
            ("pending_review", at(8, 12.5), WH1),  # 分仓驳回 (backward)
            ("split", at(8, 13), CS),
            ("allocating", at(8, 13.5), CS),
            ("label_printed", at(8, 14), WH1),
            ("shipped", at(8, 15), WH1),
        ],
    )
    o["G"] = g
    # --- the chosen period (03-10, 03-11) ---
    a = history.order(at(10, 8), promised_at=at(11, 12))
    a = history.walk(a, forward(10, 8, [1, 1, 3, 1], [CS, CS, WH1, WH1]))
    o["A"] = history.move(a, "completed", at(11, 14), SYS)
    b = history.order(at(10, 9))
    b = history.walk(
        b,
        [
            ("split", at(10, 10), CS),
            ("allocating", at(10, 11), CS),
            ("label_printed", at(10, 12), WH2),
            ("allocating", at(10, 12.5), WH2),  # 作废面单 (backward)
            ("label_printed", at(10, 13.5), WH2),
            ("shipped", at(10, 14), WH2),
        ],
    )
    o["B"] = history.move(b, "completed", at(11, 11), LG)
    c = history.order(at(11, 8), promised_at=at(12, 18))
    o["C"] = history.walk(c, forward(11, 8, [1, 1, 1, 1], [CS, CS, WH2, WH1]))
    d = history.order(at(11, 10), address_detail="")  # held on creation: incomplete address
    o["D"] = history.move(d, "cancelled", at(11, 16), CS, "客户取消")
    e = history.order(at(11, 11))
    history.hold(e, HoldReason.STOCK_CONFLICT, at(11, 11.5))
    o["E"] = e
    f = history.order(at(10, 6), promised_at=at(11, 18))
    f = history.walk(f, forward(10, 6, [1, 1, 1, 1], [CS, CS, WH1, WH1])[:3])
    tracking_start(order=f, carrier="zto", tracking_no="ZT7300001", now=at(10, 9.5))
    f = history.move(f, "shipped", at(10, 10), WH1)
    result = stall_scan(now=at(11, 10.5))  # 24 h of silence passed at 11th 10:00
    assert result.orders_moved == [f.pk]
    o["F"] = Order.objects.get(pk=f.pk)
    # --- today (03-12) ---
    h = history.order(at(12, 7))
    o["H"] = history.walk(h, forward(12, 7, [0.5, 0.5, 0.5, 0.5], [CS, CS, WH1, WH1]))
    return Story(orders=o)
