"""Hostile and broken files are refused with a clear message, and nothing is written."""

from __future__ import annotations

import io
import zipfile

import pytest

from orderhub.ingest.models import BatchStatus, ImportChunk
from orderhub.ingest.readers import FileRefused
from orderhub.ingest.report import batch_report_xlsx
from orderhub.orders.models import Order
from tests.ingest import exports as ex

H = ["订单号", "收货人", "手机", "收货地址", "商家编码", "数量", "单价"]
GOOD = ["G1", "王", "13812345678", "浙江省台州市椒江区东环大道88号", "BP-2231", 1, 88]


def failed(batch, words: str) -> None:
    assert batch.status == BatchStatus.FAILED
    assert words in batch.message, batch.message
    assert not Order.objects.exists()
    assert not ImportChunk.objects.filter(batch=batch).exists()


def test_empty_file_is_refused_before_storing(run_import, shop_channels):
    with pytest.raises(FileRefused, match="空"):
        run_import(b"", "empty.csv", channel_code="manual")


def test_file_with_only_blank_lines(run_import, shop_channels):
    failed(run_import(b"\r\n\r\n,,,\r\n", "blank.csv", channel_code="manual"), "没有任何数据")


def test_over_size_file_refused_with_the_configurable_limit(run_import, shop_channels, settings):
    settings.ORDERHUB_INGEST = {**settings.ORDERHUB_INGEST, "MAX_UPLOAD_BYTES": 1024}
    with pytest.raises(FileRefused, match="超过上限") as exc:
        run_import(ex.csv_bytes([H, *[GOOD] * 100]), "big.csv", channel_code="manual")
    assert "MAX_UPLOAD_BYTES" in exc.value.message


def test_truncated_xlsx(run_import, shop_channels):
    data = ex.kuaishou_xlsx()
    failed(run_import(data[: len(data) // 2], "cut.xlsx"), "损坏")


def test_corrupt_xlsx_part(run_import, shop_channels):
    src = zipfile.ZipFile(io.BytesIO(ex.kuaishou_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data[: len(data) // 2]  # XML cut mid-element
            zf.writestr(item, data)
    batch = run_import(out.getvalue(), "bad.xlsx")
    assert batch.status == BatchStatus.FAILED and not Order.objects.exists()


def test_zip_bomb_is_refused(run_import, shop_channels):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * (60 * 1024 * 1024))
    assert len(out.getvalue()) < 200_000
    failed(run_import(out.getvalue(), "bomb.xlsx"), "压缩炸弹")


def test_excel_extension_with_other_content(run_import, shop_channels):
    failed(run_import(ex.csv_bytes([H, GOOD]), "orders.xlsx"), "不是 Excel")


def test_html_table_saved_as_xls(run_import, shop_channels):
    failed(run_import(b"<html><table><tr><td>1</td></tr></table></html>", "export.xls"), "另存为")


def test_binary_file_as_csv(run_import, shop_channels):
    failed(run_import(b"\x00\x01\x02binary\x00" * 100, "x.csv", channel_code="manual"), "二进制")


def test_wrong_forced_encoding_is_explained(run_import, shop_channels, skus):
    data = ex.csv_bytes([H, GOOD], encoding="gbk")
    failed(run_import(data, "x.csv", channel_code="manual", encoding="utf-8"), "无法按 utf-8 解码")


def test_mixed_encoding_file(run_import, shop_channels, skus):
    data = ex.csv_bytes([H, GOOD]) + ("\r\n" + "G2,李,13812345678,浙江省台州市椒江区,BP-2231,1,88").encode(
        "gbk"
    )
    failed(run_import(data, "mixed.csv", channel_code="manual"), "编码")


def test_ten_thousand_column_row_is_rejected_alone(run_import, shop_channels, skus):
    wide = ["W1", "王", "13812345678", "浙江省台州市椒江区东环大道88号", "BP-2231", 1, 88, *["x"] * 10_000]
    batch = run_import(ex.csv_bytes([H, GOOD, wide]), "wide.csv", channel_code="manual")

    assert batch.status == BatchStatus.DONE, batch.message
    assert batch.created_count == 1 and batch.rejected_count == 1
    assert batch.reject_counts == {"too_wide": 1}


def test_ten_thousand_column_header_refuses_the_file(run_import, shop_channels):
    failed(
        run_import(ex.csv_bytes([[f"c{i}" for i in range(10_000)], GOOD]), "wide.csv", channel_code="manual"),
        "超过上限",
    )


def test_formula_injection_is_neutralised_in_the_report(run_import, shop_channels, skus):
    from openpyxl import load_workbook

    evil = ['=HYPERLINK("http://x","y")', "+SUM(1)", "@cmd", "-2+3", "BP-2231", "abc", 88]
    batch = run_import(ex.csv_bytes([H, GOOD, evil]), "evil.csv", channel_code="manual")

    ws = load_workbook(io.BytesIO(batch_report_xlsx(batch))).active
    values = [c.value for c in next(r for r in ws.iter_rows() if r[0].value == 3)]
    assert '\'=HYPERLINK("http://x","y")' in values and "'+SUM(1)" in values and "'@cmd" in values
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "@")) for v in values)
    assert ws.cell(row=1, column=4).value == "原因"
