"""Fixtures for chat/screenshot drafts: the auto-parts catalog in the database, two dealers with
history, uploads stored under a temporary MEDIA_ROOT, and one OCR engine for the whole session."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.catalog.models import Customer, CustomerTier, Sku
from orderhub.orders.models import Order
from orderhub.orders.services import LineDraft, OrderDraft, order_create
from tests.drafts.catalog import SKUS

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def catalog(db: Any) -> dict[str, Sku]:
    return {
        code: Sku.objects.create(
            code=code,
            name=name,
            spec=spec,
            aliases=list(aliases),
            pack_size=pack,
            unit_price=Decimal("10.00"),
        )
        for code, name, spec, aliases, pack in SKUS
    }


@pytest.fixture
def dealers(db: Any, staff: dict[str, User]) -> dict[str, Customer]:
    return {
        "hengtong": Customer.objects.create(
            code="D0001",
            name="椒江恒通汽配",
            phone="13812345678",
            tier=CustomerTier.A,
            province="浙江省",
            city="台州市",
            district="椒江区",
            address_detail="东环大道88号",
            owner=staff[Role.SALES],
        ),
        "shunda": Customer.objects.create(code="D0002", name="路桥顺达汽修", phone="13957600001"),
    }


@pytest.fixture
def past_order(
    staff: dict[str, User], channels: Any, catalog: dict[str, Sku], dealers: dict[str, Customer]
) -> Callable[..., Order]:
    """An order placed earlier through the services (the customer's history and last address)."""
    counter = iter(range(1, 10_000))

    def make(customer: str = "D0001", lines: list[tuple[str, int]] | None = None, **fields: Any) -> Order:
        draft = OrderDraft(
            channel_code="manual",
            channel_order_no=f"H{next(counter):05d}",
            customer_code=customer,
            receiver_name="王师傅",
            receiver_phone="13812345678",
            province="浙江省",
            province_code="330000",
            city="台州市",
            city_code="331000",
            district="椒江区",
            district_code="331002",
            address_detail="东环大道99号仓库",
            lines=[LineDraft(code, qty) for code, qty in (lines or [("BP-2232", 10)])],
        )
        for key, value in fields.items():
            setattr(draft, key, value)
        order, _created = order_create(draft=draft, actor=staff[Role.CUSTOMER_SERVICE])
        return order

    return make


@pytest.fixture(scope="session")
def cjk_font() -> Path:
    if not CJK_FONT.exists():
        pytest.fail(f"{CJK_FONT} is missing: run `scripts/fonts.sh install` (Debian package fonts-noto-cjk)")
    return CJK_FONT


@pytest.fixture(scope="session")
def ocr(cjk_font: Path) -> Any:
    """One engine for every OCR test (loading the models takes about a second)."""
    from orderhub.drafts.ocr import ocr_engine

    return ocr_engine()
