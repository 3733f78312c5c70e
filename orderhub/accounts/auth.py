"""API authentication: `Authorization: Bearer <token>` for integrations, the session for staff pages.

Both return the acting `User`; ninja stores it on `request.auth`.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer

from orderhub.accounts.models import User
from orderhub.accounts.services import api_token_authenticate
from orderhub.core.errors import PermissionDenied


class BearerTokenAuth(HttpBearer):
    """An API token issued by `orderhub token` (only its hash is stored)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if not token:
            return None
        user = api_token_authenticate(token)
        if user is not None:
            # Code below the API sees the same user whichever way the caller authenticated.
            request.user = user
        return user


class StaffSessionAuth(APIKeyCookie):
    """The logged-in staff session, CSRF-protected for unsafe methods.

    Unlike ninja's `SessionAuth`, the CSRF check runs only when the session actually belongs to
    someone: an anonymous request is simply unauthenticated (401), not a CSRF failure (403).
    """

    param_name: str = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        try:
            return super()._get_key(request)
        except HttpError as exc:  # ninja's CSRF failure: give it the API's one error shape
            raise PermissionDenied(
                _("CSRF 校验失败：使用登录会话调用时须带 X-CSRFToken 头"), code="csrf_failed"
            ) from exc

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if key and user.is_authenticated and user.is_active:
            return user  # type: ignore[return-value]
        return None
