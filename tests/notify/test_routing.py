"""谁负责: the routing table, its fallbacks, personal preferences and managers' message templates."""

from __future__ import annotations

import pytest
from django.test import Client

from orderhub.accounts.roles import Role
from orderhub.catalog.models import CustomerTier
from orderhub.core.errors import PermissionDenied, ValidationFailed
from orderhub.core.jobs import jobs_run_pending
from orderhub.inventory.models import Warehouse
from orderhub.notify.models import Delivery, Endpoint, MessageTemplate, RoutingRule, UserPreference
from orderhub.notify.rendering import template_problem as message_template_problem
from orderhub.notify.routing import route
from orderhub.notify.services import message_template_save, notify_event
from orderhub.orders.models import Order
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus as S


@pytest.fixture
def robots(db) -> dict[str, Endpoint]:
    return {
        "ops": Endpoint.objects.create(
            code="ops",
            name="运营群",
            provider="dingtalk",
            url="http://127.0.0.1:9/robot/send?access_token=a",
            is_default=True,
        ),
        "hz": Endpoint.objects.create(
            code="hz",
            name="杭州仓群",
            provider="dingtalk",
            url="http://127.0.0.1:9/robot/send?access_token=b",
        ),
    }


def owed(order: Order) -> list[tuple[str, str]]:
    """(channel, recipient) of the deliveries owed for the order: user name or robot code,
    once the worker has run the notice jobs the transitions owe (they route and plan)."""
    jobs_run_pending()
    rows = Delivery.objects.filter(order=order).select_related("user", "endpoint").order_by("channel", "pk")
    return [(d.channel, d.user.username if d.user else d.endpoint.code) for d in rows]


def test_without_rules_the_default_roles_hear_in_their_inbox(make_order, staff) -> None:
    order = make_order()
    order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    assert owed(order) == [("inbox", "warehouse1")]


def test_a_rule_names_the_role_and_its_channels(make_order, staff, robots) -> None:
    RoutingRule.objects.create(event=S.SPLIT, role=Role.WAREHOUSE, channels=["inbox", "dingtalk"])
    RoutingRule.objects.create(event=S.SPLIT, role="owner", channels=["inbox"])
    order = make_order()
    Order.objects.filter(pk=order.pk).update(owner=staff[Role.SALES])
    order.refresh_from_db()
    order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    assert owed(order) == [("dingtalk", "ops"), ("inbox", "warehouse1"), ("inbox", "sales1")]


def test_the_most_specific_matching_rules_win(make_order, staff, robots) -> None:
    hangzhou = Warehouse.objects.create(code="HZ", name="杭州仓", province="浙江省")
    RoutingRule.objects.create(event=S.LABEL_PRINTED, role=Role.WAREHOUSE, channels=["inbox", "dingtalk"])
    RoutingRule.objects.create(
        event=S.LABEL_PRINTED,
        warehouse=hangzhou,
        role=Role.WAREHOUSE,
        channels=["dingtalk"],
        endpoint=robots["hz"],
    )
    elsewhere, in_hz = make_order(), make_order()
    Order.objects.filter(pk=in_hz.pk).update(warehouse=hangzhou)
    in_hz.refresh_from_db()

    assert [(t.channel, t.endpoint.code) for t in route(elsewhere, S.LABEL_PRINTED) if t.endpoint] == [
        ("dingtalk", "ops")
    ]
    assert [(t.channel, t.endpoint.code) for t in route(in_hz, S.LABEL_PRINTED)] == [("dingtalk", "hz")]


def test_a_vip_customer_rule_by_tier_and_a_named_user(make_order, staff, robots) -> None:
    boss = staff[Role.MANAGER]
    boss.mobile = "13700000000"
    boss.save()
    RoutingRule.objects.create(event=S.EXCEPTION, role=Role.LOGISTICS, channels=["inbox"])
    RoutingRule.objects.create(
        event=S.EXCEPTION, customer_tier=CustomerTier.VIP, user=boss, channels=["dingtalk"]
    )
    order = make_order()
    Order.objects.filter(pk=order.pk).update(customer_tier=CustomerTier.VIP)
    order.refresh_from_db()
    (target,) = route(order, S.EXCEPTION)
    assert (target.channel, target.endpoint.code, target.mentions) == ("dingtalk", "ops", ("13700000000",))


def test_an_event_without_rules_uses_the_rules_of_its_state(make_order, staff, robots) -> None:
    RoutingRule.objects.create(event=S.EXCEPTION, role=Role.LOGISTICS, channels=["dingtalk"])
    order = make_order()
    notify_event(event="stalled", order=order, key=f"stall:{order.pk}:1", reason="顺丰 30 小时没有新轨迹")
    (d,) = Delivery.objects.filter(order=order)
    assert (d.channel, d.endpoint.code, d.title) == ("dingtalk", "ops", f"订单 {order.order_no} 物流停滞")
    assert d.body == "顺丰 30 小时没有新轨迹，请跟进。"
    # The same notice owed again (a re-run of the stall monitor) adds nothing.
    notify_event(event="stalled", order=order, key=f"stall:{order.pk}:1")
    assert Delivery.objects.filter(order=order).count() == 1


def test_personal_preferences_mute_channels_and_events(make_order, staff, robots) -> None:
    wh = staff[Role.WAREHOUSE]
    wh.mobile, wh.email = "13900000001", "wh@example.com"
    wh.save()
    RoutingRule.objects.create(
        event=S.SPLIT, role=Role.WAREHOUSE, channels=["inbox", "sms", "email", "dingtalk"]
    )
    RoutingRule.objects.create(event=S.ALLOCATING, role=Role.WAREHOUSE, channels=["inbox", "dingtalk"])
    UserPreference.objects.create(user=wh, muted_channels=["sms"], muted_events=[S.ALLOCATING])
    order = make_order()

    split = {(t.channel, t.mentions) for t in route(order, S.SPLIT)}
    allocating = {(t.channel, t.mentions) for t in route(order, S.ALLOCATING)}

    assert split == {("inbox", ()), ("email", ()), ("dingtalk", ("13900000001",))}
    assert allocating == {("dingtalk", ())}  # the group still hears; the muted person is not @-ed


def test_a_managers_template_shapes_the_message(make_order, staff) -> None:
    message_template_save(
        actor=staff[Role.MANAGER],
        event=S.SPLIT,
        channel="",
        title="【{{ order.channel }}】{{ order.order_no }} 待配货",
        body="客户 {{ order.customer }}（{{ order.customer_tier }}），"
        "{% for l in order.lines %}{{ l.sku_code }}×{{ l.quantity }}{% endfor %}，收货 {{ order.address }}",
    )
    order = make_order()
    order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    jobs_run_pending()  # the notice job routes, renders and plans
    d = Delivery.objects.get(order=order)
    assert d.title == f"【手工】{order.order_no} 待配货"
    assert d.body == "客户 椒江恒通汽配（A类），BP-2231×20，收货 浙江省台州市椒江区东环大道88号"


def test_a_broken_template_is_refused_and_a_broken_stored_one_falls_back(make_order, staff) -> None:
    with pytest.raises(ValidationFailed, match="模板语法错误"):
        message_template_save(actor=staff[Role.MANAGER], event=S.SPLIT, channel="", title="{% if %}", body="")
    with pytest.raises(PermissionDenied):
        message_template_save(actor=staff[Role.WAREHOUSE], event=S.SPLIT, channel="", title="x", body="")
    MessageTemplate.objects.create(event=S.SPLIT, title="{{ order.order_no|nosuchfilter }}")
    order = make_order()
    order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    jobs_run_pending()  # the notice job routes, renders and plans
    assert Delivery.objects.get(order=order).title == f"订单 {order.order_no} 已进入「已拆单」"


def test_templates_reach_only_the_order_fields(make_order, staff) -> None:
    assert "underscores" in message_template_problem("{{ order._order.owner.password }}")
    # The customer is its name, not the row: nothing behind it is reachable.
    MessageTemplate.objects.create(
        event=S.SPLIT, title="{{ order.customer.owner.password }}|{{ order.order_no }}"
    )
    order = make_order()
    order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    jobs_run_pending()  # the notice job routes, renders and plans
    assert Delivery.objects.get(order=order).title == f"|{order.order_no}"


def test_managers_edit_routing_and_templates_in_the_admin(staff) -> None:
    manager = staff[Role.MANAGER]
    manager.is_staff = True
    manager.save()
    client = Client()
    client.force_login(manager)
    assert client.get("/admin/notify/routingrule/").status_code == 200
    response = client.post(
        "/admin/notify/messagetemplate/add/",
        {
            "event": S.SHIPPED,
            "channel": "",
            "title": "{% if %}",
            "body": "",
            "sms_params": "{}",
            "is_active": "on",
        },
    )
    assert response.status_code == 200 and "模板语法错误" in response.content.decode()
    response = client.post(
        "/admin/notify/messagetemplate/add/",
        {
            "event": S.SHIPPED,
            "channel": "",
            "title": "{{ order.order_no }} 已发货",
            "body": "",
            "sms_params": "{}",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert MessageTemplate.objects.get(event=S.SHIPPED).updated_by == manager
    response = client.post(
        "/admin/notify/routingrule/add/",
        {"event": S.SHIPPED, "role": Role.LOGISTICS, "channels": ["inbox", "wecom"], "is_active": "on"},
    )
    assert response.status_code == 302
    assert RoutingRule.objects.get(event=S.SHIPPED).channels == ["inbox", "wecom"]
