"""The shared layout: navigation per role, English on request, and htmx as an optional extra."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.orders.models import Order
from orderhub.web import context_processors
from tests.web.conftest import page_text

pytestmark = pytest.mark.django_db


def test_header_shows_company_nav_and_user(cs_client: Client, settings: object) -> None:
    settings.ORDERHUB_COMPANY_NAME = "台州恒通汽配"  # type: ignore[attr-defined]

    text = page_text(cs_client.get("/orders/"))

    assert "台州恒通汽配" in text
    assert "订单" in text and "站内消息" in text
    assert "customer_service1 · 客服" in text
    assert "管理后台" not in text


def test_admin_link_is_for_staff_accounts_only(
    client_for: Callable[[str], Client], staff: dict[str, User]
) -> None:
    admin = staff[Role.ADMIN]
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])

    assert "管理后台" in page_text(client_for(Role.ADMIN).get("/orders/"))
    assert "管理后台" not in page_text(client_for(Role.SALES).get("/orders/"))


def test_pages_render_in_english_for_accept_language_en(
    make_order: Callable[..., Order], staff: dict[str, User]
) -> None:
    order = make_order()
    client = Client(headers={"accept-language": "en"})
    client.force_login(staff[Role.CUSTOMER_SERVICE])

    listing = page_text(client.get("/orders/"))
    detail = page_text(client.get(f"/orders/{order.pk}/"))

    assert "Orders" in listing and "Inbox" in listing and "Log out" in listing
    assert "Pending review" in listing
    assert "Next page" not in listing  # only one page
    assert "中文" in listing  # the switch back
    assert "Approve" in detail and "Timeline" in detail
    assert "待审核" not in detail


def test_language_cookie_selects_english(cs_client: Client) -> None:
    cs_client.cookies["django_language"] = "en"

    text = page_text(cs_client.get("/inbox/"))

    assert "Mark all as read" in text
    assert "站内消息" not in text


def test_language_switch_sets_english_and_returns_to_the_page(cs_client: Client) -> None:
    response = cs_client.post("/i18n/setlang/", {"language": "en", "next": "/inbox/"}, follow=True)

    assert response.redirect_chain[-1][0] == "/inbox/"
    assert "Inbox" in page_text(response)


def test_login_page_in_english() -> None:
    text = page_text(Client(headers={"accept-language": "en"}).get("/accounts/login/"))

    assert "Username" in text and "Password" in text and "Log in" in text


def test_htmx_is_served_from_our_own_static_files(cs_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        context_processors, "htmx_script_url", lambda: "/static/vendor/htmx.org/dist/htmx.min.js"
    )

    html = cs_client.get("/orders/").content.decode()

    assert '<script src="/static/vendor/htmx.org/dist/htmx.min.js" defer></script>' in html
    assert "://" not in html.split("<body")[0]  # nothing from a CDN


def test_pages_render_without_htmx_installed(cs_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context_processors, "htmx_script_url", lambda: None)

    response = cs_client.get("/orders/")

    assert response.status_code == 200
    assert "htmx" not in response.content.decode().split("<body")[0]


def test_every_label_shown_on_the_pages_has_an_english_translation() -> None:
    from django.utils import translation

    from orderhub.accounts.roles import Role as RoleEnum
    from orderhub.catalog.models import CustomerTier
    from orderhub.orders.models import HoldReason, LogAction, PhoneKind
    from orderhub.orders.states import TRANSITIONS, OrderStatus

    labels = [
        c.label
        for enum in (OrderStatus, CustomerTier, HoldReason, LogAction, PhoneKind, RoleEnum)
        for c in enum
    ]
    labels += [t.label for t in TRANSITIONS]
    with translation.override("zh-hans"):
        chinese = [str(label) for label in labels]
    with translation.override("en"):
        english = [str(label) for label in labels]

    untranslated = [zh for zh, en in zip(chinese, english, strict=True) if zh == en and zh != "VIP"]
    assert untranslated == []


def test_refusals_are_shown_in_english_too(make_order: Callable[..., Order], staff: dict[str, User]) -> None:
    order = make_order()
    client = Client(headers={"accept-language": "en"})
    client.force_login(staff[Role.CUSTOMER_SERVICE])

    response = client.post(
        f"/orders/{order.pk}/transition/", {"to": "split", "expected_version": 99}, follow=True
    )

    assert f"Order {order.order_no} was changed by someone else" in page_text(response)
