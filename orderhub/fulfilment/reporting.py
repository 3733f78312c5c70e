"""Report-back (发货回传): tell the sales channel the carrier and tracking number once shipped.

Owed inside the ship transition (a ShipReport row and a durable job, committed together); sent
by the job with no transaction open; transport failures are retried with backoff, and a report
that cannot be delivered ends FAILED, listed in the admin and on the order's timeline.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from orderhub.core.db import CompiledRows, RowInserter
from orderhub.core.errors import InvalidTransition
from orderhub.core.jobs import PermanentJobError, jobs_enqueue_many, policy_for
from orderhub.fulfilment import rows
from orderhub.fulfilment.adapters.channels import ShipLine, ShipNotice, ShipReportError, reporter_for
from orderhub.fulfilment.models import ShipReport, Waybill
from orderhub.orders.models import Order

# The order's own live waybill, read on every ship: built once.
_LIVE_WAYBILL = CompiledRows(
    lambda order_id: Waybill.objects.filter(order_id=order_id, status=Waybill.Status.ACTIVE).values_list(
        "carrier_id", "number"
    )[:1]
)
_SHIP_REPORTS = RowInserter(ShipReport)


def _part_waybills(parent_ids: list[int]) -> dict[int, tuple[int, str]]:
    """A parent ships when its parts have: the first part's live parcel, by parent id."""
    parts = Waybill.objects.filter(status=Waybill.Status.ACTIVE, order__parent_id__in=parent_ids)
    rows = parts.order_by("order__parent_id", "-order__part_no").values_list(
        "order__parent_id", "carrier_id", "number"
    )
    return {parent_id: (carrier_id, number) for parent_id, carrier_id, number in rows}  # last wins


def _waybills_of(orders: list[Order]) -> dict[int, tuple[int, str]]:
    """(carrier id, number) of the live waybill to report, by order id.

    One order (a ship at the packing station) is read by a query built once; a batch with one
    query for all; orders without their own waybill (parents) by their parts'.
    """
    found: dict[int, tuple[int, str]] = {}
    if len(orders) == 1:
        own = _LIVE_WAYBILL.rows(orders[0].pk)
        if own:
            found[orders[0].pk] = own[0]
    else:
        # At most one live waybill per order (a partial unique index).
        live = Waybill.objects.filter(order_id__in=[o.pk for o in orders], status=Waybill.Status.ACTIVE)
        found = {
            order_id: (carrier_id, number)
            for order_id, carrier_id, number in live.values_list("order_id", "carrier_id", "number")
        }
    missing = [o.pk for o in orders if o.pk not in found]
    if missing:
        found.update(_part_waybills(missing))
    return found


def _owes_report(order: Order) -> bool:
    # Parts are reported through their parent; manual orders have no channel to tell.
    return order.parent_id is None and bool(order.channel_order_no)


def _report_record(order: Order, waybill: tuple[int, str], now: datetime) -> ShipReport:
    # `ship` happens once per order (a resumed shipment comes back through `resume`), so a plain
    # insert: the one-to-one constraint would refuse a second report loudly.
    carrier_id, number = waybill
    fields = {
        "order_id": order.pk,
        "adapter": rows.channel(order.channel_id).kind,
        "channel_order_no": order.channel_order_no,
        "carrier_id": carrier_id,
        "tracking_number": number,
        "created_at": now,
    }
    report = ShipReport(id=_SHIP_REPORTS.insert(**fields), **fields)
    report._state.adding = False
    return report


def ship_reports_owe(*, orders: list[Order], now: datetime) -> list[ShipReport]:
    """Record the reports shipped channel orders owe and enqueue their jobs (in the caller's
    transaction): the waybills read and the jobs enqueued with one statement each."""
    from orderhub.fulfilment.tasks import report_shipment

    owing = [o for o in orders if _owes_report(o)]
    waybills = _waybills_of(owing) if owing else {}
    reports = [_report_record(o, waybills[o.pk], now) for o in owing if o.pk in waybills]
    jobs_enqueue_many(report_shipment, [(r.pk,) for r in reports])
    return reports


def _ship_lines(order: Order) -> list[ShipLine]:
    """The order's lines with weights, and each line's channel sub-order id when the order kept one."""
    sub_ids = order.sub_order_nos()
    out = []
    for i, (qty, weight_g) in enumerate(
        order.lines.order_by("line_no").values_list("quantity", "sku__weight_g")
    ):
        sub_id = sub_ids[i] if i < len(sub_ids) else ""
        out.append(ShipLine(sub_id, qty, qty * (weight_g or 0) / 1000))
    return out


def ship_report_send(*, report_id: int) -> str:
    """Deliver one report (the job body). Sent once: a report already accepted is never resent."""
    report = ShipReport.objects.select_related("order__channel", "carrier").get(pk=report_id)
    if report.status == ShipReport.Status.SENT:
        return "already sent"
    channel = report.order.channel
    reporter = reporter_for(channel.kind, channel.code)
    notice = ShipNotice(
        channel_code=channel.code,
        channel_order_no=report.channel_order_no,
        carrier_code=report.carrier.code,
        taobao_code=report.carrier.taobao_code,
        pdd_logistics_id=report.carrier.pdd_logistics_id,
        tracking_number=report.tracking_number,
        carrier_name=report.carrier.name,
        douyin_code=report.carrier.douyin_code,
        alibaba_code=report.carrier.alibaba_code,
        lines=_ship_lines(report.order),
    )
    attempts = report.attempts + 1
    try:
        answer = reporter.ship(notice)
    except ShipReportError as e:
        from orderhub.fulfilment.tasks import report_shipment

        last = not e.retryable or attempts >= policy_for(report_shipment.module_path).attempts()
        ShipReport.objects.filter(pk=report.pk).update(
            attempts=attempts,
            last_error=str(e),
            response=e.response,
            status=ShipReport.Status.FAILED if last else ShipReport.Status.PENDING,
        )
        if not e.retryable:
            raise PermanentJobError(str(e)) from e
        raise
    ShipReport.objects.filter(pk=report.pk).update(
        attempts=attempts,
        status=ShipReport.Status.SENT,
        sent_at=timezone.now(),
        request=answer.request,
        response=answer.response,
        last_error="",
    )
    return f"{reporter.name}: sent"


def ship_report_retry(*, report_id: int) -> ShipReport:
    """Send a failed report again (after fixing credentials or carrier codes)."""
    from orderhub.fulfilment.tasks import report_shipment

    with transaction.atomic():
        report = ShipReport.objects.select_for_update().get(pk=report_id)
        if report.status == ShipReport.Status.SENT:
            raise InvalidTransition("该发货回传已成功，无需重发", field="id")
        report.status, report.attempts = ShipReport.Status.PENDING, 0
        report.save(update_fields=["status", "attempts"])
        report_shipment.enqueue(report.pk)
    return report
