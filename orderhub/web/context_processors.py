"""Template context shared by every staff page: company name, unread inbox count, assets."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils.functional import SimpleLazyObject

from orderhub.accounts.roles import Role

HTMX_PATH = "vendor/htmx.org/dist/htmx.min.js"


def htmx_script_url() -> str | None:
    """URL of the npm-installed htmx, or None when it is not installed (pages work without it)."""
    try:
        present = bool(finders.find(HTMX_PATH)) or staticfiles_storage.exists(HTMX_PATH)
        return static(HTMX_PATH) if present else None
    except (ValueError, OSError):
        return None


def workspace(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {
        "company_name": settings.ORDERHUB_COMPANY_NAME,
        "htmx_js": SimpleLazyObject(htmx_script_url),
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from orderhub.notify.selectors import inbox_unread_count

        # Lazy: pages that never show the header (e.g. the admin site) do not pay the query.
        context["inbox_unread"] = SimpleLazyObject(lambda: inbox_unread_count(user=user))
        context["user_roles"] = SimpleLazyObject(
            lambda: " · ".join(str(r.label) for r in Role if r.value in user.role_names)
        )
    return context
