"""Who hears about a stalled parcel (物流停滞), owed inside the stall's own transaction through the
notify app's outbox.

- The people responsible: when the stall moves the card to 物流异常, that transition's own
  notice is the push (routed by notify to the logistics clerks and the order's salesperson; its
  reason names the stall and the last event), so nothing is added and nobody is told twice.
  When the card already was in 物流异常 (another parcel, or a person flagged it), no transition
  happens, so the "stalled" event is raised instead.
- The receiver: an SMS on the configured template, unless the number cannot receive one.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from orderhub.notify.models import NotifyChannel
from orderhub.notify.services import message_send, notify_event
from orderhub.orders.models import Order, PhoneKind
from orderhub.tracking.carriers import carrier_name
from orderhub.tracking.conf import tracking_conf
from orderhub.tracking.models import Shipment


def stall_sms_params(shipment: Shipment, order: Order) -> dict[str, str]:
    """The SMS template's variables (the Aliyun template must use these names)."""
    return {
        "name": order.receiver_name or "客户",
        "order_no": order.order_no,
        "carrier": carrier_name(shipment.carrier),
        "tracking_no": shipment.tracking_no,
    }


def stall_sms_text(params: dict[str, str]) -> str:
    return (
        f"{params['name']}您好，您的订单 {params['order_no']}（{params['carrier']} {params['tracking_no']}）"
        "物流信息暂未更新，我们已在联系承运商跟进，如有进展会及时告知。"
    )


def stall_notices_owe(
    *, shipment: Shipment, order: Order, now: datetime, hours: float, order_moved: bool
) -> None:
    """Owe the stall's notices; call inside the transaction that marks the parcel stalled.

    Keys name this one stall, so a retried scan owes nothing twice.
    """
    key = f"stall:{shipment.pk}:{now.isoformat()}"
    if not order_moved:
        _stalled_event(shipment=shipment, order=order, key=key, hours=hours)
    # Platform-masked, virtual or missing numbers cannot receive an SMS from us.
    if order.phone_kind == PhoneKind.NORMAL and order.receiver_phone:
        params = stall_sms_params(shipment, order)
        message_send(
            channel=NotifyChannel.SMS,
            key=f"{key}:sms",
            title=f"订单 {order.order_no} 物流停滞提醒",
            body=stall_sms_text(params),
            address=order.receiver_phone,
            order=order,
            sms_template=str(tracking_conf()["SMS_STALL_TEMPLATE"]),
            sms_params=params,
        )


def _stalled_event(*, shipment: Shipment, order: Order, key: str, hours: float) -> None:
    notify_event(
        event="stalled",
        order=order,
        key=key,
        reason=shipment.alert_reason,
        actor="系统",
        extra={
            "carrier": carrier_name(shipment.carrier),
            "tracking_no": shipment.tracking_no,
            "hours": f"{hours:g}",
            "last_event": shipment.last_event_desc,
            "last_event_at": timezone.localtime(shipment.last_event_at) if shipment.last_event_at else None,
        },
    )
