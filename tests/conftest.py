"""Shared fixtures: realistic staff, channels, SKUs and orders built through the services."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.accounts.services import api_token_create, roles_ensure, user_set_roles
from orderhub.catalog.models import Customer, CustomerTier, Sku
from orderhub.ingest.models import Channel, ChannelKind
from orderhub.orders.models import Order
from orderhub.orders.services import LineDraft, OrderDraft, order_create


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Argon2 is deliberately slow; tests that check hashing itself re-enable it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    roles_ensure()

    def make(username: str, *roles: str, password: str = "Correct-Horse-42") -> User:
        user = User.objects.create_user(username=username, password=password, display_name=username)
        user_set_roles(user=user, roles=list(roles))
        return user

    return make


@pytest.fixture
def staff(make_user: Callable[..., User]) -> dict[str, User]:
    """One user per role, plus a second salesperson to test "only my orders"."""
    users = {role: make_user(f"{role}1", role) for role in Role.values if role != Role.SYSTEM}
    users["sales2"] = make_user("sales2", Role.SALES)
    users["system"] = make_user("system-bot", Role.SYSTEM)
    return users


@pytest.fixture
def channels(db: Any) -> dict[str, Channel]:
    return {
        "pdd": Channel.objects.create(
            code="pdd", name="拼多多", kind=ChannelKind.PINDUODUO, masks_phone=True
        ),
        "manual": Channel.objects.create(code="manual", name="手工", kind=ChannelKind.MANUAL),
    }


@pytest.fixture
def skus(db: Any) -> dict[str, Sku]:
    rows = [
        ("BP-2231", "陶瓷刹车片 前轮", "适配 朗逸/速腾", 1800, False),
        ("OF-1102", "机油滤清器", "M20×1.5", 350, False),
        ("HL-8810", "LED 大灯总成", "H7 6000K", 2600, True),
    ]
    return {
        code: Sku.objects.create(
            code=code, name=name, spec=spec, weight_g=w, fragile=fragile, unit_price=Decimal("88.00")
        )
        for code, name, spec, w, fragile in rows
    }


@pytest.fixture
def customer(db: Any, staff: dict[str, User]) -> Customer:
    return Customer.objects.create(
        code="D0001",
        name="椒江恒通汽配",
        phone="13812345678",
        tier=CustomerTier.A,
        province="浙江省",
        city="台州市",
        district="椒江区",
        address_detail="东环大道88号",
        owner=staff[Role.SALES],
    )


@pytest.fixture
def make_order(
    staff: dict[str, User], channels: dict[str, Channel], skus: dict[str, Sku], customer: Customer
) -> Callable[..., Order]:
    counter = iter(range(1, 1_000_000))

    def make(**overrides: Any) -> Order:
        n = next(counter)
        draft = OrderDraft(
            channel_code=overrides.pop("channel_code", "manual"),
            channel_order_no=overrides.pop("channel_order_no", f"M{n:06d}"),
            customer_code=customer.code,
            receiver_name="王师傅",
            receiver_phone="13812345678",
            province="浙江省",
            province_code="330000",
            city="台州市",
            city_code="331000",
            district="椒江区",
            district_code="331002",
            address_detail="东环大道88号",
            lines=overrides.pop("lines", [LineDraft("BP-2231", 20, Decimal("88.00"))]),
        )
        for key, value in overrides.items():
            setattr(draft, key, value)
        order, created = order_create(draft=draft, actor=staff[Role.CUSTOMER_SERVICE])
        assert created
        return order

    return make


@pytest.fixture
def api_client(db: Any) -> Callable[[User], Client]:
    """A test client that calls /api/ as `user`, with a real API token (Authorization: Bearer)."""

    def make(user: User) -> Client:
        _token, raw = api_token_create(user=user, name="tests")
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make


# --- the one headless Chromium of a test session ----------------------------------------------

CHROMIUM = Path(os.environ.get("ORDERHUB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing ({CHROMIUM} not found): the browser tests need Debian's chromium. "
            "Install it with `scripts/browser.sh install` (apt-get install chromium fonts-noto-cjk).",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "Playwright for Python is missing: pip install -e '.[test]' (never `playwright install`).",
            pytrace=False,
        )
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
