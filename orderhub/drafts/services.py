"""Writes for drafts: create one from a message or images, spot repeats, confirm into an order.

Nothing becomes an order without a person: `draft_confirm` is the only way from a draft to
`order_create`, and it takes the fields as that person confirmed them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from orderhub.accounts.models import User
from orderhub.catalog.models import Customer, Sku
from orderhub.core.errors import Conflict, PermissionDenied, ValidationFailed
from orderhub.drafts.conf import drafts_setting
from orderhub.drafts.models import Draft, DraftImage, DraftSource, DraftStatus
from orderhub.drafts.ocr import OcrLine, image_open, ocr_confidence, ocr_lines, reading_order
from orderhub.drafts.parser import CustomerDirectory, ParsedMessage, parse_message
from orderhub.drafts.selectors import DatabaseDirectory, can_draft, draft_get, sku_index_load
from orderhub.drafts.skus import SkuIndex
from orderhub.ingest.models import Channel, ChannelKind
from orderhub.ingest.normalize import normalize_phone, resolve_address
from orderhub.orders.models import HoldReason, Order, OrderLine, PhoneKind
from orderhub.orders.services import LineDraft, OrderDraft, order_create
from orderhub.orders.states import OrderStatus


@dataclass
class Upload:
    name: str
    data: bytes
    content_type: str = ""


def uploads_from_files(files: list[Any]) -> list[Upload]:
    """Django's uploaded files as Uploads; one over the byte limit is refused before it is read."""
    from orderhub.drafts.ocr import ImageRefused

    limit = drafts_setting("MAX_IMAGE_BYTES")
    if len(files) > drafts_setting("MAX_IMAGES"):
        raise ValidationFailed(
            f"一次最多 {drafts_setting('MAX_IMAGES')} 张图片 / too many images", field="images"
        )
    for f in files:
        if (f.size or 0) > limit:
            raise ImageRefused(
                f"图片「{f.name}」太大：{f.size / 1024 / 1024:.1f} MB，上限 {limit / 1024 / 1024:.1f} MB"
                " / image too large",
                field="images",
            )
    return [Upload(f.name or "image", f.read(), f.content_type or "") for f in files]


def _require(actor: User) -> None:
    if not can_draft(actor):
        raise PermissionDenied("您的角色不能录入订单草稿 / your role cannot create order drafts")


def message_parse(
    text: str, *, index: SkuIndex | None = None, directory: CustomerDirectory | None = None
) -> ParsedMessage:
    """Parse one message against the live catalog and customers (no writes)."""
    return parse_message(
        text,
        index=index or sku_index_load(),
        directory=directory if directory is not None else DatabaseDirectory(),
    )


def images_read(uploads: list[Upload]) -> tuple[str, list[tuple[Upload, Any, list[OcrLine]]]]:
    """Check every image first (one bad file refuses the lot), then OCR them in upload order."""
    if not uploads:
        raise ValidationFailed("请上传截图或照片 / no image", field="images")
    if len(uploads) > drafts_setting("MAX_IMAGES"):
        raise ValidationFailed(
            f"一次最多 {drafts_setting('MAX_IMAGES')} 张图片 / too many images", field="images"
        )
    images = [(u, image_open(u.data, u.name)) for u in uploads]
    read = [(u, img, ocr_lines(img)) for u, img in images]
    text = "\n".join(reading_order(lines) for _u, _img, lines in read if lines)
    return text, read


def scale_confidence(parsed: ParsedMessage, factor: float) -> None:
    """Fields read by OCR are only as sure as the OCR was."""
    factor = min(1.0, factor + 0.03)
    for part in (parsed.customer, parsed.receiver_name, parsed.phone, parsed.address):
        if part.get("confidence"):
            part["confidence"] = round(part["confidence"] * factor, 2)
    for line in parsed.lines:
        line.sku_confidence = round(line.sku_confidence * factor, 2)
        line.quantity_confidence = round(line.quantity_confidence * factor, 2)


# --- duplicates -------------------------------------------------------------------------------


def _customer_key(parsed: dict[str, Any]) -> str:
    return parsed["customer"].get("code") or parsed["phone"].get("value") or ""


def _line_key(lines: list[dict[str, Any]] | list[tuple[str, int]]) -> list[tuple[str, int]]:
    pairs = [(ln["sku_code"], ln["quantity"]) if isinstance(ln, dict) else ln for ln in lines]
    return sorted((code, int(qty or 0)) for code, qty in pairs if code)


def fingerprint(parsed: dict[str, Any]) -> str:
    """Same customer (or phone) and the same SKUs and quantities ⇒ the same fingerprint."""
    key, lines = _customer_key(parsed), _line_key(parsed["lines"])
    if not key or not lines:
        return ""
    return hashlib.sha256(json.dumps([key, lines], ensure_ascii=False).encode()).hexdigest()


def _duplicate_of(parsed: dict[str, Any], print_: str, now: datetime) -> tuple[Draft | None, Order | None]:
    """An earlier draft or order of this customer with these lines, within the window."""
    if not print_:
        return None, None
    since = now - timedelta(minutes=drafts_setting("DUPLICATE_WINDOW_MINUTES"))
    earlier = (
        Draft.objects.filter(fingerprint=print_, created_at__gte=since)
        .exclude(status=DraftStatus.DISCARDED)
        .order_by("created_at", "pk")
        .first()
    )
    if earlier is not None:
        return earlier.duplicate_of or earlier, None
    code, phone = parsed["customer"].get("code"), parsed["phone"].get("value")
    orders = Order.objects.filter(ordered_at__gte=since).exclude(status=OrderStatus.CANCELLED)
    orders = orders.filter(customer__code=code) if code else orders.filter(receiver_phone=phone)
    wanted = _line_key(parsed["lines"])
    candidates = list(orders.order_by("ordered_at").values_list("pk", flat=True)[:50])
    lines: dict[int, list[tuple[str, int]]] = {}
    for order_id, sku_code, qty in OrderLine.objects.filter(order_id__in=candidates).values_list(
        "order_id", "sku_code", "quantity"
    ):
        lines.setdefault(order_id, []).append((sku_code, qty))
    for order_id in candidates:
        if _line_key(lines.get(order_id, [])) == wanted:
            return None, Order.objects.get(pk=order_id)
    return None, None


# --- create -----------------------------------------------------------------------------------


def draft_create_from_text(*, actor: User, text: str, now: datetime | None = None) -> Draft:
    """A draft from one pasted chat message."""
    _require(actor)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("消息内容为空 / empty message", field="text")
    if len(text) > drafts_setting("MAX_TEXT_CHARS"):
        raise ValidationFailed(
            f"消息过长（上限 {drafts_setting('MAX_TEXT_CHARS')} 字）/ message too long", field="text"
        )
    parsed = message_parse(text)
    return _save(actor=actor, source=DraftSource.TEXT, text=text, parsed=parsed, now=now)


def draft_create_from_images(*, actor: User, uploads: list[Upload], now: datetime | None = None) -> Draft:
    """A draft from one or several screenshots or photos of the same order (OCR outside any transaction)."""
    _require(actor)
    text, read = images_read(uploads)
    parsed = message_parse(text)
    scale_confidence(parsed, ocr_confidence([ln for _u, _i, lines in read for ln in lines]))
    if not text:
        parsed.flags.append("no_text")
    return _save(actor=actor, source=DraftSource.IMAGE, text=text, parsed=parsed, now=now, images=read)


def _save(
    *,
    actor: User,
    source: str,
    text: str,
    parsed: ParsedMessage,
    now: datetime | None,
    images: list[tuple[Upload, Any, list[OcrLine]]] | None = None,
) -> Draft:
    now = now or timezone.now()
    data = parsed.as_dict()
    print_ = fingerprint(data)
    with transaction.atomic():
        dup_draft, dup_order = _duplicate_of(data, print_, now)
        data["duplicate_of"] = (
            {"draft": dup_draft.pk}
            if dup_draft
            else {"order": dup_order.pk, "order_no": dup_order.order_no}
            if dup_order
            else None
        )
        customer_code = data["customer"].get("code")
        draft = Draft.objects.create(
            source=source,
            text=text,
            parsed=data,
            status=DraftStatus.DUPLICATE if data["duplicate_of"] else DraftStatus.DRAFT,
            customer=Customer.objects.filter(code=customer_code).first() if customer_code else None,
            receiver_phone=data["phone"].get("value", "")[:32],
            fingerprint=print_,
            duplicate_of=dup_draft,
            duplicate_order=dup_order,
            created_by=actor,
            created_at=now,
        )
        for position, (upload, image, lines) in enumerate(images or []):
            row = DraftImage(
                draft=draft,
                position=position,
                name=upload.name[:255],
                content_type=image.info.get("mime", "")[:64],
                width=image.width,
                height=image.height,
                ocr_lines=[ln.as_dict() for ln in lines],
            )
            row.file.save(_stored_name(upload.name, position), ContentFile(upload.data), save=False)
            row.save()
    return draft


def _stored_name(name: str, position: int) -> str:
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else "img"
    suffix = suffix if suffix.isalnum() and len(suffix) <= 5 else "img"
    return f"draft-{timezone.now():%Y%m%d%H%M%S}-{position}.{suffix}"


# --- confirm ----------------------------------------------------------------------------------


@dataclass
class ConfirmedFields:
    """The fields as the person confirmed them on the form (or in the API call)."""

    lines: list[tuple[str, int]]
    customer_code: str = ""
    receiver_name: str = ""
    receiver_phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    detail: str = ""
    remark: str = ""
    holds: list[tuple[str, str]] = field(default_factory=list)


def wechat_channel() -> Channel:
    channel, _created = Channel.objects.get_or_create(
        code=drafts_setting("CHANNEL_CODE"), defaults={"name": "微信", "kind": ChannelKind.WECHAT}
    )
    return channel


def _check_lines(lines: list[tuple[str, int]]) -> None:
    if not lines:
        raise ValidationFailed("至少需要一行商品 / at least one line", field="lines")
    known = set(Sku.objects.filter(code__in={c for c, _q in lines}).values_list("code", flat=True))
    for i, (code, qty) in enumerate(lines, start=1):
        if not code:
            raise ValidationFailed(
                f"第 {i} 行：请选择商品 / line {i}: choose a SKU", field=f"lines.{i - 1}.sku_code"
            )
        if code not in known:
            raise ValidationFailed(
                f"第 {i} 行：商品编码「{code}」不存在 / line {i}: unknown SKU",
                field=f"lines.{i - 1}.sku_code",
            )
        if qty is None or qty <= 0:
            raise ValidationFailed(
                f"第 {i} 行：数量须大于 0 / line {i}: quantity must be positive",
                field=f"lines.{i - 1}.quantity",
            )


def draft_confirm(
    *, actor: User, draft_id: int, fields: ConfirmedFields, not_duplicate: bool = False
) -> Order:
    """Turn a draft into an order in 待审核 on the 微信 channel. Confirming twice returns the same order."""
    _require(actor)
    _check_lines(fields.lines)
    if fields.customer_code and not Customer.objects.filter(code=fields.customer_code).exists():
        raise ValidationFailed(
            f"客户「{fields.customer_code}」不存在 / unknown customer", field="customer_code"
        )
    address = resolve_address(
        province=fields.province, city=fields.city, district=fields.district, detail=fields.detail
    )
    phone = normalize_phone(fields.receiver_phone)
    holds = list(fields.holds)
    if phone.kind in (PhoneKind.INVALID, PhoneKind.EMPTY):
        holds.append((HoldReason.INVALID_PHONE, fields.receiver_phone or "—"))
    with transaction.atomic():
        draft_get(actor=actor, draft_id=draft_id)  # scope check
        draft = Draft.objects.select_for_update().get(pk=draft_id)
        if draft.status == DraftStatus.CONFIRMED and draft.order_id:
            return Order.objects.get(pk=draft.order_id)
        if draft.status == DraftStatus.DISCARDED:
            raise Conflict("草稿已作废 / the draft was discarded", code="draft_discarded")
        if draft.status == DraftStatus.DUPLICATE and not not_duplicate:
            raise Conflict(
                "这条消息疑似重复下单；确认不是重复后再提交 / likely a duplicate: confirm it is not",
                code="draft_duplicate",
            )
        channel = wechat_channel()
        source = "截图" if draft.source == DraftSource.IMAGE else "微信消息"
        order, _created = order_create(
            draft=OrderDraft(
                channel_code=channel.code,
                channel_order_no=f"DRAFT-{draft.pk}",
                customer_code=fields.customer_code or None,
                receiver_name=fields.receiver_name[:64],
                receiver_phone=phone.value,
                phone_kind=phone.kind,
                province=address.province,
                province_code=address.province_code,
                city=address.city,
                city_code=address.city_code,
                district=address.district,
                district_code=address.district_code,
                address_detail=address.detail,
                remark=(fields.remark or f"来自{source}草稿 #{draft.pk}")[:500],
                lines=[LineDraft(code, qty) for code, qty in fields.lines],
                holds=holds,
                raw={"draft": draft.pk, "source": draft.source, "lines": draft.parsed.get("lines", [])},
            ),
            actor=actor,
        )
        Draft.objects.filter(pk=draft.pk).update(
            status=DraftStatus.CONFIRMED, order=order, confirmed_by=actor, confirmed_at=timezone.now()
        )
    return order


def draft_discard(*, actor: User, draft_id: int) -> Draft:
    _require(actor)
    with transaction.atomic():
        draft_get(actor=actor, draft_id=draft_id)
        draft = Draft.objects.select_for_update().get(pk=draft_id)
        if draft.status == DraftStatus.CONFIRMED:
            raise Conflict("草稿已下单，不能作废 / already confirmed", code="draft_confirmed")
        draft.status = DraftStatus.DISCARDED
        draft.save(update_fields=["status"])
    return draft


def fields_from_parsed(parsed: dict[str, Any]) -> ConfirmedFields:
    """The parser's best guess, as the starting values of the confirmation form."""
    address = parsed.get("address") or {}
    return ConfirmedFields(
        lines=[(ln["sku_code"], ln["quantity"] or 0) for ln in parsed.get("lines", [])],
        customer_code=parsed.get("customer", {}).get("code", ""),
        receiver_name=parsed.get("receiver_name", {}).get("value", ""),
        receiver_phone=parsed.get("phone", {}).get("value", ""),
        province=address.get("province", ""),
        city=address.get("city", ""),
        district=address.get("district", ""),
        detail=address.get("detail", ""),
    )
