"""How dashboard figures are named, shown and linked: shared by the page, the morning-meeting
screen and the Excel export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class SummaryRow:
    key: str
    label: Any
    unit: str  # "seconds", "ratio", "count", "number"
    drill: str = ""  # drill-down metric ("" = no list behind it)
    better: str = "lower"  # which direction is good, for colouring the change
    drill_key: str = ""


SUMMARY_ROWS: tuple[SummaryRow, ...] = (
    SummaryRow("orders_in", _("进单数"), "count", "orders_in", "higher"),
    SummaryRow("shipped", _("发货数"), "count", "shipped", "higher"),
    SummaryRow("completed", _("签收数"), "count", "completed", "higher"),
    SummaryRow("ship_p50", _("下单→发货 P50"), "seconds", "shipped"),
    SummaryRow("ship_p95", _("下单→发货 P95"), "seconds", "shipped"),
    SummaryRow("ship_p99", _("下单→发货 P99"), "seconds", "shipped"),
    SummaryRow("complete_p50", _("下单→签收 P50"), "seconds", "completed"),
    SummaryRow("complete_p95", _("下单→签收 P95"), "seconds", "completed"),
    SummaryRow("complete_p99", _("下单→签收 P99"), "seconds", "completed"),
    SummaryRow("late_rate", _("晚于承诺签收占比"), "ratio", "late"),
    SummaryRow("held", _("自动拦截订单"), "count", "held"),
    SummaryRow("held_rate", _("自动拦截率"), "ratio", "held"),
    SummaryRow("stock_conflicts", _("其中库存冲突"), "count", "held_reason", drill_key="stock_conflict"),
    SummaryRow("exceptions", _("物流异常"), "count", "exceptions"),
    SummaryRow("lag_avg", _("异常发现滞后（平均）"), "seconds", "exceptions"),
    SummaryRow("lag_p95", _("异常发现滞后 P95"), "seconds", "exceptions"),
    SummaryRow("touches_per_order", _("每单人工操作次数"), "number", "finished"),
    SummaryRow("lookups", _("客户自助查询"), "count", "lookups", "higher"),
    SummaryRow("inquiries", _("客服人工查询"), "count"),
    SummaryRow("self_service_share", _("自助查询占比"), "ratio", "lookups", "higher"),
)


def duration_text(seconds: float | None) -> str:
    """6.0 小时 / 35 分钟 / 2.5 天, or — when there is nothing to show."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{seconds / 60:.0f} 分钟"
    if seconds < 72 * 3600:
        return f"{seconds / 3600:.1f} 小时"
    return f"{seconds / 86400:.1f} 天"


def ratio_text(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def value_text(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "seconds":
        return duration_text(value)
    if unit == "ratio":
        return ratio_text(value)
    if unit == "number":
        return f"{value:.2f}"
    return f"{int(value):,}"


def hours(seconds: float | None) -> float | None:
    """Seconds as hours with two decimals (charts and spreadsheets)."""
    return None if seconds is None else round(seconds / 3600, 2)


def excel_value(value: float | None, unit: str) -> float | None:
    if value is None:
        return None
    if unit == "seconds":
        return hours(value)
    if unit == "ratio":
        return round(value, 4)
    return value
