"""Fixtures for tracking: a controlled clock, shipped orders, and the simulated carrier's rates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django_tasks_db.models import DBTaskResult

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.orders.models import Order
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus as S
from orderhub.tracking.models import Shipment

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 双十二 morning: every test's clock starts here and moves only when the test moves it.
T0 = datetime(2026, 12, 12, 9, 0, tzinfo=SHANGHAI)
H = timedelta(hours=1)


def tracking_settings(**overrides: Any) -> dict[str, Any]:
    simulated = {
        "STALL_RATE": 0.0,
        "PROBLEM_RATE": 0.0,
        "RETURN_RATE": 0.0,
        "REJECT_RATE": 0.0,
        "STALL_GAP_HOURS": (40.0, 40.0),
        "SEED": "tests",
    }
    simulated.update(overrides.pop("SIMULATED", {}))
    base: dict[str, Any] = {
        "PROVIDER": "simulated",
        "STALL_HOURS": 24.0,
        "SMS_STALL_TEMPLATE": "SMS_480100001",
        "SIMULATED": simulated,
    }
    base.update(overrides)
    return base


@pytest.fixture(autouse=True)
def tracking_defaults(settings: Any) -> None:
    """Every parcel is delivered unless a test asks for trouble."""
    settings.TRACKING = tracking_settings()


@pytest.fixture
def simulate(settings: Any) -> Callable[..., None]:
    """simulate(STALL_RATE=1.0): make every simulated parcel follow one story."""

    def set_rates(**rates: Any) -> None:
        settings.TRACKING = tracking_settings(SIMULATED=rates)

    return set_rates


def walk_to(order: Order, status: str, actor: User, *, now: datetime) -> Order:
    path = [S.SPLIT, S.ALLOCATING, S.LABEL_PRINTED]
    for target in path[: path.index(status) + 1]:
        order = order_transition(order_id=order.pk, to=target, actor=actor, now=now)
    return order


@pytest.fixture
def ship(make_order: Callable[..., Order], staff: dict[str, User]) -> Callable[..., Order]:
    """ship(carrier="zto", tracking_no=…, at=T0): an order walked to 已发货 with its waybill."""
    counter = iter(range(1, 10_000))

    def make(
        *, carrier: str = "zto", tracking_no: str | None = None, at: datetime = T0, order: Order | None = None
    ) -> Order:
        order = order or make_order()
        walk_to(order, S.LABEL_PRINTED, staff[Role.ADMIN], now=at - 2 * H)
        details = {"carrier": carrier, "tracking_no": tracking_no or f"7731{next(counter):08d}"}
        order_transition(
            order_id=order.pk, to=S.SHIPPED, actor=staff[Role.WAREHOUSE], details=details, now=at
        )
        return Order.objects.get(pk=order.pk)

    return make


def shipment_of(order: Order) -> Shipment:
    return Shipment.objects.get(order=order)


def jobs(task_name: str) -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(task_path=f"orderhub.tracking.tasks.{task_name}").order_by("enqueued_at")
    )
