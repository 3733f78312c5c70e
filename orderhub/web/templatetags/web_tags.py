"""Small presentation helpers for the staff pages: masked phones, status badges, summaries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orderhub.orders.states import OrderStatus

register = template.Library()


@register.filter
def mask_phone(phone: str | None) -> str:
    """Show a receiver's phone as 138****5678: enough to recognise it, not to copy it."""
    phone = (phone or "").strip()
    if not phone:
        return "—"
    main, sep, extension = phone.partition("-")
    main = f"{main[:3]}****{main[-4:]}" if len(main) >= 7 else "*" * len(main)
    return f"{main}{sep}{extension}"


@register.filter
def status_label(code: str) -> str:
    """The UI label of a status code (待审核 …); unknown codes are shown as they are."""
    if code in OrderStatus.values:
        return str(OrderStatus(code).label)
    return code


@register.simple_tag
def status_badge(code: str) -> SafeString:
    return format_html('<span class="badge st-{}">{}</span>', code, status_label(code))


@register.filter
def lines_summary(order: Any) -> str:
    """「陶瓷刹车片 前轮 ×20 等 3 项」from the (prefetched) order lines."""
    lines = list(order.lines.all())
    if not lines:
        return "—"
    first = lines[0]
    text = f"{first.name or first.sku_code} ×{first.quantity}"
    if len(lines) > 1:
        text = ngettext("%(first)s 等 %(n)s 项", "%(first)s 等 %(n)s 项", len(lines)) % {
            "first": text,
            "n": len(lines),
        }
    return text


@register.filter
def hold_reasons(order: Any) -> str:
    """Labels of the order's open holds, joined for a tooltip or a line of text."""
    return _("、").join(order.open_hold_reasons())


@register.filter
def minutes(value: timedelta | None) -> int:
    if not value:
        return 0
    return int(value.total_seconds() // 60)


@register.filter
def age(minutes: int | None) -> str:
    """Minutes as 「3天4小时」 / 「2小时5分」 / 「12分」 (time in state, targets)."""
    from orderhub.web.board import age_text

    return age_text(int(minutes or 0))


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key, "")


@register.filter
def hold_label(code: str) -> str:
    """The label of a hold reason code (地址不完整 …)."""
    from orderhub.orders.models import HoldReason

    return str(HoldReason(code).label) if code in HoldReason.values else code


@register.simple_tag(takes_context=True)
def board_card(context: template.Context, card: Any) -> SafeString:
    """One board card (built in Python: the board's hot spot); checked when the person selected it."""
    from orderhub.web.cards import card_html

    selected = context.get("selected") or ()
    return card_html(card, selected=card.order.pk in selected, static=bool(context.get("static")))
