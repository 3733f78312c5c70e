"""Fulfilment events on the order timeline, in one query (a UNION over the fulfilment records):
automatic reviews with every rule's verdict, waybills, label prints, refused packing scans and
the report-back to the channel."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import CharField, DateTimeField, IntegerField, TextField, Value
from django.db.models.functions import Cast, Coalesce

from orderhub.core.db import CompiledRows
from orderhub.fulfilment.models import LabelPrint, PackScan, ReviewRun, ShipReport, Waybill
from orderhub.orders.models import Order
from orderhub.orders.timeline import TimelineEvent, timeline_source

COLUMNS = ("k", "t", "a", "b", "c", "n", "j")


def _row(qs: Any, kind: str, at: Any, a: Any, b: Any, c: Any, n: Any, j: Any) -> Any:
    def text(v: Any) -> Any:
        # None: an empty column; a string: a field name; anything else: an expression.
        if v is None:
            return Value("", output_field=TextField())
        return Cast(v, output_field=TextField())

    return (
        qs.order_by()
        .annotate(
            k=Value(kind, output_field=CharField()),
            t=Cast(at, output_field=DateTimeField()),
            a=text(a),
            b=text(b),
            c=text(c),
            n=Cast(n, output_field=IntegerField())
            if not isinstance(n, int)
            else Value(n, output_field=IntegerField()),
            j=text(j),
        )
        .values_list(*COLUMNS)
    )


def _union(order_id: int) -> Any:
    reviews = _row(
        ReviewRun.objects.filter(order_id=order_id), "review", "at", "outcome", None, None, 0, "results"
    )
    issued = _row(
        Waybill.objects.filter(order_id=order_id),
        "waybill",
        "created_at",
        "number",
        "carrier__name",
        "rule",
        0,
        None,
    )
    voided = _row(
        Waybill.objects.filter(order_id=order_id, voided_at__isnull=False),
        "void",
        "voided_at",
        "number",
        None,
        None,
        0,
        None,
    )
    who = Coalesce("actor__display_name", "actor__username")
    prints = _row(
        LabelPrint.objects.filter(waybill__order_id=order_id),
        "label", "at", "waybill__number", who, "reason", "reprint", None,
    )  # fmt: skip
    packer = Coalesce("session__actor__display_name", "session__actor__username")
    scans = _row(
        PackScan.objects.filter(session__order_id=order_id, accepted=False),
        "scan", "at", "message", packer, "code", 0, None,
    )  # fmt: skip
    reports = _row(
        ShipReport.objects.filter(order_id=order_id),
        "report", Coalesce("sent_at", "created_at"), "status", "carrier__name", "tracking_number", "attempts",
        "last_error",
    )  # fmt: skip
    return reviews.union(issued, voided, prints, scans, reports, all=True).order_by("t")


# Compiled once: building this six-part union costs more than running it.
_ROWS = CompiledRows(_union)


def _rows(order_id: int) -> list[tuple]:
    return _ROWS.rows(order_id)


def _event(k: str, t: Any, a: str, b: str, c: str, n: int, j: str) -> TimelineEvent:
    if k == "review":
        results = json.loads(j or "[]")
        failed = [r for r in results if not r["passed"]]
        title = (
            "自动审单：通过"
            if not failed
            else "自动审单：拦截（" + "、".join(r["name"] for r in failed) + "）"
        )
        reason = "；".join(f"{r['name']}：{r['detail']}" for r in failed)
        return TimelineEvent(t, "review", title, "系统", True, reason=reason, details={"rules": results})
    if k == "waybill":
        return TimelineEvent(
            t, "waybill", f"取得电子面单：{b} {a}", "系统", True, details={"carrier_rule": c}
        )
    if k == "void":
        return TimelineEvent(t, "waybill", f"面单作废：{a}", "")
    if k == "label":
        return TimelineEvent(t, "label", ("补打面单 " if n else "打印面单 ") + a, b or "系统", reason=c)
    if k == "scan":
        return TimelineEvent(t, "packing", f"打包扫描被拒：{a}", b, details={"code": c})
    titles = {
        ShipReport.Status.SENT: f"发货回传成功：{b} {c}",
        ShipReport.Status.FAILED: f"发货回传失败（已尝试 {n} 次）",
    }
    title = titles.get(a, f"发货回传待发送（已尝试 {n} 次）")
    return TimelineEvent(t, "ship_report", title, "系统", True, reason=j)


@timeline_source("fulfilment")
def fulfilment_timeline(order: Order) -> list[TimelineEvent]:
    return [_event(*row) for row in _rows(order.pk)]
