"""A robot takes 20 messages a minute: the rest wait and go out merged into digests, none dropped."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from orderhub.core.jobs import jobs_run_pending
from orderhub.notify.models import Delivery, DeliveryStatus, Endpoint, EndpointSlot
from orderhub.notify.services import message_send

FLUSH = "orderhub.notify.tasks.flush_endpoint"


def a_minute_passes(seconds: int = 61) -> None:
    """Move the recorded sends and everything scheduled back in time, as if a minute went by."""
    delta = timedelta(seconds=seconds)
    EndpointSlot.objects.update(at=F("at") - delta)
    Endpoint.objects.filter(paused_until__isnull=False).update(paused_until=F("paused_until") - delta)
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(run_after=F("run_after") - delta)


def burst(endpoint: Endpoint, n: int, prefix: str = "SO") -> list[Delivery]:
    return [
        message_send(
            channel=endpoint.provider,
            endpoint=endpoint,
            key=f"burst:{prefix}{i:03d}",
            title=f"订单 {prefix}{i:03d} 已进入「已拆单」",
            mentions=[f"1390000{i:04d}"],
        )
        for i in range(n)
    ]


def test_beyond_20_a_minute_messages_wait_and_go_out_as_one_digest(db, fake, endpoint_for) -> None:
    robot = fake("dingtalk", secret="SECops")
    ep = endpoint_for(robot, rate_limit=20)
    sent = burst(ep, 25)

    jobs_run_pending()

    assert len(robot.requests) == 20
    waiting = Delivery.objects.filter(status=DeliveryStatus.THROTTLED).order_by("pk")
    assert [d.key for d in waiting] == [d.key for d in sent[20:]]
    (flush,) = DBTaskResult.objects.filter(task_path=FLUSH)
    first_send = EndpointSlot.objects.order_by("at").first().at
    assert flush.run_after == first_send + timedelta(seconds=60)
    assert jobs_run_pending() == 0, "nothing more within the minute"

    a_minute_passes()
    jobs_run_pending()

    assert len(robot.requests) == 21
    digest_post = robot.requests[-1].json
    assert digest_post["markdown"]["title"] == "【汇总】5 条订单通知"
    text = digest_post["markdown"]["text"]
    for i in range(20, 25):
        assert f"- 订单 SO{i:03d} 已进入「已拆单」" in text
    assert digest_post["at"]["atMobiles"] == [f"1390000{i:04d}" for i in range(20, 25)]
    digest = Delivery.objects.get(is_digest=True)
    assert digest.status == DeliveryStatus.SENT
    assert set(digest.members.values_list("status", flat=True)) == {DeliveryStatus.MERGED}
    assert digest.members.count() == 5
    assert robot.problems == []


def test_messages_never_jump_the_queue_of_those_waiting(db, fake, endpoint_for) -> None:
    robot = fake("wecom")
    ep = endpoint_for(robot, rate_limit=2)
    burst(ep, 3, prefix="A")
    jobs_run_pending()
    a_minute_passes(30)
    burst(ep, 1, prefix="B")  # the window is still full: it waits behind A002
    jobs_run_pending()
    assert len(robot.requests) == 2
    a_minute_passes(31)
    jobs_run_pending()
    assert len(robot.requests) == 3
    content = robot.requests[-1].json["text"]["content"]
    assert "A002" in content and "B000" in content


def test_a_backlog_larger_than_a_digest_goes_out_in_several_within_the_limit(
    db, fake, endpoint_for, settings
) -> None:
    settings.ORDERHUB_NOTIFY = {**settings.ORDERHUB_NOTIFY, "DIGEST_MAX_ITEMS": 3}
    robot = fake("dingtalk")
    ep = endpoint_for(robot, rate_limit=1)
    burst(ep, 8)
    jobs_run_pending()
    assert len(robot.requests) == 1
    for _minute in range(5):
        a_minute_passes()
        jobs_run_pending()
    texts = [r.json["markdown"]["text"] for r in robot.requests]
    assert len(texts) == 4  # one alone, then digests of 3, 3 and 1 — one a minute
    for i in range(8):
        assert sum(f"SO{i:03d}" in t for t in texts) == 1, f"SO{i:03d} must arrive exactly once"
    assert not Delivery.objects.exclude(status__in=[DeliveryStatus.SENT, DeliveryStatus.MERGED]).exists()


def test_when_the_robot_says_too_fast_we_hold_back_and_merge(db, fake, endpoint_for, settings) -> None:
    robot = fake("dingtalk")
    robot.answer(("json", {"errcode": 130101, "errmsg": "send too fast"}))
    ep = endpoint_for(robot, rate_limit=20)
    burst(ep, 3)

    jobs_run_pending()

    ep.refresh_from_db()
    assert len(robot.requests) == 1  # the refused one; the next two did not even try
    assert ep.paused_until > timezone.now() + timedelta(minutes=9)
    assert Delivery.objects.filter(status=DeliveryStatus.THROTTLED).count() == 3
    a_minute_passes(601)
    jobs_run_pending()
    assert len(robot.requests) == 2
    assert robot.requests[-1].json["markdown"]["title"] == "【汇总】3 条订单通知"


def test_an_unlimited_endpoint_sends_everything_at_once(db, fake, endpoint_for) -> None:
    robot = fake("feishu")
    burst(endpoint_for(robot, rate_limit=0), 30)
    jobs_run_pending()
    assert len(robot.requests) == 30 and not DBTaskResult.objects.filter(task_path=FLUSH).exists()
