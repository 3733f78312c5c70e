"""The customer's lookup page (/track): no staff login; a phone and SMS code, or an order
number and the phone's last four digits. Views only parse, call a service and render.

What a customer may see after a lookup (the orders found) is kept in a signed, timed cookie of
the portal's own, not in a database session: a lookup writes nothing but its rate-limit counters
and its record, and reading the orders back needs no session row.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from orderhub.portal.conf import portal_conf
from orderhub.portal.selectors import customer_orders, mask_phone
from orderhub.portal.services import Outcome, code_request, code_verify, order_lookup, phone_orders

GRANT_COOKIE = "orderhub_track"
_SALT = "orderhub.portal.grant"
MESSAGES = {
    "sent": "如果该号码有订单，验证码已通过短信发送，5 分钟内有效。",
    "rejected_code": "验证码错误或已过期，请重新获取。",
    "rejected_order": "订单号或手机尾号不正确。",
    "invalid_phone": "请输入 11 位手机号码。",
    "invalid_code": "请输入 6 位数字验证码。",
    "invalid_order": "请输入订单号和手机号后 4 位。",
    "limited": "操作过于频繁，请稍后再试。",
    "expired": "查询已过期，请重新验证。",
}


def _granted(response: HttpResponse, order_ids: list[int], phone: str = "") -> HttpResponse:
    """Let this browser see these orders for SESSION_SECONDS (signed: it cannot be forged or
    extended; it holds the order ids and the masked phone, never the number itself)."""
    value = json.dumps({"o": order_ids, "p": mask_phone(phone) if phone else ""}, separators=(",", ":"))
    response.set_signed_cookie(
        GRANT_COOKIE,
        value,
        salt=_SALT,
        max_age=portal_conf("SESSION_SECONDS"),
        path="/track",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _grant(request: HttpRequest) -> dict[str, Any] | None:
    try:
        value = request.get_signed_cookie(GRANT_COOKIE, salt=_SALT, max_age=portal_conf("SESSION_SECONDS"))
        grant = json.loads(value)
    except (KeyError, signing.BadSignature, ValueError):
        return None
    return grant if isinstance(grant, dict) and isinstance(grant.get("o"), list) else None


def _ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _page(request: HttpRequest, template: str, status: int = 200, **context: Any) -> HttpResponse:
    return render(request, f"portal/{template}", context, status=status)


@require_GET
def start(request: HttpRequest) -> HttpResponse:
    return _page(request, "start.html")


@require_POST
def code(request: HttpRequest) -> HttpResponse:
    """Send a code; the same answer whether or not the number has orders."""
    phone = request.POST.get("phone", "")
    outcome = code_request(phone_raw=phone, ip=_ip(request))
    if outcome is Outcome.INVALID:
        return _page(request, "start.html", 400, error=MESSAGES["invalid_phone"], phone=phone)
    if outcome is Outcome.LIMITED:
        return _page(request, "start.html", 429, error=MESSAGES["limited"], phone=phone)
    return _page(request, "verify.html", phone=phone.strip(), info=MESSAGES["sent"])


@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    phone = request.POST.get("phone", "")
    outcome, normalised = code_verify(phone_raw=phone, code=request.POST.get("code", ""), ip=_ip(request))
    if outcome is Outcome.OK:
        return _granted(redirect("portal:orders"), phone_orders(normalised), normalised)
    status, message = {
        Outcome.INVALID: (400, MESSAGES["invalid_code"]),
        Outcome.LIMITED: (429, MESSAGES["limited"]),
    }.get(outcome, (200, MESSAGES["rejected_code"]))
    return _page(request, "verify.html", status, phone=phone.strip(), error=message)


@require_POST
def by_order(request: HttpRequest) -> HttpResponse:
    number = request.POST.get("order_no", "")
    found = order_lookup(number=number, last4=request.POST.get("last4", ""), ip=_ip(request))
    if found.outcome is Outcome.OK and found.order_id is not None:
        return _granted(redirect("portal:orders"), [found.order_id])
    status, message = {
        Outcome.INVALID: (400, MESSAGES["invalid_order"]),
        Outcome.LIMITED: (429, MESSAGES["limited"]),
    }.get(found.outcome, (200, MESSAGES["rejected_order"]))
    return _page(request, "start.html", status, order_error=message, order_no=number.strip())


@require_GET
def orders(request: HttpRequest) -> HttpResponse:
    grant = _grant(request)
    if grant is None:
        response = redirect("portal:start")
        response.delete_cookie(GRANT_COOKIE, path="/track")
        return response
    ids = [i for i in grant["o"] if isinstance(i, int)]
    return _page(
        request, "orders.html", orders=customer_orders(order_ids=ids), phone=str(grant.get("p") or "")
    )


@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    response = redirect("portal:start")
    response.delete_cookie(GRANT_COOKIE, path="/track")
    return response
