"""The preset editor's reads: inspect a sample file, and preview a mapping on its first rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orderhub.catalog.models import Customer
from orderhub.ingest.drafts import Catalog, build_draft
from orderhub.ingest.fields import ImportKind
from orderhub.ingest.mapping import as_naive_text, compile_mapping, map_row
from orderhub.ingest.models import Channel
from orderhub.ingest.readers import FileRefused, open_rows
from orderhub.ingest.suggest import (
    HEADER_SCAN_ROWS,
    Suggestion,
    find_header_row,
    header_texts,
    suggest_columns,
)

PREVIEW_ROWS = 10


@dataclass
class Sample:
    format: str
    encoding: str
    header_row: int
    headers: list[str]
    rows: list[list[Any]]  # [row_no, [cells]] for up to PREVIEW_ROWS data rows (JSON-safe)
    suggestions: list[Suggestion]


def sample_inspect(path: Path, *, kind: str, filename: str = "") -> Sample:
    """Header row, the first data rows and a suggestion for every column."""
    info, rows = open_rows(path, filename=filename)
    head = []
    for row in rows:
        if row.cells:
            head.append(row)
        if len(head) >= HEADER_SCAN_ROWS + PREVIEW_ROWS:
            break
    if not head:
        raise FileRefused("文件中没有任何数据行", field="file")
    idx = find_header_row(kind, head[:HEADER_SCAN_ROWS])
    headers = header_texts(head[idx].cells)
    data = head[idx + 1 : idx + 1 + PREVIEW_ROWS]
    return Sample(
        format=info.format,
        encoding=info.encoding,
        header_row=head[idx].row_no,
        headers=headers,
        rows=[[r.row_no, [as_naive_text(c) for c in r.cells]] for r in data],
        suggestions=suggest_columns(kind, headers, [r.cells for r in data]),
    )


def mapping_preview(
    *, kind: str, headers: list[str], rows: list[list[Any]], mapping: dict[str, Any], channel: Channel | None
) -> list[dict[str, Any]]:
    """What the first rows become under `mapping`: values per field and the problems found."""
    plans = compile_mapping(kind, mapping, headers)
    mapped = [map_row(plans, row_no, cells) for row_no, cells in rows]
    if kind != ImportKind.ORDERS or channel is None:
        return [
            {
                "rows": [m.row_no],
                "values": {k: _show(v) for k, v in m.values.items()},
                "problems": [f"{e.column}：{e.message}" for e in m.errors],
            }
            for m in mapped
        ]
    groups: dict[str, list[Any]] = {}
    for m in mapped:
        groups.setdefault(str(m.values.get("channel_order_no") or f"#{m.row_no}"), []).append(m)
    codes = {str(m.values.get("customer_code")) for m in mapped if m.values.get("customer_code")}
    customers = {c.code: c for c in Customer.objects.filter(code__in=codes)}
    catalog = Catalog.load()
    out = []
    for key, group in groups.items():
        res = build_draft(key, group, channel=channel, catalog=catalog, customers=customers)
        problems = [f"第{r.row_no}行 {r.column}：{r.message}".replace(" ：", "：") for r in res.rejections]
        values: dict[str, Any] = {}
        if res.draft:
            d = res.draft
            values = {
                "channel_order_no": d.channel_order_no,
                "ordered_at": _show(d.ordered_at),
                "receiver": f"{d.receiver_name} {d.receiver_phone}（{d.phone_kind}）",
                "address": " ".join(p for p in (d.province, d.city, d.district, d.address_detail) if p),
                "codes": "/".join(c for c in (d.province_code, d.city_code, d.district_code) if c),
                "lines": "；".join(f"{ln.sku_code}×{ln.quantity}@{ln.unit_price}" for ln in d.lines),
            }
            problems += [f"拦截：{detail or reason}" for reason, detail in d.holds]
        out.append({"rows": [m.row_no for m in group], "values": values, "problems": problems})
    return out


def _show(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "kind") and hasattr(value, "value"):
        return f"{value.value}（{value.kind}）"
    if hasattr(value, "strftime"):
        from django.utils import timezone

        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value.tzinfo else str(value)
    return str(value)
