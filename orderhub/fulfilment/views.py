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


WAVE_ROLES = frozenset({Role.WAREHOUSE, Role.LOGISTICS, Role.MANAGER, Role.ADMIN})


def _check_wave(request: HttpRequest) -> None:
    if not request.user.role_names & WAVE_ROLES:
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def waves(request: HttpRequest) -> HttpResponse:
    """Print runs: per warehouse, how many orders wait for a label; one button makes the wave."""
    from django.db.models import Count, Q

    from orderhub.fulfilment.labels import wave_prepare
    from orderhub.fulfilment.models import Wave
    from orderhub.inventory.models import Warehouse

    _check_wave(request)
    if request.method == "POST":
        wh = get_object_or_404(Warehouse, pk=request.POST.get("warehouse") or 0)
        wave, outcomes = wave_prepare(warehouse_id=wh.pk, actor=request.user)
        for o in outcomes:
            if not o.ok:
                messages.error(request, f"{o.order_no}：{o.error}")
        if wave is None:
            messages.info(request, f"{wh.name} 没有待打印的订单")
            return redirect("fulfilment:waves")
        return redirect("fulfilment:wave", wave_id=wave.pk)
    warehouses = Warehouse.objects.filter(active=True).annotate(
        waiting=Count(
            "orders", filter=Q(orders__status__in=["allocating", "label_printed"], orders__parts__isnull=True)
        )
    )
    recent = Wave.objects.select_related("warehouse").annotate(n=Count("orders")).order_by("-created_at")[:20]
    return render(
        request, "fulfilment/waves.html", {"nav": "packing", "warehouses": warehouses, "recent": recent}
    )


@login_required
def wave(request: HttpRequest, wave_id: int) -> HttpResponse:
    from orderhub.fulfilment.labels import picklist_rows
    from orderhub.fulfilment.models import Wave

    _check_wave(request)
    w = get_object_or_404(Wave.objects.select_related("warehouse"), pk=wave_id)
    return render(request, "fulfilment/wave.html", {"nav": "packing", "wave": w, "rows": picklist_rows(w)})


@login_required
def wave_pdf(request: HttpRequest, wave_id: int, kind: str) -> HttpResponse:
    """labels / picklist / cards of a wave as PDF; every label print is logged (a second is a reprint)."""
    from orderhub.fulfilment.labels import labels_print, packing_cards_pdf, picklist_pdf
    from orderhub.fulfilment.models import Wave

    _check_wave(request)
    w = get_object_or_404(Wave.objects.select_related("warehouse"), pk=wave_id)
    if kind == "labels":
        try:
            data = labels_print(wave=w, actor=request.user, reason=request.GET.get("reason", "")).pdf
        except AppError as e:
            messages.error(request, e.message)
            return redirect("fulfilment:wave", wave_id=w.pk)
    elif kind == "picklist":
        data = picklist_pdf(w)
    else:
        data = packing_cards_pdf(list(w.orders.order_by("pk")))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{kind}-{w.code}.pdf"'
    return response
