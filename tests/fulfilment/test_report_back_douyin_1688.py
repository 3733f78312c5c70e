"""Report-back to 抖店 (order.logisticsAdd) and 1688, against local servers that check the contract.

The servers recompute each signature on their own from what they received (integrations.md 7b
and 7c) and refuse what does not match, as the platforms do.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import urllib.parse
from datetime import datetime

import pytest

from orderhub.accounts.roles import Role
from orderhub.core.jobs import jobs_run_pending
from orderhub.fulfilment.adapters.douyin import douyin_sign
from orderhub.fulfilment.models import Carrier, ShipReport
from orderhub.fulfilment.timeline import fulfilment_timeline
from orderhub.fulfilment.waybills import waybills_issue
from orderhub.ingest.models import Channel, ChannelKind
from orderhub.orders.models import Order
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus

from .fake_servers import raw_server

DY_SECRET = "dySecret"
ALI_SECRET = "aliSecret"
ALI_KEY = "7654321"
ALI_PATH = f"param2/1/com.alibaba.logistics/alibaba.logistics.OpDeliverySendOrder.offline/{ALI_KEY}"


# --- the worked example of integrations.md 7b ---------------------------------------------------


@pytest.mark.parametrize(
    ("sign_method", "sign"),
    [
        ("hmac-sha256", "3eddb62278173e16991f0f32920cf78a238cbbe446c9cc3ca61e97f6eb107f7e"),
        ("md5", "f8dea528063f084982105046ba118020"),
    ],
)
def test_douyin_sign_vectors(sign_method, sign) -> None:
    assert (
        douyin_sign(
            app_key="1234567890123456789",
            app_secret="testAppSecret",
            method="order.logisticsAdd",
            param_json='{"company_code":"yuantong","logistics_code":"YT9693083639795","order_id":"6496679971677798670"}',
            timestamp="2023-11-15 10:00:00",
            v="2",
            sign_method=sign_method,
        )
        == sign
    )


# --- the platforms, as local servers ------------------------------------------------------------


def fake_douyin(request: dict) -> tuple[int, dict]:
    q, body = request["query"], request["body"]
    s = (
        f"{DY_SECRET}app_key{q.get('app_key')}method{q.get('method')}param_json{body}"
        f"timestamp{q.get('timestamp')}v{q.get('v')}{DY_SECRET}"
    )
    if q.get("sign_method") == "md5":
        expected = hashlib.md5(s.encode()).hexdigest()  # noqa: S324
    else:
        expected = hmac.new(DY_SECRET.encode(), s.encode(), hashlib.sha256).hexdigest()
    if q.get("sign") != expected:
        return 200, {
            "code": 40004,
            "msg": "签名校验失败",
            "sub_code": "isv.sign-invalid",
            "sub_msg": "sign 不正确",
        }
    params = json.loads(body)
    assert request["path"] == "/order/logisticsAdd" and q["method"] == "order.logisticsAdd" and q["v"] == "2"
    assert q["access_token"] == "dyToken" and request["content_type"].startswith("application/json")
    datetime.strptime(q["timestamp"], "%Y-%m-%d %H:%M:%S")
    assert body == json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert {"order_id", "logistics_code"} <= params.keys() and (
        "company_code" in params or "company" in params
    )
    return 200, {"code": 10000, "msg": "success", "data": {}, "sub_code": "", "sub_msg": "", "log_id": "L1"}


def fake_1688(request: dict) -> tuple[int, dict]:
    form = {k: v[0] for k, v in urllib.parse.parse_qs(request["body"], keep_blank_values=True).items()}
    url_path = request["path"].removeprefix("/openapi/")  # the gateway's base is not signed
    s = url_path + "".join(f"{k}{form[k]}" for k in sorted(form) if k != "_aop_signature")
    expected = hmac.new(ALI_SECRET.encode(), s.encode(), hashlib.sha1).hexdigest().upper()
    if form.get("_aop_signature") != expected:
        return 401, {"error_code": "gw.SignatureInvalid", "error_message": "Request signature is invalid"}
    assert url_path == ALI_PATH and form["access_token"] == "aliToken"
    assert form["_aop_timestamp"].isdigit() and len(form["gmtSend"]) == len("20120801154220368+0800")
    goods = json.loads(form["sendGoods"])
    ext = json.loads(form["extBody"])
    assert set(ext) == {"cpCode", "logisticsCpName", "mailNo"}
    [good] = goods
    entries = good["sendGoodEntries"]
    assert all({"sourceEntryId", "amount", "weight"} == set(e) for e in entries)
    if good["sourceId"] == "REFUNDING":
        return 200, {
            "success": False,
            "errorCode": "5001",
            "errorMessage": "下游销售订单退款中，暂不支持发货",
        }
    return 200, {
        "success": True,
        "result": {"logisticsId": "LP001", "sendGoods": goods},
    }


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def fast_retries(settings) -> None:
    settings.ORDERHUB_JOBS = {**settings.ORDERHUB_JOBS, "BACKOFF_BASE_SECONDS": 0.0}


@pytest.fixture
def douyin(db, carrier_table, settings):
    Channel.objects.create(code="dy", name="抖店旗舰店", kind=ChannelKind.DOUYIN)
    Carrier.objects.filter(code="ZTO").update(douyin_code="zhongtong")

    def configure(url: str, secret: str = DY_SECRET, **extra: str) -> None:
        settings.ORDERHUB_CHANNEL_CREDENTIALS = {
            "dy": {
                "URL": url,
                "APP_KEY": "1234567890123456789",
                "APP_SECRET": secret,
                "ACCESS_TOKEN": "dyToken",
            }
            | extra
        }

    return configure


@pytest.fixture
def alibaba(db, carrier_table, settings):
    Channel.objects.create(code="ali", name="1688 诚信通店", kind=ChannelKind.ALIBABA_1688)
    Carrier.objects.filter(code="ZTO").update(alibaba_code="ZTO")

    def configure(url: str, secret: str = ALI_SECRET) -> None:
        settings.ORDERHUB_CHANNEL_CREDENTIALS = {
            "ali": {
                "URL": url + "/openapi/",
                "APP_KEY": ALI_KEY,
                "APP_SECRET": secret,
                "ACCESS_TOKEN": "aliToken",
            }
        }

    return configure


def _ship(order: Order, staff) -> str:
    [out] = waybills_issue(order_ids=[order.pk])
    assert out.ok, out.error
    order_transition(order_id=order.pk, to=OrderStatus.SHIPPED, actor=staff[Role.WAREHOUSE])
    return out.number


def _kept_sub_order_ids(order: Order, ids: list[str]) -> None:
    """Raw lines kept as the channel sent them, under the channel's own key."""
    Order.objects.filter(pk=order.pk).update(lines_snapshot=[{"sub_order_id": i} for i in ids])


# --- 抖店 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sign_method", ["hmac-sha256", "md5"])
def test_douyin_shipment_is_reported_with_a_valid_signature(allocated, douyin, staff, sign_method) -> None:
    with raw_server(fake_douyin) as (url, received):
        douyin(url, SIGN_METHOD=sign_method)
        order = allocated(channel_code="dy", channel_order_no="6496679971677798670")
        number = _ship(order, staff)
        jobs_run_pending()
    [sent] = received
    assert json.loads(sent["body"]) == {
        "company_code": "zhongtong",
        "logistics_code": number,
        "order_id": "6496679971677798670",
    }
    report = ShipReport.objects.get(order=order)
    assert report.status == "sent" and report.attempts == 1 and report.adapter == "douyin"
    assert "access_token" not in report.request and "sign" not in report.request
    assert fulfilment_timeline(order)[-1].title.startswith("发货回传成功：中通快递")


def test_douyin_carrier_off_the_list_is_sent_by_name(allocated, douyin, staff) -> None:
    Carrier.objects.filter(code="ZTO").update(douyin_code="")
    with raw_server(fake_douyin) as (url, received):
        douyin(url)
        order = allocated(channel_code="dy", channel_order_no="6496679971677798671")
        _ship(order, staff)
        jobs_run_pending()
    assert json.loads(received[0]["body"])["company"] == "中通快递"
    assert ShipReport.objects.get(order=order).status == "sent"


def test_douyin_refusal_of_a_forged_signature_is_visible_not_retried(
    allocated, douyin, staff, fast_retries
) -> None:
    with raw_server(fake_douyin) as (url, received):
        douyin(url, secret="not-the-secret")
        order = allocated(channel_code="dy", channel_order_no="6496679971677798672")
        _ship(order, staff)
        jobs_run_pending()
    report = ShipReport.objects.get(order=order)
    assert report.status == "failed" and report.attempts == 1 and len(received) == 1
    assert "40004" in report.last_error and "签名校验失败" in report.last_error
    assert "发货回传失败" in fulfilment_timeline(order)[-1].title


def test_douyin_busy_gateway_and_a_forged_answer_are_retried_then_sent(
    allocated, douyin, staff, fast_retries
) -> None:
    answers = iter([(503, {"code": 50000, "msg": "busy"}), (200, b"<html>Wi-Fi login</html>")])

    def flaky(request: dict):
        return next(answers, None) or fake_douyin(request)

    with raw_server(flaky) as (url, received):
        douyin(url)
        order = allocated(channel_code="dy", channel_order_no="6496679971677798673")
        _ship(order, staff)
        jobs_run_pending()
    report = ShipReport.objects.get(order=order)
    assert report.status == "sent" and report.attempts == 3 and len(received) == 3


# --- 1688 ------------------------------------------------------------------------------------------


def test_1688_shipment_is_reported_with_a_valid_signature(allocated, alibaba, staff) -> None:
    from decimal import Decimal

    from orderhub.orders.services import LineDraft

    with raw_server(fake_1688) as (url, received):
        alibaba(url)
        order = allocated(
            channel_code="ali",
            channel_order_no="206026099675498520",
            lines=[
                LineDraft("BP-2231", 2, Decimal("88"), sub_order_no="206026099675498521"),
                LineDraft("OF-1102", 1, Decimal("35"), sub_order_no="206026099675498522"),
            ],
        )
        number = _ship(order, staff)
        jobs_run_pending()
    [sent] = received
    form = {k: v[0] for k, v in urllib.parse.parse_qs(sent["body"]).items()}
    assert json.loads(form["sendGoods"]) == [
        {
            "sourceId": "206026099675498520",
            "sendGoodEntries": [
                {"sourceEntryId": "206026099675498521", "amount": 2, "weight": 3.6},
                {"sourceEntryId": "206026099675498522", "amount": 1, "weight": 0.35},
            ],
        }
    ]
    assert json.loads(form["extBody"]) == {"cpCode": "ZTO", "logisticsCpName": "中通快递", "mailNo": number}
    report = ShipReport.objects.get(order=order)
    assert report.status == "sent" and report.adapter == "1688"
    assert "access_token" not in report.request and "_aop_signature" not in report.request


def test_1688_order_imported_with_its_sub_order_ids_is_reported_line_by_line(
    allocated, alibaba, staff, settings, tmp_path
) -> None:
    """From a file to the platform: the import keeps each line's 子订单编号, and the shipment is
    reported with them (a layout with that column, imported into the 1688 shop)."""
    from orderhub.fulfilment.allocation import order_allocate
    from orderhub.ingest.models import BatchStatus
    from orderhub.ingest.pipeline import batch_create_from_file, batch_run
    from tests.ingest import exports as ex

    settings.ORDERHUB_INGEST = {"FILES_DIR": str(tmp_path / "ingest-files")}
    h = ex.headers_of("抖店-订单导出")
    rows = [h]
    for sub, sku, qty in [("206026099675498551", "BP-2231", 2), ("206026099675498552", "OF-1102", 1)]:
        fields = {"主订单编号": "206026099675498550", "子订单编号": sub, "商家编码": sku, "商品数量": qty}
        fields |= {"商品单价": "50.00", "收件人": "陈经理", "收件人手机号": "13905711234"}
        fields |= {"省": "浙江省", "市": "台州市", "区": "椒江区", "详细地址": "东环大道88号"}
        fields |= {"订单提交时间": "2026-11-20 10:00:00"}
        rows.append(ex._row(h, **fields))
    data = ex.csv_bytes(rows)
    batch = batch_create_from_file(
        fileobj=io.BytesIO(data),
        filename="1688-带子订单.csv",
        actor=staff[Role.CUSTOMER_SERVICE],
        preset_name="抖店-订单导出",
        channel_code="ali",
    )
    batch = batch_run(batch.pk)
    assert batch.status == BatchStatus.DONE and batch.created_count == 2, batch.hold_counts
    order = Order.objects.get(channel__code="ali", channel_order_no="206026099675498550")
    order_transition(order_id=order.pk, to=OrderStatus.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    assert order_allocate(order_id=order.pk).allocated

    with raw_server(fake_1688) as (url, received):
        alibaba(url)
        _ship(order, staff)
        jobs_run_pending()
    [sent] = received
    form = {k: v[0] for k, v in urllib.parse.parse_qs(sent["body"]).items()}
    [goods] = json.loads(form["sendGoods"])
    assert goods["sourceId"] == "206026099675498550"
    assert [(e["sourceEntryId"], e["amount"]) for e in goods["sendGoodEntries"]] == [
        ("206026099675498551", 2),
        ("206026099675498552", 1),
    ]
    assert ShipReport.objects.get(order=order).status == "sent"


def test_1688_forged_signature_and_business_refusals_are_visible(
    allocated, alibaba, staff, fast_retries
) -> None:
    with raw_server(fake_1688) as (url, received):
        alibaba(url, secret="wrong")
        forged = allocated(channel_code="ali", channel_order_no="206026099675498530")
        _kept_sub_order_ids(forged, ["206026099675498531"])
        _ship(forged, staff)
        jobs_run_pending()
        alibaba(url)
        refunding = allocated(channel_code="ali", channel_order_no="REFUNDING")
        _kept_sub_order_ids(refunding, ["1"])
        _ship(refunding, staff)
        jobs_run_pending()
    first, second = ShipReport.objects.get(order=forged), ShipReport.objects.get(order=refunding)
    assert first.status == "failed" and first.attempts == 1  # HTTP 401: not retried
    assert "gw.SignatureInvalid" in first.last_error
    assert second.status == "failed" and "5001" in second.last_error and "退款中" in second.last_error
    assert len(received) == 2


def test_1688_without_sub_order_ids_is_refused_before_any_call(allocated, alibaba, staff) -> None:
    with raw_server(fake_1688) as (url, received):
        alibaba(url)
        order = allocated(channel_code="ali", channel_order_no="206026099675498540")
        _ship(order, staff)
        jobs_run_pending()
    report = ShipReport.objects.get(order=order)
    assert report.status == "failed" and "子订单号" in report.last_error and received == []
