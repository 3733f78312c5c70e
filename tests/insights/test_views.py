"""The dashboard pages as a manager sees them: access, figures, drill-down lists, Excel, queries."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.insights.drilldown import facts
from orderhub.insights.scope import Period, Scope
from orderhub.insights.selectors import dashboard_get
from tests.insights.conftest import NOW, Story, at
from tests.web.conftest import page_text

pytestmark = pytest.mark.django_db
RANGE = {"from": "2025-03-10", "to": "2025-03-11"}
PERIOD = Period(NOW.date().replace(day=10), NOW.date().replace(day=11))
# session, user and roles (3); stored days: the range, then today beside it (2); newest log entry
# and order (2); self-service (4); snapshots (3); operator names (1); filter choices (3); unread
# inbox (1)
QUERY_BUDGET_SETTLED = 19
# … plus what arrived after today's watermark, counted live: system accounts, orders in, shipped,
# delivered, exits, holds, exceptions, finished (8)
QUERY_BUDGET = QUERY_BUDGET_SETTLED + 8


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages read the clock: pin it to the story's "now"."""
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)


def manager(staff: dict[str, User]) -> Client:
    client = Client()
    client.force_login(staff[Role.MANAGER])
    return client


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.WAREHOUSE, Role.SALES])
def test_only_managers_and_admins_see_it(staff: dict[str, User], role: str) -> None:
    client = Client()
    client.force_login(staff[role])
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/dashboard/export.xlsx").status_code == 403
    assert client.get("/dashboard/orders/?metric=shipped").status_code == 403
    assert Client().get("/dashboard/").status_code == 302  # to the login page
    admin = Client()
    admin.force_login(staff[Role.ADMIN])
    assert admin.get("/dashboard/").status_code == 200


def test_dashboard_shows_the_figures_and_charts(story: Story, staff: dict[str, User], frozen: None) -> None:
    response = manager(staff).get("/dashboard/", RANGE)
    text = page_text(response)
    body = response.content.decode()

    assert response.status_code == 200
    assert "交付健康度" in text
    assert "下单→发货 P95 6.0 小时 5.0 小时 +20%" in text
    assert "自动拦截率 33.3%" in text
    assert "异常发现滞后（平均） 30 分钟" in text
    assert 'class="outlier" data-operator="warehouse1" data-step="print_label"' in body
    assert "vendor/chart.js/dist/chart.umd.js" in body  # served by us, from npm
    assert '"ship": {"50": [5.0, 4.0]' in body  # the charts' data, per day, in hours
    assert "cdn" not in body.lower()


def test_every_figure_links_to_its_orders(story: Story, staff: dict[str, User], frozen: None) -> None:
    client = manager(staff)
    body = client.get("/dashboard/", RANGE).content.decode()
    links = set(re.findall(r'href="(/dashboard/orders/\?[^"]+)"', body))

    assert len(links) > 20
    for link in links:
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link


def drill_count(client: Client, **params: str) -> int:
    body = client.get("/dashboard/orders/", {**RANGE, **params}).content.decode()
    return int(re.search(r'id="drill-total">(\d+)<', body).group(1))  # type: ignore[union-attr]


def test_drill_down_lists_match_their_figures(story: Story, staff: dict[str, User], frozen: None) -> None:
    client = manager(staff)
    board = dashboard_get(period=PERIOD, scope=Scope(), now=NOW)
    s = board.summary

    assert drill_count(client, metric="orders_in") == s["orders_in"].current == 6
    assert drill_count(client, metric="shipped") == s["shipped"].current
    assert drill_count(client, metric="completed") == s["completed"].current
    assert drill_count(client, metric="late") == 1
    assert drill_count(client, metric="held") == s["held"].current
    assert drill_count(client, metric="held_reason", key="stock_conflict") == 1
    assert drill_count(client, metric="exceptions", key="zto") == 1
    assert drill_count(client, metric="finished") == s["finished"].current
    for stage in board.stages:
        assert drill_count(client, metric="dwell", key=stage.state) == stage.exits
        assert drill_count(client, metric="backward", key=stage.state) == stage.backward
    for op in board.operators:
        assert drill_count(client, metric="step", key=op.key) == op.count
    assert drill_count(client, metric="held_now") == 1


def test_drill_down_lists_the_slowest_first(story: Story, staff: dict[str, User], frozen: None) -> None:
    rows = facts(metric="shipped", key="", period=PERIOD, scope=Scope(), now=NOW)
    o = story.orders
    assert [r.order_id for r in rows][:2] == [o["A"].pk, o["B"].pk]  # 6 h, then 5 h

    text = page_text(manager(staff).get("/dashboard/orders/", {**RANGE, "metric": "shipped"}))
    assert text.index(o["A"].order_no) < text.index(o["B"].order_no) < text.index(o["C"].order_no)
    assert "6.0 小时" in text


def test_excel_export_has_every_table(story: Story, staff: dict[str, User], frozen: None) -> None:
    response = manager(staff).get("/dashboard/export.xlsx", RANGE)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(BytesIO(response.content))
    assert wb.sheetnames == [
        "概览",
        "今日",
        "每日时效",
        "状态停留与驳回",
        "操作人用时",
        "拦截原因",
        "物流异常承运商",
    ]
    summary = {row[0]: row[1:] for row in wb["概览"].iter_rows(min_row=2, values_only=True)}
    assert summary["下单→发货 P95"][:3] == ("小时", 6.0, 5.0)
    assert summary["自动拦截率"][1] == pytest.approx(0.3333)
    stages = {row[0]: row for row in wb["状态停留与驳回"].iter_rows(min_row=2, values_only=True)}
    assert stages["已打单"][5] == 0.2
    operators = [r for r in wb["操作人用时"].iter_rows(min_row=2, values_only=True) if r[1] == "warehouse1"]
    assert ("打单", "warehouse1", 2, 2.0, 1.4, 1.4286, "是") in operators


def test_drill_down_exports_to_excel(story: Story, staff: dict[str, User], frozen: None) -> None:
    response = manager(staff).get("/dashboard/orders/", {**RANGE, "metric": "shipped", "format": "xlsx"})
    ws = load_workbook(BytesIO(response.content))["订单"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))

    assert rows[0][0] == story.orders["A"].order_no
    assert [r[5] for r in rows] == [6.0, 5.0, 4.0, 4.0]


def test_meeting_screen_refreshes_itself(story: Story, staff: dict[str, User], frozen: None) -> None:
    response = manager(staff).get("/dashboard/meeting/")
    body = response.content.decode()

    assert response.status_code == 200
    assert '<meta http-equiv="refresh" content="300">' in body
    assert 'class="meeting"' in body
    assert 'class="topbar"' not in body  # no navigation on the big screen


def queries_for(client: Client, params: dict[str, Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/dashboard/", params).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_orders(
    story: Story, staff: dict[str, User], frozen: None, history: Any
) -> None:
    from orderhub.insights.rollup import insights_refresh

    client = manager(staff)
    client.get("/dashboard/", RANGE)  # stores the days it needed, today up to now
    settled = queries_for(client, RANGE)

    def more_orders() -> None:
        for hour in (8, 9, 10, 11, 12):
            order = history.order(at(10, hour))
            history.walk(order, [("split", at(10, hour + 1), Role.CUSTOMER_SERVICE)])
        for hour in (8, 8.25, 8.5):
            order = history.order(at(12, hour))
            history.walk(order, [("split", at(12, hour + 0.1), Role.CUSTOMER_SERVICE)])

    more_orders()  # today's new entries are counted live, after the stored watermark
    with_tail = queries_for(client, RANGE)
    more_orders()
    assert queries_for(client, RANGE) == with_tail
    insights_refresh(now=NOW)
    assert queries_for(client, RANGE) == settled
    assert (settled, with_tail) == (QUERY_BUDGET_SETTLED, QUERY_BUDGET)
