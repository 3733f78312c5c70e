"""Fulfilment events on the order timeline: automatic reviews with every rule's verdict, …"""

from __future__ import annotations

from orderhub.fulfilment.models import ReviewRun
from orderhub.orders.models import Order
from orderhub.orders.timeline import TimelineEvent, timeline_source


@timeline_source("fulfilment")
def fulfilment_timeline(order: Order) -> list[TimelineEvent]:
    return _reviews(order)


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
