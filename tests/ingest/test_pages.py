"""The import pages: upload, batch report with progress, the preset editor walk-through."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from orderhub.accounts.roles import Role
from orderhub.ingest.models import ImportBatch, MappingPreset
from orderhub.orders.models import Order
from tests.ingest import exports as ex
from tests.web.conftest import page_text


def client_as(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_upload_imports_and_shows_the_report(staff, shop_channels, skus):
    c = client_as(staff[Role.CUSTOMER_SERVICE])
    data = ex.csv_bytes(
        [
            ["订单号", "收货人", "手机", "收货地址", "商家编码", "数量", "单价"],
            ["P1", "王", "13812345678", "浙江省台州市椒江区东环大道88号", "NOPE", "1", "8"],
            ["P2", "王", "13812345678", "浙江省台州市椒江区东环大道88号", "BP-2231", "x", "8"],
        ]
    )

    response = c.post(
        reverse("ingest:home"),
        {"file": SimpleUploadedFile("a.csv", data), "kind": "orders", "channel": "manual"},
        follow=True,
    )

    text = page_text(response)
    assert "已完成" in text and "未知商品" in text and "「x」不是有效的整数" in text
    batch = ImportBatch.objects.get()
    report = c.get(reverse("ingest:batch_report", args=[batch.pk]))
    ws = load_workbook(io.BytesIO(report.content)).active
    assert [r[0].value for r in ws.iter_rows()][1:] == [2, 3]
    assert Order.objects.filter(channel_order_no="P1").exists()


def test_large_upload_goes_to_the_worker_with_progress(staff, shop_channels, skus, settings):
    settings.ORDERHUB_INGEST = {**settings.ORDERHUB_INGEST, "BACKGROUND_BYTES": 10}
    c = client_as(staff[Role.CUSTOMER_SERVICE])

    response = c.post(
        reverse("ingest:home"),
        {"file": SimpleUploadedFile("p.csv", ex.pdd_csv()), "kind": "orders"},
        follow=True,
    )

    assert "排队中" in page_text(response) and 'hx-trigger="every 2s"' in response.content.decode()
    from orderhub.core.jobs import jobs_run_pending

    jobs_run_pending(queues=["default"])
    fragment = c.get(
        reverse("ingest:batch", args=[ImportBatch.objects.get().pk]), headers={"HX-Request": "true"}
    )
    assert "已完成" in page_text(fragment) and "every 2s" not in fragment.content.decode()
    assert Order.objects.count() == 3


def test_sales_cannot_reach_the_import_pages(staff):
    assert client_as(staff[Role.SALES]).get(reverse("ingest:home")).status_code == 404


def test_preset_editor_suggests_previews_saves_and_the_layout_is_then_recognised(staff, shop_channels, skus):
    c = client_as(staff[Role.CUSTOMER_SERVICE])
    sample = ex.xlsx_bytes(
        [
            ["微信群接龙 12月12日"],
            ["接龙号", "客户", "电话", "地址", "货品", "件数", "备注"],
            ["JL-1", "老王", "138 1234 5678", "浙江台州椒江区东环大道1号", "BP-2231", 2, "加急"],
        ]
    )
    url = reverse("ingest:preset_new")

    page = c.post(url, {"action": "sample", "kind": "orders", "sample": SimpleUploadedFile("s.xlsx", sample)})
    html = page.content.decode()
    assert 'data-column="电话"' in html
    assert '<option value="receiver_phone" selected>' in html  # suggested
    fields = {
        "field_0": "channel_order_no",
        "field_1": "receiver_name",
        "field_2": "receiver_phone",
        "field_3": "address",
        "field_4": "sku_code",
        "field_5": "quantity",
        "field_6": "remark",
        "transforms_0": "replace:JL-:WX-",
        "kind": "orders",
        "channel": "manual",
        "name": "微信接龙",
    }

    preview = c.post(url, {**fields, "action": "preview"})
    text = page_text(preview)
    assert "WX-1" in text and "13812345678" in text and "331002" in text

    saved = c.post(url, {**fields, "action": "save"}, follow=True)
    assert "映射方案「微信接龙」已保存" in page_text(saved)
    preset = MappingPreset.objects.get(name="微信接龙")
    assert preset.mapping["fields"]["channel_order_no"]["transforms"] == [
        {"op": "replace", "from": "JL-", "to": "WX-"}
    ]

    c.post(reverse("ingest:home"), {"file": SimpleUploadedFile("next.xlsx", sample), "kind": "orders"})
    batch = ImportBatch.objects.get()
    assert batch.preset == preset and batch.channel.code == "manual"
    assert Order.objects.get().channel_order_no == "WX-1"


def test_builtin_presets_are_copied_not_edited(staff):
    c = client_as(staff[Role.MANAGER])
    c.get(reverse("ingest:presets"))
    pdd = MappingPreset.objects.get(name="拼多多-订单导出")

    assert c.get(reverse("ingest:preset_edit", args=[pdd.pk]), follow=True).redirect_chain
    response = c.post(reverse("ingest:preset_copy", args=[pdd.pk]), {"name": "拼多多-二店"}, follow=True)

    copy = MappingPreset.objects.get(name="拼多多-二店")
    assert not copy.builtin and copy.mapping == pdd.mapping and copy.channel_kind == "pinduoduo"
    assert 'data-column="订单号"' in response.content.decode()
