"""Packing station (打包台): scan the label, scan every item against the order, then ship.

A wrong item or one too many is refused and recorded, never silently accepted; shipping is
allowed only when every line is complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.catalog.models import Sku
from orderhub.core.errors import InvalidTransition, NotFound, ValidationFailed
from orderhub.fulfilment.labels import PackStep, packing_card
from orderhub.fulfilment.models import PackScan, PackSession, Waybill
from orderhub.orders.models import Order
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus


class ScanRefused(ValidationFailed):
    code = "scan_refused"


@dataclass
class PackLine:
    sku_code: str
    name: str
    barcode: str
    needed: int
    scanned: int

    @property
    def done(self) -> bool:
        return self.scanned >= self.needed


@dataclass
class PackState:
    session: PackSession
    order: Order
    waybill: Waybill
    lines: list[PackLine]
    steps: list[PackStep]

    @property
    def complete(self) -> bool:
        return all(ln.done for ln in self.lines)


def _waybill(number: str) -> Waybill:
    wb = (
        Waybill.objects.select_related("order", "carrier")
        .filter(number=number.strip(), status=Waybill.Status.ACTIVE)
        .first()
    )
    if wb is None:
        raise NotFound(_("面单 %(n)s 不存在或已作废") % {"n": number}, field="waybill")
    return wb


def pack_state(session: PackSession) -> PackState:
    order = session.order
    scanned: dict[str, int] = {}
    for code in session.scans.filter(accepted=True).values_list("sku_code", flat=True):
        scanned[code] = scanned.get(code, 0) + 1
    lines: dict[str, PackLine] = {}
    for ln in order.lines.select_related("sku").order_by("line_no"):
        row = lines.setdefault(
            ln.sku_code, PackLine(ln.sku_code, ln.name, ln.sku.barcode if ln.sku else "", 0, 0)
        )
        row.needed += ln.quantity
    for code, row in lines.items():
        row.scanned = scanned.get(code, 0)
    return PackState(session, order, session.waybill, list(lines.values()), packing_card(order))


def pack_start(*, waybill_number: str, actor: User, now: datetime | None = None) -> PackState:
    """Scan a label: open (or resume) the order's packing session."""
    now = now or timezone.now()
    wb = _waybill(waybill_number)
    if wb.order.status != OrderStatus.LABEL_PRINTED:
        raise InvalidTransition(
            _("订单 %(no)s 当前为「%(s)s」，不能打包")
            % {"no": wb.order.order_no, "s": wb.order.get_status_display()},
            field="waybill",
        )
    session = PackSession.objects.filter(waybill=wb, completed_at__isnull=True).first()
    if session is None:
        session = PackSession.objects.create(order=wb.order, waybill=wb, actor=actor, started_at=now)
    return pack_state(session)


def pack_scan(*, session_id: int, code: str, actor: User, now: datetime | None = None) -> PackState:
    """Scan one item. A SKU not in the order, or one more than ordered, is refused loudly."""
    now = now or timezone.now()
    code = code.strip()
    if not code:
        raise ValidationFailed(_("请扫描商品条码"), field="code")
    with transaction.atomic():
        session = (
            PackSession.objects.select_for_update().select_related("order", "waybill").get(pk=session_id)
        )
        if session.completed_at:
            raise InvalidTransition(_("该单已打包完成"), field="code")
        state = pack_state(session)
        sku = Sku.objects.filter(Q(barcode=code) | Q(code=code)).first()
        line = next((ln for ln in state.lines if sku and ln.sku_code == sku.code), None)
        if line is None:
            what = f"{sku.code} {sku.name}" if sku else code
            message = _("错货！%(w)s 不在订单 %(no)s 中，请放回") % {"w": what, "no": session.order.order_no}
        elif line.done:
            message = _("多扫！%(c)s 本单只需 %(n)s 件，已扫 %(s)s 件") % {
                "c": line.sku_code,
                "n": line.needed,
                "s": line.scanned,
            }
        else:
            message = ""
        PackScan.objects.create(
            session=session,
            code=code,
            sku_code=sku.code if sku else "",
            accepted=not message,
            message=message,
            at=now,
        )
    if message:
        raise ScanRefused(message, field="code", details={"code": code})
    return pack_state(session)


def pack_complete(*, session_id: int, actor: User, now: datetime | None = None) -> Order:
    """All items scanned: ship the order (on-hand deducted, reservation consumed, channel told)."""
    now = now or timezone.now()
    with transaction.atomic():
        session = (
            PackSession.objects.select_for_update().select_related("order", "waybill").get(pk=session_id)
        )
        state = pack_state(session)
        missing = [f"{ln.sku_code} 还差 {ln.needed - ln.scanned}" for ln in state.lines if not ln.done]
        if missing:
            raise ValidationFailed(
                _("还有商品未扫描：") + "；".join(missing), code="pack_incomplete", field="code"
            )
        session.completed_at = now
        session.save(update_fields=["completed_at"])
        scans = session.scans.count()
        return order_transition(
            order_id=session.order_id,
            to=OrderStatus.SHIPPED,
            actor=actor,
            reason=_("打包台扫描核对完成"),
            details={"packing": {"waybill": session.waybill.number, "scans": scans, "session": session.pk}},
            now=now,
        )
