"""Exporting orders with their lines and state, filtered like the order list: XLSX, CSV, JSON Lines.

Rows stream from the database in chunks (bounded memory); CSV is UTF-8 with a BOM so that Excel on
Chinese Windows opens it correctly; text that a spreadsheet would run as a formula is neutralised.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import IO, Any

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.core.errors import ValidationFailed
from orderhub.ingest.text import neutralise_formula
from orderhub.orders.models import Order, OrderHold, OrderLine
from orderhub.orders.selectors import OrderFilters, order_filter

FORMATS = ("xlsx", "csv", "jsonl")

ORDER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("order_no", "订单号"),
    ("channel", "渠道"),
    ("channel_order_no", "渠道订单号"),
    ("status", "状态"),
    ("ordered_at", "下单时间"),
    ("customer", "客户"),
    ("customer_tier", "客户等级"),
    ("receiver_name", "收货人"),
    ("receiver_phone", "收货电话"),
    ("province", "省"),
    ("city", "市"),
    ("district", "区县"),
    ("district_code", "区划代码"),
    ("address_detail", "详细地址"),
    ("total_amount", "订单金额"),
    ("holds", "拦截原因"),
    ("owner", "负责销售"),
    ("updated_at", "最后更新时间"),
)
LINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("line_no", "行号"),
    ("sku_code", "商家编码"),
    ("name", "商品名称"),
    ("quantity", "数量"),
    ("unit_price", "单价"),
)


def _local(dt: Any) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M:%S") if dt else ""


def _order_values(o: Order) -> dict[str, Any]:
    return {
        "order_no": o.order_no,
        "channel": o.channel.code,
        "channel_order_no": o.channel_order_no or "",
        "status": o.status,
        "status_label": str(o.get_status_display()),
        "ordered_at": _local(o.ordered_at),
        "customer": o.customer.code if o.customer_id else "",
        "customer_tier": o.customer_tier,
        "receiver_name": o.receiver_name,
        "receiver_phone": o.receiver_phone,
        "province": o.province,
        "city": o.city,
        "district": o.district,
        "district_code": o.district_code,
        "address_detail": o.address_detail,
        "total_amount": str(o.total_amount),
        "holds": [h.reason for h in o.holds.all()],
        "owner": o.owner.username if o.owner_id else "",
        "updated_at": _local(o.updated_at),
    }


def _orders(actor: User, filters: OrderFilters) -> Iterator[Order]:
    qs = (
        order_filter(actor=actor, filters=filters)
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("line_no")),
            Prefetch("holds", queryset=OrderHold.objects.filter(resolved_at__isnull=True)),
        )
        .order_by("-ordered_at", "-pk")
    )
    return qs.iterator(chunk_size=2000)


def _flat_rows(actor: User, filters: OrderFilters) -> Iterator[list[Any]]:
    """One row per order line (an order without lines still gets one row)."""
    for o in _orders(actor, filters):
        v = _order_values(o)
        head = [
            v["status_label"] if k == "status" else ("、".join(v["holds"]) if k == "holds" else v[k])
            for k, _label in ORDER_COLUMNS
        ]
        lines = list(o.lines.all()) or [None]
        for ln in lines:
            tail = [getattr(ln, k) if ln else "" for k, _label in LINE_COLUMNS]
            yield [neutralise_formula(c) if isinstance(c, str) else c for c in (*head, *tail)]


def headers() -> list[str]:
    return [str(label) for _k, label in (*ORDER_COLUMNS, *LINE_COLUMNS)]


def orders_export(*, actor: User, filters: OrderFilters, fmt: str, out: IO[bytes]) -> int:
    """Write the actor's orders matching `filters` to `out`; returns the number of rows written."""
    if fmt not in FORMATS:
        raise ValidationFailed(_("不支持的导出格式：%(f)s") % {"f": fmt}, field="format")
    n = 0
    if fmt == "jsonl":
        for o in _orders(actor, filters):
            v = _order_values(o)
            v["lines"] = [
                {
                    "line_no": ln.line_no,
                    "sku_code": ln.sku_code,
                    "name": ln.name,
                    "quantity": ln.quantity,
                    "unit_price": str(ln.unit_price),
                }
                for ln in o.lines.all()
            ]
            out.write(json.dumps(v, ensure_ascii=False).encode() + b"\n")
            n += 1
        return n
    if fmt == "csv":
        out.write(b"\xef\xbb\xbf")
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow(headers())
        for row in _flat_rows(actor, filters):
            writer.writerow(row)
            n += 1
        text.detach()
        return n
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("订单"))
    ws.append(headers())
    for row in _flat_rows(actor, filters):
        ws.append(row)
        n += 1
    wb.save(out)
    return n
