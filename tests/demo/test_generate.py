"""The generated demo company: what a person exploring the demo would see."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Sum

from orderhub.accounts.models import LegalEntity, User
from orderhub.accounts.roles import Role
from orderhub.catalog.models import Customer, CustomerTier, Sku
from orderhub.demo import company
from orderhub.demo.generate import DemoLoadResult, demo_load
from orderhub.fulfilment.models import Carrier, CarrierRule, ProvincePreference, Waybill
from orderhub.ingest.models import Channel
from orderhub.inventory.models import Reservation, Stock, StockMovement, Warehouse
from orderhub.orders.models import HoldReason, OperationLog, Order, OrderHold
from orderhub.orders.states import STATUS_ORDER, TRANSITIONS_BY_NAME, Kind, OrderStatus
from tests.demo.conftest import NOW, SMALL

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
S = OrderStatus


def _ean13_ok(code: str) -> bool:
    digits = [int(d) for d in code]
    return len(digits) == 13 and sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10 == 0


def test_the_company_has_its_entities_warehouses_and_channels(demo: DemoLoadResult) -> None:
    assert demo.created
    assert set(LegalEntity.objects.values_list("name", flat=True)) >= {
        "台州恒驰汽配有限公司",
        "杭州恒驰供应链有限公司",
    }
    assert sorted(Warehouse.objects.values_list("province", flat=True)) == ["四川省", "广东省", "浙江省"]
    channels = dict(Channel.objects.values_list("code", "masks_phone"))
    assert channels == {
        "pdd": True, "douyin": True, "1688": False, "taobao": False, "u8": False, "wechat": False,
        "manual": False,
    }  # fmt: skip


def test_labels_can_be_printed_and_packed_in_the_demo(demo: DemoLoadResult) -> None:
    assert set(Carrier.objects.values_list("code", flat=True)) >= {"zto", "sf", "yunda", "deppon"}
    assert CarrierRule.objects.filter(provinces="", customer_tiers="", min_weight_kg__isnull=True).exists()
    printed = Order.objects.filter(status=S.LABEL_PRINTED)
    live = Waybill.objects.filter(status=Waybill.Status.ACTIVE)
    assert sorted(live.values_list("order_id", flat=True)) == sorted(printed.values_list("pk", flat=True))
    assert ProvincePreference.objects.filter(province="四川省", rank=1, warehouse__code="CD").exists()


def test_about_300_skus_with_merchant_codes_barcodes_and_handling_flags(demo: DemoLoadResult) -> None:
    skus = list(Sku.objects.all())
    assert len(skus) == 300
    assert all(re.fullmatch(r"[A-Z]{2}-\d{4}", s.code) for s in skus)
    assert all(_ean13_ok(s.barcode) for s in skus)
    assert all(s.unit_price > 0 and s.weight_g > 0 and s.pack_size >= 1 and s.spec for s in skus)
    names = " ".join(s.name for s in skus)
    for part in ("刹车片", "滤清器", "空调滤清器", "火花塞", "雨刮", "灯泡", "大灯", "减震器", "轴承", "皮带",
                 "离合器", "蓄电池", "机油"):  # fmt: skip
        assert part in names, part
    assert any(s.fragile for s in skus) and any(s.liquid for s in skus) and any(s.oversize for s in skus)
    assert all(s.fragile for s in skus if "大灯" in s.name or "玻璃" in s.name)
    assert all(s.liquid for s in skus if s.name.endswith("机油"))


def test_327_dealers_across_provinces_each_owned_by_a_salesperson(demo: DemoLoadResult) -> None:
    customers = list(Customer.objects.select_related("owner"))
    assert len(customers) == 327
    assert len({c.name for c in customers}) == 327
    assert {c.tier for c in customers} == set(CustomerTier.values)
    assert len({c.province for c in customers}) >= 15
    assert all(c.owner is not None and c.owner.has_role(Role.SALES) for c in customers)
    assert all(c.phone and c.address_detail and c.city and c.district for c in customers)


def test_every_role_has_users_who_can_log_in_with_the_demo_password(
    demo: DemoLoadResult, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    counts = dict(User.objects.filter(is_active=True).values_list("groups__name").annotate(n=Count("id")))
    assert counts == {
        Role.SALES: 4, Role.CUSTOMER_SERVICE: 3, Role.WAREHOUSE: 3, Role.LOGISTICS: 2, Role.FINANCE: 1,
        Role.MANAGER: 1, Role.ADMIN: 1,
    }  # fmt: skip
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert User.objects.get(username="cs1").check_password(company.DEMO_PASSWORD)
    assert admin.check_password(company.DEMO_PASSWORD)


def test_every_state_has_orders_recent_ones_early_old_ones_done(demo: DemoLoadResult) -> None:
    assert Order.objects.count() == SMALL == demo.orders
    by_status = dict(Order.objects.values_list("status").annotate(n=Count("id")))
    assert all(by_status.get(s, 0) > 0 for s in STATUS_ORDER), by_status
    old = Order.objects.filter(ordered_at__lt=NOW - timedelta(days=30))
    assert old.filter(status__in=[S.COMPLETED, S.CANCELLED]).count() >= 0.9 * old.count()
    recent = Order.objects.filter(ordered_at__gte=NOW - timedelta(days=1))
    assert recent.exists()
    assert recent.filter(status=S.COMPLETED).count() <= 0.2 * recent.count()
    assert Order.objects.filter(ordered_at__gte=NOW - timedelta(days=90)).count() == SMALL


def test_orders_look_real(demo: DemoLoadResult) -> None:
    orders = list(Order.objects.select_related("channel"))
    assert all(o.promised_at and o.promised_at > o.ordered_at for o in orders)
    assert all(o.selling_entity_id and o.invoicing_entity_id for o in orders)
    assert all(o.created_at >= o.ordered_at and o.created_at <= NOW for o in orders)
    masked = [o for o in orders if o.channel.code == "pdd"]
    assert masked and all("****" in o.receiver_phone for o in masked)
    allocated = Order.objects.filter(status__in=[S.ALLOCATING, S.LABEL_PRINTED, S.SHIPPED, S.COMPLETED])
    assert not allocated.filter(warehouse__isnull=True).exists()


def test_history_has_detours_with_reasons_and_realistic_times(demo: DemoLoadResult) -> None:
    log = list(OperationLog.objects.order_by("order_id", "seq"))
    assert {e.transition for e in log} >= {"approve", "allocate", "print_label", "ship", "complete", "cancel"}
    backward = [e for e in log if e.transition and TRANSITIONS_BY_NAME[e.transition].kind == Kind.BACKWARD]
    assert backward and all(e.reason for e in backward)
    assert all(e.reason for e in log if e.transition in ("cancel", "close"))
    for prev, entry in itertools.pairwise(log):
        if prev.order_id == entry.order_id:
            assert entry.at >= prev.at, (entry.order_id, entry.seq)
    assert max(e.at for e in log) <= NOW
    first = {e.order_id: e.at for e in log if e.seq == 1}
    assert all(first[o.pk] >= o.ordered_at for o in Order.objects.all())


def test_held_orders_wait_in_review_with_their_reasons(demo: DemoLoadResult) -> None:
    open_holds = OrderHold.objects.filter(resolved_at__isnull=True)
    assert open_holds.filter(reason=HoldReason.INCOMPLETE_ADDRESS).exists()
    assert set(open_holds.values_list("order__status", flat=True)) == {S.PENDING_REVIEW}
    assert OrderHold.objects.filter(resolved_at__isnull=False).exclude(resolution="").exists()


def test_stock_for_every_sku_in_every_warehouse_reconciles_with_the_ledger(demo: DemoLoadResult) -> None:
    assert Stock.objects.count() == 3 * 300
    assert not Stock.objects.filter(bin_location="").exists()
    ledger = {
        r["stock_id"]: (r["on_hand"], r["reserved"])
        for r in StockMovement.objects.values("stock_id").annotate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
    }
    active = dict(
        Reservation.objects.filter(status=Reservation.Status.ACTIVE)
        .values_list("stock_id")
        .annotate(n=Sum("quantity"))
    )
    for stock in Stock.objects.all():
        assert ledger[stock.pk] == (stock.on_hand, stock.reserved)
        assert stock.reserved == active.get(stock.pk, 0)
    assert not Stock.objects.filter(reserved__gt=F("on_hand")).exists()


def test_the_audit_log_verifies(demo: DemoLoadResult) -> None:
    call_command("audit", "verify")


def test_loading_again_changes_nothing(demo: DemoLoadResult, capsys: pytest.CaptureFixture[str]) -> None:
    before = (Order.objects.count(), OperationLog.objects.count(), User.objects.count())
    again = demo_load(orders=SMALL, now=NOW)
    assert not again.created
    assert again.orders == SMALL
    call_command("demo", load_only=True, orders=SMALL)
    out = capsys.readouterr().out
    assert "已存在" in out and "hengchi-demo-2024" in out and "管理员" in out
    assert (Order.objects.count(), OperationLog.objects.count(), User.objects.count()) == before
