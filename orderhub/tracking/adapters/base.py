"""The interface every tracking provider implements, and the values it speaks in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ShipmentRef:
    """What a provider needs to know about one parcel (no model instances cross the boundary)."""

    shipment_id: int
    carrier: str
    tracking_no: str
    shipped_at: datetime
    phone: str = ""
    to_area: str = ""  # "省-市-区", improves the provider's signed-for detection
    from_area: str = ""


@dataclass(frozen=True)
class CarrierEvent:
    at: datetime  # aware
    status: str  # a TrackingStatus value
    description: str
    carrier_state: str = ""
    area: str = ""


@dataclass
class TrackResult:
    events: list[CarrierEvent] = field(default_factory=list)
    # True once the provider will report nothing more (signed for, or tracking ended).
    finished: bool = False


class TrackingError(Exception):
    """A provider call failed; `permanent` when retrying cannot help (bad key, bad number)."""

    def __init__(self, message: str, *, code: str = "", permanent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


class TrackingAdapter(Protocol):
    name: str
    # Whether the provider pushes events itself (then polling is only a fallback).
    pushes: bool

    def subscribe(self, ref: ShipmentRef) -> None:
        """Ask the provider to push this parcel's events to us; a no-op where it cannot."""

    def query(self, ref: ShipmentRef, *, now: datetime) -> TrackResult:
        """Every event known for this parcel as of `now`, in any order."""
