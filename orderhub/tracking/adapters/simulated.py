"""The built-in simulated carrier: realistic event sequences, offline, driven by the caller's clock.

Each parcel's whole story is decided once from a hash of (seed, carrier, tracking number), so it
is the same on every query: pickup (揽收), transit hubs (运输中), out for delivery (派件), signed
(签收); or, at the configured rates, a stall (silence longer than any threshold, then transit
resumes), a problem (疑难, then re-delivery), a return (退回 … 退签) or a refusal (拒签 … 退回).
`query(now=…)` returns the events that have happened by `now`, so tests move the clock, not time.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from orderhub.tracking.adapters.base import CarrierEvent, ShipmentRef, TrackResult
from orderhub.tracking.carriers import Carrier, TrackingStatus, carrier_get
from orderhub.tracking.conf import tracking_conf

T = TrackingStatus
HUBS = ("金华", "上海", "南京", "武汉", "郑州", "广州", "长沙", "济南", "成都", "西安")
COURIERS = ("张师傅", "李师傅", "王师傅", "陈师傅", "刘师傅")


class Outcome:
    DELIVERED = "delivered"
    STALL = "stall"
    PROBLEM = "problem"
    RETURNED = "returned"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Rates:
    stall: float = 0.0
    problem: float = 0.0
    returned: float = 0.0
    rejected: float = 0.0


def _city(area: str, default: str) -> tuple[str, str]:
    """("台州市", "椒江区") from "浙江省-台州市-椒江区"."""
    parts = [p for p in area.split("-") if p]
    city = parts[1] if len(parts) > 1 else (parts[0] if parts else default)
    district = parts[2] if len(parts) > 2 else ""
    return city, district


class _Story:
    """Builds one parcel's events in time order."""

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng = rng
        self.t = start
        self.events: list[CarrierEvent] = []

    def after(self, lo: float, hi: float) -> None:
        self.t += timedelta(minutes=round(self.rng.uniform(lo, hi) * 60))

    def add(self, status: str, text: str, area: str = "") -> None:
        self.events.append(CarrierEvent(at=self.t, status=status, description=text, area=area))


class SimulatedCarrier:
    name = "simulated"
    pushes = False

    def __init__(
        self,
        *,
        rates: Rates | None = None,
        stall_gap_hours: tuple[float, float] = (30.0, 60.0),
        seed: str = "orderhub",
    ) -> None:
        self.rates = rates or Rates()
        self.stall_gap_hours = stall_gap_hours
        self.seed = seed

    @classmethod
    def from_settings(cls) -> SimulatedCarrier:
        c = tracking_conf()["SIMULATED"]
        rates = Rates(
            stall=float(c["STALL_RATE"]),
            problem=float(c["PROBLEM_RATE"]),
            returned=float(c["RETURN_RATE"]),
            rejected=float(c["REJECT_RATE"]),
        )
        lo, hi = c["STALL_GAP_HOURS"]
        return cls(rates=rates, stall_gap_hours=(float(lo), float(hi)), seed=str(c["SEED"]))

    # --- the adapter interface -------------------------------------------------------------

    def subscribe(self, ref: ShipmentRef) -> None:
        return None  # nothing to subscribe to: the story is computed on query

    def query(self, ref: ShipmentRef, *, now: datetime) -> TrackResult:
        story = self.story(ref)
        seen = [e for e in story if e.at <= now]
        return TrackResult(events=seen, finished=len(seen) == len(story))

    # --- the story ----------------------------------------------------------------------------

    def _rng(self, ref: ShipmentRef) -> random.Random:
        digest = hashlib.sha256(f"{self.seed}|{ref.carrier}|{ref.tracking_no}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def outcome(self, ref: ShipmentRef) -> str:
        u = self._rng(ref).random()
        for name, rate in (
            (Outcome.STALL, self.rates.stall),
            (Outcome.PROBLEM, self.rates.problem),
            (Outcome.RETURNED, self.rates.returned),
            (Outcome.REJECTED, self.rates.rejected),
        ):
            if u < rate:
                return name
            u -= rate
        return Outcome.DELIVERED

    def story(self, ref: ShipmentRef) -> list[CarrierEvent]:
        rng = self._rng(ref)
        rng.random()  # the draw `outcome` used
        outcome = self.outcome(ref)
        carrier = carrier_get(ref.carrier) or Carrier(ref.carrier, ref.carrier, ref.carrier)
        origin, _ = _city(ref.from_area, "杭州市")
        dest, district = _city(ref.to_area, "上海市")
        hubs = [f"{origin}转运中心"]
        hubs += [f"{h}转运中心" for h in rng.sample(HUBS, rng.randint(*carrier.hops) - 2)]
        hubs.append(f"{dest}转运中心")
        depot = f"{dest}{district}营业部"
        courier = rng.choice(COURIERS)
        stall_at = rng.randrange(1, len(hubs)) if outcome == Outcome.STALL else -1

        s = _Story(rng, ref.shipped_at)
        s.after(1, 4)
        s.add(T.PICKED_UP, f"【{origin}】{carrier.name}快递员 已揽收", origin)
        for i, hub in enumerate(hubs):
            if i:
                s.after(*carrier.hop_hours)
            if i == stall_at:
                s.after(*self.stall_gap_hours)  # the parcel sits unscanned: 物流停滞
            s.add(T.IN_TRANSIT, f"快件已到达【{hub}】", hub)
            s.after(0.5, 3)
            nxt = hubs[i + 1] if i + 1 < len(hubs) else depot
            s.add(T.IN_TRANSIT, f"快件已从【{hub}】发出，下一站【{nxt}】", hub)
        s.after(3, 8)
        s.add(T.IN_TRANSIT, f"快件已到达【{depot}】", depot)
        s.after(1, 3)
        dispatch = f"【{depot}】派件员 {courier} 正在为您派件"
        s.add(T.OUT_FOR_DELIVERY, dispatch, depot)
        s.after(1, 5)
        self._ending(s, outcome, depot, dispatch, origin)
        return s.events

    def _ending(self, s: _Story, outcome: str, depot: str, dispatch: str, origin: str) -> None:
        if outcome == Outcome.PROBLEM:
            s.add(T.PROBLEM, f"【{depot}】派件异常：收件人电话无法接通，快件滞留网点", depot)
            s.after(18, 30)
            s.add(T.OUT_FOR_DELIVERY, f"{dispatch}（再次派送）", depot)
            s.after(1, 4)
        elif outcome == Outcome.RETURNED:
            s.add(T.PROBLEM, f"【{depot}】派件异常：收件地址不详，无法联系收件人", depot)
            s.after(20, 40)
            s.add(T.RETURNING, f"【{depot}】快件已退回，退回原因：地址不详", depot)
            s.after(30, 60)
            s.add(T.RETURN_SIGNED, f"【{origin}】退回件已由寄件人签收", origin)
            return
        elif outcome == Outcome.REJECTED:
            s.add(T.REJECTED, f"【{depot}】收件人拒签，原因：外包装破损", depot)
            s.after(6, 20)
            s.add(T.RETURNING, f"【{depot}】拒收件已退回发件人", depot)
            return
        s.add(T.DELIVERED, f"【{depot}】您的快件已签收，签收人：本人。感谢使用，期待再次为您服务", depot)
