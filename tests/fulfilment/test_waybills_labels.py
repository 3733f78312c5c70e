"""E-waybills and labels: numbers from the carrier's range, a PDF label a scanner can read."""

from __future__ import annotations

import io
from decimal import Decimal

import pypdf
import pypdfium2
import pytest
import zxingcpp

from orderhub.accounts.roles import Role
from orderhub.fulfilment.labels import labels_print, mask_phone, picklist_pdf, picklist_rows, wave_create
from orderhub.fulfilment.models import Carrier, LabelPrint, Waybill
from orderhub.fulfilment.waybills import waybill_void, waybills_issue
from orderhub.orders.models import OperationLog
from orderhub.orders.services import LineDraft
from orderhub.orders.states import OrderStatus


def pdf_texts(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def pdf_barcodes(pdf: bytes, page: int = 0) -> list[str]:
    image = pypdfium2.PdfDocument(pdf)[page].render(scale=300 / 72).to_pil()
    return [b.text for b in zxingcpp.read_barcodes(image)]


def test_waybill_from_the_carrier_range_moves_the_order_to_label_printed(allocated, carrier_table) -> None:
    order = allocated()
    [out] = waybills_issue(order_ids=[order.pk])
    assert out.ok and out.carrier == "ZTO" and out.number == "7100000000000"
    order.refresh_from_db()
    assert order.status == OrderStatus.LABEL_PRINTED
    entry = OperationLog.objects.filter(order=order, transition="print_label").get()
    assert entry.automatic
    assert entry.details["carrier"]["matched"] == "江浙沪走中通"
    assert entry.details["carrier"]["inputs"]["weight_g"] == 36000
    assert Carrier.objects.get(code="ZTO").next_number == 100_000_000_001


def test_label_pdf_text_and_barcode(allocated, carrier_table, staff) -> None:
    order = allocated(
        lines=[LineDraft("HL-8810", 1, Decimal("680")), LineDraft("OF-1102", 2, Decimal("35"))], priority=1
    )
    [out] = waybills_issue(order_ids=[order.pk])
    job = labels_print(order_ids=[order.pk], actor=staff[Role.WAREHOUSE])
    reader = pypdf.PdfReader(io.BytesIO(job.pdf))
    page = reader.pages[0]
    assert (
        round(float(page.mediabox.width) / 72 * 25.4),
        round(float(page.mediabox.height) / 72 * 25.4),
    ) == (100, 180)
    text = pdf_texts(job.pdf)[0]
    assert "中通快递" in text and out.number in text
    assert "王师傅" in text and "138****5678" in text and "13812345678" not in text
    assert "浙江省台州市椒江区东环大道88号" in text
    assert "加急" in text and "易碎" in text
    assert "HL-8810" in text and "×2" in text and "共 3 件" in text
    assert "杭州仓发货组" in text
    assert out.number in pdf_barcodes(job.pdf)
    assert order.order_no in pdf_barcodes(job.pdf)


def test_reprint_is_marked_and_logged(allocated, carrier_table, staff) -> None:
    order = allocated()
    waybills_issue(order_ids=[order.pk])
    labels_print(order_ids=[order.pk], actor=staff[Role.WAREHOUSE])
    job = labels_print(order_ids=[order.pk], actor=staff[Role.WAREHOUSE], reason="打印机卡纸")
    assert job.reprints == 1 and "补打1" in pdf_texts(job.pdf)[0]
    prints = list(LabelPrint.objects.order_by("at", "pk").values_list("reprint", "reason"))
    assert prints == [(False, ""), (True, "打印机卡纸")]


def test_wave_batch_and_pick_list_sorted_by_bin(allocated, carrier_table, staff, warehouses) -> None:
    orders = [
        allocated(lines=[LineDraft("OF-1102", 2, Decimal(1)), LineDraft("BP-2231", 1, Decimal(1))]),
        allocated(lines=[LineDraft("HL-8810", 1, Decimal(1))]),
        allocated(lines=[LineDraft("OF-1102", 3, Decimal(1))]),
    ]
    waybills_issue(order_ids=[o.pk for o in orders])
    wave = wave_create(warehouse_id=warehouses["HZ"].pk, actor=staff[Role.WAREHOUSE])
    job = labels_print(wave=wave, actor=staff[Role.WAREHOUSE])
    assert job.pages == 3 and len(pypdf.PdfReader(io.BytesIO(job.pdf)).pages) == 3
    rows = picklist_rows(wave)
    assert [(r.bin_location, r.sku_code, r.quantity) for r in rows] == [
        ("A-BP", "BP-2231", 1),
        ("A-HL", "HL-8810", 1),
        ("A-OF", "OF-1102", 5),
    ]
    assert "拣货单" in pdf_texts(picklist_pdf(wave))[0]


def test_void_waybill_keeps_stock_reserved_and_allows_a_new_one(allocated, carrier_table, staff) -> None:
    order = allocated()
    [first] = waybills_issue(order_ids=[order.pk])
    wb = waybill_void(order_id=order.pk, actor=staff[Role.WAREHOUSE], reason="面单污损")
    assert wb.status == "voided"
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATING and order.reservations.get().status == "active"
    [second] = waybills_issue(order_ids=[order.pk])
    assert second.number != first.number
    assert Waybill.objects.filter(order=order, status="active").get().number == second.number


def test_order_not_allocated_is_refused(approved, carrier_table) -> None:
    order = approved()
    [out] = waybills_issue(order_ids=[order.pk])
    assert not out.ok and "分仓中" in out.error


@pytest.mark.parametrize(
    ("phone", "masked"), [("13812345678", "138****5678"), ("138****5678", "138****5678")]
)
def test_mask_phone(phone, masked) -> None:
    assert mask_phone(phone) == masked
