"""Template filters of the dashboard: durations, rates, changes and drill-down links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import timezone

from orderhub.insights.present import duration_text, ratio_text, value_text

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    return duration_text(seconds)


@register.filter
def rate(value: float | None) -> str:
    return ratio_text(value)


@register.filter
def figure(value: float | None, unit: str) -> str:
    return value_text(value, unit)


@register.filter
def change(value: float | None) -> str:
    if value is None:
        return ""
    return f"{'+' if value > 0 else ''}{value * 100:.0f}%"


@register.simple_tag(takes_context=True)
def drill(context: dict[str, Any], metric: str, key: str = "", period: str = "current") -> str:
    """URL of the orders behind a figure, keeping the page's filters and range."""
    query: dict[str, Any] = dict(context.get("base_query", {}))
    board = context.get("board")
    if board is not None:
        chosen = board.previous if period == "previous" else board.period
        if period == "today":
            query["from"] = query["to"] = timezone.localtime(board.now).date().isoformat()
        else:
            query["from"], query["to"] = chosen.first.isoformat(), chosen.last.isoformat()
    query["metric"] = metric
    if key:
        query["key"] = key
    return reverse("insights:drill") + "?" + urlencode(query)
