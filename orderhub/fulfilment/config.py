"""Rule tables read on every order, cached per process for a few seconds.

A manager's change reaches this process at once (signals clear the cache on save and delete)
and every other process within ORDERHUB_RULE_CACHE_SECONDS (default 5).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")
_cache: dict[str, tuple[float, Any]] = {}


def cached(key: str, load: Callable[[], T]) -> T:
    ttl = getattr(settings, "ORDERHUB_RULE_CACHE_SECONDS", 5)
    hit = _cache.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    value = load()
    _cache[key] = (now, value)
    return value


def cache_clear(**_kwargs: Any) -> None:
    _cache.clear()


def connect_signals() -> None:
    from orderhub.fulfilment import models as fm
    from orderhub.ingest.models import Channel
    from orderhub.inventory.models import Warehouse

    for model in (
        fm.AllocationPolicy, fm.AllocationStep, fm.ProvincePreference, fm.EntityRule, fm.ReviewRule,
        fm.SplitRule, fm.CarrierRule, fm.Carrier, fm.BlacklistEntry, Warehouse, Channel,
    ):  # fmt: skip
        post_save.connect(cache_clear, sender=model, dispatch_uid=f"fulfilment-cache-{model.__name__}-save")
        post_delete.connect(
            cache_clear, sender=model, dispatch_uid=f"fulfilment-cache-{model.__name__}-delete"
        )
