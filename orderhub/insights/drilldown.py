"""The orders behind each dashboard figure (钻取): the same sources the figure was counted from,
so a list always has exactly as many rows as its figure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from orderhub.insights import sources
from orderhub.insights.scope import Period, Scope
from orderhub.insights.selectors import snapshot_querysets
from orderhub.orders.models import Order


@dataclass(frozen=True)
class Fact:
    order_id: int
    at: datetime | None
    value: float | None
    note: str = ""


@dataclass(frozen=True)
class Metric:
    label: Any
    value_label: Any  # the column the list is sorted by
    unit: str  # "seconds", "count" or ""
    snapshot: bool = False


METRICS: dict[str, Metric] = {
    "orders_in": Metric(_("进单"), _("下单时间"), ""),
    "shipped": Metric(_("发货订单（下单→发货）"), _("下单→发货"), "seconds"),
    "completed": Metric(_("签收订单（下单→签收）"), _("下单→签收"), "seconds"),
    "late": Metric(_("晚于承诺时间签收"), _("下单→签收"), "seconds"),
    "dwell": Metric(_("状态停留"), _("停留时长"), "seconds"),
    "backward": Metric(_("驳回"), _("停留时长"), "seconds"),
    "step": Metric(_("操作人步骤用时"), _("步骤用时"), "seconds"),
    "held": Metric(_("自动拦截订单"), _("拦截时间"), ""),
    "held_reason": Metric(_("按原因拦截"), _("拦截时间"), ""),
    "exceptions": Metric(_("物流异常（发现滞后）"), _("发现滞后"), "seconds"),
    "finished": Metric(_("完结订单（人工操作次数）"), _("人工操作次数"), "count"),
    "lookups": Metric(_("客户自助查询"), _("查询时间"), ""),
    "held_now": Metric(_("当前拦截中"), _("进入当前状态"), "", snapshot=True),
    "exception_now": Metric(_("当前物流异常"), _("进入当前状态"), "", snapshot=True),
    "late_now": Metric(_("已超承诺时间未完成"), _("承诺送达"), "", snapshot=True),
}


def _exits(period: Period, scope: Scope, keep: Callable[[sources.Exit], bool]) -> list[Fact]:
    ids = sources.system_actor_ids()
    return [
        Fact(e.order_id, e.at, e.dwell, e.transition)
        for e in sources.exits(period.start, period.end, scope, system_ids=ids)
        if keep(e)
    ]


def _rows(rows: list[sources.Row], keep: Callable[[sources.Row], bool] = lambda r: True) -> list[Fact]:
    return [Fact(r.order_id, r.at, r.value, r.key) for r in rows if keep(r)]


def _step(period: Period, scope: Scope, key: str) -> list[Fact]:
    actor, _sep, transition = key.partition("|")
    actor_id = int(actor) if actor.isdigit() else -1
    return _exits(period, scope, lambda e: e.actor_id == actor_id and e.transition == transition)


def _lookups(period: Period) -> list[Fact]:
    from orderhub.portal.models import LookupEvent

    events = LookupEvent.objects.filter(at__gte=period.start, at__lt=period.end).order_by("-at")
    return [
        Fact(order_id, at, None, kind)
        for at, kind, ids in events.values_list("at", "kind", "order_ids")
        for order_id in ids or []
    ]


def _snapshot(metric: str, scope: Scope, now: datetime) -> list[Fact]:
    qs = snapshot_querysets(scope, now)[metric]
    stamp = "promised_at" if metric == "late_now" else "status_changed_at"
    return [Fact(pk, at, None) for pk, at in qs.values_list("pk", stamp).distinct()]


def facts(*, metric: str, key: str, period: Period, scope: Scope, now: datetime) -> list[Fact]:
    """The rows behind one figure, the largest value first (then the newest)."""
    s, e = period.start, period.end
    ids = sources.system_actor_ids
    found: list[Fact]
    if metric == "orders_in":
        found = _rows(sources.orders_in(s, e, scope))
    elif metric == "shipped":
        found = _rows(sources.shipped(s, e, scope))
    elif metric == "completed":
        found = _rows(sources.completed(s, e, scope))
    elif metric == "late":
        found = _rows(sources.completed(s, e, scope), lambda r: r.flag)
    elif metric == "dwell":
        found = _exits(period, scope, lambda x: x.state == key)
    elif metric == "backward":
        found = _exits(period, scope, lambda x: x.state == key and x.backward)
    elif metric == "step":
        found = _step(period, scope, key)
    elif metric == "held":
        found = _rows(sources.auto_holds(s, e, scope, system_ids=ids())[0])
    elif metric == "held_reason":
        found = _rows(sources.auto_holds(s, e, scope, system_ids=ids())[1], lambda r: not key or r.key == key)
    elif metric == "exceptions":
        found = _rows(sources.exceptions(s, e, scope), lambda r: not key or (r.key or "?") == key)
    elif metric == "finished":
        found = _rows(sources.finished(s, e, scope, system_ids=ids()))
    elif metric == "lookups":
        found = _lookups(period)
    elif metric in METRICS and METRICS[metric].snapshot:
        found = _snapshot(metric, scope, now)
    else:
        return []
    found.sort(key=lambda f: (f.value is not None, f.value or 0, f.at or now), reverse=True)
    return found


@dataclass
class DrillPage:
    metric: Metric
    total: int
    page: int
    pages: int
    rows: list[tuple[Fact, Order | None]]


PAGE_SIZE = 50


def drill_page(
    *,
    metric: str,
    key: str,
    period: Period,
    scope: Scope,
    now: datetime,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> DrillPage:
    """One page of the orders behind a figure, with their cards (one query for the page)."""
    found = facts(metric=metric, key=key, period=period, scope=scope, now=now)
    pages = max(1, -(-len(found) // size))
    page = min(max(1, page), pages)
    chunk = found[(page - 1) * size : page * size]
    orders = Order.objects.select_related("channel", "customer").in_bulk({f.order_id for f in chunk})
    return DrillPage(
        metric=METRICS.get(metric, METRICS["orders_in"]),
        total=len(found),
        page=page,
        pages=pages,
        rows=[(f, orders.get(f.order_id)) for f in chunk],
    )
