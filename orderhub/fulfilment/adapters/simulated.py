"""Simulated e-waybill provider: numbers from the carrier's configured range, offline."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from orderhub.fulfilment.adapters.waybill import WaybillError, WaybillRequest, WaybillResult
from orderhub.fulfilment.models import Carrier


class SimulatedWaybillProvider:
    name = "simulated"
    batch_size = 1000

    def issue(self, carrier_code: str, requests: list[WaybillRequest]) -> list[WaybillResult]:
        n = len(requests)
        with transaction.atomic():
            # One conditional UPDATE claims a block of n numbers: concurrent callers never overlap.
            claimed = Carrier.objects.filter(
                code=carrier_code, next_number__lte=F("range_end") - n + 1
            ).update(next_number=F("next_number") + n)
            if not claimed:
                raise WaybillError(f"{carrier_code} 号段已用完", code="range_exhausted")
            carrier = Carrier.objects.get(code=carrier_code)
        first = carrier.next_number - n
        width = len(str(carrier.range_end))
        return [
            WaybillResult(r.object_id, f"{carrier.number_prefix}{first + i:0{width}d}")
            for i, r in enumerate(requests)
        ]

    def void(self, carrier_code: str, number: str) -> None:
        return None  # a simulated number is simply never reused
