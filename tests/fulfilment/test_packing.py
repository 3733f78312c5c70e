"""Packing station: scan the label, scan every item; wrong or extra items are refused loudly."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from orderhub.accounts.roles import Role
from orderhub.catalog.models import Sku
from orderhub.fulfilment.models import PackScan
from orderhub.fulfilment.waybills import waybills_issue
from orderhub.inventory.models import Stock
from orderhub.orders.services import LineDraft
from orderhub.orders.states import OrderStatus


def text(response) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


@pytest.fixture
def packer(staff) -> Client:
    client = Client()
    client.force_login(staff[Role.WAREHOUSE])
    return client


@pytest.fixture
def labelled(allocated, carrier_table, skus):
    Sku.objects.filter(code="BP-2231").update(barcode="6901234500011")
    Sku.objects.filter(code="OF-1102").update(barcode="6901234500028")
    Sku.objects.filter(code="HL-8810").update(barcode="6901234500035")
    order = allocated(lines=[LineDraft("BP-2231", 2, Decimal("88")), LineDraft("HL-8810", 1, Decimal("680"))])
    [out] = waybills_issue(order_ids=[order.pk])
    return order, out.number


def test_scan_label_items_and_ship(packer, labelled, warehouses, skus) -> None:
    order, number = labelled
    r = packer.post("/packing/", {"waybill": number})
    assert r.status_code == 302
    session_url = r["Location"]
    page = text(packer.get(session_url))
    assert number in page and "BP-2231" in page and "0/2" in page and "易碎：气泡膜包裹" in page

    for code in ("6901234500011", "6901234500011", "6901234500035"):
        assert packer.post(session_url, {"code": code}).status_code == 302
    page = text(packer.get(session_url))
    assert "2/2" in page and "1/1" in page

    r = packer.post(session_url + "complete/")
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    stock = Stock.objects.get(warehouse=warehouses["HZ"], sku=skus["BP-2231"])
    assert (stock.on_hand, stock.reserved) == (998, 0)
    assert order.reservations.filter(status="consumed").count() == 2


def test_wrong_item_and_extra_item_are_refused_loudly(packer, labelled) -> None:
    order, number = labelled
    session_url = packer.post("/packing/", {"waybill": number})["Location"]
    r = packer.post(session_url, {"code": "6901234500028"})  # OF-1102: not in this order
    assert r.status_code == 422
    assert 'role="alert"' in r.content.decode()
    assert "错货！OF-1102 机油滤清器 不在订单" in text(r)
    packer.post(session_url, {"code": "6901234500035"})
    r = packer.post(session_url, {"code": "6901234500035"})
    assert r.status_code == 422 and "多扫！HL-8810 本单只需 1 件，已扫 1 件" in text(r)
    r = packer.post(session_url + "complete/")
    assert r.status_code == 422 and "BP-2231 还差 2" in text(r)
    order.refresh_from_db()
    assert order.status == OrderStatus.LABEL_PRINTED
    assert list(PackScan.objects.values_list("accepted", flat=True)) == [False, True, False]


def test_unknown_label_and_wrong_role(packer, labelled, staff) -> None:
    r = packer.post("/packing/", {"waybill": "NOPE"})
    assert r.status_code == 422 and "面单 NOPE 不存在或已作废" in text(r)
    sales = Client()
    sales.force_login(staff[Role.SALES])
    assert sales.get("/packing/").status_code == 403


def test_timeline_shows_waybill_print_and_refused_scans(packer, labelled, staff) -> None:
    from orderhub.fulfilment.labels import labels_print
    from orderhub.fulfilment.timeline import fulfilment_timeline

    order, number = labelled
    labels_print(order_ids=[order.pk], actor=staff[Role.WAREHOUSE])
    session_url = packer.post("/packing/", {"waybill": number})["Location"]
    packer.post(session_url, {"code": "6901234500028"})
    titles = [e.title for e in fulfilment_timeline(order)]
    assert f"取得电子面单：中通快递 {number}" in titles
    assert f"打印面单 {number}" in titles
    assert any(t.startswith("打包扫描被拒：错货！OF-1102") for t in titles)


def test_fulfilment_timeline_is_one_query(labelled, django_assert_num_queries) -> None:
    from orderhub.fulfilment.timeline import fulfilment_timeline

    order, _number = labelled
    with django_assert_num_queries(1):
        events = fulfilment_timeline(order)
    assert [e.kind for e in events] == ["waybill"]


def test_print_run_page_makes_a_wave_with_labels_pick_list_and_cards(
    packer, allocated, carrier_table, warehouses
) -> None:
    a, b = allocated(), allocated(lines=[LineDraft("OF-1102", 3, Decimal("35"))])
    page = text(packer.get("/packing/waves/"))
    assert "杭州仓 2" in page
    r = packer.post("/packing/waves/", {"warehouse": warehouses["HZ"].pk})
    assert r.status_code == 302
    wave_url = r["Location"]
    page = text(packer.get(wave_url))
    assert "A-OF OF-1102 机油滤清器 3" in page and "A-BP BP-2231 陶瓷刹车片 前轮 20" in page
    labels = packer.get(wave_url + "labels.pdf")
    assert labels["Content-Type"] == "application/pdf" and labels.content.startswith(b"%PDF")
    assert packer.get(wave_url + "picklist.pdf").content.startswith(b"%PDF")
    assert packer.get(wave_url + "cards.pdf").content.startswith(b"%PDF")
    for order in (a, b):
        order.refresh_from_db()
        assert order.status == OrderStatus.LABEL_PRINTED
    # Nothing left to print: a second run says so.
    r = packer.post("/packing/waves/", {"warehouse": warehouses["HZ"].pk}, follow=True)
    assert "杭州仓 没有待打印的订单" in text(r)
