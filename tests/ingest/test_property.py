"""Property: any CSV is imported or explained — never a crash, never a half-written batch."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderhub.ingest.models import BatchStatus, ImportIssue
from orderhub.orders.audit import audit_verify
from orderhub.orders.models import Order

HEADER = ["订单号", "收货人", "手机", "收货地址", "商家编码", "数量", "单价", "下单时间"]
cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "A1",
            "A2",
            "BP-2231",
            "OF-1102",
            "0",
            "-3",
            "1",
            "2.5",
            "13812345678",
            "138****5678",
            "浙江省台州市椒江区东环大道88号",
            "=cmd()",
            "合计",
            "2023-12-12",
            "45272",
            "",
            "１２",
        ]
    ),
)
row = st.lists(cell, min_size=0, max_size=10)


def encode(rows: list[list[str]], header: bool, encoding: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    if header:
        w.writerow(HEADER)
    for r in rows:
        w.writerow(r)
    return buf.getvalue().encode(encoding, errors="replace")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(row, max_size=12),
    header=st.booleans(),
    encoding=st.sampled_from(["utf-8", "gb18030", "utf-8-sig"]),
    garbage=st.binary(max_size=8),
)
def test_random_csv_is_imported_or_explained(
    run_import, shop_channels, skus, rows, header, encoding, garbage
):
    before = Order.objects.count()
    data = encode(rows, header, encoding) + garbage
    try:
        batch = run_import(data, "random.csv", channel_code="manual")
    except Exception as exc:  # only the documented refusal may escape: an empty file
        from orderhub.ingest.readers import FileRefused

        assert isinstance(exc, FileRefused) and exc.message
        assert Order.objects.count() == before
        return
    assert batch.status in (BatchStatus.DONE, BatchStatus.FAILED)
    created = Order.objects.count() - before
    if batch.status == BatchStatus.FAILED:
        assert batch.message  # explained
        assert created == 0  # and nothing written
        assert not batch.chunks.exists()
        return
    # every data row has exactly one outcome, and the counts add up to what is in the database
    outcomes = [o for c in batch.chunks.all() for o in c.outcomes]
    assert len(outcomes) == batch.total_rows == batch.processed_rows
    assert len({o[0] for o in outcomes}) == len(outcomes)
    assert (
        batch.created_count
        + batch.held_count
        + batch.updated_count
        + batch.unchanged_count
        + batch.conflict_count
        + batch.rejected_count
        + batch.skipped_count
        == batch.total_rows
    )
    assert created == len({o[2] for o in outcomes if o[1] in ("created", "held")})
    rejected_rows = {i.row_no for i in ImportIssue.objects.filter(batch=batch, outcome="rejected")}
    assert rejected_rows == {o[0] for o in outcomes if o[1] == "rejected"}
    assert all(i.message for i in ImportIssue.objects.filter(batch=batch))
    assert audit_verify().ok
