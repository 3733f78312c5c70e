"""Receiving Kuaidi100 pushes: verify, refuse replays, apply once.

- A push whose `sign` is not UPPER(MD5(param + salt)) is forged: 403, nothing read from it.
- A verified push is remembered by the SHA-256 of its exact `param`. The same bytes again are
  never applied again. Within CALLBACK_RETRY_WINDOW of the first delivery they are answered
  with success, because that is Kuaidi100 re-sending after our reply was lost (it retries a
  failed push 3 times, ~30–35 min apart, and a failure reply would only make it try again);
  later than that Kuaidi100 never re-sends, so it is a replay and is refused with 409.
- Pushes for parcels we do not follow are acknowledged (as the protocol asks) and recorded.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F

from orderhub.tracking.adapters.kuaidi100 import CALLBACK_OK, Kuaidi100, Push
from orderhub.tracking.conf import tracking_conf
from orderhub.tracking.models import CallbackOutcome, CallbackReceipt, Shipment
from orderhub.tracking.services import tracking_record

logger = logging.getLogger("orderhub.tracking")


@dataclass(frozen=True)
class CallbackReply:
    status: int
    body: dict[str, Any]


def _refuse(status: int, message: str) -> CallbackReply:
    return CallbackReply(status, {"result": False, "returnCode": str(status), "message": message})


def _shipment_for(push: Push) -> Shipment | None:
    candidates = list(Shipment.objects.filter(tracking_no=push.tracking_no, provider="kuaidi100")[:5])
    exact = [s for s in candidates if s.carrier == push.carrier]
    if exact:
        return exact[0]
    # Kuaidi100 corrected the carrier (autoCheck) or our code differs: the number decides.
    return candidates[0] if len(candidates) == 1 else None


def kuaidi100_callback_receive(*, param: str, sign: str, now: datetime) -> CallbackReply:
    """Handle one push; returns the HTTP status and JSON body to answer with."""
    adapter = Kuaidi100.from_settings()
    if not adapter.salt:
        logger.error("kuaidi100 callback refused: TRACKING['KUAIDI100']['SALT'] is not configured")
        return _refuse(403, "签名校验失败")
    if not adapter.callback_verify(param, sign):
        logger.warning("kuaidi100 callback refused: sign does not verify")
        return _refuse(403, "签名校验失败")
    try:
        push = Kuaidi100.push_parse(param)
    except ValueError:
        logger.warning("kuaidi100 callback refused: signed but not a push")
        return _refuse(400, "推送内容无法解析")
    digest = hashlib.sha256(param.encode("utf-8")).hexdigest()
    with transaction.atomic():
        receipt, created = CallbackReceipt.objects.get_or_create(
            digest=digest,
            defaults={
                "push_status": push.status[:16],
                "outcome": CallbackOutcome.APPLIED,
                "received_at": now,
            },
        )
        if not created:
            CallbackReceipt.objects.filter(pk=receipt.pk).update(replays=F("replays") + 1, last_replay_at=now)
            if now - receipt.received_at <= _retry_window():
                return CallbackReply(200, {**CALLBACK_OK, "message": "重复推送，已忽略"})
            logger.warning("kuaidi100 callback refused: replay of a push from %s", receipt.received_at)
            return _refuse(409, "重复推送，已拒绝")
        shipment = _shipment_for(push)
        if shipment is None:
            receipt.outcome = CallbackOutcome.UNKNOWN_SHIPMENT
            receipt.save(update_fields=["outcome"])
            return CallbackReply(200, dict(CALLBACK_OK))
        outcome = tracking_record(shipment_id=shipment.pk, events=push.result.events, now=now, source="push")
        receipt.shipment = shipment
        receipt.events_added = outcome.events_added
        receipt.save(update_fields=["shipment", "events_added"])
        if push.aborted:
            _resubscribe_later(shipment, now)
    return CallbackReply(200, dict(CALLBACK_OK))


def _retry_window() -> timedelta:
    return timedelta(seconds=float(tracking_conf()["CALLBACK_RETRY_WINDOW_SECONDS"]))


def _resubscribe_later(shipment: Shipment, now: datetime) -> None:
    """After "3天查询无记录" Kuaidi100 stops; resubscribe ~30 min later, a bounded number of times."""
    c = tracking_conf()["KUAIDI100"]
    updated = Shipment.objects.filter(
        pk=shipment.pk, active=True, resubscribe_count__lt=int(c["MAX_RESUBSCRIBES"])
    ).update(resubscribe_count=F("resubscribe_count") + 1)
    if updated:
        from orderhub.tracking.tasks import subscribe_shipment

        run_after = now + timedelta(seconds=float(c["RESUBSCRIBE_AFTER_SECONDS"]))
        subscribe_shipment.using(run_after=run_after).enqueue(shipment.pk)
