"""The SQL source connector against source databases shaped like U8 (SO_SOMain / SO_SODetails)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from orderhub.core.jobs import jobs_run_pending
from orderhub.ingest.models import SqlSource
from orderhub.ingest.services import preset_get
from orderhub.ingest.sql_source import sql_source_pull
from orderhub.inventory.models import Stock, Warehouse
from orderhub.orders.models import Order

DDL = [
    "CREATE TABLE {s}Customer (cCusCode VARCHAR(20) PRIMARY KEY, cCusName VARCHAR(98))",
    "CREATE TABLE {s}Inventory (cInvCode VARCHAR(60) PRIMARY KEY, cInvName VARCHAR(255),"
    " cInvStd VARCHAR(255))",
    "CREATE TABLE {s}SO_SOMain (ID INTEGER PRIMARY KEY, cSOCode VARCHAR(30), dDate TIMESTAMP,"
    " cCusCode VARCHAR(20), cPersonCode VARCHAR(20), cDepCode VARCHAR(12), dVerifysysTime TIMESTAMP)",
    "CREATE TABLE {s}SO_SODetails (iSOsID INTEGER PRIMARY KEY, ID INTEGER, cSOCode VARCHAR(30),"
    " iRowNo INTEGER, cInvCode VARCHAR(60), iQuantity DECIMAL(20,6), iTaxUnitPrice DECIMAL(20,6),"
    " iMoney DECIMAL(20,2), dPreDate TIMESTAMP)",
    "CREATE TABLE {s}CurrentStock (cWhCode VARCHAR(10), cInvCode VARCHAR(60), iQuantity DECIMAL(20,6))",
]
QUERY = """
SELECT sm.ID, sm.cSOCode, sm.dDate, sm.cCusCode, c.cCusName, sm.cPersonCode, sd.iSOsID, sd.iRowNo,
       sd.cInvCode, i.cInvName, i.cInvStd, sd.iQuantity, sd.iTaxUnitPrice, sd.iMoney, sd.dPreDate
FROM {s}SO_SOMain sm
JOIN {s}SO_SODetails sd ON sd.ID = sm.ID
LEFT JOIN {s}Customer c ON c.cCusCode = sm.cCusCode
LEFT JOIN {s}Inventory i ON i.cInvCode = sd.cInvCode
WHERE sm.dVerifysysTime IS NOT NULL
"""


def seed(execute: Callable[[str, tuple[Any, ...]], Any], s: str) -> None:
    for ddl in DDL:
        execute(ddl.format(s=s), ())
    execute(f"INSERT INTO {s}Customer VALUES ('D0001', '椒江恒通汽配')", ())
    execute(
        f"INSERT INTO {s}Inventory VALUES ('BP-2231', '陶瓷刹车片', '前轮'), ('OF-1102', '机油滤清器', '')",
        (),
    )
    add_order(execute, s, 1, "0000000001", [("BP-2231", 20), ("OF-1102", 50)])
    add_order(execute, s, 2, "0000000002", [("OF-1102", 10)], approved=False)
    execute(
        f"INSERT INTO {s}CurrentStock VALUES ('WH-TZ', 'BP-2231', 120), ('WH-TZ', 'OF-1102', 30.000000)", ()
    )


def add_order(execute, s: str, pk: int, code: str, lines, approved: bool = True) -> None:
    verified = "'2023-12-11 09:00:00'" if approved else "NULL"
    execute(
        f"INSERT INTO {s}SO_SOMain VALUES ({pk}, '{code}', '2023-12-11 00:00:00', 'D0001', 'sales1', '01',"
        f" {verified})",
        (),
    )
    for n, (sku, qty) in enumerate(lines, start=1):
        execute(
            f"INSERT INTO {s}SO_SODetails VALUES ({pk * 100 + n}, {pk}, '{code}', {n}, '{sku}', {qty}, 80,"
            f" {qty * 80}, '2023-12-15 00:00:00')",
            (),
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def u8(request, tmp_path: Path) -> Iterator[tuple[str, str, Callable[..., Any]]]:
    """(SQLAlchemy URL, table prefix, execute) of a U8-shaped source database."""
    if request.param == "sqlite":
        path = tmp_path / "UFDATA_001_2023.sqlite3"
        con = sqlite3.connect(path, isolation_level=None)
        seed(lambda sql, p: con.execute(sql, p), "")
        yield f"sqlite:///{path}", "", lambda sql, p=(): con.execute(sql, p)
        con.close()
        return
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL source runs when the suite runs on PostgreSQL")
    import psycopg

    from tests.support import database_url_of_this_run

    url = database_url_of_this_run()
    con = psycopg.connect(url, autocommit=True)
    con.execute("DROP SCHEMA IF EXISTS u8 CASCADE")
    con.execute("CREATE SCHEMA u8")
    seed(lambda sql, p: con.execute(sql, p), "u8.")
    yield url.replace("postgres://", "postgresql+psycopg://", 1), "u8.", lambda sql, p=(): con.execute(sql, p)
    con.execute("DROP SCHEMA u8 CASCADE")
    con.close()


@pytest.fixture
def u8_channel(shop_channels):
    return shop_channels["u8"]


def test_orders_pulled_incrementally_and_idempotently(u8, u8_channel, skus, customer):
    url, s, execute = u8
    source = SqlSource.objects.create(
        name="U8 销售订单",
        url=url,
        query=QUERY.format(s=s),
        preset=preset_get("U8-销售订单-SQL"),
        channel=u8_channel,
        watermark_column="ID",
    )

    first = sql_source_pull(source=source)

    assert first.status == "done", first.message
    order = Order.objects.get(channel_order_no="0000000001")
    assert [(ln.sku_code, ln.quantity, ln.unit_price) for ln in order.lines.order_by("line_no")] == [
        ("BP-2231", 20, Decimal("80.00")),
        ("OF-1102", 50, Decimal("80.00")),
    ]
    assert order.customer == customer and order.city == "台州市"  # dealer address from the customer master
    assert not Order.objects.filter(channel_order_no="0000000002").exists()  # not approved in U8
    source.refresh_from_db()
    assert source.watermark == "i:1" and source.last_batch == first

    add_order(execute, s, 3, "0000000003", [("BP-2231", 5)])
    second = sql_source_pull(source=source)

    assert second.total_rows == 3  # the boundary order again (unchanged) and the new one
    assert (second.unchanged_count, second.created_count) == (2, 1)
    assert Order.objects.filter(channel=u8_channel).count() == 2


def test_stock_levels_synchronised(u8, skus):
    url, s, execute = u8
    wh = Warehouse.objects.create(code="WH-TZ", name="台州仓", province="浙江省")
    source = SqlSource.objects.create(
        name="U8 现存量",
        kind="stock",
        url=url,
        query=f"SELECT cWhCode, cInvCode, iQuantity FROM {s}CurrentStock",
        preset=preset_get("U8-现存量-SQL"),
    )

    batch = sql_source_pull(source=source)
    execute(f"UPDATE {s}CurrentStock SET iQuantity = 100 WHERE cInvCode = 'BP-2231'")
    again = sql_source_pull(source=source)

    assert batch.created_count == 2 and again.updated_count == 1 and again.unchanged_count == 1
    assert Stock.objects.get(warehouse=wh, sku=skus["BP-2231"]).on_hand == 100


def test_scheduled_by_the_worker_and_failures_are_kept(u8, u8_channel, skus, customer, monkeypatch):
    url, s, _execute = u8
    monkeypatch.setenv("U8_URL", url)
    good = SqlSource.objects.create(
        name="U8",
        url="env:U8_URL",
        query=QUERY.format(s=s),
        preset=preset_get("U8-销售订单-SQL"),
        channel=u8_channel,
    )
    bad = SqlSource.objects.create(
        name="坏的",
        url="env:U8_URL",
        query="SELECT * FROM no_such_table",
        preset=preset_get("U8-销售订单-SQL"),
        channel=u8_channel,
    )
    from orderhub.ingest.tasks import enqueue_due_sql_sources

    assert enqueue_due_sql_sources.call() == 2
    jobs_run_pending(queues=["default"])

    assert Order.objects.filter(channel_order_no="0000000001").exists()
    bad.refresh_from_db()
    good.refresh_from_db()
    assert "no_such_table" in bad.last_error.lower() and good.last_error == ""
    assert enqueue_due_sql_sources.call() == 0  # not due again for every_minutes
