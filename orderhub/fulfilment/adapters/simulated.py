"""Simulated e-waybill provider: numbers from the carrier's configured range, offline."""

from __future__ import annotations

from django.db import connection, transaction

from orderhub.fulfilment.adapters.waybill import WaybillError, WaybillRequest, WaybillResult

# The table of Carrier (`fulfilment_carrier`): raw SQL for RETURNING, which the ORM lacks.
CLAIM_SQL = (
    'UPDATE "fulfilment_carrier" SET "next_number" = "next_number" + %s'
    ' WHERE "code" = %s AND "next_number" <= "range_end" - %s + 1'
    ' RETURNING "next_number", "number_prefix", "range_end"'
)


class SimulatedWaybillProvider:
    name = "simulated"
    batch_size = 1000

    def issue(self, carrier_code: str, requests: list[WaybillRequest]) -> list[WaybillResult]:
        n = len(requests)
        # One conditional UPDATE claims a block of n numbers (concurrent callers never overlap) and
        # returns what it claimed: RETURNING (PostgreSQL, SQLite >= 3.35) saves re-reading the row.
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(CLAIM_SQL, [n, carrier_code, n])
            row = cur.fetchone()
        if row is None:
            raise WaybillError(f"{carrier_code} 号段已用完", code="range_exhausted")
        next_number, prefix, range_end = row
        first = next_number - n
        width = len(str(range_end))
        return [WaybillResult(r.object_id, f"{prefix}{first + i:0{width}d}") for i, r in enumerate(requests)]

    def void(self, carrier_code: str, number: str) -> None:
        return None  # a simulated number is simply never reused
