"""RowLoader: the hot-path row reader gives exactly what the ORM gives."""

from __future__ import annotations

import pytest
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


def test_compiled_rows_give_what_the_orm_gives_for_any_key(make_order, staff) -> None:
    from orderhub.core.db import CompiledRows
    from orderhub.orders.models import OperationLog
    from orderhub.orders.services import order_transition

    def build(key: int):
        columns = ("seq", "at", "details", "automatic", "action")
        return OperationLog.objects.filter(order_id=key).values_list(*columns)

    compiled = CompiledRows(lambda key: build(key).order_by("seq"))
    first, second = make_order(), make_order()
    cs = staff["customer_service"]
    order_transition(order_id=second.pk, to="split", actor=cs, details={"说明": "整单"})

    for order in (first, second, first):
        rows = compiled.rows(order.pk)
        assert rows == list(build(order.pk).order_by("seq"))
        assert all(isinstance(r[1], type(OperationLog.objects.first().at)) for r in rows)
    assert len(compiled.rows(second.pk)) == 2 and compiled.rows(10**9) == []


def test_compiled_rows_with_several_keys_of_either_kind(make_order) -> None:
    from orderhub.core.db import CompiledRows

    orders = [make_order(channel_order_no=f"PDD-{i}") for i in range(3)]
    compiled = CompiledRows(
        lambda channel_id, no: Order.objects.filter(channel_id=channel_id, channel_order_no=no).values_list(
            "pk", "order_no"
        ),
        keys=(int, str),
    )
    for order in orders:
        assert compiled.rows(order.channel_id, order.channel_order_no) == [(order.pk, order.order_no)]
    assert compiled.rows(orders[0].channel_id, "PDD-9") == []
    assert compiled.rows(orders[0].channel_id + 999, "PDD-1") == []


def test_a_key_the_query_rewrites_is_refused(db) -> None:
    from orderhub.core.db import CompiledRows

    compiled = CompiledRows(
        lambda no: Order.objects.filter(order_no__icontains=no).values_list("pk"), keys=(str,)
    )
    with pytest.raises(ValueError, match="each of its keys"):
        compiled.rows("OH")
