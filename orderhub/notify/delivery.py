"""Sending owed deliveries: at most once after acceptance, rate-limited robots merged into digests.

Guarantees, per delivery row:
- `sent` is recorded right after the provider accepts, and a sent row is never sent again; only
  a send whose outcome was unclear (worker killed, timeout) can be repeated;
- a row marked `sending` belongs to its sender until the sender can no longer be alive (the
  worker lease, or the send's own timeouts if longer, after the mark): a job run twice — its
  worker lost the lease but lived — never sends the same row twice; a job that finds a row
  still held leaves it to a check job scheduled for when the hold ends;
- 5xx, timeouts and "too fast" are retried with the worker's backoff, up to MAX_ATTEMPTS; then
  the row is `dead` (listed on /notify/failed/ with a retry button); permanent provider errors
  are dead at once;
- a robot with a rate limit (钉钉/企业微信: 20 a minute) gets at most that many requests per
  window. Messages beyond it wait as `throttled`; when the window frees up, one flush job merges
  them into a digest message (oldest first, DIGEST_MAX_ITEMS per digest), so nothing is dropped.
  The window lives in the database (EndpointSlot rows, counted under the endpoint's row lock),
  so several workers share it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from orderhub.core.jobs import PermanentJobError, backoff_delay
from orderhub.notify.adapters import NotConfigured, adapter_for
from orderhub.notify.adapters.base import OutboundMessage, Outcome, SendResult
from orderhub.notify.conf import notify_conf
from orderhub.notify.models import (
    ROBOT_CHANNELS,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointSlot,
)

logger = logging.getLogger("orderhub.notify")
S = DeliveryStatus
# A scheduled flush that has not run for this long is assumed lost and scheduled again.
FLUSH_STALE = timedelta(minutes=5)


class DeliveryRetry(Exception):
    """A retryable send failure: the job worker tries again after its backoff."""


def outbound(d: Delivery) -> OutboundMessage:
    address = d.address
    if not address and d.user_id is not None and d.user is not None:  # filled in after routing
        address = d.user.mobile if d.channel == "sms" else d.user.email if d.channel == "email" else ""
    return OutboundMessage(
        key=d.key,
        title=d.title,
        body=d.body,
        url=d.url,
        mentions=tuple(d.mentions or ()),
        address=address,
        user_id=d.user_id,
        order_id=d.order_id,
        inbox_key=d.source,
        sms_template=d.sms_template,
        sms_params=dict(d.sms_params or {}),
        is_digest=d.is_digest,
    )


def rate_limited(d: Delivery) -> bool:
    return d.channel in ROBOT_CHANNELS and d.endpoint is not None and d.endpoint.rate_limit > 0


def sending_hold() -> timedelta:
    """How long a `sending` row stays its sender's: a live sender records the outcome within
    the send's timeouts, and a worker that stops reporting for the lease is presumed dead."""
    lease = settings.ORDERHUB_JOBS["WORKER_LEASE_SECONDS"]
    timeouts = notify_conf("CONNECT_TIMEOUT_SECONDS") + notify_conf("READ_TIMEOUT_SECONDS")
    return timedelta(seconds=max(lease, timeouts))


def _owned_q(in_batch: bool, now: datetime) -> Q:
    """What a job may send. A batch takes what nobody else owns (a failed row has its own retry
    job); a re-run after a crash resends only its own first attempts left in flight, once their
    sender's hold has run out, never a row its retry job is sending (attempts > 1)."""
    released = Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=now - sending_hold())
    abandoned = Q(status=S.SENDING) & released
    if in_batch:
        return Q(status=S.PENDING) | (abandoned & Q(attempts__lte=1))
    return Q(status__in=[S.PENDING, S.FAILED]) | abandoned


def _owned(d: Delivery, in_batch: bool, now: datetime) -> bool:
    if d.status == S.PENDING:
        return True
    if d.status == S.FAILED:
        return not in_batch
    if d.status != S.SENDING or (in_batch and d.attempts > 1):
        return False
    return d.last_attempt_at is None or d.last_attempt_at < now - sending_hold()


def _check_when_released(d: Delivery) -> None:
    """`d` is held by a sender that may be alive: look again when its hold ends (sent by then,
    or taken over as abandoned)."""
    from orderhub.notify.tasks import send_delivery

    at = (d.last_attempt_at or timezone.now()) + sending_hold() + timedelta(seconds=1)
    send_delivery.using(run_after=at).enqueue(d.pk)


def delivery_send(delivery_id: int, *, in_batch: bool = False) -> str:
    """Send one delivery through its adapter and record the outcome; returns the new status.

    In its own job (`in_batch=False`) a retryable failure raises DeliveryRetry (the worker
    retries with backoff) and a dead one PermanentJobError. In a batch the failure is recorded
    and the delivery gets its own retry job instead, so one bad address never fails the batch.
    """
    d = Delivery.objects.select_related("endpoint", "user").get(pk=delivery_id)
    if not _owned(d, in_batch, timezone.now()):
        if d.status == S.SENDING and not (in_batch and d.attempts > 1):
            _check_when_released(d)  # its sender may be alive, or was killed a moment ago
        return d.status  # done, dead, waiting for its digest, being sent, or owned by its retry job
    if rate_limited(d):
        if not _slot_take(d, in_batch):
            return S.THROTTLED
    elif not _mark_sending(d, in_batch):
        return Delivery.objects.values_list("status", flat=True).get(pk=d.pk)
    try:
        adapter = adapter_for(d.channel, d.endpoint)
    except NotConfigured as exc:
        result = SendResult.permanent("not_configured", str(exc))
    else:
        result = adapter.send(outbound(d))
    return _record(d, result, in_batch=in_batch)


def deliveries_send(delivery_ids: list[int]) -> dict[str, int]:
    """First attempt for many deliveries, SEND_CONCURRENCY at a time (each thread its own
    database connection and HTTP session). Returns how many ended in each status."""
    concurrency = min(int(notify_conf("SEND_CONCURRENCY")), len(delivery_ids))
    outcomes: Counter[str] = Counter()
    # Inside a transaction (tests; a caller's atomic block) other connections would not see the
    # rows: send one by one on this connection.
    if concurrency <= 1 or connection.in_atomic_block:
        for delivery_id in delivery_ids:
            outcomes[delivery_send(delivery_id, in_batch=True)] += 1
        return dict(outcomes)
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for delivery_id in delivery_ids:
        todo.put(delivery_id)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            while True:
                try:
                    delivery_id = todo.get_nowait()
                except queue.Empty:
                    return
                status = delivery_send(delivery_id, in_batch=True)
                with lock:
                    outcomes[status] += 1
        except BaseException as exc:  # re-raised below: the job is retried, sent rows are skipped
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender, name=f"notify-send-{i}") for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return dict(outcomes)


def _mark_sending(d: Delivery, in_batch: bool) -> bool:
    now = timezone.now()
    claimed = Delivery.objects.filter(_owned_q(in_batch, now), pk=d.pk).update(
        status=S.SENDING, attempts=F("attempts") + 1, last_attempt_at=now, updated_at=now
    )
    d.attempts += 1
    return bool(claimed)


def _record(d: Delivery, result: SendResult, *, in_batch: bool) -> str:
    """Write the outcome; accepted is written first thing, so a retry never re-sends it."""
    from orderhub.notify.tasks import send_delivery

    now = timezone.now()
    fields = {"provider_code": result.code[:64], "provider_response": result.response, "updated_at": now}
    if result.outcome == Outcome.ACCEPTED:
        Delivery.objects.filter(pk=d.pk).update(status=S.SENT, sent_at=now, last_error="", **fields)
        return S.SENT
    error = f"[{result.code}] {result.message}"
    if result.outcome == Outcome.RETRYABLE and result.throttled and rate_limited(d):
        _throttled_by_provider(d, result, error, fields)
        return S.THROTTLED
    if result.outcome == Outcome.RETRYABLE and d.attempts < notify_conf("MAX_ATTEMPTS"):
        if not in_batch:
            Delivery.objects.filter(pk=d.pk).update(status=S.FAILED, last_error=error, **fields)
            raise DeliveryRetry(error)
        delay = backoff_delay(d.attempts, settings.ORDERHUB_JOBS["BACKOFF_BASE_SECONDS"])
        with transaction.atomic():  # the failed row and its retry job, together
            Delivery.objects.filter(pk=d.pk).update(status=S.FAILED, last_error=error, **fields)
            send_delivery.using(run_after=now + timedelta(seconds=delay)).enqueue(d.pk)
        return S.FAILED
    Delivery.objects.filter(pk=d.pk).update(status=S.DEAD, last_error=error, **fields)
    logger.error("delivery %s (%s) is dead after %d attempt(s): %s", d.pk, d.channel, d.attempts, error)
    if in_batch:
        return S.DEAD
    raise PermanentJobError(error)


def _throttled_by_provider(d: Delivery, result: SendResult, error: str, fields: dict) -> None:
    """The robot said "too fast": hold the endpoint back and queue this message for a digest."""
    now = timezone.now()
    pause = result.retry_after or notify_conf("THROTTLE_PAUSE_SECONDS")
    with transaction.atomic():
        ep = Endpoint.objects.select_for_update().get(pk=d.endpoint_id)
        until = now + timedelta(seconds=pause)
        if ep.paused_until is None or ep.paused_until < until:
            ep.paused_until = until
            ep.save(update_fields=["paused_until"])
        Delivery.objects.filter(pk=d.pk).update(status=S.THROTTLED, last_error=error, **fields)
        _flush_schedule(ep, until, now)


# --- the sliding window -----------------------------------------------------------------------


def window_free_at(ep: Endpoint, now: datetime) -> datetime | None:
    """None when the endpoint may be sent to now, else when it may next."""
    if ep.paused_until is not None and ep.paused_until > now:
        return ep.paused_until
    window = timedelta(seconds=ep.rate_window_seconds)
    EndpointSlot.objects.filter(endpoint=ep, at__lte=now - window).delete()
    recent = list(
        EndpointSlot.objects.filter(endpoint=ep, at__gt=now - window)
        .order_by("-at")
        .values_list("at", flat=True)[: ep.rate_limit]
    )
    if len(recent) < ep.rate_limit:
        return None
    return recent[-1] + window  # when the oldest of the last `rate_limit` sends leaves the window


def _slot_take(d: Delivery, in_batch: bool) -> bool:
    """Under the endpoint's row lock: take a slot in its window and mark the row sending, or
    queue the row as throttled (also when others already wait: first come, first merged)."""
    with transaction.atomic():
        ep = Endpoint.objects.select_for_update().get(pk=d.endpoint_id)
        cur = Delivery.objects.select_for_update().get(pk=d.pk)
        now = timezone.now()
        if not _owned(cur, in_batch, now):
            return False
        if cur.slot_reserved:  # a digest's slot was taken when the digest was made
            free_at, waiting = None, False
        else:
            free_at = window_free_at(ep, now)
            waiting = Delivery.objects.filter(endpoint=ep, status=S.THROTTLED).exists()
        if free_at is None and not waiting:
            if not cur.slot_reserved:
                EndpointSlot.objects.create(endpoint=ep, at=now, delivery=cur)
            Delivery.objects.filter(pk=cur.pk).update(
                status=S.SENDING,
                attempts=F("attempts") + 1,
                last_attempt_at=now,
                slot_reserved=False,
                updated_at=now,
            )
            d.attempts = cur.attempts + 1
            return True
        Delivery.objects.filter(pk=cur.pk).update(status=S.THROTTLED, updated_at=now)
        _flush_schedule(ep, free_at or now, now)
        return False


def _flush_schedule(ep: Endpoint, at: datetime, now: datetime) -> None:
    """Make sure a flush job runs at `at` (one is enough: it schedules the next itself)."""
    from orderhub.notify.tasks import flush_endpoint

    if ep.flush_at is not None and ep.flush_at <= at and ep.flush_at > now - FLUSH_STALE:
        return
    flush_endpoint.using(run_after=at).enqueue(ep.pk)
    ep.flush_at = at
    ep.save(update_fields=["flush_at"])


def endpoint_flush(endpoint_id: int) -> int:
    """Send what waits for a rate-limited endpoint: one message alone, several as a digest.
    Returns how many waiting messages it dispatched."""
    from orderhub.notify.tasks import send_delivery

    max_items = int(notify_conf("DIGEST_MAX_ITEMS"))
    with transaction.atomic():
        ep = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        now = timezone.now()
        ep.flush_at = None
        ep.save(update_fields=["flush_at"])
        waiting = list(
            Delivery.objects.filter(endpoint=ep, status=S.THROTTLED).order_by("pk")[: max_items + 1]
        )
        if not waiting:
            return 0
        free_at = window_free_at(ep, now)
        if free_at is not None:
            _flush_schedule(ep, free_at, now)
            return 0
        batch = waiting[:max_items]
        carrier = batch[0] if len(batch) == 1 else _digest_create(ep, batch)
        EndpointSlot.objects.create(endpoint=ep, at=now, delivery=carrier)
        Delivery.objects.filter(pk=carrier.pk).update(status=S.PENDING, slot_reserved=True, updated_at=now)
        send_delivery.enqueue(carrier.pk)
        if len(waiting) > max_items:
            _flush_schedule(ep, now, now)
    return len(batch)


def _digest_create(ep: Endpoint, batch: list[Delivery]) -> Delivery:
    """One message standing for `batch`; earlier digests in it are flattened into this one."""
    lines: list[str] = []
    mentions: list[str] = []
    count = 0
    for member in batch:
        if member.is_digest:
            lines.extend(ln for ln in member.body.split("\n") if ln)
            count += member.members.count()
        else:
            lines.append(f"- {member.title}")
            count += 1
        mentions.extend(member.mentions or ())
    digest = Delivery.objects.create(
        key=f"digest:{ep.pk}:{batch[0].pk}",
        source=f"digest:{ep.pk}",
        event="digest",
        channel=batch[0].channel,
        endpoint=ep,
        mentions=list(dict.fromkeys(mentions)),
        title=f"【汇总】{count} 条订单通知",
        body="\n".join(lines),
        is_digest=True,
    )
    ids = [m.pk for m in batch]
    Delivery.objects.filter(merged_into_id__in=ids).update(merged_into=digest)
    Delivery.objects.filter(pk__in=ids).update(status=S.MERGED, merged_into=digest, updated_at=timezone.now())
    return digest
