"""Fulfilment events on the order timeline: automatic reviews with every rule's verdict, …"""

from __future__ import annotations

from orderhub.fulfilment.models import ReviewRun, ShipReport
from orderhub.orders.models import Order
from orderhub.orders.timeline import TimelineEvent, timeline_source


@timeline_source("fulfilment")
def fulfilment_timeline(order: Order) -> list[TimelineEvent]:
    return _reviews(order) + _reports(order)


def _reviews(order: Order) -> list[TimelineEvent]:
    events = []
    for run in ReviewRun.objects.filter(order_id=order.pk).order_by("at", "pk"):
        failed = [r for r in run.results if not r["passed"]]
        title = (
            "自动审单：通过"
            if not failed
            else "自动审单：拦截（" + "、".join(r["name"] for r in failed) + "）"
        )
        events.append(
            TimelineEvent(
                at=run.at,
                kind="review",
                title=title,
                actor="系统",
                automatic=True,
                reason="；".join(f"{r['name']}：{r['detail']}" for r in failed),
                details={"rules": run.results},
            )
        )
    return events


def _reports(order: Order) -> list[TimelineEvent]:
    out = []
    for r in ShipReport.objects.filter(order_id=order.pk).select_related("carrier"):
        if r.status == ShipReport.Status.SENT:
            title, at = f"发货回传成功：{r.carrier.name} {r.tracking_number}", r.sent_at
        elif r.status == ShipReport.Status.FAILED:
            title, at = f"发货回传失败（已尝试 {r.attempts} 次）", r.created_at
        else:
            title, at = f"发货回传待发送（已尝试 {r.attempts} 次）", r.created_at
        out.append(
            TimelineEvent(
                at=at or r.created_at,
                kind="ship_report",
                title=title,
                actor="系统",
                automatic=True,
                reason=r.last_error,
                details={"adapter": r.adapter, "request": r.request, "response": r.response},
            )
        )
    return out
