"""Drafts REST API: a chat message or screenshots in, the parsed draft out (nothing is ordered)."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from orderhub.accounts.models import User
from orderhub.core.errors import ValidationFailed
from orderhub.core.schemas import error_responses
from orderhub.drafts.models import Draft
from orderhub.drafts.services import draft_create_from_images, draft_create_from_text, uploads_from_files

router = Router(tags=["drafts"])


class DraftOut(Schema):
    id: int
    status: str
    source: str
    text: str
    created_at: str
    duplicate_of: dict[str, Any] | None
    order_no: str | None
    url: str
    draft: dict[str, Any]


def _actor(request: HttpRequest) -> User:
    return cast(User, request.auth)  # type: ignore[attr-defined]


def draft_out(draft: Draft) -> DraftOut:
    return DraftOut(
        id=draft.pk,
        status=draft.status,
        source=draft.source,
        text=draft.text,
        created_at=draft.created_at.isoformat(),
        duplicate_of=draft.parsed.get("duplicate_of"),
        order_no=draft.order.order_no if draft.order_id else None,
        url=f"/drafts/{draft.pk}/",
        draft={k: v for k, v in draft.parsed.items() if k not in ("text", "duplicate_of")},
    )


@router.post(
    "/drafts",
    response={201: DraftOut, **error_responses(400, 401, 403, 422)},
    summary="Read an order from a chat message or screenshots into a draft",
    operation_id="draft_create",
)
def create_draft(
    request: HttpRequest,
    text: Form[str] = "",
    images: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Status[DraftOut]:
    """multipart/form-data with `text` (one message) or one or more `images` (PNG/JPEG/WebP
    screenshots or photos, OCR'd offline). Answers with the draft: receiver, phone, address with
    GB/T 2260 codes, lines (SKU code, quantity in pieces, alternatives) and each field's confidence;
    `status` is `duplicate` (with `duplicate_of`) when it repeats a recent draft or order. A person
    confirms the draft on its page (`url`) before any order exists."""
    actor = _actor(request)
    if images:
        uploads = uploads_from_files(list(images))
        draft = draft_create_from_images(actor=actor, uploads=uploads)
    elif text.strip():
        draft = draft_create_from_text(actor=actor, text=text)
    else:
        raise ValidationFailed("请提供 text 或 images / send text or images", field="text")
    return Status(201, draft_out(draft))
