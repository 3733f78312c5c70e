"""Exporting orders: the same filters as the order list, three formats, safe for spreadsheets."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from django.core.management import call_command
from openpyxl import load_workbook

from orderhub.accounts.roles import Role
from orderhub.ingest.export import orders_export
from orderhub.orders.selectors import OrderFilters
from orderhub.orders.services import LineDraft
from tests.ingest import exports as ex


def test_export_formats_and_filters(
    tmp_path: Path, run_import, shop_channels, skus, make_order, staff, capsys
):
    run_import(ex.douyin_xlsx(), "dy.xlsx")
    make_order(
        channel_order_no="M-1", remark="x", receiver_name='=HYPERLINK("x")', lines=[LineDraft("BP-2231", 2)]
    )

    out = tmp_path / "o.csv"
    call_command("export", "orders", "--format", "csv", "--channel", "douyin", "-o", str(out))
    assert "已导出 3 行" in capsys.readouterr().out
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["订单号", "渠道", "渠道订单号"]
    assert {r[2] for r in rows[1:]} == {"6921345678901234567", "6921345678901234570"}
    assert {r[3] for r in rows[1:]} == {"待审核"}

    buf = io.BytesIO()
    orders_export(
        actor=staff[Role.CUSTOMER_SERVICE], filters=OrderFilters(channel=["manual"]), fmt="xlsx", out=buf
    )
    ws = load_workbook(io.BytesIO(buf.getvalue())).active
    values = [c.value for c in list(ws.iter_rows())[1]]
    assert '\'=HYPERLINK("x")' in values

    jl = tmp_path / "o.jsonl"
    call_command("export", "orders", "--format", "jsonl", "-o", str(jl))
    orders = [json.loads(line) for line in jl.read_text().splitlines()]
    assert len(orders) == 3
    dy = next(o for o in orders if o["channel_order_no"] == "6921345678901234567")
    assert [ln["sku_code"] for ln in dy["lines"]] == ["BP-2231", "OF-1102"]


def test_export_is_scoped_to_the_salesperson(tmp_path: Path, make_order, staff):
    make_order(channel_order_no="MINE")  # owned by the customer's salesperson, sales1
    buf = io.BytesIO()
    assert orders_export(actor=staff["sales2"], filters=OrderFilters(), fmt="jsonl", out=buf) == 0
    assert orders_export(actor=staff[Role.SALES], filters=OrderFilters(), fmt="jsonl", out=io.BytesIO()) == 1


def test_export_from_the_web_with_the_order_list_filters(client, make_order, staff):
    make_order(channel_order_no="MINE")
    make_order(channel_order_no="OTHER", channel_code="pdd")
    client.force_login(staff[Role.SALES])

    r = client.get("/ingest/export/", {"channel": "manual", "format": "csv"})

    assert r.status_code == 200 and r["Content-Disposition"].endswith('orders.csv"')
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row[2] for row in rows[1:]] == ["MINE"]
