"""Legal entities: selling / shipping / invoicing assigned by rules at allocation, with the reason."""

from __future__ import annotations

from orderhub.accounts.models import LegalEntity
from orderhub.fulfilment.allocation import order_allocate
from orderhub.fulfilment.models import EntityRule
from orderhub.inventory.models import Warehouse


def test_rules_and_defaults(approved, warehouses, skus, stock_in) -> None:
    trade = LegalEntity.objects.create(code="TZ-TRADE", name="台州恒通贸易有限公司")
    pdd_shop = LegalEntity.objects.create(code="PDD-SHOP", name="杭州恒通电子商务有限公司")
    logistics = LegalEntity.objects.create(code="HZ-WH", name="杭州恒通仓储有限公司")
    Warehouse.objects.filter(pk=warehouses["HZ"].pk).update(owner_entity=logistics)
    stock_in(warehouses["HZ"], skus["BP-2231"], 100)
    EntityRule.objects.create(position=1, name="拼多多店铺", channels="pdd", selling_entity=pdd_shop)
    EntityRule.objects.create(position=9, name="默认贸易公司", selling_entity=trade)

    pdd = order_allocate(order_id=approved(channel_code="pdd").pk)
    pdd.order.refresh_from_db()
    assert (pdd.order.selling_entity, pdd.order.shipping_entity, pdd.order.invoicing_entity) == (
        pdd_shop,
        logistics,
        pdd_shop,
    )
    why = pdd.details["entities"]
    assert why["selling"]["source"] == "rule:拼多多店铺"
    assert why["shipping"]["source"] == "warehouse:HZ"
    assert why["invoicing"]["source"] == "same_as_selling"

    manual = order_allocate(order_id=approved().pk).order
    manual.refresh_from_db()
    assert manual.selling_entity == trade


def test_an_entity_set_on_the_order_is_kept(approved, warehouses, skus, stock_in) -> None:
    own = LegalEntity.objects.create(code="OWN", name="自营")
    other = LegalEntity.objects.create(code="OTHER", name="其他")
    EntityRule.objects.create(position=1, name="全部", selling_entity=other)
    stock_in(warehouses["HZ"], skus["BP-2231"], 100)
    result = order_allocate(order_id=approved(selling_entity_code="OWN").pk)
    result.order.refresh_from_db()
    assert result.order.selling_entity == own and result.details["entities"]["selling"]["source"] == "order"
