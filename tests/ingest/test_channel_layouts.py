"""Given each channel's standard order export, when it is imported, then the orders are right."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from orderhub.ingest.models import BatchStatus
from orderhub.orders.models import HoldReason, Order, PhoneKind
from tests.ingest import exports as ex


def _lines(order: Order) -> list[tuple[str, int, Decimal]]:
    return [(ln.sku_code, ln.quantity, ln.unit_price) for ln in order.lines.order_by("line_no")]


def test_pinduoduo_gbk_csv_one_row_per_order(run_import, shop_channels, skus):
    batch = run_import(ex.pdd_csv(), "拼多多订单.csv")

    assert batch.status == BatchStatus.DONE
    assert batch.encoding in ("gb18030", "gbk")
    assert batch.preset_name == "拼多多-订单导出"
    assert batch.channel.code == "pdd"
    assert (batch.created_count, batch.held_count, batch.rejected_count) == (3, 0, 0)
    first = Order.objects.get(channel_order_no="231212-084512345678901")  # tab prefix dropped
    assert (first.province, first.city, first.district) == ("浙江省", "台州市", "椒江区")
    assert (first.province_code, first.city_code, first.district_code) == ("330000", "331000", "331002")
    assert first.address_detail == "东环大道88号"
    assert _lines(first) == [("BP-2231", 2, Decimal("88.00"))]  # 商品总价 ÷ 数量
    assert timezone.localtime(first.ordered_at).strftime("%Y-%m-%d %H:%M") == "2023-12-12 08:45"
    masked = Order.objects.get(channel_order_no="231212-084512345678902")
    # 拼多多 masks phones itself: kept as received, flagged, not held
    assert (masked.receiver_phone, masked.phone_kind) == ("138****5678", PhoneKind.MASKED)
    assert (masked.city, masked.district_code) == ("北京市", "110105")
    virtual = Order.objects.get(channel_order_no="231212-084512345678903")
    assert (virtual.receiver_phone, virtual.phone_kind) == ("17052341234-1234", PhoneKind.VIRTUAL)
    assert virtual.province == "广西壮族自治区"
    assert not virtual.holds.exists()


def test_douyin_xlsx_sub_orders_grouped_by_main_order(run_import, shop_channels, skus):
    batch = run_import(ex.douyin_xlsx(), "抖店.xlsx")

    assert batch.file_format == "xlsx" and batch.preset_name == "抖店-订单导出"
    assert batch.total_rows == 3 and batch.created_count == 3  # three rows → two orders
    assert Order.objects.count() == 2
    order = Order.objects.get(channel_order_no="6921345678901234567")
    assert _lines(order) == [("BP-2231", 2, Decimal("88.00")), ("OF-1102", 4, Decimal("35.00"))]
    # Each line's 子订单编号 is kept for reporting the shipment back line by line.
    assert order.sub_order_nos() == ["6921345678901234568", "6921345678901234569"]
    assert order.goods_amount == Decimal("316.00")
    assert order.phone_kind == PhoneKind.VIRTUAL  # encrypted on the platform, kept as is
    assert (order.city, order.district, order.address_detail) == ("上海市", "浦东新区", "花木街道世纪大道1号")
    assert timezone.localtime(order.ordered_at).strftime("%Y-%m-%d %H:%M:%S") == "2023-12-12 20:01:05"


def test_1688_utf8_bom_one_cell_address_and_county_level_city(run_import, shop_channels, skus):
    batch = run_import(ex.alibaba_csv(), "1688.csv")

    assert batch.encoding == "utf-8-sig"
    order = Order.objects.get(channel_order_no="3398765432101234567")
    assert batch.held_count == 0, batch.hold_counts
    assert (order.province, order.city, order.district) == ("湖北省", "仙桃市", "仙桃市")
    assert (order.city_code, order.district_code) == ("429000", "429004")
    assert order.receiver_phone == "13905711234"
    assert order.shipping_fee == Decimal("15.00")
    assert order.total_amount == Decimal("10") * 80 + 20 * 30 + Decimal("15.00")


def test_taobao_gb18030_excel_quoted_numbers_and_postcode(run_import, shop_channels, skus):
    batch = run_import(ex.taobao_csv(), "ExportOrderList.csv")

    assert batch.preset_name == "淘宝天猫-订单导出"
    order = Order.objects.get(channel_order_no="3601234567890123456")  # ="…" unwrapped
    assert len(_lines(order)) == 2
    assert order.receiver_phone == "13912345678"  # Excel's leading apostrophe dropped
    assert (order.city, order.district, order.city_code) == ("东莞市", "", "441900")  # no districts
    assert order.address_detail == "长安镇 振安中路188号"  # postcode removed


def test_kuaishou_xlsx_excel_serial_date_and_full_width_phone(run_import, shop_channels, skus):
    run_import(ex.kuaishou_xlsx(), "快手.xlsx")

    order = Order.objects.get(channel_order_no="2312120012345678")  # a number cell, no ".0"
    assert timezone.localtime(order.ordered_at).strftime("%Y-%m-%d %H:%M") == "2023-12-12 12:00"
    assert order.receiver_phone == "13600001111"
    assert order.district_code == "650102"


def test_u8_title_rows_totals_row_and_dealer_address(run_import, shop_channels, skus, customer):
    batch = run_import(ex.u8_xlsx(), "销售订单列表.xlsx", channel_code="u8")

    assert batch.header_row == 4  # three title rows above the header
    assert batch.skipped_count == 1  # the 合计 row
    assert batch.rejected_count == 0
    order = Order.objects.get(channel_order_no="0000012345")
    assert order.customer == customer and order.owner == customer.owner
    assert (order.receiver_name, order.receiver_phone) == ("椒江恒通汽配", "13812345678")
    assert (order.province, order.city, order.district) == ("浙江省", "台州市", "椒江区")
    assert _lines(order) == [("BP-2231", 20, Decimal("80.00")), ("OF-1102", 50, Decimal("80.00"))]


def test_xls_file(run_import, shop_channels, skus):
    h = ex.headers_of("快手-订单导出")
    from datetime import datetime

    row = {
        h.index("订单号"): "KS-1",
        h.index("订单创建时间"): datetime(2023, 12, 1, 9, 0),
        h.index("SKU编码"): "OF-1102",
        h.index("成交数量"): 2,
        h.index("商品单价"): 35.0,
        h.index("收货人姓名"): "钱",
        h.index("收货人电话"): "13800138000",
        h.index("收货地址"): "江苏省南京市玄武区中山路1号",
    }
    data = ex.xls_bytes([h, [row.get(i) for i in range(len(h))]])

    batch = run_import(data, "快手.xls")

    assert batch.file_format == "xls" and batch.created_count == 1
    order = Order.objects.get(channel_order_no="KS-1")
    assert timezone.localtime(order.ordered_at).strftime("%Y-%m-%d %H:%M") == "2023-12-01 09:00"
    assert order.district == "玄武区" and order.address_detail == "中山路1号"


def test_unknown_layout_falls_back_to_suggestions(run_import, shop_channels, skus):
    data = ex.csv_bytes(
        [
            ["单号", "收货人 姓名", "手机号码", "收货地址", "商品编码", "件数", "单价"],
            ["W-1", "王五", "13800138000", "浙江省杭州市西湖区文三路1号", "BP-2231", "2", "88"],
        ]
    )

    batch = run_import(data, "微信接龙.csv", channel_code="manual")

    assert batch.status == BatchStatus.DONE, batch.message
    assert "自动建议" in batch.mapping_note
    assert Order.objects.get(channel_order_no="W-1").district == "西湖区"


def test_no_hold_reason_is_invented_for_a_clean_order(run_import, shop_channels, skus):
    run_import(ex.kuaishou_xlsx(), "快手.xlsx")
    assert not Order.objects.get().holds.exclude(reason=HoldReason.DUPLICATE).exists()
