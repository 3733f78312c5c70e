"""Batch summaries (CLI, pages) and the downloadable Excel report of problem rows."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from orderhub.ingest.models import ImportBatch, ImportChunk, ImportIssue, RowOutcome
from orderhub.ingest.text import neutralise_formula
from orderhub.orders.models import HoldReason

REJECT_LABELS = {
    "no_order_no": _("缺少渠道订单号"),
    "no_sku": _("缺少商品"),
    "no_quantity": _("缺少数量"),
    "too_wide": _("列数超限"),
    "order_rejected": _("同单其他行有错误"),
    "bad_int": _("数量/整数无效"),
    "bad_decimal": _("金额/数字无效"),
    "bad_datetime": _("日期无效"),
    "bad_code": _("编码无效"),
    "bad_text": _("文本无效"),
    "bad_phone": _("电话无效"),
    "bad_bool": _("是/否无效"),
    "unknown_warehouse": _("仓库不存在"),
    "unknown_sku": _("商品不存在"),
    "stock_refused": _("库存盘点被拒绝"),
    "missing_field": _("必填字段为空"),
}


def reason_label(code: str) -> str:
    if code in HoldReason.values:
        return str(HoldReason(code).label)
    return str(REJECT_LABELS.get(code, code))


def batch_summary_lines(batch: ImportBatch) -> list[str]:
    imported = batch.created_count + batch.held_count
    orders = batch.options.get("orders", {})
    new_orders = orders.get("created", 0) + orders.get("held", 0)
    lines = [
        _("导入完成：共 %(t)s 行数据") % {"t": f"{batch.total_rows:,}"},
        _("  新建 %(n)s 行（%(o)s 单，其中拦截待审 %(h)s 单）")
        % {"n": f"{imported:,}", "o": f"{new_orders:,}", "h": f"{orders.get('held', 0):,}"},
        _("  更新 %(u)s，无变化 %(s)s，改单冲突 %(c)s")
        % {
            "u": f"{batch.updated_count:,}",
            "s": f"{batch.unchanged_count:,}",
            "c": f"{batch.conflict_count:,}",
        },
        _("  拒绝 %(r)s 行，跳过 %(k)s 行（空行/合计行/重复行）")
        % {"r": f"{batch.rejected_count:,}", "k": f"{batch.skipped_count:,}"},
    ]
    if batch.hold_counts:
        lines.append(
            _("  拦截原因：")
            + "，".join(f"{reason_label(k)} {v}" for k, v in sorted(batch.hold_counts.items()))
        )
    if batch.reject_counts:
        lines.append(
            _("  拒绝原因：")
            + "，".join(f"{reason_label(k)} {v}" for k, v in sorted(batch.reject_counts.items()))
        )
    return lines


def _raw_rows(batch: ImportBatch, row_nos: set[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for rows in (
        ImportChunk.objects.filter(batch=batch)
        .order_by("seq")
        .values_list("rows", flat=True)
        .iterator(chunk_size=20)
    ):
        for row_no, cells, _width in rows:
            if row_no in row_nos:
                found[row_no] = cells
    return found


def problem_rows(batch: ImportBatch) -> Iterator[tuple[ImportIssue, list[Any]]]:
    issues = list(ImportIssue.objects.filter(batch=batch).order_by("row_no", "pk"))
    raw = _raw_rows(batch, {i.row_no for i in issues})
    for issue in issues:
        yield issue, raw.get(issue.row_no, [])


def batch_report_xlsx(batch: ImportBatch) -> bytes:
    """Excel of the problem rows: row number, outcome, column, reason, then the row as received.

    Every text cell that a spreadsheet would evaluate as a formula is neutralised.
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("问题行"))
    headers = list(batch.headers)
    ws.append([_("行号"), _("结果"), _("列"), _("原因"), _("渠道订单号"), *headers])
    for issue, cells in problem_rows(batch):
        outcome = RowOutcome(issue.outcome).label if issue.outcome in RowOutcome.values else issue.outcome
        row = [issue.row_no, str(outcome), issue.column, issue.message, issue.channel_order_no, *cells]
        ws.append([neutralise_formula(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
