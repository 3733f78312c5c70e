"""Who may call the API: bearer tokens for integrations, the staff session (with CSRF) for pages."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from orderhub.accounts.models import ApiToken, User
from orderhub.accounts.roles import Role
from orderhub.accounts.services import api_token_create
from orderhub.orders.models import Order
from tests.orders.api.helpers import order_body, post_json

MakeOrder = Callable[..., Order]

UNAUTHENTICATED = {
    "code": "unauthenticated",
    "message": "未登录或令牌无效：请使用 Authorization: Bearer <令牌>",
    "field": None,
}


def bearer(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_a_valid_token_authenticates_as_its_user(staff: dict[str, User], make_order: MakeOrder) -> None:
    order = make_order()
    token, raw = api_token_create(user=staff[Role.CUSTOMER_SERVICE], name="U8 接口")

    response = bearer(raw).get(f"/api/orders/{order.pk}")

    assert response.status_code == 200
    assert [t["to"] for t in response.json()["allowed_transitions"]] == ["split", "cancelled"]
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer oh_this-token-was-never-issued"},
        {"Authorization": "Bearer "},
        {"Authorization": "Token oh_wrong-scheme"},
        {"Authorization": "Basic c2FsZXMxOkNvcnJlY3QtSG9yc2UtNDI="},
    ],
    ids=["none", "unknown-token", "empty-token", "wrong-scheme", "basic"],
)
def test_without_a_valid_token_every_endpoint_is_401_json(
    staff: dict[str, User], make_order: MakeOrder, headers: dict[str, str]
) -> None:
    order = make_order()
    client = Client(headers=headers)

    responses = [
        client.get("/api/orders"),
        client.get(f"/api/orders/{order.pk}"),
        client.get(f"/api/orders/{order.pk}/timeline"),
        post_json(client, "/api/orders", order_body()),
        post_json(client, f"/api/orders/{order.pk}/transitions", {"to": "split", "expected_version": 1}),
    ]

    for response in responses:
        assert response.status_code == 401
        assert response.json() == UNAUTHENTICATED
        assert response["WWW-Authenticate"] == 'Bearer realm="orderhub"'
    assert Order.objects.count() == 1


def test_a_revoked_token_is_401(staff: dict[str, User]) -> None:
    token, raw = api_token_create(user=staff[Role.MANAGER])
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())

    assert bearer(raw).get("/api/orders").status_code == 401


def test_a_deactivated_users_token_is_401(staff: dict[str, User]) -> None:
    _token, raw = api_token_create(user=staff[Role.MANAGER])
    User.objects.filter(pk=staff[Role.MANAGER].pk).update(is_active=False)

    assert bearer(raw).get("/api/orders").status_code == 401


@pytest.mark.usefixtures("channels", "skus", "customer")
def test_the_staff_session_reads_and_writes_with_its_csrf_token(staff: dict[str, User]) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff[Role.CUSTOMER_SERVICE])

    listing = browser.get("/api/orders")
    # The API docs page hands the logged-in browser its CSRF token, as Swagger UI uses it.
    docs = browser.get("/api/docs")
    csrf = re.search(r'data-csrf-token="([^"]+)"', docs.content.decode())
    assert csrf is not None
    created = post_json(browser, "/api/orders", order_body(), **{"X-CSRFToken": csrf.group(1)})

    assert listing.status_code == 200
    assert listing.json() == {"items": [], "next_cursor": None}
    assert created.status_code == 201
    assert created.json()["last_operator"]["username"] == "customer_service1"


@pytest.mark.usefixtures("channels", "skus", "customer")
def test_a_session_write_without_csrf_token_is_403(staff: dict[str, User]) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff[Role.CUSTOMER_SERVICE])

    response = post_json(browser, "/api/orders", order_body())

    assert response.status_code == 403
    assert response.json() == {
        "code": "csrf_failed",
        "message": "CSRF 校验失败：使用登录会话调用时须带 X-CSRFToken 头",
        "field": None,
    }
    assert Order.objects.count() == 0


@pytest.mark.usefixtures("channels", "skus", "customer")
def test_a_token_needs_no_csrf_token(staff: dict[str, User]) -> None:
    _token, raw = api_token_create(user=staff[Role.CUSTOMER_SERVICE])
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})

    assert post_json(client, "/api/orders", order_body()).status_code == 201


def test_a_logged_out_session_is_401(staff: dict[str, User]) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff[Role.MANAGER])
    browser.logout()

    response = post_json(browser, "/api/orders", order_body())

    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED
