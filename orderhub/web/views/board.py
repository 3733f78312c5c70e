"""The collaboration board: the page, its cheap poll, "more" paging, moves and bulk actions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from orderhub.accounts.models import LegalEntity, User
from orderhub.accounts.roles import Role
from orderhub.core.errors import AppError, NotFound
from orderhub.fulfilment.labels import labels_print
from orderhub.ingest.models import Channel
from orderhub.inventory.models import Warehouse
from orderhub.orders.services import order_transition
from orderhub.orders.states import TRANSITIONS, OrderStatus
from orderhub.web import board as selectors
from orderhub.web.board_cache import CachedBoard, board_columns
from orderhub.web.forms import BoardFilterForm, TransitionForm
from orderhub.web.roles import preset_for
from orderhub.web.services import board_bulk_transition, labels_check, parse_selection


def filter_choices() -> dict[str, list[tuple[Any, str]]]:
    return {
        "channel": list(Channel.objects.order_by("code").values_list("code", "name")),
        "warehouse": [(w.pk, w.name) for w in Warehouse.objects.filter(active=True)],
        "owner": [
            (u.pk, str(u))
            for u in User.objects.filter(groups__name=Role.SALES, is_active=True).distinct().order_by("pk")
        ],
        "entity": [(e.pk, e.name) for e in LegalEntity.objects.all()],
    }


def board_form(request: HttpRequest, data: QueryDict | None, *, lists: bool = False) -> BoardFilterForm:
    """The filter form; `lists` loads the choice lists (only the full page shows them)."""
    mine_default = preset_for(request.user).mine_default
    return BoardFilterForm(data, choices=filter_choices() if lists else None, mine_default=mine_default)


def transitions_table() -> dict[str, dict[str, dict[str, Any]]]:
    """source → target → what the board needs to know before sending a move."""
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for t in TRANSITIONS:
        for source in t.sources:
            table.setdefault(source, {})[t.target] = {
                "name": t.name,
                "label": str(t.label),
                "kind": str(t.kind),
                "reason": t.requires_reason,
            }
    return table


def _selected(data: QueryDict) -> set[int]:
    return {item.order_id for item in parse_selection(data.getlist("sel"))}


def _client_sigs(data: QueryDict) -> dict[str, str]:
    return {s: data.get(f"sig_{s}", "") for s in OrderStatus.values}


def _board(
    request: HttpRequest, form: BoardFilterForm, known: dict[str, str] | None = None
) -> selectors.Board:
    return selectors.board_get(
        actor=request.user, preset=preset_for(request.user), filters=form.to_filters(), known=known
    )


def _cached_board(request: HttpRequest, form: BoardFilterForm, stamp: selectors.Stamp) -> CachedBoard:
    return board_columns(
        actor=request.user,
        preset=preset_for(request.user),
        filters=form.to_filters(),
        query_string=form.query_string(),
        stamp=stamp,
    )


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """The board: one column per state with counts and the most urgent cards, filtered."""
    form = board_form(request, request.GET, lists=True)
    board = _cached_board(request, form, selectors.board_stamp())
    context = {
        "nav": "board",
        "form": form,
        "stamp": board.stamp,
        "board": board,
        "board_html": board.page_html(),
        "preset": preset_for(request.user),
        "filter_qs": form.query_string(),
        "transitions": transitions_table(),
        "selected": set(),
    }
    return render(request, "web/board.html", context)


def _updates(
    request: HttpRequest,
    data: QueryDict,
    *,
    flash: tuple[str, str] | None = None,
    bulk: dict[str, Any] | None = None,
    stamp: selectors.Stamp | None = None,
) -> HttpResponse:
    """Out-of-band swaps of the columns that changed (plus a message); 204 when nothing changed."""
    form = board_form(request, data)
    sigs = _client_sigs(data)
    b = _board(request, form, known=sigs)
    changed = [c for c in b.columns if not c.unchanged]
    new_stamp = stamp.key if stamp and stamp.key != data.get("stamp") else None
    if not changed and flash is None and bulk is None and new_stamp is None:
        return HttpResponse(status=204)
    context = {
        "stamp": new_stamp,
        "columns": changed,
        "flash": flash,
        "bulk": bulk,
        "filter_qs": form.query_string(),
        "selected": _selected(data),
    }
    return render(request, "web/board/_updates.html", context)


@login_required
@require_GET
def board_poll(request: HttpRequest) -> HttpResponse:
    """Polled every 2 s by an open board: 204 at the cost of one index lookup while no order changed;
    otherwise sends the columns whose signature changed (built once per scope and stamp)."""
    stamp = selectors.board_stamp()
    client_stamp = request.GET.get("stamp")
    if stamp.settled and client_stamp == stamp.key:
        return HttpResponse(status=204)
    if request.GET.getlist("sel"):  # cards ticked on this board: their columns keep the ticks
        return _updates(request, request.GET, stamp=stamp)
    form = board_form(request, request.GET)
    board = _cached_board(request, form, stamp)
    sigs = _client_sigs(request.GET)
    changed = [c.html for c in board.columns if sigs.get(c.status) != c.sig]
    new_stamp = board.stamp if board.stamp != client_stamp else None
    if not changed and new_stamp is None:
        return HttpResponse(status=204)
    context = {"stamp": new_stamp, "column_html": changed, "filter_qs": form.query_string()}
    return render(request, "web/board/_updates.html", context)


@login_required
@require_GET
def board_more(request: HttpRequest, status: str) -> HttpResponse:
    """The next cards of one column, appended below the ones shown."""
    form = board_form(request, request.GET)
    held = request.GET.get("held") == "1"
    try:
        cards, nxt = selectors.column_page(
            actor=request.user,
            filters=form.to_filters(),
            status=status,
            cursor=request.GET.get("cursor", ""),
            held=held,
        )
    except AppError as exc:
        return HttpResponse(f'<li class="col-empty error">{exc.message}</li>')
    context = {
        "cards": cards,
        "next_cursor": nxt,
        "status": status,
        "held": held,
        "filter_qs": form.query_string(),
        "selected": set(),
    }
    return render(request, "web/board/_more.html", context)


@login_required
@require_POST
def board_move(request: HttpRequest) -> HttpResponse:
    """A card dragged (or moved from its menu) to another column: one order_transition."""
    form = TransitionForm(request.POST)
    try:
        order_id = int(request.POST.get("order_id", ""))
    except ValueError:
        return _updates(request, request.POST, flash=("error", _("请求无效：缺少订单")))
    if not form.is_valid():
        return _updates(request, request.POST, flash=("error", form.first_error()))
    d = form.cleaned_data
    try:
        order = order_transition(
            order_id=order_id,
            to=d["to"],
            actor=request.user,
            expected_version=d["expected_version"],
            reason=d["reason"],
        )
    except NotFound:
        flash = ("error", _("订单 %(id)s 不存在") % {"id": order_id})
    except AppError as exc:
        flash = ("error", exc.message)
    else:
        label = OrderStatus(order.status).label
        flash = ("success", _("订单 %(no)s 已变为「%(status)s」") % {"no": order.order_no, "status": label})
    return _updates(request, request.POST, flash=flash)


@login_required
@require_POST
def board_bulk(request: HttpRequest) -> HttpResponse:
    """Approve, cancel or check labels for the selected cards, with a result per card."""
    action = request.POST.get("action", "")
    try:
        items = parse_selection(request.POST.getlist("sel"))
        if not items:
            return _updates(request, request.POST, flash=("error", _("请先勾选卡片")))
        if action == "labels":
            outcomes = labels_check(actor=request.user, items=items)
        else:
            outcomes = board_bulk_transition(
                actor=request.user, items=items, action=action, reason=request.POST.get("reason", "")
            )
    except AppError as exc:
        return _updates(request, request.POST, flash=("error", exc.message))
    bulk = {
        "action": action,
        "outcomes": outcomes,
        "ok": sum(1 for o in outcomes if o.ok),
        "failed": sum(1 for o in outcomes if not o.ok),
        "printable": [o.order_id for o in outcomes if o.ok] if action == "labels" else [],
    }
    return _updates(request, request.POST, bulk=bulk)


@login_required
@require_POST
def board_labels(request: HttpRequest) -> HttpResponse:
    """The labels PDF of the selected orders (fulfilment draws and logs every print)."""
    items = parse_selection(request.POST.getlist("sel"))
    ok = [o.order_id for o in labels_check(actor=request.user, items=items) if o.ok]
    try:
        job = labels_print(order_ids=ok, actor=request.user)
    except AppError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
    response = HttpResponse(job.pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="labels.pdf"'
    return response
