"""Cainiao e-waybill adapter against a local server that checks data_digest and the request body."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from orderhub.fulfilment.adapters.cainiao import CainiaoWaybillProvider, data_digest
from orderhub.fulfilment.models import Carrier
from orderhub.fulfilment.waybills import waybills_issue
from orderhub.orders.states import OrderStatus

from .fake_servers import form_server

SECRET = "testAppSecret"
TOKEN = "merchant-token-1"


def test_data_digest_vector() -> None:
    # integrations.md §6: base64 of the raw MD5 bytes of content + appSecret
    assert data_digest('{"cpCode":"ZTO"}', "testAppSecret") == "VhW/HNSrqm0xmLQl8Z4esA=="


def fake_cainiao(form: dict[str, str]) -> tuple[int, dict]:
    """The documented contract: form fields, signature, ≤ 10 orders, results matched by objectId."""
    content = form.get("logistics_interface", "")
    expected = base64.b64encode(hashlib.md5((content + SECRET).encode()).digest()).decode()  # noqa: S324
    if form.get("data_digest") != expected:
        return 200, {"success": "false", "errorCode": "S02", "errorMsg": "Invalid signature"}
    if form.get("logistic_provider_id") != TOKEN or not form["_content_type"].startswith(
        "application/x-www-form-urlencoded"
    ):
        return 200, {"success": "false", "errorCode": "S01", "errorMsg": "bad request"}
    body = json.loads(content)
    if form.get("msg_type") == "TMS_WAYBILL_DISCARD":
        return 200, {"success": "true", "discardResult": True}
    dtos = body["tradeOrderInfoDtos"]
    assert form["msg_type"] == "TMS_WAYBILL_GET" and len(dtos) <= 10
    assert body["sender"]["address"]["province"] == "浙江省"
    return 200, {
        "success": "true",
        "errorCode": "",
        "errorMsg": "",
        "waybillCloudPrintResponseList": [
            {
                "objectId": d["objectId"],
                "waybillCode": f"9890000{int(d['objectId']):06d}",
                "printData": json.dumps({"data": {"recipient": d["recipient"]}}, ensure_ascii=False),
                "parentWaybillCode": "",
            }
            for d in reversed(dtos)  # results may come back in any order
        ],
    }


@pytest.fixture
def cainiao(settings):
    with form_server(fake_cainiao) as (url, received):
        settings.ORDERHUB_CAINIAO = {"URL": url, "TOKEN": TOKEN, "APP_SECRET": SECRET, "TIMEOUT": 5}
        yield received


def test_twelve_orders_in_two_signed_calls(allocated, carrier_table, cainiao) -> None:
    Carrier.objects.filter(code="ZTO").update(provider="cainiao")
    orders = [allocated() for _ in range(12)]
    outcomes = waybills_issue(order_ids=[o.pk for o in orders])
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    assert [len(json.loads(r["logistics_interface"])["tradeOrderInfoDtos"]) for r in cainiao] == [10, 2]
    first = json.loads(cainiao[0]["logistics_interface"])
    assert first["cpCode"] == "ZTO"
    dto = first["tradeOrderInfoDtos"][0]
    assert dto["orderInfo"]["tradeOrderList"] == [orders[0].order_no]
    assert dto["recipient"]["mobile"] == "13812345678" and dto["packageInfo"]["weight"] == 36000
    assert {o.number for o in outcomes} == {f"9890000{o.pk:06d}" for o in orders}
    for o in orders:
        o.refresh_from_db()
        assert o.status == OrderStatus.LABEL_PRINTED


def test_a_refused_signature_leaves_orders_allocated(allocated, carrier_table, cainiao, settings) -> None:
    Carrier.objects.filter(code="ZTO").update(provider="cainiao")
    settings.ORDERHUB_CAINIAO = {**settings.ORDERHUB_CAINIAO, "APP_SECRET": "wrong"}
    order = allocated()
    [out] = waybills_issue(order_ids=[order.pk])
    assert not out.ok and "S02" in out.error and "Invalid signature" in out.error
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATING


def test_discard(cainiao, settings) -> None:
    CainiaoWaybillProvider().void("ZTO", "9890000000001")
    assert cainiao[0]["msg_type"] == "TMS_WAYBILL_DISCARD"


def test_cancelling_a_labelled_order_discards_its_number_after_commit(
    allocated, carrier_table, cainiao, staff
) -> None:
    from orderhub.accounts.roles import Role
    from orderhub.core.jobs import jobs_run_pending
    from orderhub.orders.services import order_transition

    Carrier.objects.filter(code="ZTO").update(provider="cainiao")
    order = allocated()
    [out] = waybills_issue(order_ids=[order.pk])
    order_transition(
        order_id=order.pk, to=OrderStatus.CANCELLED, actor=staff[Role.CUSTOMER_SERVICE], reason="客户取消"
    )
    assert [r["msg_type"] for r in cainiao] == ["TMS_WAYBILL_GET"]  # nothing sent inside the transaction
    jobs_run_pending()
    discard = json.loads(cainiao[-1]["logistics_interface"])
    assert cainiao[-1]["msg_type"] == "TMS_WAYBILL_DISCARD" and discard["waybillCode"] == out.number
    assert order.waybills.get().status == "voided"
