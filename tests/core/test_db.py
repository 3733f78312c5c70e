"""RowLoader: the hot-path row reader gives exactly what the ORM gives."""

from __future__ import annotations

from django.db import transaction

from orderhub.core.db import RowLoader
from orderhub.orders.models import Order


def test_a_loaded_row_equals_the_orms_instance_field_by_field(make_order) -> None:
    order = make_order()
    Order.objects.filter(pk=order.pk).update(remark="含 'quote' 与换行\n")
    expected = Order.objects.get(pk=order.pk)

    with transaction.atomic():
        loaded = RowLoader(Order).get(order.pk, for_update=True)

    assert loaded is not None and loaded.pk == order.pk and not loaded._state.adding
    for field in Order._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
        assert type(getattr(loaded, field.attname)) is type(getattr(expected, field.attname)), field.name


def test_an_absent_row_is_none(db) -> None:
    assert RowLoader(Order).get(10**9) is None
