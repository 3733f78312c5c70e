"""Legal entities (主体): who sells, ships and invoices an order, by configurable rules.

Per role the first active matching rule that names an entity for it wins; a value the order
already carries (set by the channel or by hand) is kept. Without a rule the shipping entity is
the warehouse's owner and the invoicing entity follows the selling one.
"""

from __future__ import annotations

from typing import Any

from orderhub.accounts.models import LegalEntity
from orderhub.fulfilment.carriers import _items, _province_match
from orderhub.fulfilment.config import cached
from orderhub.fulfilment.models import EntityRule
from orderhub.inventory.models import Warehouse
from orderhub.orders.models import Order

ROLES = ("selling", "shipping", "invoicing")


def _matches(rule: EntityRule, order: Order, warehouse: Warehouse | None) -> bool:
    if rule.channels and order.channel.code not in _items(rule.channels):
        return False
    if rule.provinces and not _province_match(_items(rule.provinces), order.province):
        return False
    if rule.warehouse_id and (warehouse is None or warehouse.pk != rule.warehouse_id):
        return False
    return not (rule.customer_tiers and order.customer_tier not in _items(rule.customer_tiers.lower()))


def entities_decide(order: Order, warehouse: Warehouse | None) -> dict[str, dict[str, Any]]:
    """{role: {"entity_id", "entity", "source"}} for the roles that get a value."""
    rules = cached(
        "entity_rules",
        lambda: list(EntityRule.objects.filter(active=True).select_related(*(f"{r}_entity" for r in ROLES))),
    )
    out: dict[str, dict[str, Any]] = {}
    for role in ROLES:
        current = getattr(order, f"{role}_entity_id")
        if current:
            out[role] = {"entity_id": current, "source": "order"}
            continue
        for rule in rules:
            entity: LegalEntity | None = getattr(rule, f"{role}_entity")
            if entity is not None and _matches(rule, order, warehouse):
                out[role] = {"entity_id": entity.pk, "entity": entity.code, "source": f"rule:{rule.name}"}
                break
    if "shipping" not in out and warehouse is not None and warehouse.owner_entity_id:
        out["shipping"] = {"entity_id": warehouse.owner_entity_id, "source": f"warehouse:{warehouse.code}"}
    if "invoicing" not in out and "selling" in out:
        out["invoicing"] = {"entity_id": out["selling"]["entity_id"], "source": "same_as_selling"}
    return out


def entities_assign(
    order: Order, warehouse: Warehouse | None, *, warehouse_id: int | None = None
) -> dict[str, dict[str, Any]]:
    """Write the decided entities (and `warehouse_id`, in the same UPDATE) onto the order.

    The caller holds the order's row lock. Returns why each entity was chosen.
    """
    decided = entities_decide(order, warehouse)
    changes = {
        f"{role}_entity_id": d["entity_id"]
        for role, d in decided.items()
        if getattr(order, f"{role}_entity_id") != d["entity_id"]
    }
    if warehouse_id is not None:
        changes["warehouse_id"] = warehouse_id
    if changes:
        Order.objects.filter(pk=order.pk).update(**changes)
        for k, v in changes.items():
            setattr(order, k, v)
    return decided
