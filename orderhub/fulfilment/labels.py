"""Shipping labels (面单) as PDF, 100×180 mm, batch-printed per wave; pick lists and packing cards.

Drawn with reportlab: a Code 128 barcode of the waybill number, receiver (phone masked), sender,
item summary, priority and handling marks. Chinese text uses the CID font STSong-Light, which
PDF readers supply themselves, so no font file ships with OrderHub.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from orderhub.accounts.models import User
from orderhub.core.errors import NotFound
from orderhub.fulfilment.models import LabelPrint, Wave, Waybill
from orderhub.inventory.models import Stock
from orderhub.orders.models import Order, OrderLine

FONT = "STSong-Light"
LABEL_SIZE = (100 * mm, 180 * mm)
HANDLING = (("fragile", "易碎"), ("oversize", "超大件"), ("liquid", "液体"))
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def mask_phone(phone: str) -> str:
    """138****5678: the label travels through many hands; only the last four digits stay readable."""
    p = phone.strip()
    if "*" in p or len(p) < 7:
        return p
    return p[:3] + "*" * (len(p) - 7) + p[-4:]


def wrap(text: str, size: float, width: float) -> list[str]:
    """Break text to lines of at most `width` points, character by character (CJK has no spaces)."""
    lines, cur = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(cur + ch, FONT, size) > width:
            lines.append(cur)
            cur = ch
        else:
            cur += ch
    return [*lines, cur] if cur else lines


def _text(c: Canvas, x: float, y: float, text: str, size: float) -> None:
    c.setFont(FONT, size)
    c.drawString(x, y, text)


def _mark(c: Canvas, x: float, y: float, text: str) -> float:
    """An inverted box mark (加急 / 易碎 …); returns its width."""
    w = pdfmetrics.stringWidth(text, FONT, 11) + 3 * mm
    c.rect(x, y - 1.5 * mm, w, 6 * mm, fill=1)
    c.setFillColorRGB(1, 1, 1)
    _text(c, x + 1.5 * mm, y, text, 11)
    c.setFillColorRGB(0, 0, 0)
    return w


def draw_label(
    c: Canvas, wb: Waybill, order: Order, *, reprint: int = 0, printed_at: datetime | None = None
) -> None:
    W, H = LABEL_SIZE
    left, inner = 4 * mm, W - 8 * mm
    lines = list(order.lines.all())
    # Header: carrier, priority and handling marks.
    _text(c, left, H - 12 * mm, wb.carrier.name, 18)
    x = W - 4 * mm
    marks = [label for flag, label in HANDLING if any(ln.sku and getattr(ln.sku, flag) for ln in lines)]
    if order.priority > 0:
        marks.insert(0, "加急")
    for label in reversed(marks):
        x -= pdfmetrics.stringWidth(label, FONT, 11) + 4 * mm
        _mark(c, x, H - 11 * mm, label)
    c.line(left, H - 16 * mm, W - left, H - 16 * mm)
    # Barcode of the waybill number, centred, with the number printed under it.
    bar = Code128(wb.number, barHeight=20 * mm, barWidth=0.42 * mm, quiet=1)
    bar.drawOn(c, (W - bar.width) / 2, H - 40 * mm)
    c.setFont(FONT, 12)
    c.drawCentredString(W / 2, H - 45 * mm, wb.number)
    c.line(left, H - 48 * mm, W - left, H - 48 * mm)
    # Receiver, sender.
    y = H - 55 * mm
    _text(c, left, y, f"收 {order.receiver_name}  {mask_phone(order.receiver_phone)}", 13)
    address = f"{order.province}{order.city}{order.district}{order.address_detail}"
    for ln in wrap(address, 11, inner)[:3]:
        y -= 5.5 * mm
        _text(c, left, y, ln, 11)
    y -= 8 * mm
    wh = order.warehouse
    if wh is not None:
        _text(c, left, y, f"寄 {wh.contact_name or wh.name}  {wh.contact_phone}", 9)
        y -= 4.5 * mm
        _text(c, left, y, f"{wh.province}{wh.city}{wh.district}{wh.address}"[:48], 8)
    c.line(left, y - 3 * mm, W - left, y - 3 * mm)
    # Items.
    y -= 9 * mm
    pieces = sum(ln.quantity for ln in lines)
    weight = sum((ln.sku.weight_g if ln.sku else 0) * ln.quantity for ln in lines) / 1000
    _text(c, left, y, f"订单 {order.order_no}   共 {pieces} 件  {weight:.2f} kg", 9)
    for ln in lines[:6]:
        y -= 4.5 * mm
        _text(c, left, y, f"{ln.sku_code} {ln.name}"[:30] + f" ×{ln.quantity}", 9)
    if len(lines) > 6:
        y -= 4.5 * mm
        _text(c, left, y, f"… 另 {len(lines) - 6} 种商品", 9)
    # Stub: order number barcode for the packing station, print time, reprint mark.
    c.line(left, 30 * mm, W - left, 30 * mm)
    stub = Code128(order.order_no, barHeight=10 * mm, barWidth=0.3 * mm, quiet=1)
    stub.drawOn(c, left, 16 * mm)
    _text(c, left, 11 * mm, order.order_no, 8)
    when = timezone.localtime(printed_at or timezone.now())
    _text(c, left, 6 * mm, f"打印 {when:%Y-%m-%d %H:%M}", 8)
    if reprint:
        _mark(c, W - 24 * mm, 7 * mm, f"补打{reprint}")


def _waybills(qs: Iterable[Waybill]) -> list[Waybill]:
    return list(
        Waybill.objects.filter(pk__in=[w.pk for w in qs])
        .select_related("carrier", "order", "order__warehouse")
        .prefetch_related(Prefetch("order__lines", queryset=OrderLine.objects.select_related("sku")))
        .order_by("order__warehouse_id", "pk")
    )


@dataclass
class PrintJob:
    pdf: bytes
    pages: int
    reprints: int


def labels_print(
    *,
    order_ids: list[int] | None = None,
    wave: Wave | None = None,
    actor: User | None,
    reason: str = "",
    now: datetime | None = None,
) -> PrintJob:
    """One PDF with a label per live waybill of the orders (or the wave); every print is logged."""
    now = now or timezone.now()
    if wave is not None:
        order_ids = list(wave.orders.values_list("pk", flat=True))
    live = Waybill.objects.filter(order_id__in=order_ids or [], status=Waybill.Status.ACTIVE)
    waybills = _waybills(live)
    if not waybills:
        raise NotFound("没有可打印的面单（订单需先取得电子面单）", field="order_ids")
    earlier: dict[int, int] = {}
    for wid in LabelPrint.objects.filter(waybill__in=waybills).values_list("waybill_id", flat=True):
        earlier[wid] = earlier.get(wid, 0) + 1
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=LABEL_SIZE, pageCompression=1)
    c.setTitle(f"面单 {wave.code if wave else ''}".strip())
    for wb in waybills:
        draw_label(c, wb, wb.order, reprint=earlier.get(wb.pk, 0), printed_at=now)
        c.showPage()
    c.save()
    with transaction.atomic():
        LabelPrint.objects.bulk_create(
            LabelPrint(
                waybill=wb, wave=wave, reprint=wb.pk in earlier, reason=reason[:255], actor=actor, at=now
            )
            for wb in waybills
        )
    return PrintJob(buf.getvalue(), len(waybills), sum(1 for wb in waybills if wb.pk in earlier))


# --- waves and pick lists ------------------------------------------------------------------------


def wave_create(
    *, warehouse_id: int, actor: User | None, order_ids: list[int] | None = None, now: datetime | None = None
) -> Wave:
    """A wave of the warehouse's orders (given, or every order waiting in 分仓中/已打单 there)."""
    now = now or timezone.now()
    # Parcels only: a split order's parent is no parcel of its own.
    qs = Order.objects.filter(warehouse_id=warehouse_id, status__in=["allocating", "label_printed"]).exclude(
        Exists(Order.objects.filter(parent_id=OuterRef("pk")))
    )
    if order_ids is not None:
        qs = qs.filter(pk__in=order_ids)
    ids = list(qs.values_list("pk", flat=True))
    with transaction.atomic():
        wave = Wave.objects.create(
            code=f"W{timezone.localtime(now):%y%m%d%H%M%S%f}"[:20] + f"-{warehouse_id}",
            warehouse_id=warehouse_id,
            created_by=actor,
        )
        wave.orders.set(ids)
    return wave


def wave_prepare(
    *, warehouse_id: int, actor: User | None, now: datetime | None = None
) -> tuple[Wave | None, list]:
    """Print run of a warehouse: obtain waybills for its allocated orders, then a wave of every
    labelled order of the warehouse not yet in a wave. Returns (wave or None, waybill outcomes)."""
    from orderhub.fulfilment.waybills import waybills_issue

    live = Waybill.objects.filter(order=OuterRef("pk"), status=Waybill.Status.ACTIVE)
    waiting = list(
        Order.objects.filter(warehouse_id=warehouse_id, status="allocating")
        .exclude(Exists(live))
        .order_by("-priority", "ordered_at", "pk")
        .values_list("pk", flat=True)
    )
    outcomes = waybills_issue(order_ids=waiting, actor=actor, now=now) if waiting else []
    ids = list(
        Order.objects.filter(warehouse_id=warehouse_id, status="label_printed", waves__isnull=True)
        .exclude(Exists(Order.objects.filter(parent_id=OuterRef("pk"))))
        .values_list("pk", flat=True)
    )
    if not ids:
        return None, outcomes
    return wave_create(warehouse_id=warehouse_id, actor=actor, order_ids=ids, now=now), outcomes


@dataclass
class PickRow:
    bin_location: str
    sku_code: str
    name: str
    quantity: int
    orders: list[str]


def picklist_rows(wave: Wave) -> list[PickRow]:
    """What to pick for a wave, one row per SKU, sorted by bin so the picker walks the aisle once."""
    rows: dict[str, PickRow] = {}
    lines = (
        OrderLine.objects.filter(order__in=wave.orders.all())
        .select_related("order")
        .order_by("order_id", "line_no")
    )
    for ln in lines:
        row = rows.setdefault(ln.sku_code, PickRow("", ln.sku_code, ln.name, 0, []))
        row.quantity += ln.quantity
        row.orders.append(ln.order.order_no)
    bins = dict(
        Stock.objects.filter(warehouse=wave.warehouse, sku__code__in=rows).values_list(
            "sku__code", "bin_location"
        )
    )
    for code, row in rows.items():
        row.bin_location = bins.get(code, "")
    # Rows without a bin go last, so nobody walks back for them.
    return sorted(rows.values(), key=lambda r: (r.bin_location == "", r.bin_location, r.sku_code))


def picklist_pdf(wave: Wave) -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4)
    H = A4[1]

    def header() -> float:
        _text(
            c,
            15 * mm,
            H - 15 * mm,
            f"拣货单 {wave.code}  {wave.warehouse.name}  {wave.orders.count()} 单",
            14,
        )
        _text(
            c,
            15 * mm,
            H - 25 * mm,
            "库位          商品编码        名称                              数量   订单数",
            10,
        )
        return H - 32 * mm

    y = header()
    for row in picklist_rows(wave):
        if y < 20 * mm:
            c.showPage()
            y = header()
        _text(c, 15 * mm, y, row.bin_location or "—", 10)
        _text(c, 42 * mm, y, row.sku_code, 10)
        _text(c, 75 * mm, y, row.name[:20], 10)
        _text(c, 160 * mm, y, str(row.quantity), 10)
        _text(c, 175 * mm, y, str(len(row.orders)), 10)
        y -= 7 * mm
    c.showPage()
    c.save()
    return buf.getvalue()


# --- packing guidance card ------------------------------------------------------------------------


@dataclass
class PackStep:
    text: str
    sku_code: str = ""
    barcode: str = ""
    quantity: int = 0


def packing_card(order: Order) -> list[PackStep]:
    """The packing steps for one order: scan the label, each item, handling notes, seal."""
    steps = [PackStep("扫描面单条码")]
    lines = list(order.lines.select_related("sku").order_by("line_no"))
    for ln in lines:
        sku = ln.sku
        note = ""
        if sku and sku.fragile:
            note = "（易碎：气泡膜包裹，单独装箱）"
        elif sku and sku.liquid:
            note = "（液体：封口朝上，套袋）"
        steps.append(
            PackStep(
                f"扫描 {ln.sku_code} {ln.name} ×{ln.quantity}{note}",
                ln.sku_code,
                sku.barcode if sku else "",
                ln.quantity,
            )
        )
    if any(ln.sku and ln.sku.oversize for ln in lines):
        steps.append(PackStep("超大件：使用大号纸箱并贴「超大件」标识"))
    steps.append(PackStep("封箱、称重，确认发货"))
    return steps


def packing_cards_pdf(orders: list[Order]) -> bytes:
    """Printable packing guidance cards (打包指引), one 100×180 mm page per order, with checkboxes."""
    W, H = LABEL_SIZE
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=LABEL_SIZE, pageCompression=1)
    for order in orders:
        _text(c, 4 * mm, H - 12 * mm, "打包指引", 16)
        bar = Code128(order.order_no, barHeight=12 * mm, barWidth=0.32 * mm, quiet=1)
        bar.drawOn(c, 4 * mm, H - 30 * mm)
        _text(c, 4 * mm, H - 35 * mm, order.order_no, 9)
        y = H - 45 * mm
        for n, step in enumerate(packing_card(order), start=1):
            for i, ln in enumerate(wrap(f"{n}. {step.text}", 10, W - 16 * mm)):
                if i == 0:
                    c.rect(4 * mm, y - 1 * mm, 3.5 * mm, 3.5 * mm)
                _text(c, 10 * mm, y, ln, 10)
                y -= 5.5 * mm
            y -= 1.5 * mm
        c.showPage()
    c.save()
    return buf.getvalue()
