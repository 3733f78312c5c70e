"""Staff pages: paste a message or upload screenshots → check the draft → confirm into an order."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orderhub.core.errors import AppError, NotFound
from orderhub.drafts.forms import confirmed_fields
from orderhub.drafts.models import Draft, DraftStatus
from orderhub.drafts.parser import LOW_CONFIDENCE
from orderhub.drafts.selectors import can_draft, draft_get, draft_list
from orderhub.drafts.services import (
    draft_confirm,
    draft_create_from_images,
    draft_create_from_text,
    draft_discard,
    fields_from_parsed,
    uploads_from_files,
)


def _guard(request: HttpRequest) -> None:
    if not can_draft(request.user):
        raise Http404


def _draft(request: HttpRequest, draft_id: int) -> Draft:
    _guard(request)
    try:
        return draft_get(actor=request.user, draft_id=draft_id)  # type: ignore[arg-type]
    except NotFound:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def draft_home(request: HttpRequest) -> HttpResponse:
    """Paste a chat message or upload screenshots/photos (the phone camera works too)."""
    _guard(request)
    if request.method == "POST":
        files = request.FILES.getlist("images")
        try:
            if files:
                uploads = uploads_from_files(files)
                draft = draft_create_from_images(actor=request.user, uploads=uploads)  # type: ignore[arg-type]
            else:
                draft = draft_create_from_text(actor=request.user, text=request.POST.get("text", ""))  # type: ignore[arg-type]
        except AppError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("drafts:detail", draft.pk)
    drafts = draft_list(actor=request.user)  # type: ignore[arg-type]
    return render(request, "drafts/home.html", {"drafts": drafts, "nav": "drafts"})


def _field_rows(parsed: dict[str, Any]) -> dict[str, Any]:
    """Each field's confidence and whether it is low, for highlighting."""

    def mark(conf: float) -> dict[str, Any]:
        return {"confidence": round(conf * 100), "low": conf < LOW_CONFIDENCE}

    return {
        "customer": mark(parsed.get("customer", {}).get("confidence", 0)),
        "receiver_name": mark(parsed.get("receiver_name", {}).get("confidence", 0)),
        "phone": mark(parsed.get("phone", {}).get("confidence", 0)),
        "address": mark(parsed.get("address", {}).get("confidence", 0)),
    }


@login_required
@require_http_methods(["GET", "POST"])
def draft_detail(request: HttpRequest, draft_id: int) -> HttpResponse:
    """The confirmation form: every field, low-confidence ones highlighted, SKU alternatives."""
    draft = _draft(request, draft_id)
    fields = fields_from_parsed(draft.parsed)
    error_field = ""
    if request.method == "POST":
        try:
            fields = confirmed_fields(request.POST)
            order = draft_confirm(
                actor=request.user,  # type: ignore[arg-type]
                draft_id=draft.pk,
                fields=fields,
                not_duplicate=request.POST.get("not_duplicate") == "1",
            )
        except AppError as exc:
            messages.error(request, exc.message)
            error_field = exc.field or ""
        else:
            messages.success(request, f"已生成订单 {order.order_no}（待审核）")
            return redirect("web:order_detail", order.pk)
    parsed_lines = draft.parsed.get("lines", [])
    rows = []
    for i, (code, qty) in enumerate(fields.lines or [("", 0)]):
        parsed_line = parsed_lines[i] if i < len(parsed_lines) else {}
        rows.append(
            {
                "i": i,
                "sku": code,
                "qty": qty or "",
                "parsed": parsed_line,
                "low": parsed_line.get("confidence", 0) < LOW_CONFIDENCE,
                "confidence": round(parsed_line.get("confidence", 0) * 100),
            }
        )
    blank_from = len(rows)
    rows += [{"i": blank_from + k, "sku": "", "qty": "", "parsed": {}, "low": False} for k in range(2)]
    context = {
        "draft": draft,
        "fields": fields,
        "marks": _field_rows(draft.parsed),
        "rows": rows,
        "flags": draft.parsed.get("flags", []),
        "editable": draft.status in (DraftStatus.DRAFT, DraftStatus.DUPLICATE),
        "error_field": error_field,
        "images": list(draft.images.all()),
        "nav": "drafts",
    }
    return render(request, "drafts/detail.html", context)


@login_required
@require_POST
def draft_discard_view(request: HttpRequest, draft_id: int) -> HttpResponse:
    draft = _draft(request, draft_id)
    try:
        draft_discard(actor=request.user, draft_id=draft.pk)  # type: ignore[arg-type]
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("drafts:detail", draft.pk)
    messages.success(request, f"草稿 #{draft.pk} 已作废")
    return redirect("drafts:home")


@login_required
@require_GET
def draft_image(request: HttpRequest, draft_id: int, position: int) -> HttpResponse:
    """The original upload, only to those who may see the draft (it shows phones and addresses)."""
    draft = _draft(request, draft_id)
    image = next((img for img in draft.images.all() if img.position == position), None)
    if image is None:
        raise Http404
    response = FileResponse(
        image.file.open("rb"), content_type=image.content_type or "application/octet-stream"
    )
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
