"""Dashboard pages: the board, the morning-meeting screen, Excel exports and drill-down lists.

Managers and administrators only. Views parse the request, call a selector and render.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from orderhub.accounts.models import LegalEntity
from orderhub.accounts.roles import Role
from orderhub.catalog.models import CustomerTier
from orderhub.ingest.models import Channel
from orderhub.insights.drilldown import METRICS, drill_page
from orderhub.insights.export import dashboard_workbook, drill_workbook
from orderhub.insights.present import SUMMARY_ROWS, hours
from orderhub.insights.scope import Scope, period_from_query
from orderhub.insights.selectors import STAGES, Dashboard, dashboard_get
from orderhub.inventory.models import Warehouse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEETING_REFRESH_SECONDS = 300


def managers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_role(Role.MANAGER, Role.ADMIN):  # type: ignore[union-attr]
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _choices() -> dict[str, list[tuple[Any, str]]]:
    return {
        "channels": list(Channel.objects.order_by("code").values_list("id", "name")),
        "warehouses": list(Warehouse.objects.order_by("code").values_list("id", "name")),
        "tiers": [(v, str(label)) for v, label in CustomerTier.choices],
        "entities": list(LegalEntity.objects.order_by("code").values_list("id", "name")),
    }


def _board(request: HttpRequest, default_days: int = 7) -> tuple[Dashboard, list[str]]:
    now = timezone.now()
    choice = period_from_query(request.GET, timezone.localtime(now).date(), default_days)
    board = dashboard_get(period=choice.period, scope=Scope.from_query(request.GET), now=now)
    return board, choice.errors


def _chart_data(board: Dashboard) -> dict[str, Any]:
    return {
        "days": [p.day.isoformat() for p in board.daily],
        "ship": {str(q): [hours(p.ship[q]) for p in board.daily] for q in (50, 95, 99)},
        "complete": {str(q): [hours(p.complete[q]) for p in board.daily] for q in (50, 95, 99)},
        "orders_in": [p.orders_in for p in board.daily],
        "shipped": [p.shipped for p in board.daily],
        "stages": [s.label for s in board.stages],
        "dwell_avg": [hours(s.avg) for s in board.stages],
        "dwell_p95": [hours(s.p95) for s in board.stages],
    }


def _context(request: HttpRequest, board: Dashboard, errors: list[str]) -> dict[str, Any]:
    base_query = {
        **board.scope.query(),
        "from": board.period.first.isoformat(),
        "to": board.period.last.isoformat(),
    }
    return {
        "nav": "dashboard",
        "board": board,
        "errors": errors,
        "summary_rows": [(r, board.summary[r.key]) for r in SUMMARY_ROWS],
        "chart": _chart_data(board),
        "choices": _choices(),
        "base_query": board.scope.query(),
        "export_query": base_query,
        "stages": STAGES,
    }


@managers_only
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    board, errors = _board(request)
    return render(request, "insights/dashboard.html", _context(request, board, errors))


@managers_only
@require_GET
def meeting(request: HttpRequest) -> HttpResponse:
    """The full-screen morning-meeting view (早会投屏): reloads itself every few minutes."""
    board, errors = _board(request)
    context = _context(request, board, errors)
    context["refresh_seconds"] = MEETING_REFRESH_SECONDS
    return render(request, "insights/meeting.html", context)


@managers_only
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    board, _errors = _board(request)
    response = HttpResponse(dashboard_workbook(board), content_type=XLSX)
    name = f"delivery-health-{board.period.first}-{board.period.last}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@managers_only
@require_GET
def drill(request: HttpRequest) -> HttpResponse:
    """The orders behind one figure; `format=xlsx` downloads all of them."""
    now = timezone.now()
    choice = period_from_query(request.GET, timezone.localtime(now).date())
    metric = request.GET.get("metric", "")
    if metric not in METRICS:
        metric = "orders_in"
    key = request.GET.get("key", "")[:80]
    scope = Scope.from_query(request.GET)
    want_xlsx = request.GET.get("format") == "xlsx"
    page_no = int(request.GET["page"]) if str(request.GET.get("page", "")).isdigit() else 1
    size = 100_000 if want_xlsx else 50
    page = drill_page(
        metric=metric, key=key, period=choice.period, scope=scope, now=now, page=page_no, size=size
    )
    if want_xlsx:
        response = HttpResponse(drill_workbook(page, page.rows), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="orders-{metric}.xlsx"'
        return response
    query = {**scope.query(), "from": choice.period.first.isoformat(), "to": choice.period.last.isoformat()}
    return render(
        request,
        "insights/drill.html",
        {
            "nav": "dashboard",
            "page": page,
            "metric_code": metric,
            "key": key,
            "period": choice.period,
            "query": {**query, "metric": metric, **({"key": key} if key else {})},
            "dashboard_query": query,
        },
    )
