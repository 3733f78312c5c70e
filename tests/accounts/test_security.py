"""Passwords, API tokens and the security headers a browser sees."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from orderhub import settings as project_settings
from orderhub.accounts.models import ApiToken, User
from orderhub.accounts.roles import Role
from orderhub.accounts.services import api_token_authenticate, api_token_create


def test_passwords_are_hashed_with_argon2(db, settings) -> None:
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = User.objects.create_user(username="cs9", password="Correct-Horse-42")
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("Correct-Horse-42")


def test_api_tokens_are_stored_hashed_and_can_be_revoked(staff) -> None:
    user = staff[Role.WAREHOUSE]
    token, raw = api_token_create(user=user, name="WMS")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    assert api_token_authenticate(raw) == user
    assert api_token_authenticate(raw + "x") is None
    stored.revoked_at = timezone.now()
    stored.save()
    assert api_token_authenticate(raw) is None


def test_token_command_prints_a_working_token(staff) -> None:
    out = StringIO()
    call_command("token", "create", "logistics1", stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("oh_")
    assert api_token_authenticate(raw) == staff[Role.LOGISTICS]
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("token", "create", "nobody")


def test_pages_carry_the_security_headers(client, db) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_session_cookie_is_http_only_and_same_site(client, staff) -> None:
    response = client.post("/accounts/login/", {"username": "manager1", "password": "Correct-Horse-42"})
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_the_admin_site_is_for_admins_only(client, staff) -> None:
    admin = staff[Role.ADMIN]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(staff[Role.SALES])
    assert client.get("/admin/").status_code == 302  # sent to the admin log-in
    client.force_login(admin)
    page = client.get("/admin/orders/order/")
    assert page.status_code == 200
    # The operation log is append-only even for administrators.
    assert client.get("/admin/orders/operationlog/add/").status_code == 403
