"""Kuaidi100: the adapter against a local server that checks the documented contract, and the
callback endpoint, which applies signed pushes once and refuses forged and replayed ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks.base import TaskResultStatus

from orderhub.core.jobs import jobs_run_pending
from orderhub.orders.models import OperationLog, Order
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus as S
from orderhub.tracking.adapters.base import ShipmentRef, TrackingError
from orderhub.tracking.adapters.kuaidi100 import Kuaidi100
from orderhub.tracking.carriers import TrackingStatus as TS
from orderhub.tracking.models import CallbackOutcome, CallbackReceipt, Shipment, TrackingEvent
from orderhub.tracking.monitor import poll_due
from orderhub.tracking.services import tracking_refresh
from tests.tracking import fake_kuaidi100 as kd
from tests.tracking.conftest import SHANGHAI, H, jobs, shipment_of, tracking_settings

CALLBACK = "/tracking/kuaidi100/callback"


@pytest.fixture
def fake() -> kd.FakeKuaidi100:
    return kd.FakeKuaidi100()


@pytest.fixture
def server(fake: kd.FakeKuaidi100, settings: Any) -> Iterator[kd.Server]:
    with kd.Server(fake) as srv:
        settings.TRACKING = tracking_settings(
            PROVIDER="kuaidi100",
            KUAIDI100={
                "CUSTOMER": kd.CUSTOMER,
                "KEY": kd.KEY,
                "SALT": kd.SALT,
                "CALLBACK_URL": "https://orderhub.example.com/tracking/kuaidi100/callback",
                "QUERY_URL": f"{srv.url}/poll/query.do",
                "SUBSCRIBE_URL": f"{srv.url}/poll",
                "TIMEOUT_SECONDS": 5,
            },
        )
        yield srv


def ago(hours: float) -> str:
    return f"{timezone.localtime(timezone.now() - timedelta(hours=hours), SHANGHAI):%Y-%m-%d %H:%M:%S}"


def post_push(param: str, sign: str | None = None, client: Client | None = None) -> Any:
    data = {"param": param}
    if sign is not None:
        data["sign"] = sign
    return (client or Client()).post(CALLBACK, data)


def signed(param: str) -> str:
    return kd.sign(param + kd.SALT)


def _last_log(order: Order) -> OperationLog:
    return OperationLog.objects.filter(order=order).order_by("-seq").first()


# --- signing: the reference's vectors ----------------------------------------------------------


def test_signs_reproduce_the_reference_vectors() -> None:
    param = '{"com":"yuantong","num":"YT9693083639795"}'
    adapter = Kuaidi100(
        customer="TESTCUSTOMER",
        key="testkey",
        salt="testsalt",
        callback_url="",
        query_url="",
        subscribe_url="",
    )
    assert adapter.query_sign(param) == "AD6AD77E9C389B78E1A3A97E52384EEE"
    assert Kuaidi100.callback_sign(param, "testsalt") == "FB46E78C6D85683984717D9D87A210DC"
    assert adapter.callback_verify(param, "fb46e78c6d85683984717d9d87a210dc")  # case-insensitive
    assert not adapter.callback_verify(param.replace("YT96", "YT97"), "FB46E78C6D85683984717D9D87A210DC")


# --- subscription -------------------------------------------------------------------------------


def test_shipping_subscribes_the_waybill_with_callback_url_and_salt(server, fake, ship) -> None:
    order = ship(carrier="zto", tracking_no="73100012345678", at=timezone.now())
    shipment = shipment_of(order)
    assert shipment.provider == "kuaidi100" and shipment.subscribed_at is None
    assert len(jobs("subscribe_shipment")) == 1
    jobs_run_pending()
    sub = fake.subscriptions["73100012345678"]
    assert sub["company"] == "zhongtong" and sub["key"] == kd.KEY
    assert sub["to"] == "浙江省-台州市-椒江区"
    assert sub["parameters"] == {
        "callbackurl": "https://orderhub.example.com/tracking/kuaidi100/callback",
        "salt": kd.SALT,
        "resultv2": "1",
        "phone": "13812345678",
    }
    assert fake.requests[0].content_type.startswith("application/x-www-form-urlencoded")
    shipment.refresh_from_db()
    assert shipment.subscribed_at is not None and shipment.subscribe_error == ""


def test_a_duplicate_subscription_counts_as_success(server, fake) -> None:
    ref = ShipmentRef(shipment_id=1, carrier="yto", tracking_no="YT9693083639795", shipped_at=timezone.now())
    adapter = Kuaidi100.from_settings()
    adapter.subscribe(ref)
    adapter.subscribe(ref)  # 501 重复订阅
    assert len(fake.requests) == 2


def test_an_unsupported_carrier_is_a_permanent_failure(server, fake, ship) -> None:
    order = ship(carrier="kuayue", tracking_no="KY100200300", at=timezone.now())
    jobs_run_pending()
    (job,) = jobs("subscribe_shipment")
    assert job.status == TaskResultStatus.FAILED and len(job.worker_ids) == 1
    assert shipment_of(order).subscribe_error.startswith("kuaidi100 subscribe refused: 700")


def test_a_busy_server_is_retried_later(server, fake, ship) -> None:
    fake.fail_next.append(502)
    ship(carrier="zto", at=timezone.now())
    jobs_run_pending()
    (job,) = jobs("subscribe_shipment")
    assert job.status == TaskResultStatus.READY and job.run_after > timezone.now()


# --- real-time query (the fallback poll) ----------------------------------------------------------


def _track(state: str, rows: list[dict[str, str]], ischeck: str = "0") -> dict[str, Any]:
    return {"state": state, "ischeck": ischeck, "condition": "F00", "data": rows}


def test_the_query_is_signed_and_its_events_stored_in_beijing_time(server, fake, ship) -> None:
    order = ship(carrier="zto", tracking_no="73100000000001", at=timezone.now() - 30 * H)
    sent_at = ago(2)
    fake.tracks["73100000000001"] = _track(
        "0",
        [
            kd.entry(sent_at, "快件已从【杭州转运中心】发出，下一站【台州转运中心】"),
            kd.entry(ago(20), "【杭州市】中通快递 已揽收", status="揽收"),
        ],
    )
    outcome = tracking_refresh(shipment_id=shipment_of(order).pk)
    assert outcome.events_added == 2
    request = fake.requests[-1]
    assert set(request.form) == {"customer", "param", "sign"}
    assert json.loads(request.form["param"])["com"] == "zhongtong"
    events = list(TrackingEvent.objects.filter(shipment__order=order).order_by("at"))
    assert [e.status for e in events] == [TS.PICKED_UP, TS.IN_TRANSIT]
    assert f"{timezone.localtime(events[1].at, SHANGHAI):%Y-%m-%d %H:%M:%S}" == sent_at


def test_a_signed_for_query_completes_the_order(server, fake, ship) -> None:
    order = ship(carrier="zto", tracking_no="73100000000002", at=timezone.now() - 40 * H)
    fake.tracks["73100000000002"] = _track(
        "3",
        [
            kd.entry(ago(1), "您的快件已签收，签收人：门卫", status="签收"),
            kd.entry(ago(30), "已揽收", status="揽收"),
        ],
        ischeck="1",
    )
    assert tracking_refresh(shipment_id=shipment_of(order).pk).order_moved_to == S.COMPLETED


def test_no_result_yet_is_empty_not_an_error(server, fake, ship) -> None:
    order = ship(carrier="zto", tracking_no="73100000000003", at=timezone.now())
    assert tracking_refresh(shipment_id=shipment_of(order).pk).events_added == 0
    assert shipment_of(order).poll_error == ""


def test_a_wrong_key_is_refused_by_the_server_and_reported(server, fake, ship, settings) -> None:
    order = ship(carrier="zto", tracking_no="73100000000004", at=timezone.now())
    settings.TRACKING["KUAIDI100"]["KEY"] = "stolen-or-stale"
    with pytest.raises(TrackingError) as exc:
        tracking_refresh(shipment_id=shipment_of(order).pk)
    assert exc.value.code == "503" and exc.value.permanent
    assert "503" in shipment_of(order).poll_error


def test_fallback_polling_asks_only_about_parcels_silent_for_hours(server, ship) -> None:
    now = timezone.now()
    quiet = ship(carrier="zto", at=now - 7 * H)
    recent = ship(carrier="zto", at=now - 2 * H)
    polled = ship(carrier="zto", at=now - 8 * H)
    Shipment.objects.filter(order=polled).update(last_polled_at=now - H)
    due = poll_due(now=now, limit=100)
    assert due == [shipment_of(quiet).pk]
    assert shipment_of(recent).pk not in due


# --- the callback ---------------------------------------------------------------------------------


@pytest.fixture
def followed(server, ship) -> Order:
    return ship(carrier="zto", tracking_no="73100099990001", at=timezone.now() - 20 * H)


def test_a_signed_push_is_applied_and_acknowledged(followed) -> None:
    param = kd.push_param(
        "73100099990001",
        [kd.entry(ago(1), "【台州市椒江区营业部】派件员 王师傅 正在为您派件", status="派件")],
        state="5",
    )
    response = post_push(param, signed(param), client=Client(enforce_csrf_checks=True))
    assert response.status_code == 200
    assert response.json() == {"result": True, "returnCode": "200", "message": "成功"}
    shipment = shipment_of(followed)
    assert shipment.status == TS.OUT_FOR_DELIVERY and "王师傅" in shipment.last_event_desc
    receipt = CallbackReceipt.objects.get()
    assert (receipt.outcome, receipt.events_added, receipt.shipment_id) == (
        CallbackOutcome.APPLIED,
        1,
        shipment.pk,
    )


@pytest.mark.parametrize(
    ("state", "word", "text", "to", "reason"),
    [
        ("3", "签收", "您的快件已签收，签收人：本人", S.COMPLETED, "已签收：中通快递 73100099990001"),
        ("2", "疑难", "收件人电话无法接通，快件滞留网点", S.EXCEPTION, "疑难：中通快递 73100099990001"),
        ("6", "退回", "快件已退回，退回原因：地址不详", S.EXCEPTION, "退回：中通快递 73100099990001"),
        ("14", "拒签", "收件人拒签，原因：外包装破损", S.EXCEPTION, "拒签：中通快递 73100099990001"),
    ],
)
def test_carrier_states_move_the_order(followed, state, word, text, to, reason) -> None:
    param = kd.push_param("73100099990001", [kd.entry(ago(1), text, status=word)], state=state)
    assert post_push(param, signed(param)).status_code == 200
    followed.refresh_from_db()
    assert followed.status == to
    entry = _last_log(followed)
    assert entry.automatic and entry.reason.startswith(reason) and text in entry.reason


@pytest.mark.parametrize(
    "forge",
    ["wrong_sign", "tampered_param", "no_sign", "other_salt", "lowercase_tamper"],
)
def test_forged_pushes_are_refused_and_change_nothing(followed, forge) -> None:
    genuine = kd.push_param("73100099990001", [kd.entry(ago(1), "您的快件已签收", status="签收")], state="3")
    param, sign = genuine, signed(genuine)
    if forge == "wrong_sign":
        sign = "0" * 32
    elif forge == "tampered_param":
        param = genuine.replace("73100099990001", "73100099990002")
    elif forge == "no_sign":
        sign = None
    elif forge == "other_salt":
        sign = kd.sign(genuine + "guessed-salt")
    elif forge == "lowercase_tamper":
        param = genuine.replace('"state": "3"', '"state": "0"')
    response = post_push(param, sign)
    assert response.status_code == 403
    assert response.json() == {"result": False, "returnCode": "403", "message": "签名校验失败"}
    assert TrackingEvent.objects.count() == 0 and CallbackReceipt.objects.count() == 0
    assert Order.objects.get(pk=followed.pk).status == S.SHIPPED


def test_without_a_configured_salt_every_push_is_refused(followed, settings) -> None:
    settings.TRACKING["KUAIDI100"]["SALT"] = ""
    param = kd.push_param("73100099990001", [kd.entry(ago(1), "已签收", status="签收")], state="3")
    assert post_push(param, kd.sign(param)).status_code == 403


def test_the_callback_accepts_only_post(followed) -> None:
    assert Client().get(CALLBACK).status_code == 405


def test_a_redelivered_push_is_acknowledged_but_never_applied_twice(followed, staff) -> None:
    from orderhub.accounts.roles import Role

    problem = kd.push_param(
        "73100099990001", [kd.entry(ago(1), "收件人电话无法接通", status="疑难")], state="2"
    )
    assert post_push(problem, signed(problem)).json()["message"] == "成功"
    assert Order.objects.get(pk=followed.pk).status == S.EXCEPTION
    # A person sorts it out; then the same push arrives again (Kuaidi100 retrying, or a replay).
    order_transition(order_id=followed.pk, to=S.SHIPPED, actor=staff[Role.LOGISTICS], reason="已联系收件人")
    response = post_push(problem, signed(problem))
    assert response.status_code == 200 and response.json()["message"] == "重复推送，已忽略"
    assert Order.objects.get(pk=followed.pk).status == S.SHIPPED
    assert TrackingEvent.objects.count() == 1
    receipt = CallbackReceipt.objects.get()
    assert receipt.replays == 1 and receipt.last_replay_at is not None


def test_a_push_replayed_after_the_retry_window_is_refused(followed) -> None:
    param = kd.push_param("73100099990001", [kd.entry(ago(5), "快件已到达【台州转运中心】")])
    assert post_push(param, signed(param)).status_code == 200
    CallbackReceipt.objects.update(received_at=timezone.now() - 4 * H)
    response = post_push(param, signed(param))
    assert response.status_code == 409
    assert response.json() == {"result": False, "returnCode": "409", "message": "重复推送，已拒绝"}
    assert TrackingEvent.objects.count() == 1


def test_a_later_push_repeating_earlier_events_adds_only_the_new_one(followed) -> None:
    first = [kd.entry(ago(6), "【杭州市】中通快递 已揽收", status="揽收")]
    second = [kd.entry(ago(2), "快件已到达【台州转运中心】"), *first]
    for rows in (first, second):
        param = kd.push_param("73100099990001", rows)
        assert post_push(param, signed(param)).status_code == 200
    assert TrackingEvent.objects.count() == 2
    assert list(CallbackReceipt.objects.order_by("pk").values_list("events_added", flat=True)) == [1, 1]


def test_a_push_for_an_unknown_waybill_is_acknowledged_and_recorded(server, db) -> None:
    param = kd.push_param("99999999999999", [kd.entry(ago(1), "已揽收", status="揽收")])
    response = post_push(param, signed(param))
    assert response.status_code == 200 and response.json()["result"] is True
    assert CallbackReceipt.objects.get().outcome == CallbackOutcome.UNKNOWN_SHIPMENT


def test_an_abort_push_resubscribes_half_an_hour_later(followed) -> None:
    param = kd.push_param("73100099990001", [], status="abort")
    assert post_push(param, signed(param)).status_code == 200
    (job,) = jobs("subscribe_shipment")[-1:]
    assert job.run_after is not None and job.run_after > timezone.now() + timedelta(minutes=29)
    assert shipment_of(followed).resubscribe_count == 1


def test_a_signed_payload_that_is_not_a_push_is_a_bad_request(followed) -> None:
    param = json.dumps({"hello": "world"})
    assert post_push(param, signed(param)).status_code == 400
