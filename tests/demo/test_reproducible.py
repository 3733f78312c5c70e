"""The same seed and clock give the same company and the same history, load after load."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from orderhub.accounts.models import User
from orderhub.catalog.models import Customer, Sku
from orderhub.demo.generate import DemoConflict, demo_load
from orderhub.inventory.models import Stock
from orderhub.orders.models import OperationLog, Order
from tests.demo.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
ORDERS = 120


def snapshot() -> dict[str, Any]:
    """Everything but the order numbers (drawn from `secrets`, as in production) and row ids."""
    orders = {
        o.pk: (o.channel.code, o.channel_order_no, o.ordered_at, o.status, o.customer_id and o.customer.code,
               o.receiver_name, o.receiver_phone, o.address_detail, o.total_amount, o.promised_at,
               o.warehouse_id and o.warehouse.code)
        for o in Order.objects.select_related("channel", "customer", "warehouse")
    }  # fmt: skip
    log = sorted(
        (orders[e.order_id][:3], e.seq, e.transition, e.to_status, e.actor_name, e.reason, e.at)
        for e in OperationLog.objects.all()
    )
    return {
        "skus": list(
            Sku.objects.order_by("code").values_list("code", "name", "spec", "barcode", "unit_price")
        ),
        "customers": list(
            Customer.objects.order_by("code").values_list("code", "name", "phone", "tier", "city")
        ),
        "users": sorted(User.objects.values_list("username", "display_name")),
        "orders": sorted(orders.values(), key=repr),
        "log": log,
        "stock": sorted(
            Stock.objects.values_list("warehouse__code", "sku__code", "on_hand", "reserved", "bin_location")
        ),
    }


def load_and_forget(orders: int = ORDERS, **kwargs: Any) -> dict[str, Any]:
    with transaction.atomic():
        result = demo_load(orders=orders, now=NOW, **kwargs)
        assert result.created
        data = snapshot()
        transaction.set_rollback(True)
    return data


def test_two_loads_into_fresh_databases_are_identical() -> None:
    first = load_and_forget()
    assert len(first["orders"]) == ORDERS and len(first["skus"]) == 300
    second = load_and_forget()
    for key in first:
        assert first[key] == second[key], key


def test_another_seed_gives_another_company() -> None:
    assert load_and_forget(20, seed=1)["customers"] != load_and_forget(20, seed=2)["customers"]


def test_a_database_with_other_users_of_the_same_names_is_refused() -> None:
    User.objects.create_user(username="admin", password="x")
    with pytest.raises(DemoConflict, match="admin"):
        demo_load(orders=10, now=NOW)
    assert not Order.objects.exists()
