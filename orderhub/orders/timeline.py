"""Sources of an order's timeline beyond its own log (notifications, tracking events, …),
registered by the apps that own them so the timeline selector stays one read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orderhub.orders.models import Order


@dataclass
class TimelineEvent:
    at: datetime
    kind: str  # create / transition / hold / release / edit / note / notification / tracking …
    title: str
    actor: str
    automatic: bool = False
    from_status: str = ""
    to_status: str = ""
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


TimelineSource = Callable[["Order"], list[TimelineEvent]]
_SOURCES: dict[str, TimelineSource] = {}


def timeline_source(name: str) -> Callable[[TimelineSource], TimelineSource]:
    def wrap(fn: TimelineSource) -> TimelineSource:
        _SOURCES[name] = fn
        return fn

    return wrap


def timeline_sources() -> list[TimelineSource]:
    return list(_SOURCES.values())
