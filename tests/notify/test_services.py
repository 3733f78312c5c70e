"""What other apps call: holds, events with their own variables, direct messages, bulk sends."""

from __future__ import annotations

import pytest
from django.db import transaction

from orderhub.accounts.roles import Role
from orderhub.core.errors import ValidationFailed
from orderhub.core.jobs import jobs_run_pending
from orderhub.notify.delivery import deliveries_send
from orderhub.notify.models import Delivery, DeliveryStatus, InboxMessage, RoutingRule
from orderhub.notify.services import message_send, messages_send, notify_event
from orderhub.orders.services import LineDraft
from orderhub.orders.states import OrderStatus as S


def test_an_intercepted_order_tells_customer_service(make_order, staff) -> None:
    from decimal import Decimal

    order = make_order(lines=[LineDraft("NO-SUCH-SKU", 2, Decimal("10.00"))])
    jobs_run_pending()
    (message,) = InboxMessage.objects.filter(order=order, user=staff[Role.CUSTOMER_SERVICE])
    assert message.title == f"订单 {order.order_no} 被拦截：未知商品"
    assert message.body == "请在待审核中处理拦截原因后再审核。"


def test_a_stall_event_uses_the_variables_it_brings(make_order, fake, endpoint_for) -> None:
    robot = fake("wecom")
    endpoint_for(robot)
    RoutingRule.objects.create(event="stalled", role=Role.LOGISTICS, channels=["wecom", "inbox"])
    order = make_order()
    notify_event(
        event="stalled",
        order=order,
        key=f"stall:1:{order.pk}",
        extra={
            "carrier": "顺丰",
            "tracking_no": "SF1234567890",
            "hours": "30",
            "last_event": "【杭州】已发出",
        },
    )
    jobs_run_pending()
    content = robot.requests[0].json["markdown"]["content"]
    assert f"订单 {order.order_no} 物流停滞" in content
    assert "顺丰 SF1234567890 已 30 小时没有新轨迹；最后一条：【杭州】已发出，请跟进。" in content
    assert InboxMessage.objects.filter(order=order, key=f"stall:1:{order.pk}").count() == 1


def test_an_sms_without_an_endpoint_goes_through_the_default_account(db, fake, endpoint_for) -> None:
    sms = fake("aliyun", secret="sk")
    endpoint_for(sms)
    d = message_send(
        channel="sms",
        key="portal-code:1",
        title="订单查询验证码",
        address="13812345678",
        sms_template="SMS_900001",
        sms_params={"code": "123456"},
    )
    jobs_run_pending()
    d.refresh_from_db()
    assert d.status == DeliveryStatus.SENT
    form = sms.requests[0].form
    assert (form["TemplateCode"], form["TemplateParam"], form["PhoneNumbers"]) == (
        "SMS_900001",
        '{"code":"123456"}',
        "13812345678",
    )


def test_unknown_channels_and_inbox_without_a_user_are_refused(db) -> None:
    with pytest.raises(ValidationFailed, match="未知的通知方式"):
        message_send(channel="pigeon", key="k", title="t")
    with pytest.raises(ValidationFailed, match="站内消息需要收件人"):
        message_send(channel="inbox", key="k", title="t")


@pytest.mark.django_db(transaction=True)
def test_a_batch_sends_concurrently_each_message_once(fake, endpoint_for, settings) -> None:
    settings.ORDERHUB_NOTIFY = {**settings.ORDERHUB_NOTIFY, "SEND_CONCURRENCY": 4}
    robot = fake("dingtalk", secret="SECx")
    robot.answer(("status", 500))  # one of them fails first and gets its own retry job
    endpoint = endpoint_for(robot)
    with transaction.atomic():
        owed = messages_send(
            {"channel": "dingtalk", "endpoint": endpoint, "key": f"b:{i}", "title": f"订单 {i}"}
            for i in range(40)
        )

    outcome = deliveries_send([d.pk for d in owed])

    assert outcome == {"sent": 39, "failed": 1}
    assert robot.counts.total() == 40 and len(robot.counts) == 40 and robot.problems == []
    failed = Delivery.objects.get(status=DeliveryStatus.FAILED)
    from django_tasks_db.models import DBTaskResult

    retry = DBTaskResult.objects.get(task_path="orderhub.notify.tasks.send_delivery")
    assert retry.args_kwargs["args"] == [failed.pk]
    # A second run of the same batch (its job re-run after a crash) sends nothing again.
    assert deliveries_send([d.pk for d in owed]) == {"sent": 39, "failed": 1}
    assert robot.counts.total() == 40


def test_owing_in_bulk_makes_few_jobs(db, fake, endpoint_for, settings) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.ORDERHUB_NOTIFY = {**settings.ORDERHUB_NOTIFY, "BATCH_SIZE": 100}
    endpoint = endpoint_for(fake("wecom"))
    messages_send(
        {"channel": "wecom", "endpoint": endpoint, "key": f"m:{i}", "title": "t"} for i in range(250)
    )
    assert DBTaskResult.objects.filter(task_path="orderhub.notify.tasks.send_batch").count() == 3


def test_back_filled_history_owes_nothing(make_order, staff) -> None:
    # Back-filled history owes nothing.
    from orderhub.orders.services import order_transition

    order = make_order()
    order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE], notify=False)
    assert not Delivery.objects.filter(order=order).exists()


def test_the_demo_gets_simulated_endpoints_that_accept_everything(make_order, staff) -> None:
    from orderhub.notify.adapters.simulated import SENT
    from orderhub.notify.services import endpoints_simulated_ensure

    assert [e.code for e in endpoints_simulated_ensure()] == ["demo"]
    assert endpoints_simulated_ensure() == []
    staff[Role.WAREHOUSE].mobile = "13900000001"
    staff[Role.WAREHOUSE].save()
    RoutingRule.objects.create(event=S.SPLIT, role=Role.WAREHOUSE, channels=["dingtalk", "sms"])
    order = make_order()
    from orderhub.orders.services import order_transition

    order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    jobs_run_pending()
    assert set(Delivery.objects.filter(order=order).values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert SENT[-1].title == f"订单 {order.order_no} 已进入「已拆单」"


def test_notify_test_command_reports_the_providers_answer(db, fake, endpoint_for) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    robot = fake("dingtalk", secret="SECright")
    endpoint_for(robot, code="ops")
    endpoint_for(robot, code="ops-typo", secret="SECwrong", is_default=False)
    out = StringIO()
    call_command("notify_test", "ops", stdout=out)
    assert "accepted [0]" in out.getvalue()
    assert robot.requests[0].json["markdown"]["title"] == "OrderHub 测试消息"
    with pytest.raises(CommandError, match="310000"):
        call_command("notify_test", "ops-typo")


def test_credentials_come_from_the_environment_and_never_show_in_errors(db, monkeypatch) -> None:
    from orderhub.notify.adapters.base import EndpointConfig, OutboundMessage, redact
    from orderhub.notify.adapters.dingtalk import DingTalkAdapter
    from orderhub.notify.models import Endpoint

    monkeypatch.setenv("ORDERHUB_DINGTALK_OPS_URL", "http://127.0.0.1:9/robot/send?access_token=fromenv")
    monkeypatch.setenv("ORDERHUB_DINGTALK_OPS_SECRET", "SECfromenv")
    endpoint = Endpoint.objects.create(
        code="ops", name="运营群", provider="dingtalk", env_prefix="ORDERHUB_DINGTALK_OPS"
    )
    config = EndpointConfig.of(endpoint)
    assert (config.url, config.secret) == ("http://127.0.0.1:9/robot/send?access_token=fromenv", "SECfromenv")
    result = DingTalkAdapter(config).send(OutboundMessage(key="k", title="t"))  # nothing listens on port 9
    assert result.code == "connection_error"
    assert "fromenv" not in result.message and "sign=" not in result.message.replace("sign=***", "")
    assert redact("url: /robot/send?access_token=abc&timestamp=1&sign=xyz") == (
        "url: /robot/send?access_token=***&timestamp=1&sign=***"
    )
