"""`orderhub import` from the shell, and master-data imports (SKUs, customers, stock)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from orderhub.catalog.models import Customer, CustomerTier, Sku
from orderhub.ingest.models import ImportBatch
from orderhub.inventory.models import Stock, StockMovement, Warehouse
from orderhub.orders.models import Order
from tests.ingest import exports as ex


def cli(*args: str, capsys) -> str:
    call_command("import", *args, "--quiet")
    return capsys.readouterr().out


def test_cli_says_which_preset_it_used_and_prints_the_summary(tmp_path: Path, shop_channels, skus, capsys):
    path = tmp_path / "拼多多.csv"
    path.write_bytes(ex.pdd_csv())

    out = cli(str(path), capsys=capsys)

    assert "按表头自动识别为映射方案「拼多多-订单导出」" in out
    assert "渠道：拼多多（pdd）" in out
    assert "新建 3 行（3 单，其中拦截待审 0 单）" in out
    assert Order.objects.count() == 3


def test_cli_with_preset_and_channel_lists_holds_and_rejections(tmp_path: Path, shop_channels, skus, capsys):
    h = ex.headers_of("快手-订单导出")
    row = dict.fromkeys(h, "")
    row.update(
        {
            "订单号": "K1",
            "SKU编码": "NOPE",
            "成交数量": "1",
            "收货人姓名": "王",
            "收货人电话": "13812345678",
            "收货地址": "浙江省台州市椒江区东环大道88号",
        }
    )
    bad = {**row, "订单号": "K2", "成交数量": "x"}
    path = tmp_path / "ks.csv"
    path.write_bytes(ex.csv_bytes([h, list(row.values()), list(bad.values())]))

    out = cli(str(path), "--preset", "快手-订单导出", "--channel", "kuaishou", capsys=capsys)

    assert "使用指定的映射方案「快手-订单导出」" in out
    assert "拦截原因：未知商品 1" in out
    assert "拒绝原因：数量/整数无效 1" in out


def test_cli_refuses_clearly(tmp_path: Path, shop_channels):
    path = tmp_path / "x.csv"
    path.write_bytes(ex.csv_bytes([["a", "b"], ["1", "2"]]))
    with pytest.raises(CommandError, match=r"未写入任何数据.*渠道订单号"):
        call_command("import", str(path), "--channel", "manual", "--quiet")
    with pytest.raises(CommandError, match="映射方案「nope」不存在"):
        call_command("import", str(path), "--preset", "nope", "--quiet")


def test_sku_import_is_idempotent_on_code(run_import, skus):
    data = ex.csv_bytes(
        [
            ["商品编码", "商品名称", "规格型号", "条码", "重量(克)", "单价", "别名"],
            [
                "BP-2231",
                "陶瓷刹车片 前轮",
                "适配 朗逸/速腾",
                "6901234567890",
                "1800",
                "88",
                "PDD-BP2231,DY-001",
            ],
            ["SP-0001", "火花塞", "铱金", "", "80", "25.5", ""],
            ["", "无编码", "", "", "", "", ""],
        ]
    )

    first = run_import(data, "skus.xlsx".replace("xlsx", "csv"), kind="skus")
    second = run_import(data, "skus.csv", kind="skus")

    assert (first.created_count, first.updated_count, first.rejected_count) == (1, 1, 1)
    assert (second.created_count, second.updated_count, second.unchanged_count) == (0, 0, 2)
    assert Sku.objects.get(code="SP-0001").unit_price == Decimal("25.5")
    assert Sku.objects.get(code="BP-2231").aliases == ["PDD-BP2231", "DY-001"]


def test_sku_alias_is_resolved_on_order_import(run_import, shop_channels, skus):
    run_import(
        ex.csv_bytes([["商家编码", "商品名称", "别名"], ["BP-2231", "刹车片", "PDD-BP2231"]]),
        "s.csv",
        kind="skus",
    )
    run_import(
        ex.pdd_csv(
            [
                {
                    "no": "X1",
                    "sku": "PDD-BP2231",
                    "qty": 1,
                    "total": "88",
                    "name": "王",
                    "phone": "13812345678",
                    "prov": "浙江省",
                    "city": "台州市",
                    "dist": "椒江区",
                    "street": "东环大道88号",
                }
            ]
        ),
        "p.csv",
    )
    line = Order.objects.get(channel_order_no="X1").lines.get()
    assert line.sku_code == "BP-2231" and line.sku_id == skus["BP-2231"].pk


def test_customer_import_with_address_and_tier(run_import, staff):
    data = ex.xlsx_bytes(
        [
            ["客户档案"],
            ["客户编码", "客户名称", "联系电话", "客户等级", "地址", "负责销售"],
            [
                "D0100",
                "温岭顺达汽配",
                "０５７６-８６１２３４５６",
                "A类",
                "浙江省台州市温岭市太平街道1号",
                "sales1",
            ],
            ["D0101", "路桥永发", "13800000000", "Z", "", ""],
        ]
    )

    batch = run_import(data, "customers.xlsx", kind="customers")

    c = Customer.objects.get(code="D0100")
    assert (c.tier, c.phone, c.city, c.district, c.owner.username) == (
        CustomerTier.A,
        "0576-86123456",
        "台州市",
        "温岭市",
        "sales1",
    )
    assert batch.rejected_count == 1 and "Z" in batch.issues.get().message


def test_stock_import_sets_on_hand_by_count_with_ledger(run_import, skus, customer):
    wh = Warehouse.objects.create(code="WH-TZ", name="台州仓", province="浙江省")
    data = ex.csv_bytes(
        [
            ["仓库编码", "存货编码", "现存量"],
            ["WH-TZ", "BP-2231", "120"],
            ["WH-TZ", "OF-1102", "30"],
            ["WH-XX", "BP-2231", "1"],
            ["WH-TZ", "NOPE", "1"],
        ]
    )

    batch = run_import(data, "stock.csv", kind="stock")
    again = run_import(data, "stock.csv", kind="stock")

    assert Stock.objects.get(warehouse=wh, sku=skus["BP-2231"]).on_hand == 120
    assert batch.created_count == 2 and batch.reject_counts == {"unknown_warehouse": 1, "unknown_sku": 1}
    assert again.unchanged_count == 2 and StockMovement.objects.count() == 2


def test_batch_keeps_file_preset_and_outcomes(run_import, shop_channels, skus):
    batch = run_import(ex.pdd_csv(), "pdd.csv")
    batch = ImportBatch.objects.get(pk=batch.pk)
    assert Path(batch.file.path).read_bytes() == ex.pdd_csv()
    assert batch.preset.name == "拼多多-订单导出" and batch.mapping["fields"]["channel_order_no"]
    outcomes = [o for c in batch.chunks.all() for o in c.outcomes]
    assert [o[1] for o in outcomes] == ["created"] * 3 and [o[0] for o in outcomes] == [2, 3, 4]
