"""A manager edits the rules in the admin; dry runs answer on one page."""

from __future__ import annotations

import pytest
from django.test import Client

from orderhub.accounts.models import User
from orderhub.fulfilment.models import CarrierRule, ReviewRule
from orderhub.inventory.models import Stock, StockAdjustment


@pytest.fixture
def admin_client(db) -> Client:
    user = User.objects.create_superuser("boss", "boss@example.com", "Correct-Horse-42")
    client = Client()
    client.force_login(user)
    return client


def test_admin_pages_open(admin_client) -> None:
    for name in (
        "allocationpolicy", "provincepreference", "reviewrule", "blacklistentry", "splitrule", "carrier",
        "carrierrule", "entityrule", "waybill", "shipreport", "wave",
    ):  # fmt: skip
        assert admin_client.get(f"/admin/fulfilment/{name}/").status_code == 200, name
        if name not in {"waybill", "shipreport"}:
            assert admin_client.get(f"/admin/fulfilment/{name}/add/").status_code == 200, name
    assert "remark_keywords" in admin_client.get("/admin/fulfilment/reviewrule/add/").content.decode()


def test_review_rule_dry_run_action(admin_client, make_order) -> None:
    make_order(remark="请加急")
    rule = ReviewRule.objects.create(
        position=1, name="加急", rule="remark_keywords", params={"keywords": ["加急"]}
    )
    r = admin_client.post(
        "/admin/fulfilment/reviewrule/", {"action": "dry_run", "_selected_action": [rule.pk]}
    )
    body = r.content.decode()
    assert r.status_code == 200 and "检查 1 单，会拦截 1 单" in body and "备注含：加急" in body


def test_carrier_dry_run_action(admin_client, make_order, carrier_table) -> None:
    make_order()
    rule = CarrierRule.objects.first()
    r = admin_client.post(
        "/admin/fulfilment/carrierrule/", {"action": "dry_run", "_selected_action": [rule.pk]}
    )
    assert "江浙沪走中通：1 单" in r.content.decode()


def test_stock_receipt_through_the_admin_is_ledgered(admin_client, warehouses, skus) -> None:
    r = admin_client.post(
        "/admin/inventory/stockadjustment/add/",
        {
            "warehouse": warehouses["HZ"].pk,
            "sku": skus["BP-2231"].pk,
            "kind": "receipt",
            "quantity": 7,
            "note": "到货",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    adj = StockAdjustment.objects.get()
    assert adj.movement.on_hand_delta == 7 and adj.actor.username == "boss"
    assert Stock.objects.get(warehouse=warehouses["HZ"], sku=skus["BP-2231"]).on_hand == 7
    # A count below what is reserved is refused on the form.
    r = admin_client.post(
        "/admin/inventory/stockadjustment/add/",
        {"warehouse": warehouses["HZ"].pk, "sku": skus["BP-2231"].pk, "kind": "count", "quantity": -1},
    )
    assert r.status_code == 200 and StockAdjustment.objects.count() == 1
