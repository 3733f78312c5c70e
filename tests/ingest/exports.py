"""Realistic channel export files, generated in code (no binary fixtures in the repository).

Each builder returns the file's bytes exactly as the channel's backend would let a seller download
it: GBK CSVs with tab-prefixed numbers, title rows above the header, Excel serial dates, one row
per line grouped by order number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from orderhub.ingest.presets import BUILTIN_PRESETS


def headers_of(name: str) -> list[str]:
    return list(next(p for p in BUILTIN_PRESETS if p.name == name).headers)


def csv_bytes(rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", bom: bool = False) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(
    rows: Sequence[Sequence[Any]], *, sheet: str = "Sheet1", date_format: str | None = None
) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(list(row))
    if date_format:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, datetime):
                    cell.number_format = date_format
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xls_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    """A real BIFF8 .xls (what older ERPs and U8 still export), written with xlwt (test-only)."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Sheet1")
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, datetime):
                ws.write(r, c, value, date_style)
            elif value is not None:
                ws.write(r, c, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _row(headers: list[str], **values: Any) -> list[Any]:
    return [values.get(h, "") for h in headers]


# --- 拼多多: one row per order, GBK CSV, tab-prefixed order numbers, split address ----------------


def pdd_csv(orders: list[dict[str, Any]] | None = None) -> bytes:
    h = headers_of("拼多多-订单导出")
    orders = orders or [
        {
            "no": "231212-084512345678901",
            "sku": "BP-2231",
            "qty": 2,
            "total": "176.00",
            "name": "王师傅",
            "phone": "13812345678",
            "prov": "浙江省",
            "city": "台州市",
            "dist": "椒江区",
            "street": "东环大道88号",
        },
        {
            "no": "231212-084512345678902",
            "sku": "OF-1102",
            "qty": 5,
            "total": "175.00",
            "name": "李强",
            "phone": "138****5678",
            "prov": "北京",
            "city": "北京市",
            "dist": "朝阳区",
            "street": "建国路88号SOHO",
        },
        {
            "no": "231212-084512345678903",
            "sku": "HL-8810",
            "qty": 1,
            "total": "88.00",
            "name": "张三",
            "phone": "17052341234-1234",
            "prov": "广西壮族自治区",
            "city": "南宁市",
            "dist": "青秀区",
            "street": "民族大道100号",
        },
    ]
    rows: list[list[Any]] = [h]
    for o in orders:
        rows.append(
            _row(
                h,
                **{
                    "商品": o.get("title", "陶瓷刹车片"),
                    "订单号": "\t" + o["no"],
                    "订单状态": "待发货",
                    "商品总价(元)": o["total"],
                    "邮费(元)": o.get("fee", "0.00"),
                    "商品数量(件)": o["qty"],
                    "收货人": o["name"],
                    "手机": o["phone"],
                    "省": o["prov"],
                    "市": o["city"],
                    "区": o["dist"],
                    "街道": o["street"],
                    "拼单成功时间": o.get("at", "2023-12-12 08:45:12"),
                    "承诺发货时间": "2023-12-14 08:45:12",
                    "商品规格": o.get("spec", "前轮"),
                    "商家编码-SKU维度": o["sku"],
                    "买家留言": o.get("remark", ""),
                },
            )
        )
    return csv_bytes(rows, encoding="gbk")


# --- 抖店: one row per sub-order (line), grouped by 主订单编号; XLSX with real dates ----------------


def douyin_xlsx() -> bytes:
    h = headers_of("抖店-订单导出")
    at = datetime(2023, 12, 12, 20, 1, 5)
    lines = [
        ("6921345678901234567", "6921345678901234568", "BP-2231", 2, "88.00"),
        ("6921345678901234567", "6921345678901234569", "OF-1102", 4, "35.00"),
        ("6921345678901234570", "6921345678901234571", "HL-8810", 1, "260.00"),
    ]
    rows: list[list[Any]] = [h]
    for main, sub, sku, qty, price in lines:
        rows.append(
            _row(
                h,
                **{
                    "主订单编号": main,
                    "子订单编号": sub,
                    "选购商品": "汽车配件",
                    "商品数量": qty,
                    "商家编码": sku,
                    "商品单价": price,
                    "运费": "0",
                    "收件人": "赵**",
                    "收件人手机号": "#3kQ9Y2bX0a#Zp1c==",
                    "省": "上海",
                    "市": "上海市",
                    "区": "浦东新区",
                    "街道": "花木街道",
                    "详细地址": "世纪大道1号",
                    "订单提交时间": at,
                },
            )
        )
    return xlsx_bytes(rows, date_format="yyyy-mm-dd hh:mm:ss")


# --- 1688: line per row, one-cell address, UTF-8 BOM CSV -----------------------------------------


def alibaba_csv() -> bytes:
    h = headers_of("1688-订单导出")
    rows: list[list[Any]] = [h]
    for no, sku, qty, price in [
        ("3398765432101234567", "BP-2231", 10, "80.00"),
        ("3398765432101234567", "OF-1102", 20, "30.00"),
    ]:
        rows.append(
            _row(
                h,
                **{
                    "订单编号": no,
                    "买家公司名": "椒江恒通汽配",
                    "运费(元)": "15.00",
                    "订单创建时间": "2023/12/12 9:30",
                    "收货人姓名": "陈经理",
                    "收货地址": "湖北省 仙桃市 沙嘴街道 仙桃大道18号",
                    "联系手机": "+86 139-0571-1234",
                    "货品标题": "汽配批发",
                    "单价(元)": price,
                    "数量": qty,
                    "货号": sku,
                },
            )
        )
    return csv_bytes(rows, bom=True)


# --- 淘宝/天猫: GB18030 CSV, address with postcode, Excel apostrophes -----------------------------


def taobao_csv() -> bytes:
    h = headers_of("淘宝天猫-订单导出")
    rows: list[list[Any]] = [h]
    for no, sku, qty, price in [
        ("3601234567890123456", "BP-2231", 1, "88.00"),
        ("3601234567890123456", "HL-8810", 1, "260.00"),
        ("3601234567890123457", "OF-1102", 3, "35.00"),
    ]:
        rows.append(
            _row(
                h,
                **{
                    "订单编号": '="' + no + '"',
                    "买家会员名": "tb_buyer",
                    "买家应付邮费": "8.00",
                    "收货人姓名": "周女士",
                    "收货地址": "广东省 东莞市 长安镇 振安中路188号(523850)",
                    "联系手机": "'13912345678",
                    "订单创建时间": "2023-12-12 10:00:00",
                    "宝贝标题": "汽车刹车片",
                    "商家编码": sku,
                    "价格": price,
                    "购买数量": qty,
                },
            )
        )
    return csv_bytes(rows, encoding="gb18030")


# --- 快手: XLSX with Excel serial dates stored as numbers ------------------------------------------


def kuaishou_xlsx() -> bytes:
    h = headers_of("快手-订单导出")
    rows: list[list[Any]] = [h]
    rows.append(
        _row(
            h,
            **{
                "订单号": 2312120012345678,
                "订单创建时间": 45272.5,  # 2023-12-12 12:00 as an Excel serial number in a General cell
                "商品名称": "机油滤清器",
                "SKU编码": "OF-1102",
                "成交数量": 6,
                "商品单价": 35,
                "运费": 0,
                "收货人姓名": "孙师傅",
                "收货人电话": "１３６００００１１１１",
                "收货地址": "新疆维吾尔自治区乌鲁木齐市天山区解放北路1号",
            },
        )
    )
    return xlsx_bytes(rows)


# --- U8 销售订单列表: title rows above the header, dealer addresses from the customer master --------


def u8_xlsx(extra_lines: Sequence[tuple[str, str, int]] = ()) -> bytes:
    h = headers_of("U8-销售订单")
    rows: list[list[Any]] = [["销售订单列表"], ["制表日期：2023-12-12", None, "账套：001"], [], h]
    lines = [("0000012345", "BP-2231", 20), ("0000012345", "OF-1102", 50), *extra_lines]
    for i, (no, sku, qty) in enumerate(lines, start=1):
        rows.append(
            _row(
                h,
                **{
                    "订单号": no,
                    "订单日期": datetime(2023, 12, 11),
                    "客户编码": "D0001",
                    "客户简称": "椒江恒通",
                    "行号": i,
                    "存货编码": sku,
                    "存货名称": "配件",
                    "数量": qty,
                    "含税单价": 80,
                },
            )
        )
    rows.append(["合计", None, None, None, None, None, None, None, None, None, sum(q for _n, _s, q in lines)])
    return xlsx_bytes(rows, sheet="销售订单", date_format="yyyy-mm-dd")
