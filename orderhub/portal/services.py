"""Customer self-service lookup (客户自助查询): one-time SMS codes and order-number lookups.

No enumeration: a code is "sent" to every well-formed number (only numbers that have orders
get an SMS), and unknown numbers, wrong codes and wrong order numbers get exactly the answers
known ones get. Codes are stored as keyed hashes, expire after 5 minutes, are single use and
burnt after 5 wrong guesses. Every limit is counted in the database (shared by all workers).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orderhub.orders.models import Order, PhoneKind
from orderhub.portal import ratelimit
from orderhub.portal.conf import portal_conf
from orderhub.portal.models import LookupCode, LookupEvent, LookupKind

logger = logging.getLogger("orderhub.portal")
_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_DIGITS = re.compile(r"\D")


class Outcome(Enum):
    OK = "ok"
    REJECTED = "rejected"  # wrong code, unknown number or order: one answer for all
    LIMITED = "limited"  # too many attempts
    INVALID = "invalid"  # not a mobile number / not 4 digits (says nothing about existence)


def keyed_digest(text: str) -> str:
    """HMAC-SHA256 under the server's secret: useless to anyone who reads the table."""
    return hmac.new(settings.SECRET_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


def phone_normalize(raw: str) -> str | None:
    """An 11-digit mainland mobile number, or None."""
    match = _MOBILE.match(re.sub(r"[\s\-()]", "", raw or ""))
    return match.group(1) if match else None


def phone_digest(phone: str) -> str:
    return keyed_digest(f"phone:{phone}")


def _code_digest(phone: str, code: str) -> str:
    return keyed_digest(f"code:{phone}:{code}")


def phone_orders(phone: str) -> list[int]:
    """Root orders whose receiver has this (real, unmasked) number."""
    return list(
        Order.objects.filter(receiver_phone=phone, phone_kind=PhoneKind.NORMAL, parent__isnull=True)
        .order_by("-ordered_at")
        .values_list("pk", flat=True)[:50]
    )


# --- one-time codes ---------------------------------------------------------------------------


def code_request(*, phone_raw: str, ip: str, now: datetime | None = None) -> Outcome:
    """Issue a 6-digit code for a number (SMS only where the number has orders)."""
    now = now or timezone.now()
    phone = phone_normalize(phone_raw)
    if phone is None:
        return Outcome.INVALID
    digest = phone_digest(phone)
    if not ratelimit.allowed(("code_ip", ip), ("code_phone", digest), now=now):
        return Outcome.LIMITED
    code = f"{secrets.randbelow(10**6):06d}"
    has_orders = bool(phone_orders(phone))
    with transaction.atomic():
        # A new code replaces any earlier one.
        LookupCode.objects.filter(phone_digest=digest, used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )
        row = LookupCode.objects.create(
            phone_digest=digest,
            code_digest=_code_digest(phone, code),
            created_at=now,
            expires_at=now + timedelta(seconds=portal_conf("CODE_TTL_SECONDS")),
        )
        if has_orders:
            _send(phone, code, row.pk)
    return Outcome.OK


def _send(phone: str, code: str, row_id: int) -> None:
    """Owe the SMS through the notify app's outbox (its simulated provider logs it in the demo)."""
    try:
        from orderhub.notify.models import NotifyChannel
        from orderhub.notify.services import message_send
    except ImportError:  # an installation without the notify app: the log is all there is
        logger.info("lookup code for %s****%s: %s", phone[:3], phone[-4:], code)
        return
    minutes = portal_conf("CODE_TTL_SECONDS") // 60
    message_send(
        channel=NotifyChannel.SMS,
        key=f"portal-code:{row_id}",
        title="订单查询验证码",
        body=f"您的订单查询验证码为 {code}，{minutes} 分钟内有效。如非本人操作请忽略。",
        address=phone,
        sms_template=str(portal_conf("SMS_TEMPLATE")),
        sms_params={"code": code},
    )


def code_verify(*, phone_raw: str, code: str, ip: str, now: datetime | None = None) -> tuple[Outcome, str]:
    """Check a code; on success it is used up. Returns (outcome, the normalised number)."""
    now = now or timezone.now()
    phone = phone_normalize(phone_raw)
    code = (code or "").strip()
    if phone is None or not re.fullmatch(r"\d{6}", code):
        return Outcome.INVALID, ""
    digest = phone_digest(phone)
    if not ratelimit.allowed(("verify_ip", ip), ("verify_phone", digest), now=now):
        return Outcome.LIMITED, ""
    with transaction.atomic():
        row = (
            LookupCode.objects.select_for_update()
            .filter(phone_digest=digest, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at", "-pk")
            .first()
        )
        if row is None or row.attempts >= portal_conf("CODE_MAX_ATTEMPTS"):
            return Outcome.REJECTED, ""
        if not hmac.compare_digest(row.code_digest, _code_digest(phone, code)):
            LookupCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
            return Outcome.REJECTED, ""
        # The conditional update makes the code single use even when two requests race.
        if not LookupCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
            return Outcome.REJECTED, ""
        order_ids = phone_orders(phone)
        LookupEvent.objects.create(
            at=now, kind=LookupKind.PHONE, orders_found=len(order_ids), order_ids=order_ids
        )
    return Outcome.OK, phone


# --- order number + last four digits --------------------------------------------------------------


def _tails(phone: str) -> set[str]:
    """The 4-digit endings a receiver may know: of the number, and of a virtual number's
    extension and its main number (13800001111-1234)."""
    tails = set()
    for part in [phone, *phone.split("-")]:
        digits = _DIGITS.sub("", part)
        if len(digits) >= 4:
            tails.add(digits[-4:])
    return tails


def _find_root(number: str) -> Order | None:
    fields = ("pk", "parent_id", "receiver_phone")
    order = Order.objects.filter(order_no=number).only(*fields).first()
    if order is None:
        order = Order.objects.filter(channel_order_no=number, parent__isnull=True).only(*fields).first()
    if order is not None and order.parent_id is not None:
        order = Order.objects.filter(pk=order.parent_id).only(*fields).first()
    return order


@dataclass(frozen=True)
class OrderLookup:
    outcome: Outcome
    order_id: int | None = None


def order_lookup(*, number: str, last4: str, ip: str, now: datetime | None = None) -> OrderLookup:
    """Find one order by its number (OrderHub's or the channel's) and the phone's last 4 digits;
    works for platform-masked (138****5678) and virtual numbers too."""
    now = now or timezone.now()
    number = (number or "").strip()[:64]
    last4 = (last4 or "").strip()
    if not number or not re.fullmatch(r"\d{4}", last4):
        return OrderLookup(Outcome.INVALID)
    if not ratelimit.allowed(("order_ip", ip), ("order_no", keyed_digest(number)), now=now):
        return OrderLookup(Outcome.LIMITED)
    order = _find_root(number)
    tails = _tails(order.receiver_phone) if order is not None else {"----"}
    matched = any(hmac.compare_digest(t, last4) for t in tails)
    if order is None or not matched:
        return OrderLookup(Outcome.REJECTED)
    LookupEvent.objects.create(at=now, kind=LookupKind.ORDER_NO, orders_found=1, order_ids=[order.pk])
    return OrderLookup(Outcome.OK, order.pk)


def codes_prune(*, now: datetime | None = None) -> int:
    """Forget codes a day after they expired, and old rate-limit windows."""
    now = now or timezone.now()
    deleted, _ = LookupCode.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    return deleted + ratelimit.counters_prune(now=now)
