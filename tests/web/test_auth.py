"""Logging in and out of the staff pages, and the lock-out after repeated failures."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from tests.web.conftest import page_text

pytestmark = pytest.mark.django_db


def _log_in(client: Client, username: str, password: str) -> object:
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_login_page_is_in_chinese_by_default() -> None:
    response = Client().get("/accounts/login/")

    text = page_text(response)
    assert response.status_code == 200
    assert "用户名" in text and "密码" in text and "登录" in text
    assert "English" in text  # the language switch is offered before logging in


def test_anonymous_visitor_is_sent_to_the_login_page() -> None:
    response = Client().get("/orders/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/orders/")


def test_correct_password_logs_in_and_lands_on_the_workspace(staff: dict[str, User]) -> None:
    client = Client()

    response = _log_in(client, "customer_service1", "Correct-Horse-42")

    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "customer_service1" in page_text(page)
    assert "退出登录" in page_text(page)


def test_wrong_password_shows_an_error_and_stays_logged_out(staff: dict[str, User]) -> None:
    client = Client()

    response = _log_in(client, "customer_service1", "wrong-password")

    assert response.status_code == 200
    assert "请输入一个正确的用户名和密码" in page_text(response)
    assert client.get("/orders/").status_code == 302


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    staff: dict[str, User],
) -> None:
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT

    for _ in range(limit - 1):
        assert _log_in(client, "warehouse1", "guess").status_code == 200
    locked = _log_in(client, "warehouse1", "guess")

    assert locked.status_code == 429
    assert "登录失败次数过多" in page_text(locked)
    assert "15 分钟" in page_text(locked)
    again = _log_in(client, "warehouse1", "Correct-Horse-42")
    assert again.status_code == 429
    assert "登录失败次数过多" in page_text(again)
    assert client.get("/orders/").status_code == 302


def test_lockout_is_per_user_name(staff: dict[str, User]) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, "warehouse1", "guess")

    response = _log_in(client, "logistics1", "Correct-Horse-42")

    assert response.status_code == 302


def test_logout_is_a_post_from_the_user_menu(staff: dict[str, User]) -> None:
    client = Client()
    client.force_login(staff[Role.MANAGER])
    page = client.get("/orders/")
    assert 'action="/accounts/logout/"' in page.content.decode()

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert client.get("/orders/").status_code == 302
