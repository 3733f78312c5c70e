"""The e-waybill provider interface (面单来源) and the request/result shapes every provider shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class WaybillError(Exception):
    """The provider refused or could not be reached; `code` is the provider's error code."""

    def __init__(self, message: str, *, code: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


@dataclass
class Address:
    name: str
    mobile: str
    province: str
    city: str
    district: str
    detail: str


@dataclass
class WaybillRequest:
    object_id: str  # request-unique id (order id), to match results back
    order_no: str
    cp_code: str
    sender: Address
    recipient: Address
    items: list[tuple[str, int]] = field(default_factory=list)
    weight_g: int = 0
    channel_type: str = "OTHERS"


@dataclass
class WaybillResult:
    object_id: str
    number: str
    print_data: str = ""


class WaybillProvider(Protocol):
    name: str
    batch_size: int

    def issue(self, carrier_code: str, requests: list[WaybillRequest]) -> list[WaybillResult]:
        """Obtain one number per request (at most `batch_size` per call), in request order."""
        ...

    def void(self, carrier_code: str, number: str) -> None:
        """Give a number back (作废); idempotent."""
        ...
