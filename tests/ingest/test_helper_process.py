"""A large batch is prepared in a helper process while the importer writes: same outcome as in-process.

Chunks of 4 rows make a 26-row file a batch of 7 chunks, so the helper (a forked process) prepares
them; the same file imported in-process must give exactly the same orders, holds, rejections and
a log that `audit verify` accepts.
"""

from __future__ import annotations

from typing import Any

import pytest

from orderhub.ingest import parallel
from orderhub.ingest.models import ImportIssue
from orderhub.orders.audit import audit_verify
from orderhub.orders.models import HoldReason, Order, OrderHold
from orderhub.orders.states import OrderStatus
from tests.ingest import exports as ex

H = ["订单号", "下单时间", "收货人", "手机", "收货地址", "商家编码", "数量", "单价"]
ADDR = "浙江省台州市椒江区东环大道88号"


def export() -> list[list[object]]:
    data: list[list[object]] = [
        ["L1", "2023-12-12 09:00", "王", "13812345678", ADDR, "BP-2231", 1, 88],
        ["L1", "2023-12-12 09:00", "王", "13812345678", ADDR, "OF-1102", 2, 35],
        ["L1", "2023-12-12 09:00", "王", "13812345678", ADDR, "HL-8810", 1, 260],
        ["D1", "2023-12-12 10:00", "李", "13900001111", ADDR, "OF-1102", 3, 35],
        ["U1", "2023-12-12 10:00", "赵", "13700001111", ADDR, "NO-SUCH-SKU", 1, 10],
        ["M1", "2023-12-12 10:00", "钱", "138****5678", ADDR, "BP-2231", 1, 88],
        ["", "2023-12-12 10:00", "孙", "13700002222", ADDR, "BP-2231", 1, 88],
        ["Q1", "2023-12-12 10:00", "周", "13700003333", ADDR, "BP-2231", "abc", 88],
    ]
    data += [
        [f"N{i}", "2023-12-12 11:00", f"客{i}", f"1360000{i:04d}", ADDR, "BP-2231", 1, 88] for i in range(16)
    ]
    data.append(["D2", "2023-12-12 12:00", "李", "13900001111", ADDR, "OF-1102", 3, 35])
    data.append(["合计", "", "", "", "", "", 41, ""])
    return data


@pytest.fixture(params=["one helper", "two helpers", "in-process"])
def mode(request: Any, settings: Any, ingest_files: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    helper = request.param != "in-process"
    settings.ORDERHUB_INGEST = {
        **settings.ORDERHUB_INGEST,
        "CHUNK_ROWS": 4,
        "HELPER_MIN_CHUNKS": 2 if helper else None,
        "HELPER_PROCESSES": 2 if request.param == "two helpers" else 1,
    }
    started = {"helpers": 0}
    real = parallel.helper_start

    def counting(*args: Any, **kwargs: Any) -> Any:
        started["helpers"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(parallel, "helper_start", counting)
    return started


def holds_of(no: str) -> set[str]:
    return set(OrderHold.objects.filter(order__channel_order_no=no).values_list("reason", flat=True))


def test_a_large_batch_imports_the_same_with_or_without_the_helper(run_import, shop_channels, skus, mode):
    batch = run_import(ex.csv_bytes([H, *export()]), "big.csv", channel_code="manual")

    assert batch.status == "done"
    assert (batch.total_rows, batch.processed_rows) == (26, 26)
    # counted in rows: L1 is three rows
    assert (batch.created_count, batch.held_count, batch.rejected_count, batch.skipped_count) == (20, 3, 2, 1)
    assert Order.objects.filter(status=OrderStatus.PENDING_REVIEW).count() == 21
    l1 = Order.objects.get(channel_order_no="L1")
    assert [(ln.sku_code, ln.quantity) for ln in l1.lines.order_by("line_no")] == [
        ("BP-2231", 1),
        ("OF-1102", 2),
        ("HL-8810", 1),
    ]
    assert l1.total_amount == 88 + 70 + 260
    assert holds_of("D1") == set() and holds_of("D2") == {HoldReason.DUPLICATE}
    assert holds_of("U1") == {HoldReason.UNKNOWN_SKU}
    assert holds_of("M1") == {HoldReason.MASKED_PHONE}
    rejected = ImportIssue.objects.filter(batch=batch, outcome="rejected").order_by("row_no")
    assert [(i.row_no, i.code) for i in rejected] == [(8, "no_order_no"), (9, "bad_int")]
    assert rejected[1].channel_order_no == "Q1"
    report = audit_verify()
    assert report.ok and report.entries == 21


def test_the_helper_runs_for_a_large_batch_only(run_import, shop_channels, skus, mode, settings):
    run_import(ex.csv_bytes([H, *export()]), "big.csv", channel_code="manual")
    helper_mode = settings.ORDERHUB_INGEST["HELPER_MIN_CHUNKS"] is not None
    assert mode["helpers"] == (1 if helper_mode else 0)

    run_import(ex.csv_bytes([H, *export()[:3]]), "small.csv", channel_code="manual")  # one chunk
    assert mode["helpers"] == (1 if helper_mode else 0)


def test_reimport_and_changed_orders_through_the_helper(run_import, shop_channels, skus, mode):
    run_import(ex.csv_bytes([H, *export()]), "big.csv", channel_code="manual")
    changed = export()
    changed[3] = [
        "D1",
        "2023-12-12 10:00",
        "李",
        "13900001111",
        "浙江省台州市椒江区东环大道99号",
        "OF-1102",
        3,
        35,
    ]

    again = run_import(ex.csv_bytes([H, *changed]), "big-again.csv", channel_code="manual")

    assert Order.objects.count() == 21
    assert (again.created_count, again.updated_count, again.rejected_count) == (0, 1, 2)
    assert (again.unchanged_count, again.skipped_count) == (22, 1)
    assert Order.objects.get(channel_order_no="D1").address_detail.endswith("99号")
    assert audit_verify().ok


@pytest.mark.parametrize("group_seconds", [0.0, 60.0])
def test_a_batch_stopped_by_an_error_keeps_whole_chunks_only_and_resumes(
    run_import, shop_channels, skus, settings, monkeypatch, group_seconds
):
    """An error in the 4th chunk ends the run: on SQLite the chunks committed together with it
    (SQLITE_GROUP_SECONDS) go too, never part of a chunk; running the batch again finishes it."""
    from django.db import connection

    from orderhub.ingest import pipeline
    from orderhub.ingest.models import ImportBatch, ImportChunk
    from orderhub.ingest.services import batch_run

    settings.ORDERHUB_INGEST = {
        **settings.ORDERHUB_INGEST,
        "CHUNK_ROWS": 4,
        "HELPER_MIN_CHUNKS": 2,
        "SQLITE_GROUP_SECONDS": group_seconds,
    }
    real = pipeline.chunk_persist
    calls = {"n": 0}

    def failing(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(pipeline, "chunk_persist", failing)
    with pytest.raises(RuntimeError):
        run_import(ex.csv_bytes([H, *export()]), "big.csv", channel_code="manual")

    batch = ImportBatch.objects.get()
    done = ImportChunk.objects.filter(batch=batch, processed=True)
    in_done_chunks = {o[2] for c in done for o in c.outcomes if o[2]}
    assert set(Order.objects.values_list("pk", flat=True)) == in_done_chunks
    grouped = group_seconds and connection.vendor == "sqlite"
    assert done.count() == (0 if grouped else 3)
    assert ImportBatch.objects.get().processed_rows == sum(len(c.outcomes) for c in done)

    monkeypatch.setattr(pipeline, "chunk_persist", real)
    batch = batch_run(batch.pk)
    assert batch.status == "done"
    assert (batch.created_count, batch.held_count, batch.rejected_count, batch.skipped_count) == (20, 3, 2, 1)
    assert audit_verify().ok and Order.objects.count() == 21


def test_a_file_refused_after_the_helpers_started_imports_nothing(
    run_import, shop_channels, skus, mode, settings
):
    """The helpers start while the file is staged; a bad byte further down still refuses it whole."""
    import multiprocessing

    data = ex.csv_bytes([H, *(export() * 20)]) + b"X9,\xff\xfe\r\n"  # beyond the first 8 KB read

    batch = run_import(data, "broken.csv", channel_code="manual", encoding="utf-8")

    assert batch.status == "failed" and "无法" in batch.message
    assert mode["helpers"] == (0 if settings.ORDERHUB_INGEST["HELPER_MIN_CHUNKS"] is None else 1)
    assert Order.objects.count() == 0 and not batch.chunks.exists()
    assert multiprocessing.active_children() == []


def test_where_no_helper_may_start_the_staged_chunks_are_not_kept_for_one(
    run_import, shop_channels, skus, mode, settings, monkeypatch
):
    """A process that must not fork (other threads running) imports in-process and does not hold
    the staged chunks' text in memory waiting for a helper."""
    from orderhub.ingest import pipeline

    monkeypatch.setattr(parallel, "use_helper", lambda chunks: False)
    kept: list[int] = []
    real_close = pipeline.EarlyHelper.close

    def close(self: Any) -> None:
        kept.append(len(self.waiting))
        real_close(self)

    monkeypatch.setattr(pipeline.EarlyHelper, "close", close)

    batch = run_import(ex.csv_bytes([H, *export()]), "big.csv", channel_code="manual")

    assert batch.status == "done" and batch.created_count == 20
    assert mode["helpers"] == 0
    assert kept == [0]
