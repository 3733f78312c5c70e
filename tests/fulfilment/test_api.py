"""The fulfilment API: stock adjustments and allocation, as an integration would call them."""

from __future__ import annotations

from orderhub.accounts.roles import Role
from orderhub.inventory.models import StockMovement

from .test_waybills_labels import pdf_texts


def test_receive_then_count_then_read_stock(api_client, staff, warehouses, skus) -> None:
    client = api_client(staff[Role.WAREHOUSE])
    r = client.post(
        "/api/inventory/adjustments",
        {"warehouse": "HZ", "sku": "BP-2231", "kind": "receipt", "quantity": 12, "note": "到货"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["on_hand"] == 12
    r = client.post(
        "/api/inventory/adjustments",
        {"warehouse": "HZ", "sku": "BP-2231", "kind": "count", "quantity": 11},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["on_hand"] == 11
    assert StockMovement.objects.get(pk=r.json()["ledger_id"]).on_hand_delta == -1
    r = client.get("/api/inventory/stock/BP-2231")
    assert r.json() == [
        {
            "warehouse": "HZ",
            "sku": "BP-2231",
            "on_hand": 11,
            "reserved": 0,
            "available": 11,
            "bin_location": "",
        }
    ]


def test_sales_may_not_adjust_stock(api_client, staff, warehouses, skus) -> None:
    r = api_client(staff[Role.SALES]).post(
        "/api/inventory/adjustments",
        {"warehouse": "HZ", "sku": "BP-2231", "kind": "receipt", "quantity": 1},
        content_type="application/json",
    )
    assert r.status_code == 403


def test_unknown_warehouse_is_named(api_client, staff, warehouses, skus) -> None:
    r = api_client(staff[Role.WAREHOUSE]).post(
        "/api/inventory/adjustments",
        {"warehouse": "XX", "sku": "BP-2231", "kind": "receipt", "quantity": 1},
        content_type="application/json",
    )
    assert r.status_code == 404 and r.json()["field"] == "warehouse"


def test_allocate_via_api(api_client, staff, warehouses, skus, stock_in, approved) -> None:
    stock_in(warehouses["GZ"], skus["BP-2231"], 30)
    order = approved()
    r = api_client(staff[Role.WAREHOUSE]).post(
        f"/api/fulfilment/orders/{order.pk}/allocate", {}, content_type="application/json"
    )
    assert r.status_code == 200, r.content
    assert r.json()["warehouse"] == "GZ" and r.json()["status"] == "allocating"


def test_review_split_waybill_wave_labels_via_api(
    api_client, staff, warehouses, skus, make_order, carrier_table, stock_in
) -> None:
    from decimal import Decimal

    from orderhub.orders.services import LineDraft

    for sku in skus.values():
        stock_in(warehouses["HZ"], sku, 100)
    client = api_client(staff[Role.WAREHOUSE])
    order = make_order(lines=[LineDraft("BP-2231", 1, Decimal(88)), LineDraft("OF-1102", 1, Decimal(35))])
    r = client.post(f"/api/fulfilment/orders/{order.pk}/review")
    assert r.status_code == 200 and r.json()["approved"], r.content
    r = client.post(
        f"/api/fulfilment/orders/{order.pk}/split",
        {"parts": [{"1": 1}, {"2": 1}]},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["parts"] == [f"{order.order_no}-1", f"{order.order_no}-2"]
    part_ids = list(order.parts.order_by("part_no").values_list("pk", flat=True))
    for pid in part_ids:
        assert client.post(
            f"/api/fulfilment/orders/{pid}/allocate", {}, content_type="application/json"
        ).json()["allocated"]
    r = client.post("/api/fulfilment/waybills", {"order_ids": part_ids}, content_type="application/json")
    assert [o["ok"] for o in r.json()] == [True, True]
    r = client.post("/api/fulfilment/waves", {"warehouse": "HZ"}, content_type="application/json")
    assert r.status_code == 201 and r.json()["orders"] == 2
    wave_id = r.json()["id"]
    r = client.get(f"/api/fulfilment/waves/{wave_id}/labels.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert client.get(f"/api/fulfilment/waves/{wave_id}/picklist.pdf").content.startswith(b"%PDF")
    cards = client.get(f"/api/fulfilment/waves/{wave_id}/packing-cards.pdf").content
    assert "打包指引" in pdf_texts(cards)[0] and "封箱、称重" in pdf_texts(cards)[1]
    r = client.get("/api/fulfilment/review-rules/remark_keywords/dry-run?days=7")
    assert r.status_code == 200 and r.json()["checked"] == 1
    assert client.get("/api/fulfilment/review-rules/nope/dry-run").status_code == 404
    assert client.get("/api/fulfilment/carrier-rules/dry-run").json()["by_rule"] == {
        "江浙沪走中通": 2
    }  # the two parts
    r = client.post(
        f"/api/fulfilment/orders/{part_ids[0]}/void-waybill",
        {"reason": "污损"},
        content_type="application/json",
    )
    assert r.json()["status"] == "voided"


def test_ids_beyond_the_database_range_are_refused_with_the_error_shape(api_client, staff) -> None:
    client = api_client(staff[Role.WAREHOUSE])
    r = client.post("/api/fulfilment/waybills", {"order_ids": [2**63]}, content_type="application/json")
    assert r.status_code == 422, r.content
    assert r.json()["code"] == "validation_error" and r.json()["field"] == "order_ids.0"
    r = client.get("/api/fulfilment/waves/9999/labels.pdf")
    assert r.status_code == 404 and r.json()["code"] == "not_found" and r.json()["field"] == "wave_id"
