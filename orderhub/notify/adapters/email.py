"""E-mail through Django's configured e-mail backend (SMTP in production, console/locmem in tests).

SMTP 4xx answers and lost connections are retryable; 5xx answers and refused recipients are
permanent. The idempotency key becomes a stable Message-ID, so a resent mail threads as one.
"""

from __future__ import annotations

import hashlib
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from orderhub.notify.adapters.base import OutboundMessage, SendResult, plain_text


def message_id(key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@orderhub>"


class EmailAdapter:
    def send(self, message: OutboundMessage) -> SendResult:
        if not message.address:
            return SendResult.permanent("no_email", "收件人没有邮箱地址")
        mail = EmailMessage(
            subject=message.title,
            body=plain_text(message),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address],
            headers={"Message-ID": message_id(message.key), "X-OrderHub-Message-Id": message.key},
            connection=get_connection(fail_silently=False),
        )
        try:
            mail.send()
        except smtplib.SMTPRecipientsRefused as exc:
            return SendResult.permanent("recipient_refused", f"收件人被拒绝：{exc.recipients}")
        except smtplib.SMTPResponseException as exc:
            text = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            if 400 <= exc.smtp_code < 500:
                return SendResult.retryable(str(exc.smtp_code), text)
            return SendResult.permanent(str(exc.smtp_code), text)
        except (TimeoutError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
            return SendResult.retryable("smtp_unavailable", f"邮件服务器不可用：{exc}", unclear=True)
        return SendResult.accepted(code="250")

    def interpret(self, status: int, body: bytes) -> SendResult:
        if 200 <= status < 300:
            return SendResult.accepted(code=str(status))
        text = body.decode("utf-8", errors="replace")
        if 400 <= status < 500:
            return SendResult.retryable(str(status), text)
        return SendResult.permanent(str(status), text)
