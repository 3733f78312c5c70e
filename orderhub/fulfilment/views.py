"""Packing station pages (/packing/): a phone-sized page driven by a barcode scanner."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from orderhub.accounts.roles import Role
from orderhub.core.errors import AppError
from orderhub.fulfilment.models import PackSession
from orderhub.fulfilment.packing import pack_complete, pack_scan, pack_start, pack_state

PACK_ROLES = frozenset({Role.WAREHOUSE, Role.MANAGER, Role.ADMIN})


def _check(request: HttpRequest) -> None:
    if not request.user.role_names & PACK_ROLES:
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def station(request: HttpRequest) -> HttpResponse:
    """Step 1: scan the waybill barcode on the label."""
    _check(request)
    if request.method == "POST":
        try:
            state = pack_start(waybill_number=request.POST.get("waybill", ""), actor=request.user)
        except AppError as e:
            return render(
                request, "fulfilment/station.html", {"nav": "packing", "error": e.message}, status=422
            )
        return redirect("fulfilment:pack_session", session_id=state.session.pk)
    return render(request, "fulfilment/station.html", {"nav": "packing"})


@login_required
@require_http_methods(["GET", "POST"])
def session(request: HttpRequest, session_id: int) -> HttpResponse:
    """Step 2: scan each item; a wrong or extra item is refused on screen, loudly."""
    _check(request)
    sess = get_object_or_404(PackSession.objects.select_related("order", "waybill__carrier"), pk=session_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            pack_scan(session_id=sess.pk, code=request.POST.get("code", ""), actor=request.user)
            return redirect("fulfilment:pack_session", session_id=sess.pk)
        except AppError as e:
            error, status = e.message, 422
    state = pack_state(sess)
    return render(
        request, "fulfilment/session.html", {"nav": "packing", "state": state, "error": error}, status=status
    )


@login_required
@require_POST
def complete(request: HttpRequest, session_id: int) -> HttpResponse:
    """Step 3: everything scanned → shipped."""
    _check(request)
    sess = get_object_or_404(PackSession, pk=session_id)
    try:
        order = pack_complete(session_id=sess.pk, actor=request.user)
    except AppError as e:
        state = pack_state(sess)
        return render(
            request,
            "fulfilment/session.html",
            {"nav": "packing", "state": state, "error": e.message},
            status=422,
        )
    messages.success(request, f"订单 {order.order_no} 已发货")
    return redirect("fulfilment:station")
