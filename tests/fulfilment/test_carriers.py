"""Carrier strategy (快递策略): first matching rule wins, recorded with its inputs; dry run."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orderhub.core.errors import ValidationFailed
from orderhub.fulfilment.carriers import carrier_choose, carrier_rules_dry_run
from orderhub.fulfilment.models import CarrierRule
from orderhub.orders.services import LineDraft


@pytest.mark.parametrize(
    ("overrides", "carrier", "rule"),
    [
        ({}, "ZTO", "江浙沪走中通"),
        ({"province": "上海市", "city": "上海市"}, "ZTO", "江浙沪走中通"),
        ({"province": "新疆维吾尔自治区", "city": "乌鲁木齐市"}, "EMS", "新疆西藏走邮政"),
        ({"province": "广东省", "customer_tier": "vip"}, "SF", "VIP走顺丰"),
        (
            {"province": "广东省", "lines": [LineDraft("BP-2231", 12, Decimal(1))]},
            "DBL",
            "大件走德邦",
        ),  # 21.6 kg
        (
            {"province": "广东省", "lines": [LineDraft("BP-2231", 11, Decimal(1))]},
            "YUNDA",
            "默认韵达",
        ),  # 19.8 kg
    ],
)
def test_first_match_wins(make_order, carrier_table, overrides, carrier, rule) -> None:
    order = make_order(**overrides)
    choice = carrier_choose(order)
    assert (choice.carrier.code, choice.rule) == (carrier, rule)
    assert choice.details["inputs"]["province"] == order.province


def test_no_rule_matching_is_a_clear_error(make_order, carrier_table) -> None:
    CarrierRule.objects.filter(name="默认韵达").update(active=False)
    with pytest.raises(ValidationFailed, match="没有匹配的快递策略"):
        carrier_choose(make_order(province="广东省", lines=[LineDraft("OF-1102", 1, Decimal(1))]))


def test_dry_run_counts_orders_per_rule(make_order, carrier_table) -> None:
    light = [LineDraft("OF-1102", 1, Decimal(1))]
    make_order()
    make_order(province="西藏自治区")
    make_order(province="广东省", lines=light)
    report = carrier_rules_dry_run(days=7)
    assert report["checked"] == 3
    assert report["by_rule"] == {"江浙沪走中通": 1, "新疆西藏走邮政": 1, "默认韵达": 1}
