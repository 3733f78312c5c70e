"""Report-back (发货回传): PDD and Taobao adapters against local servers that check the contract."""

from __future__ import annotations

import hashlib
import json

import pytest

from orderhub.accounts.roles import Role
from orderhub.core.jobs import jobs_run_pending
from orderhub.fulfilment.adapters.channels import pdd_sign, top_sign
from orderhub.fulfilment.allocation import order_allocate
from orderhub.fulfilment.models import ShipReport
from orderhub.fulfilment.reporting import ship_report_retry
from orderhub.fulfilment.split import order_split_manual
from orderhub.fulfilment.timeline import fulfilment_timeline
from orderhub.fulfilment.waybills import waybills_issue
from orderhub.ingest.models import Channel, ChannelKind
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus

from .fake_servers import form_server

PDD_SECRET = "testSecret"
TOP_SECRET = "topSecret"


def test_pdd_sign_vector() -> None:
    params = {
        "type": "pdd.logistics.online.send",
        "client_id": "testClientId",
        "access_token": "testToken",
        "timestamp": "1700000000",
        "data_type": "JSON",
        "order_sn": "231114-123456789012345",
        "logistics_id": "121",
        "tracking_number": "4307495240153",
    }
    assert pdd_sign(params, "testSecret") == "C8E613A96B09A59388731EA553CB2D86"


@pytest.mark.parametrize(
    ("method", "sign"),
    [
        ("md5", "665FFE447B8F50D8C02BF7E45B69A084"),
        ("hmac", "3F65387A05C54467588306E4AB285ACF"),
        ("hmac-sha256", "A2CED678F783FD00AE111EFCAD132E7E50B222DC1940AA8CB4683980394D6665"),
    ],
)
def test_top_sign_vectors(method, sign) -> None:
    params = {
        "method": "taobao.logistics.offline.send",
        "app_key": "12345678",
        "session": "testSession",
        "timestamp": "2023-11-15 10:00:00",
        "format": "json",
        "v": "2.0",
        "sign_method": method,
        "tid": "1234567890123456",
        "out_sid": "YT9693083639795",
        "company_code": "YTO",
    }
    assert top_sign(params, "testSecret", method) == sign


def fake_pdd(form: dict[str, str]) -> tuple[int, dict]:
    params = {k: v for k, v in form.items() if not k.startswith("_")}
    s = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    expected = hashlib.md5((PDD_SECRET + s + PDD_SECRET).encode()).hexdigest().upper()  # noqa: S324
    if params.get("sign") != expected:
        return 200, {
            "error_response": {
                "error_code": 10019,
                "error_msg": "签名错误",
                "sub_code": "",
                "request_id": "r1",
            }
        }
    required = {
        "type",
        "client_id",
        "access_token",
        "timestamp",
        "data_type",
        "order_sn",
        "logistics_id",
        "tracking_number",
    }
    if (
        not required <= params.keys()
        or params["type"] != "pdd.logistics.online.send"
        or not params["timestamp"].isdigit()
    ):
        return 200, {"error_response": {"error_code": 10000, "error_msg": "参数错误"}}
    return 200, {"logistics_online_send_response": {"is_success": True}}


def fake_taobao(form: dict[str, str]) -> tuple[int, dict]:
    params = {k: v for k, v in form.items() if not k.startswith("_")}
    s = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")
    expected = hashlib.md5((TOP_SECRET + s + TOP_SECRET).encode()).hexdigest().upper()  # noqa: S324
    if params.get("sign") != expected:
        return 200, {
            "error_response": {"code": 25, "msg": "Invalid signature", "sub_code": "isv.invalid-signature"}
        }
    assert (
        params["method"] == "taobao.logistics.offline.send"
        and params["v"] == "2.0"
        and params["format"] == "json"
    )
    assert len(params["timestamp"]) == 19  # yyyy-MM-dd HH:mm:ss
    return 200, {"logistics_offline_send_response": {"shipping": {"is_success": True}}}


def _ship(order, staff) -> None:
    [out] = waybills_issue(order_ids=[order.pk])
    assert out.ok, out.error
    order_transition(order_id=order.pk, to=OrderStatus.SHIPPED, actor=staff[Role.WAREHOUSE])


@pytest.fixture
def fast_retries(settings) -> None:
    settings.ORDERHUB_JOBS = {**settings.ORDERHUB_JOBS, "BACKOFF_BASE_SECONDS": 0.0}


def test_pdd_shipment_is_reported_with_a_valid_signature(allocated, carrier_table, staff, settings) -> None:
    with form_server(fake_pdd) as (url, received):
        settings.ORDERHUB_CHANNEL_CREDENTIALS = {
            "pdd": {"URL": url, "CLIENT_ID": "cid", "CLIENT_SECRET": PDD_SECRET, "ACCESS_TOKEN": "tok"}
        }
        order = allocated(channel_code="pdd", channel_order_no="231114-123456789012345")
        _ship(order, staff)
        jobs_run_pending()
    [sent] = received
    assert sent["order_sn"] == "231114-123456789012345" and sent["logistics_id"] == "115"
    assert sent["tracking_number"] == order.waybills.get().number
    report = ShipReport.objects.get(order=order)
    assert report.status == "sent" and report.attempts == 1
    assert "access_token" not in report.request and "sign" not in report.request
    assert fulfilment_timeline(order)[-1].title.startswith("发货回传成功：中通快递")


def test_taobao_shipment_is_reported(allocated, carrier_table, staff, settings) -> None:
    Channel.objects.create(code="tb", name="淘宝店", kind=ChannelKind.TAOBAO)
    with form_server(fake_taobao) as (url, received):
        settings.ORDERHUB_CHANNEL_CREDENTIALS = {
            "tb": {"URL": url, "APP_KEY": "12345678", "APP_SECRET": TOP_SECRET, "SESSION": "sess"}
        }
        order = allocated(channel_code="tb", channel_order_no="1234567890123456")
        _ship(order, staff)
        jobs_run_pending()
    [sent] = received
    assert (sent["tid"], sent["company_code"]) == ("1234567890123456", "ZTO")
    assert ShipReport.objects.get(order=order).status == "sent"


def test_transport_failures_are_retried_then_succeed(
    allocated, carrier_table, staff, settings, fast_retries
) -> None:
    calls = {"n": 0}

    def flaky(form):
        calls["n"] += 1
        return (503, {"error": "busy"}) if calls["n"] <= 2 else fake_pdd(form)

    with form_server(flaky) as (url, _received):
        settings.ORDERHUB_CHANNEL_CREDENTIALS = {
            "pdd": {"URL": url, "CLIENT_ID": "c", "CLIENT_SECRET": PDD_SECRET}
        }
        order = allocated(channel_code="pdd")
        _ship(order, staff)
        jobs_run_pending()
    report = ShipReport.objects.get(order=order)
    assert report.status == "sent" and report.attempts == 3


def test_a_refusal_is_visible_and_can_be_sent_again(
    allocated, carrier_table, staff, settings, fast_retries
) -> None:
    with form_server(fake_pdd) as (url, received):
        settings.ORDERHUB_CHANNEL_CREDENTIALS = {
            "pdd": {"URL": url, "CLIENT_ID": "c", "CLIENT_SECRET": "wrong"}
        }
        order = allocated(channel_code="pdd")
        _ship(order, staff)
        jobs_run_pending()
        report = ShipReport.objects.get(order=order)
        assert report.status == "failed" and report.attempts == 1  # a business refusal is not retried
        assert "10019" in report.last_error and "签名错误" in report.last_error
        assert "发货回传失败" in fulfilment_timeline(order)[-1].title
        # The manager fixes the secret and sends it again.
        settings.ORDERHUB_CHANNEL_CREDENTIALS = {
            "pdd": {"URL": url, "CLIENT_ID": "c", "CLIENT_SECRET": PDD_SECRET}
        }
        ship_report_retry(report_id=report.pk)
        jobs_run_pending()
    report.refresh_from_db()
    assert report.status == "sent" and len(received) == 2


def test_a_split_order_is_reported_once_when_all_parts_shipped(
    allocated,  # stocks the Hangzhou warehouse
    approved,
    carrier_table,
    staff,
    settings,
) -> None:
    from decimal import Decimal

    from orderhub.orders.services import LineDraft

    order = approved(
        channel_code="pdd",
        lines=[LineDraft("BP-2231", 1, Decimal(1)), LineDraft("OF-1102", 1, Decimal(1))],
    )
    parts = order_split_manual(
        order_id=order.pk, parts=[{1: 1}, {2: 1}], actor=staff[Role.CUSTOMER_SERVICE]
    ).parts
    with form_server(fake_pdd) as (url, received):
        settings.ORDERHUB_CHANNEL_CREDENTIALS = {
            "pdd": {"URL": url, "CLIENT_ID": "c", "CLIENT_SECRET": PDD_SECRET}
        }
        for part in parts:
            order_allocate(order_id=part.pk)
            _ship(part, staff)
            jobs_run_pending()
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert len(received) == 1 and received[0]["tracking_number"] == parts[0].waybills.get().number
    assert json.loads(json.dumps(ShipReport.objects.get().request))["order_sn"] == order.channel_order_no
