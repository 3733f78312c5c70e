"""E-mail through Django's backends, and the in-app inbox adapter."""

from __future__ import annotations

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from orderhub.notify.adapters.base import OutboundMessage, Outcome
from orderhub.notify.adapters.email import EmailAdapter, message_id
from orderhub.notify.adapters.inbox import InboxAdapter
from orderhub.notify.models import InboxMessage

MESSAGE = OutboundMessage(
    key="log:3:email:u1",
    title="订单 SO3 已进入「物流异常」",
    body="中通 30 小时无轨迹",
    address="li@example.com",
)


class RefusingBackend(BaseEmailBackend):
    error: Exception = smtplib.SMTPRecipientsRefused({"li@example.com": (550, b"no such user")})

    def send_messages(self, messages):
        raise type(self).error


class DisconnectingBackend(RefusingBackend):
    error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class GreylistingBackend(RefusingBackend):
    error = smtplib.SMTPDataError(451, b"greylisted, try again later")


def test_a_mail_goes_out_with_a_stable_message_id(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    result = EmailAdapter().send(MESSAGE)
    assert result.outcome == Outcome.ACCEPTED
    (sent,) = mail.outbox
    assert (sent.subject, sent.to) == ("订单 SO3 已进入「物流异常」", ["li@example.com"])
    assert sent.body == "订单 SO3 已进入「物流异常」\n中通 30 小时无轨迹"
    assert sent.extra_headers["Message-ID"] == message_id("log:3:email:u1")


@pytest.mark.parametrize(
    ("backend", "outcome"),
    [
        ("RefusingBackend", Outcome.PERMANENT),
        ("DisconnectingBackend", Outcome.RETRYABLE),
        ("GreylistingBackend", Outcome.RETRYABLE),
    ],
)
def test_smtp_failures_are_classified(settings, backend, outcome) -> None:
    settings.EMAIL_BACKEND = f"tests.notify.adapters.test_email_inbox.{backend}"
    assert EmailAdapter().send(MESSAGE).outcome == outcome


def test_no_address_is_permanent() -> None:
    result = EmailAdapter().send(OutboundMessage(key="k", title="t"))
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "no_email")


def test_the_inbox_writes_a_message_once_per_user_and_key(staff) -> None:
    user = staff["warehouse"]
    message = OutboundMessage(
        key="log:8:inbox:u1", title="订单 SO8 已进入「已拆单」", user_id=user.pk, inbox_key="log:8"
    )
    first, again = InboxAdapter().send(message), InboxAdapter().send(message)
    assert (first.outcome, first.created, again.outcome, again.created) == (
        Outcome.ACCEPTED,
        True,
        Outcome.ACCEPTED,
        False,
    )
    assert list(InboxMessage.objects.filter(user=user).values_list("key", "title")) == [
        ("log:8", "订单 SO8 已进入「已拆单」")
    ]
