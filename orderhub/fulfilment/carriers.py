"""Carrier strategy (快递策略): an ordered rule table, first match wins, with a dry run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.core.errors import ValidationFailed
from orderhub.fulfilment.models import Carrier, CarrierRule
from orderhub.orders.models import Order, OrderLine

_SEP = re.compile(r"[,，、;；\s]+")


def _items(text: str) -> set[str]:
    return {t for t in _SEP.split(text or "") if t}


def _province_match(rule_provinces: set[str], province: str) -> bool:
    # "浙江" matches "浙江省"; "新疆" matches "新疆维吾尔自治区".
    return any(province.startswith(p.rstrip("省市")) for p in rule_provinces) if province else False


def order_weight_g(order: Order) -> int:
    w = OrderLine.objects.filter(order=order).aggregate(w=Sum(F("quantity") * F("sku__weight_g")))["w"]
    return int(w or 0)


@dataclass
class CarrierChoice:
    carrier: Carrier
    rule: str
    details: dict[str, Any]


def rule_matches(rule: CarrierRule, inputs: dict[str, Any]) -> bool:
    weight = Decimal(inputs["weight_g"]) / 1000
    if rule.provinces and not _province_match(_items(rule.provinces), inputs["province"]):
        return False
    if rule.customer_tiers and inputs["tier"] not in _items(rule.customer_tiers.lower()):
        return False
    if rule.channels and inputs["channel"] not in _items(rule.channels):
        return False
    if rule.min_weight_kg is not None and not weight > rule.min_weight_kg:
        return False
    return not (rule.max_weight_kg is not None and weight > rule.max_weight_kg)


def carrier_choose(
    order: Order, *, rules: list[CarrierRule] | None = None, weight_g: int | None = None
) -> CarrierChoice:
    """The first active rule that matches the order's province, tier, channel and weight."""
    if rules is None:
        rules = list(CarrierRule.objects.filter(active=True, carrier__active=True).select_related("carrier"))
    inputs = {
        "province": order.province,
        "tier": order.customer_tier,
        "channel": order.channel.code,
        "weight_g": order_weight_g(order) if weight_g is None else weight_g,
    }
    for rule in rules:
        if rule_matches(rule, inputs):
            return CarrierChoice(
                rule.carrier,
                rule.name,
                {
                    "rule": "carrier",
                    "matched": rule.name,
                    "position": rule.position,
                    "carrier": rule.carrier.code,
                    "inputs": inputs,
                },
            )
    raise ValidationFailed(
        _("没有匹配的快递策略（%(p)s，%(t)s，%(w)s kg）：请在快递策略中加一条兜底规则")
        % {"p": order.province or "—", "t": order.customer_tier, "w": inputs["weight_g"] / 1000},
        code="no_carrier_rule",
        field="carrier",
    )


def carrier_rules_dry_run(*, days: int = 7, now: datetime | None = None, limit: int = 2000) -> dict[str, Any]:
    """Which carrier each of the last `days` days' orders would get under the current table."""
    now = now or timezone.now()
    rules = list(CarrierRule.objects.filter(active=True, carrier__active=True).select_related("carrier"))
    orders = list(
        Order.objects.filter(ordered_at__gte=now - timedelta(days=days))
        .exclude(parts__isnull=False)
        .select_related("channel")
        .annotate(w=Sum(F("lines__quantity") * F("lines__sku__weight_g")))
        .order_by("-ordered_at")[:limit]
    )
    counts: dict[str, int] = {}
    rows = []
    for order in orders:
        try:
            choice = carrier_choose(order, rules=rules, weight_g=int(order.w or 0))
            key, carrier = choice.rule, choice.carrier.name
        except ValidationFailed:
            key, carrier = _("（无匹配）"), "—"
        counts[key] = counts.get(key, 0) + 1
        rows.append(
            (order.order_no, order.province, order.customer_tier, (order.w or 0) / 1000, key, carrier)
        )
    return {"checked": len(orders), "by_rule": counts, "rows": rows}
