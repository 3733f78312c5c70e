"""Excel export (openpyxl) of every table on the dashboard, and of a drill-down list."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.utils import timezone
from openpyxl import Workbook

from orderhub.insights.drilldown import DrillPage
from orderhub.insights.present import SUMMARY_ROWS, excel_value, hours
from orderhub.insights.selectors import Dashboard


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append(header)
    for row in rows:
        ws.append(row)


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def dashboard_workbook(board: Dashboard) -> bytes:
    """One sheet per dashboard table; durations in hours, rates as fractions."""
    wb = Workbook(write_only=True)
    cur = f"{board.period.first}～{board.period.last}"
    prev = f"{board.previous.first}～{board.previous.last}"
    _sheet(
        wb,
        "概览",
        ["指标", "单位", cur, prev, "变化"],
        [
            [
                str(r.label),
                {"seconds": "小时", "ratio": "比例"}.get(r.unit, ""),
                excel_value(board.summary[r.key].current, r.unit),
                excel_value(board.summary[r.key].previous, r.unit),
                board.summary[r.key].change,
            ]
            for r in SUMMARY_ROWS
        ],
    )
    _sheet(
        wb,
        "今日",
        ["指标", "今天", "昨天"],
        [[f.label, f.value, f.yesterday] for f in board.today],
    )
    _sheet(
        wb,
        "每日时效",
        [
            "日期",
            "进单",
            "发货",
            "下单→发货 P50（小时）",
            "P95",
            "P99",
            "签收",
            "下单→签收 P50（小时）",
            "P95",
            "P99",
        ],
        [
            [
                p.day,
                p.orders_in,
                p.shipped,
                *(hours(p.ship[q]) for q in (50, 95, 99)),
                p.completed,
                *(hours(p.complete[q]) for q in (50, 95, 99)),
            ]
            for p in board.daily
        ],
    )
    _sheet(
        wb,
        "状态停留与驳回",
        [
            "状态",
            "离开次数",
            "平均停留（小时）",
            "P95（小时）",
            "驳回次数",
            "驳回率",
            "上期平均（小时）",
            "上期驳回率",
        ],
        [
            [
                s.label,
                s.exits,
                hours(s.avg),
                hours(s.p95),
                s.backward,
                s.rejection,
                hours(s.prev_avg),
                s.prev_rejection,
            ]
            for s in board.stages
        ],
    )
    _sheet(
        wb,
        "操作人用时",
        ["步骤", "操作人", "次数", "平均用时（小时）", "团队平均（小时）", "相对团队", "慢 40% 以上"],
        [
            [o.step, o.name, o.count, hours(o.avg), hours(o.team_avg), round(o.ratio, 4), _yes(o.outlier)]
            for o in board.operators
        ],
    )
    _sheet(
        wb,
        "拦截原因",
        ["原因", "订单数", "占进单", "上期订单数"],
        [[r.label, r.orders, r.share, r.previous] for r in board.reasons],
    )
    _sheet(
        wb,
        "物流异常承运商",
        ["承运商", "异常数", "上期异常数"],
        [[c.name, c.exceptions, c.previous] for c in board.carriers],
    )
    return _bytes(wb)


def drill_workbook(page: DrillPage, rows: list[tuple[Any, Any]]) -> bytes:
    wb = Workbook(write_only=True)
    unit = page.metric.unit
    _sheet(
        wb,
        "订单",
        [
            "订单号",
            "渠道",
            "客户",
            "状态",
            "时间",
            str(page.metric.value_label) + ("（小时）" if unit == "seconds" else ""),
            "说明",
        ],
        [
            [
                order.order_no if order else f"#{fact.order_id}",
                order.channel.name if order else "",
                order.customer.name if order and order.customer else "",
                order.get_status_display() if order else "",
                timezone.localtime(fact.at).replace(tzinfo=None) if fact.at else None,
                excel_value(fact.value, unit),
                fact.note,
            ]
            for fact, order in rows
        ],
    )
    return _bytes(wb)


def _bytes(wb: Workbook) -> bytes:
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
