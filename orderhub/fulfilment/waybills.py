"""E-waybills (电子面单): choose the carrier, obtain the number, record it and move to 已打单.

The provider is called with no transaction open; each number is then recorded in its own
transaction together with the order's `print_label` transition. An order that changed in the
meantime gets its number voided instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.accounts.services import system_user
from orderhub.core.db import CompiledRows, RowInserter
from orderhub.core.errors import AppError, InvalidTransition
from orderhub.fulfilment.adapters.cainiao import provider_for
from orderhub.fulfilment.adapters.waybill import Address, WaybillError, WaybillRequest, WaybillResult
from orderhub.fulfilment.carriers import CarrierChoice, carrier_choose
from orderhub.fulfilment.config import cached
from orderhub.fulfilment.models import Carrier, CarrierRule, Waybill
from orderhub.fulfilment.rows import order_row, with_references
from orderhub.ingest.models import ChannelKind
from orderhub.orders.models import Order, OrderLine
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus

CHANNEL_TYPES = {ChannelKind.TAOBAO: "TB", ChannelKind.PINDUODUO: "PDD", ChannelKind.DOUYIN: "DY"}


@dataclass
class WaybillOutcome:
    order_id: int
    order_no: str
    number: str = ""
    carrier: str = ""
    error: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.number) and not self.error


# One order line as a waybill needs it: (label text, quantity, unit weight in grams).
LineRow = tuple[str, int, int]
_LINE_COLUMNS = ("order_id", "name", "sku_code", "quantity", "sku__weight_g")
# One order's lines (one label at a time, the packing station's and the flow's case), built once.
_ONE_ORDERS_LINES = CompiledRows(
    lambda order_id: (
        OrderLine.objects.filter(order_id=order_id).order_by("line_no").values_list(*_LINE_COLUMNS)
    )
)
_WAYBILLS = RowInserter(Waybill)


def _request(order: Order, lines: list[LineRow], weight_g: int) -> WaybillRequest:
    wh = order.warehouse
    return WaybillRequest(
        object_id=str(order.pk),
        order_no=order.order_no,
        cp_code="",
        sender=Address(
            wh.contact_name or wh.name, wh.contact_phone, wh.province, wh.city, wh.district, wh.address
        ),
        recipient=Address(
            order.receiver_name,
            order.receiver_phone,
            order.province,
            order.city,
            order.district,
            order.address_detail,
        ),
        items=[(label, qty) for label, qty, _w in lines],
        weight_g=weight_g,
        channel_type=CHANNEL_TYPES.get(order.channel.kind, "OTHERS"),
    )


def _load(order_ids: list[int]) -> list[tuple[Order, list[LineRow]]]:
    if len(order_ids) == 1:  # one label (packing station, one transaction per order): no query to compile
        found = [o for o in [order_row(order_ids[0])] if o is not None]
        rows = _ONE_ORDERS_LINES.rows(found[0].pk) if found else []
    else:
        found = list(Order.objects.filter(pk__in=order_ids).order_by("pk"))
        rows = list(
            OrderLine.objects.filter(order_id__in=[o.pk for o in found])
            .order_by("order_id", "line_no")
            .values_list(*_LINE_COLUMNS)
        )
    orders = [with_references(o) for o in found]
    lines: dict[int, list[LineRow]] = {}
    for order_id, name, code, qty, weight in rows:
        lines.setdefault(order_id, []).append((name or code, qty, weight or 0))
    return [(o, lines.get(o.pk, [])) for o in orders]


def _record(
    order: Order, choice: CarrierChoice, result: WaybillResult, actor: User, automatic: bool, now: datetime
) -> WaybillOutcome:
    out = WaybillOutcome(order.pk, order.order_no, carrier=choice.carrier.code)
    out.details = {**choice.details, "waybill": result.number, "provider": choice.carrier.provider}
    with transaction.atomic():
        # The transition locks the order and refuses it unless it is still in 分仓中; the partial
        # unique constraint refuses a second live waybill. Either undoes the whole step.
        order_transition(
            order_id=order.pk,
            to=OrderStatus.LABEL_PRINTED,
            actor=actor,
            automatic=automatic,
            reason=_("%(c)s %(n)s（快递策略：%(r)s）")
            % {"c": choice.carrier.name, "n": result.number, "r": choice.rule},
            details={"carrier": out.details},
            now=now,
        )
        try:
            _WAYBILLS.insert(
                order_id=order.pk,
                carrier_id=choice.carrier.pk,
                number=result.number,
                provider=choice.carrier.provider,
                rule=choice.rule,
                print_data=result.print_data,
                created_at=now,
            )
        except IntegrityError:
            raise InvalidTransition(
                _("订单 %(no)s 已有有效面单") % {"no": order.order_no}, field="status"
            ) from None
    out.number = result.number
    return out


def waybills_issue(
    *, order_ids: list[int], actor: User | None = None, now: datetime | None = None
) -> list[WaybillOutcome]:
    """Obtain e-waybills for orders in 分仓中 (batched per carrier) and move each to 已打单."""
    now = now or timezone.now()
    actor = actor or system_user()
    automatic = Role.SYSTEM in actor.role_names
    rules = cached(
        "carrier_rules",
        lambda: list(CarrierRule.objects.filter(active=True, carrier__active=True).select_related("carrier")),
    )
    outcomes: list[WaybillOutcome] = []
    groups: dict[str, list[tuple[Order, CarrierChoice, WaybillRequest]]] = {}
    carriers: dict[str, Carrier] = {}
    for order, lines in _load(order_ids):
        if order.status != OrderStatus.ALLOCATING or order.warehouse is None:
            outcomes.append(WaybillOutcome(order.pk, order.order_no, error=_("订单不在「分仓中」")))
            continue
        weight = sum(qty * unit_g for _label, qty, unit_g in lines)
        try:
            choice = carrier_choose(order, rules=rules, weight_g=weight)
        except AppError as e:
            outcomes.append(WaybillOutcome(order.pk, order.order_no, error=e.message))
            continue
        carriers[choice.carrier.code] = choice.carrier
        groups.setdefault(choice.carrier.code, []).append((order, choice, _request(order, lines, weight)))
    for code, items in groups.items():
        carrier = carriers[code]
        provider = provider_for(carrier.provider)
        for i in range(0, len(items), provider.batch_size):
            chunk = items[i : i + provider.batch_size]
            for _o, _c, req in chunk:
                req.cp_code = carrier.cp_code or carrier.code
            try:
                results = provider.issue(carrier.cp_code or carrier.code, [req for _o, _c, req in chunk])
            except WaybillError as e:
                outcomes += [
                    WaybillOutcome(o.pk, o.order_no, carrier=code, error=str(e)) for o, _c, _r in chunk
                ]
                continue
            for (order, choice, _req), result in zip(chunk, results, strict=True):
                try:
                    outcomes.append(_record(order, choice, result, actor, automatic, now))
                except AppError as e:
                    provider.void(carrier.cp_code or carrier.code, result.number)
                    outcomes.append(WaybillOutcome(order.pk, order.order_no, carrier=code, error=e.message))
    return outcomes


def waybill_void(*, order_id: int, actor: User, reason: str, now: datetime | None = None) -> Waybill:
    """Void the live waybill (作废面单): 已打单 → 分仓中; stock stays reserved for the next label.

    The transition's effect marks the waybill void and owes the provider a discard job.
    """
    now = now or timezone.now()
    wb = Waybill.objects.filter(order_id=order_id, status="active").first()
    if wb is None:
        raise InvalidTransition(_("该订单没有有效面单"), field="id")
    order_transition(order_id=order_id, to=OrderStatus.ALLOCATING, actor=actor, reason=reason, now=now)
    wb.refresh_from_db()
    return wb
