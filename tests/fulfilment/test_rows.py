"""The per-process reference cache of the hot path never hides a row created elsewhere."""

from __future__ import annotations

from orderhub.fulfilment import rows
from orderhub.ingest.models import Channel, ChannelKind
from orderhub.inventory.models import Warehouse


def test_a_channel_and_warehouse_created_after_caching_are_found(make_order, warehouses) -> None:
    order = make_order()
    rows.with_references(order)  # the tables are now cached in this process
    # Created by another process: bulk_create sends no post_save signal, so the cache is not cleared.
    [douyin] = Channel.objects.bulk_create([Channel(code="dy2", name="抖店二店", kind=ChannelKind.DOUYIN)])
    [wuhan] = Warehouse.objects.bulk_create([Warehouse(code="WH", name="武汉仓", province="湖北省")])
    assert rows.channel(douyin.pk).name == "抖店二店"
    assert rows.warehouse(wuhan.pk).code == "WH"


def test_order_rows_read_like_the_orm(make_order) -> None:
    order = make_order()
    row = rows.order_locked(order.pk)
    assert (row.order_no, row.total_amount, row.ordered_at, row.lines_snapshot) == (
        order.order_no,
        order.total_amount,
        order.ordered_at,
        order.lines_snapshot,
    )
    assert rows.order_row(10**12) is None and not rows.has_parts(order.pk)
