"""The SMS that tells a receiver their parcel is delayed (物流停滞). Sending SMS belongs to the
notify app; this module only decides whether, to whom and with which words, and hands over."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import import_string

from orderhub.orders.models import PhoneKind
from orderhub.tracking.carriers import carrier_name
from orderhub.tracking.conf import tracking_conf
from orderhub.tracking.models import Shipment

logger = logging.getLogger("orderhub.tracking")


@dataclass(frozen=True)
class ReceiverSms:
    """One SMS to an order's receiver. `key` is the idempotency key: a retried job never
    sends twice what the SMS provider already accepted."""

    key: str
    order_id: int
    phone: str
    template_code: str
    params: dict[str, str]
    text: str  # the same words, for the in-app copy, the simulated provider and the log
    event: str = "stalled"
    extra: dict[str, Any] = field(default_factory=dict)


SmsSender = Callable[[ReceiverSms], Any]


def sms_sender() -> SmsSender | None:
    """The notify app's SMS service, as configured in TRACKING["SMS_SENDER"] (a dotted path)."""
    path = tracking_conf().get("SMS_SENDER") or ""
    return import_string(path) if path else None


def stall_sms_build(shipment: Shipment, key: str) -> ReceiverSms | None:
    order = shipment.order
    if order.phone_kind != PhoneKind.NORMAL or not order.receiver_phone:
        return None  # masked, virtual or missing numbers cannot receive an SMS from us
    params = {
        "name": order.receiver_name or "客户",
        "order_no": order.order_no,
        "carrier": carrier_name(shipment.carrier),
        "tracking_no": shipment.tracking_no,
    }
    text = (
        f"{params['name']}您好，您的订单 {params['order_no']}（{params['carrier']} {params['tracking_no']}）"
        "物流信息暂未更新，我们已在联系承运商跟进，如有进展会及时告知。"
    )
    return ReceiverSms(
        key=key,
        order_id=order.pk,
        phone=order.receiver_phone,
        template_code=str(tracking_conf()["SMS_STALL_TEMPLATE"]),
        params=params,
        text=text,
    )


def receiver_stall_sms_send(*, shipment_id: int, key: str) -> str:
    """Hand the stall SMS to the notify app's SMS service; returns what happened, for the job log."""
    shipment = Shipment.objects.select_related("order").get(pk=shipment_id)
    sms = stall_sms_build(shipment, key)
    if sms is None:
        return "skipped: receiver phone cannot receive SMS"
    sender = sms_sender()
    if sender is None:
        logger.warning("stall SMS for order %s not sent: no TRACKING['SMS_SENDER'] configured", sms.order_id)
        return "skipped: no SMS service configured"
    sender(sms)
    return "handed to SMS service"
