"""The per-process reference cache of the hot path never hides a row created elsewhere."""

from __future__ import annotations

import pytest

from orderhub.core.db import RowInserter
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


def test_row_inserter_writes_what_create_would(make_order, carrier_table) -> None:
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from orderhub.fulfilment.models import Waybill

    order = make_order()
    inserter = RowInserter(Waybill)
    now = timezone.now()
    pk = inserter.insert(
        order_id=order.pk,
        carrier_id=carrier_table["ZTO"].pk,
        number="75000001",
        provider="simulated",
        created_at=now,
    )
    wb = Waybill.objects.get(pk=pk)
    # Left-out fields get their defaults, as with Waybill.objects.create().
    assert (wb.order_id, wb.number, wb.status, wb.print_data, wb.voided_at, wb.created_at) == (
        order.pk,
        "75000001",
        Waybill.Status.ACTIVE,
        "",
        None,
        now,
    )
    # A constraint refuses a second live waybill with Django's IntegrityError; nothing is written.
    with pytest.raises(IntegrityError), transaction.atomic():
        inserter.insert(
            order_id=order.pk, carrier_id=carrier_table["ZTO"].pk, number="75000002", created_at=now
        )
    assert Waybill.objects.filter(order=order).count() == 1
    with pytest.raises(TypeError, match="order"):
        inserter.insert(order=order)
