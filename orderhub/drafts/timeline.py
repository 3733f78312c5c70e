"""The order's source on its timeline: the chat message or screenshots it was confirmed from."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse

from orderhub.core.db import CompiledRows
from orderhub.drafts.models import Draft, DraftSource
from orderhub.orders.models import Order
from orderhub.orders.timeline import TimelineEvent, timeline_source

_DRAFT_IDS = CompiledRows(lambda order_id: Draft.objects.filter(order_id=order_id).values_list("pk")[:1])


@timeline_source("drafts")
def draft_source_events(order: Order) -> list[TimelineEvent]:
    """The draft (if the order came from one) with its image count; most orders have none, which
    one compiled look-up tells."""
    if not _DRAFT_IDS.rows(order.pk):
        return []
    draft = (
        Draft.objects.filter(order_id=order.pk)
        .select_related("created_by", "confirmed_by")
        .annotate(n_images=Count("images"))
        .first()
    )
    if draft is None:
        return []
    images = draft.n_images if draft.source == DraftSource.IMAGE else 0
    title = f"来源：{images} 张截图/照片识别" if images else "来源：微信消息"
    return [
        TimelineEvent(
            at=draft.created_at,
            kind="source",
            title=f"{title}（草稿 #{draft.pk}）",
            actor=str(draft.created_by),
            reason=draft.text[:300],
            details={
                "draft": draft.pk,
                "url": reverse("drafts:detail", args=[draft.pk]),
                "images": [reverse("drafts:image", args=[draft.pk, i]) for i in range(images)],
                "confirmed_by": str(draft.confirmed_by) if draft.confirmed_by else "",
            },
        )
    ]
