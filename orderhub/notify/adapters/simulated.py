"""A provider that accepts everything and only logs it: the offline demo's robots and SMS."""

from __future__ import annotations

import logging

from orderhub.notify.adapters.base import OutboundMessage, SendResult, plain_text

logger = logging.getLogger("orderhub.notify.simulated")
SENT: list[OutboundMessage] = []  # the last messages, for the demo page and tests
_KEEP = 500


class SimulatedAdapter:
    def __init__(self, channel: str) -> None:
        self.channel = channel

    def send(self, message: OutboundMessage) -> SendResult:
        SENT.append(message)
        del SENT[:-_KEEP]
        logger.info("[%s] %s", self.channel, plain_text(message).replace("\n", " | "))
        return SendResult.accepted(code="simulated")

    def interpret(self, status: int, body: bytes) -> SendResult:
        return SendResult.accepted(code=str(status))
