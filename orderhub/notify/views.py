"""Staff pages of the notify app: failed deliveries with a retry button (managers and admins)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from orderhub.core.errors import AppError
from orderhub.notify import selectors
from orderhub.notify.services import NOTIFY_MANAGERS, deliveries_retry_dead, delivery_retry

FAILED_LIMIT = 200


def _require_manager(request: HttpRequest) -> None:
    if not request.user.has_role(*NOTIFY_MANAGERS):
        raise PermissionDenied


@login_required
@require_GET
def failed_deliveries(request: HttpRequest) -> HttpResponse:
    """Messages that could not be delivered: to whom, through what, why; each can be retried."""
    _require_manager(request)
    rows, total = selectors.deliveries_failed(limit=FAILED_LIMIT)
    context = {"nav": "notify", "deliveries": rows, "total": total, "limit": FAILED_LIMIT}
    return render(request, "notify/failed.html", context)


@login_required
@require_POST
def delivery_retry_view(request: HttpRequest, delivery_id: int) -> HttpResponse:
    _require_manager(request)
    try:
        delivery = delivery_retry(delivery_id=delivery_id, actor=request.user)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已重新发送：%(title)s") % {"title": delivery.title})
    return redirect("notify:failed")


@login_required
@require_POST
def deliveries_retry_all_view(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    count = deliveries_retry_dead(actor=request.user)
    messages.success(request, _("已重新发送 %(n)s 条通知") % {"n": count})
    return redirect("notify:failed")
