"""Message texts: Django template syntax over a fixed set of order fields (zh-Hans by default).

Managers edit the templates (`MessageTemplate`); a template that fails to render never blocks a
transition or loses a message: the built-in default text is used instead and the error logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.urls import reverse
from django.utils import timezone, translation

from orderhub.notify.conf import notify_conf
from orderhub.notify.models import EVENT_CHOICES, MessageTemplate
from orderhub.orders.states import OrderStatus

if TYPE_CHECKING:
    from orderhub.orders.models import Order

logger = logging.getLogger("orderhub.notify")

# Plain text and markdown, never HTML: no escaping. No loaders: {% include %} reaches nothing.
_ENGINE = Engine(autoescape=False, libraries={})
FORBIDDEN_TAGS = ("{% debug", "{%debug", "{% load", "{%load")

TRANSITION_TITLE = "订单 {{ order.order_no }} 已进入「{{ status_label }}」"
TRANSITION_BODY = (
    "{{ actor }} 于 {{ at|date:'Y-m-d H:i' }} 操作{% if reason %}，原因：{{ reason }}{% endif %}"
)
DEFAULTS: dict[str, tuple[str, str]] = {
    "hold": ("订单 {{ order.order_no }} 被拦截：{{ hold_labels }}", "请在待审核中处理拦截原因后再审核。"),
    "stalled": (
        "订单 {{ order.order_no }} 物流停滞",
        "{% if reason %}{{ reason }}"
        "{% elif hours %}{{ carrier }} {{ tracking_no }} 已 {{ hours }} 小时没有新轨迹"
        "{% else %}承运商长时间没有新的轨迹{% endif %}"
        "{% if last_event %}；最后一条：{{ last_event }}{% endif %}，请跟进。",
    ),
}
GENERIC = ("订单 {{ order.order_no }}：{{ event_label }}", "{{ reason }}")
DEFAULT_SMS_PARAMS = {"order_no": "{{ order.order_no }}", "status": "{{ status_label }}"}
# What the template editor lists as available.
FIELDS_HELP = (
    "order.order_no, order.channel, order.channel_order_no, order.status_label, order.customer, "
    "order.customer_tier, order.receiver_name, order.receiver_phone, order.address, order.province, "
    "order.city, order.district, order.total_amount, order.ordered_at, order.promised_at, "
    "order.warehouse, order.owner, order.remark, order.lines (sku_code, name, quantity), order.url; "
    "status_label, from_label, event_label, actor, at, reason"
)


class OrderFields:
    """The order fields a message template may read; nothing else of the model is reachable."""

    def __init__(self, order: Order, status: str = "") -> None:
        self._order = order
        # The state the notice is about: a notice planned later still names the state it tells of.
        self._status = status or order.status

    order_no = property(lambda self: self._order.order_no)
    channel_order_no = property(lambda self: self._order.channel_order_no or "")
    status = property(lambda self: self._status)

    @property
    def status_label(self) -> str:
        known = self._status in OrderStatus.values
        return str(OrderStatus(self._status).label) if known else self._status

    customer_tier = property(lambda self: self._order.get_customer_tier_display())
    receiver_name = property(lambda self: self._order.receiver_name)
    receiver_phone = property(lambda self: self._order.receiver_phone)
    province = property(lambda self: self._order.province)
    city = property(lambda self: self._order.city)
    district = property(lambda self: self._order.district)
    total_amount = property(lambda self: self._order.total_amount)
    goods_amount = property(lambda self: self._order.goods_amount)
    ordered_at = property(lambda self: self._order.ordered_at)
    promised_at = property(lambda self: self._order.promised_at)
    remark = property(lambda self: self._order.remark)
    priority = property(lambda self: self._order.priority)

    @property
    def address(self) -> str:
        o = self._order
        return f"{o.province}{o.city}{o.district}{o.address_detail}"

    # Related rows are read only when a template uses them.
    @cached_property
    def channel(self) -> str:
        return self._order.channel.name

    @cached_property
    def customer(self) -> str:
        return self._order.customer.name if self._order.customer_id else ""

    @cached_property
    def warehouse(self) -> str:
        return self._order.warehouse.name if self._order.warehouse_id else ""

    @cached_property
    def owner(self) -> str:
        return str(self._order.owner) if self._order.owner_id else ""

    @cached_property
    def lines(self) -> list[dict[str, Any]]:
        return [
            {"sku_code": ln.sku_code, "name": ln.name, "quantity": ln.quantity}
            for ln in self._order.lines.all()
        ]

    @cached_property
    def url(self) -> str:
        return order_url(self._order.pk)


def order_url(order_id: int) -> str:
    base = str(notify_conf("BASE_URL")).rstrip("/")
    return f"{base}{reverse('web:order_detail', args=[order_id])}" if base else ""


def event_label(event: str) -> str:
    return str(dict(EVENT_CHOICES).get(event, event))


def event_context(
    *,
    order: Order,
    event: str,
    actor: str = "",
    at: datetime | None = None,
    reason: str = "",
    from_status: str = "",
    status: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Template variables of a notice; `status` is the state it tells of (default: the order's)."""
    # Messages are written in the company's language, whatever the acting user's UI language.
    with translation.override(settings.LANGUAGE_CODE):
        status = status or order.status
        context: dict[str, Any] = {
            "order": OrderFields(order, status),
            "event": event,
            "event_label": event_label(event),
            "status_label": str(OrderStatus(status).label) if status in OrderStatus.values else status,
            "from_label": str(OrderStatus(from_status).label) if from_status in OrderStatus.values else "",
            "actor": actor or "系统",
            "at": at or timezone.now(),
            "reason": reason,
        }
        context.update(extra or {})
        return context


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    return _ENGINE.from_string(source)


def template_problem(source: str) -> str | None:
    """Why `source` is not a usable message template, or None."""
    if any(tag in source for tag in FORBIDDEN_TAGS):
        return "模板中不能使用 {% debug %} 或 {% load %}"
    try:
        _compiled(source)
    except TemplateSyntaxError as exc:
        return f"模板语法错误：{exc}"
    return None


def render(source: str, context: dict[str, Any]) -> str:
    """Render a message template in the company's language (labels, dates), never the UI's."""
    if any(tag in source for tag in FORBIDDEN_TAGS):
        raise TemplateSyntaxError("forbidden tag")
    with translation.override(settings.LANGUAGE_CODE):
        return _compiled(source).render(Context(context, autoescape=False)).strip()


@dataclass
class Rendered:
    title: str
    body: str
    sms_template: str = ""
    sms_params: dict[str, str] = field(default_factory=dict)


def default_texts(event: str) -> tuple[str, str]:
    if event in OrderStatus.values:
        return TRANSITION_TITLE, TRANSITION_BODY
    return DEFAULTS.get(event, GENERIC)


def templates_for(event: str) -> dict[str, MessageTemplate]:
    """The active templates of an event by channel ("" = every channel): one query."""
    return {t.channel: t for t in MessageTemplate.objects.filter(event=event, is_active=True)}


def render_message(
    *, event: str, channel: str, context: dict[str, Any], templates: dict[str, MessageTemplate]
) -> Rendered:
    """The message for one channel: its own template, else the event's, else the default."""
    chosen = templates.get(channel) or templates.get("")
    title_src, body_src = (chosen.title, chosen.body) if chosen else default_texts(event)
    params_src = (chosen.sms_params if chosen and chosen.sms_params else None) or DEFAULT_SMS_PARAMS
    try:
        title, body = render(title_src, context), render(body_src, context)
        params = {k: render(str(v), context) for k, v in params_src.items()}
    except Exception:  # a manager's template must never block a transition or lose a message
        logger.exception("message template for %s/%s failed; using the default text", event, channel)
        title_src, body_src = default_texts(event)
        title, body = render(title_src, context), render(body_src, context)
        params = {k: render(v, context) for k, v in DEFAULT_SMS_PARAMS.items()}
    return Rendered(
        title=title[:300],
        body=body,
        sms_template=chosen.sms_template_code if chosen else "",
        sms_params=params,
    )
