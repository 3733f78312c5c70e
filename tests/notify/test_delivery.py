"""Delivering owed notifications: committed with the transition, retried with backoff, dead
when hopeless (and retried from the failed page), never re-sent once accepted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from orderhub.accounts.roles import Role
from orderhub.core.jobs import jobs_run_pending
from orderhub.notify.models import Delivery, DeliveryStatus, InboxMessage, RoutingRule
from orderhub.notify.services import message_send
from orderhub.orders.models import OperationLog
from orderhub.orders.selectors import order_timeline
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus as S

SEND = "orderhub.notify.tasks.send_delivery"
BATCH = "orderhub.notify.tasks.send_batch"
NOTICE = "orderhub.notify.tasks.deliver_transition_notice"


def make_due() -> None:
    """Let the backoff pass."""
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(run_after=timezone.now())


def send_job(delivery: Delivery) -> DBTaskResult:
    return DBTaskResult.objects.filter(task_path=SEND, args_kwargs__args=[delivery.pk]).latest("enqueued_at")


@pytest.fixture
def warehouse_with_mobile(staff):
    user = staff[Role.WAREHOUSE]
    user.mobile = "13900000001"
    user.save(update_fields=["mobile"])
    return user


def test_a_transition_owes_its_deliveries_in_its_transaction_and_the_worker_sends_them(
    make_order, staff, fake, endpoint_for, warehouse_with_mobile
) -> None:
    robot = fake("dingtalk", secret="SECops")
    endpoint_for(robot)
    sms = fake("aliyun", secret="sk-1")
    endpoint_for(sms)
    RoutingRule.objects.create(event=S.SPLIT, role=Role.WAREHOUSE, channels=["inbox", "dingtalk", "sms"])
    order = make_order()
    cs = staff[Role.CUSTOMER_SERVICE]

    notice_jobs = DBTaskResult.objects.filter(task_path=NOTICE)
    with pytest.raises(RuntimeError), transaction.atomic():
        order_transition(order_id=order.pk, to=S.SPLIT, actor=cs)
        raise RuntimeError("the request failed after the transition")
    assert not notice_jobs.exists() and not Delivery.objects.exists()

    order_transition(order_id=order.pk, to=S.SPLIT, actor=cs, reason="整单发")
    (job,) = notice_jobs  # owed with the transition; the job routes and plans the deliveries
    assert job.status == TaskResultStatus.READY
    jobs_run_pending()

    owed = Delivery.objects.filter(order=order).order_by("channel")
    assert [d.channel for d in owed] == ["dingtalk", "inbox", "sms"]

    title = f"订单 {order.order_no} 已进入「已拆单」"
    (post,) = robot.requests
    assert post.json["markdown"]["title"] == title
    assert post.json["at"]["atMobiles"] == ["13900000001"]
    assert "原因：整单发" in post.json["markdown"]["text"]
    (text,) = sms.requests
    assert text.form["PhoneNumbers"] == "13900000001"
    assert text.form["TemplateParam"] == f'{{"order_no":"{order.order_no}","status":"已拆单"}}'
    assert robot.problems == sms.problems == []
    assert InboxMessage.objects.get(user=warehouse_with_mobile, order=order).title == title
    assert set(owed.values_list("status", flat=True)) == {DeliveryStatus.SENT}

    _order, events = order_timeline(actor=cs, order_id=order.pk)
    notices = [e.title for e in events if e.kind == "notification"]
    assert f"钉钉机器人：{title}（已送达）" in notices
    assert f"短信：{title}（已送达）" in notices
    assert title in notices  # the inbox message


def test_5xx_is_retried_with_backoff_until_accepted(db, fake, endpoint_for) -> None:
    robot = fake("wecom")
    robot.answer(("status", 502), ("status", 503))
    d = message_send(channel="wecom", endpoint=endpoint_for(robot), key="retry-1", title="订单 SO1 已发货")

    jobs_run_pending()
    d.refresh_from_db()
    job = send_job(d)
    assert (d.status, d.attempts, d.last_error) == ("failed", 1, "[http_502] 服务商暂时不可用")
    assert job.status == TaskResultStatus.READY and job.run_after > timezone.now()
    assert jobs_run_pending() == 0, "not before the backoff has passed"

    make_due()
    jobs_run_pending()
    make_due()
    jobs_run_pending()

    d.refresh_from_db()
    assert (d.status, d.attempts, d.provider_code) == ("sent", 3, "0")
    assert robot.counts["retry-1"] == 3
    assert send_job(d).status == TaskResultStatus.SUCCESSFUL


def test_a_timeout_is_retried_too(db, fake, endpoint_for) -> None:
    robot = fake("feishu")
    robot.answer(("sleep", 1.2))
    d = message_send(channel="feishu", endpoint=endpoint_for(robot), key="slow-1", title="订单 SO2 物流异常")
    jobs_run_pending()
    d.refresh_from_db()
    assert d.status == "failed" and d.last_error.startswith("[timeout]")
    make_due()
    jobs_run_pending()
    d.refresh_from_db()
    assert d.status == "sent"
    # The provider did receive the timed-out request: an unclear outcome is the one case that
    # can reach it twice.
    assert robot.counts["slow-1"] == 2


def test_a_delivery_that_keeps_failing_is_dead_listed_and_can_be_retried(
    db, fake, endpoint_for, staff
) -> None:
    robot = fake("dingtalk")
    robot.answer(("status", 500), ("status", 500), ("status", 500))
    d = message_send(
        channel="dingtalk", endpoint=endpoint_for(robot), key="dead-1", title="订单 SO3 已进入「已打单」"
    )
    for _ in range(3):  # MAX_ATTEMPTS = 3 in these tests
        make_due()
        jobs_run_pending()
    d.refresh_from_db()
    assert (d.status, d.attempts) == ("dead", 3)
    assert send_job(d).status == TaskResultStatus.FAILED
    assert robot.counts["dead-1"] == 3

    manager = Client()
    manager.force_login(staff[Role.MANAGER])
    page = manager.get("/notify/failed/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "订单 SO3 已进入「已打单」" in html and "[http_500] 服务商暂时不可用" in html
    assert f'data-retry="{d.pk}"' in html

    response = manager.post(f"/notify/failed/{d.pk}/retry/", follow=True)
    assert "已重新发送" in response.content.decode()
    d.refresh_from_db()
    assert (d.status, d.attempts) == ("pending", 0)
    jobs_run_pending()
    d.refresh_from_db()
    assert d.status == "sent" and robot.counts["dead-1"] == 4
    assert "没有发送失败的通知" in manager.get("/notify/failed/").content.decode()


def test_a_permanent_refusal_is_dead_at_once(db, fake, endpoint_for) -> None:
    robot = fake("dingtalk", secret="SECright")
    d = message_send(
        channel="dingtalk", endpoint=endpoint_for(robot, secret="SECwrong"), key="perm-1", title="订单 SO4"
    )
    jobs_run_pending()
    d.refresh_from_db()
    assert (d.status, d.attempts, d.provider_code) == ("dead", 1, "310000")
    assert "sign not match" in d.last_error
    assert not DBTaskResult.objects.filter(task_path=SEND).exists(), "no retry for a permanent refusal"
    assert robot.counts["perm-1"] == 1


def test_an_accepted_message_is_never_sent_again(db, fake, endpoint_for) -> None:
    from orderhub.notify.tasks import send_delivery

    robot = fake("wecom")
    d = message_send(channel="wecom", endpoint=endpoint_for(robot), key="once-1", title="订单 SO5")
    jobs_run_pending()
    # A duplicate job (a re-run after an unclear end of the job itself) finds it sent.
    send_delivery.enqueue(d.pk)
    jobs_run_pending()
    # The same key owed again is the same delivery.
    assert message_send(channel="wecom", key="once-1", title="订单 SO5").pk == d.pk
    jobs_run_pending()
    assert robot.counts["once-1"] == 1


def test_only_managers_and_admins_see_the_failed_page(staff) -> None:
    for role, expected in ((Role.WAREHOUSE, 403), (Role.CUSTOMER_SERVICE, 403), (Role.ADMIN, 200)):
        client = Client()
        client.force_login(staff[role])
        assert client.get("/notify/failed/").status_code == expected
    warehouse = Client()
    warehouse.force_login(staff[Role.WAREHOUSE])
    assert warehouse.post("/notify/failed/1/retry/").status_code == 403


def test_retrying_what_is_not_dead_says_so(db, fake, endpoint_for, staff) -> None:
    robot = fake("wecom")
    d = message_send(channel="wecom", endpoint=endpoint_for(robot), key="alive-1", title="订单 SO6")
    manager = Client()
    manager.force_login(staff[Role.MANAGER])
    response = manager.post(f"/notify/failed/{d.pk}/retry/", follow=True)
    assert "不是发送失败状态" in response.content.decode()


def test_retry_all(db, fake, endpoint_for, staff) -> None:
    robot = fake("dingtalk", secret="SECright")
    bad = endpoint_for(robot, secret="SECwrong")
    for i in range(3):
        message_send(channel="dingtalk", endpoint=bad, key=f"all-{i}", title=f"订单 SO{i}")
    jobs_run_pending()
    assert Delivery.objects.filter(status="dead").count() == 3
    bad.secret = "SECright"  # the admin fixes the secret, then retries everything
    bad.save()
    manager = Client()
    manager.force_login(staff[Role.MANAGER])
    response = manager.post("/notify/failed/retry-all/", follow=True)
    assert "已重新发送 3 条通知" in response.content.decode()
    jobs_run_pending()
    assert Delivery.objects.filter(status="sent").count() == 3


def test_a_missing_endpoint_is_a_visible_configuration_error(make_order, staff) -> None:
    RoutingRule.objects.create(event=S.SPLIT, role=Role.WAREHOUSE, channels=["wecom"])
    order = make_order()
    order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    jobs_run_pending()
    d = Delivery.objects.get(order=order)
    assert d.status == "dead" and "没有为「wecom」配置机器人" in d.last_error


def test_notice_jobs_re_run_after_a_crash_add_nothing(make_order, staff, fake, endpoint_for) -> None:
    from orderhub.notify.services import transition_notice_deliver

    robot = fake("wecom")
    endpoint_for(robot)
    RoutingRule.objects.create(event=S.SPLIT, role=Role.WAREHOUSE, channels=["inbox", "wecom"])
    order = make_order()
    order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    entry = OperationLog.objects.get(order=order, transition="approve")
    jobs_run_pending()
    assert transition_notice_deliver(entry.pk) == 0
    jobs_run_pending()
    assert robot.counts.total() == 1
    assert InboxMessage.objects.filter(order=order).count() == 1
    # The transition's own job sent them; nothing was left for other jobs.
    assert not DBTaskResult.objects.filter(task_path__in=[SEND, BATCH]).exists()


def test_old_slots_leave_the_window(db, fake, endpoint_for) -> None:
    from orderhub.notify.delivery import window_free_at
    from orderhub.notify.models import EndpointSlot

    ep = endpoint_for(fake("wecom"), rate_limit=2)
    now = timezone.now()
    EndpointSlot.objects.create(endpoint=ep, at=now - timedelta(seconds=70))
    EndpointSlot.objects.create(endpoint=ep, at=now - timedelta(seconds=30))
    assert window_free_at(ep, now) is None
    EndpointSlot.objects.create(endpoint=ep, at=now - timedelta(seconds=10))
    assert window_free_at(ep, now) == now + timedelta(seconds=30)
    assert EndpointSlot.objects.count() == 2  # the one older than the window is gone


def test_a_re_run_batch_leaves_alone_what_a_retry_job_is_sending(db, fake, endpoint_for) -> None:
    from orderhub.notify.delivery import deliveries_send, sending_hold

    robot = fake("wecom")
    d = message_send(channel="wecom", endpoint=endpoint_for(robot), key="own-1", title="订单 SO7")
    long_ago = timezone.now() - sending_hold() - timedelta(seconds=1)
    # The batch's first attempt failed; its retry job is sending the second attempt right now
    # when the batch job, abandoned by a killed worker, runs again.
    Delivery.objects.filter(pk=d.pk).update(
        status=DeliveryStatus.SENDING, attempts=2, last_attempt_at=long_ago
    )
    assert deliveries_send([d.pk]) == {"sending": 1}
    assert robot.counts["own-1"] == 0
    # Its own first attempt in flight at the kill is sent again (the one allowed duplicate).
    Delivery.objects.filter(pk=d.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, last_attempt_at=long_ago
    )
    assert deliveries_send([d.pk]) == {"sent": 1}
    assert robot.counts["own-1"] == 1


def test_a_row_another_run_is_sending_now_is_not_sent_twice_but_checked_when_its_hold_ends(
    db, fake, endpoint_for
) -> None:
    """A batch job run twice at once (its worker stalled past the lease and came back) must not
    send what the other run has just marked sending; a check job looks again once the hold ends."""
    from orderhub.notify.delivery import deliveries_send, sending_hold

    robot = fake("wecom")
    ep = endpoint_for(robot)
    d = message_send(channel="wecom", endpoint=ep, key="twice-1", title="订单 SO8")
    marked = timezone.now()
    Delivery.objects.filter(pk=d.pk).update(status=DeliveryStatus.SENDING, attempts=1, last_attempt_at=marked)
    assert deliveries_send([d.pk]) == {"sending": 1}
    assert robot.counts["twice-1"] == 0
    check = send_job(d)
    assert check.status == TaskResultStatus.READY
    assert check.run_after == marked + sending_hold() + timedelta(seconds=1)

    # The other run's send was accepted: the check finds it sent and sends nothing.
    Delivery.objects.filter(pk=d.pk).update(status=DeliveryStatus.SENT)
    make_due()
    jobs_run_pending()
    assert robot.counts["twice-1"] == 0
    assert send_job(d).return_value == DeliveryStatus.SENT

    # Had the other run's worker died with the send in flight, the check takes it over.
    other = message_send(channel="wecom", endpoint=ep, key="twice-2", title="订单 SO9")
    Delivery.objects.filter(pk=other.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, last_attempt_at=timezone.now()
    )
    assert deliveries_send([other.pk]) == {"sending": 1}
    Delivery.objects.filter(pk=other.pk).update(
        last_attempt_at=timezone.now() - sending_hold() - timedelta(seconds=1)
    )
    make_due()
    jobs_run_pending()
    assert robot.counts["twice-2"] == 1
    assert Delivery.objects.get(pk=other.pk).status == DeliveryStatus.SENT
