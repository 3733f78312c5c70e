"""The contract every tracking provider passes: the simulated carrier, and Kuaidi100 against the
local server that speaks its documented protocol (fed the same parcel story)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from orderhub.tracking.adapters import adapter_get
from orderhub.tracking.adapters.base import ShipmentRef, TrackingAdapter
from orderhub.tracking.adapters.simulated import SimulatedCarrier
from orderhub.tracking.carriers import KUAIDI100_STATES, TrackingStatus
from tests.tracking import fake_kuaidi100 as kd
from tests.tracking.conftest import SHANGHAI, T0, tracking_settings

REF = ShipmentRef(
    shipment_id=1,
    carrier="zto",
    tracking_no="73100055550001",
    shipped_at=T0,
    phone="13812345678",
    to_area="浙江省-台州市-椒江区",
    from_area="浙江省-杭州市",
)
WORDS = {
    TrackingStatus.PICKED_UP: "揽收",
    TrackingStatus.OUT_FOR_DELIVERY: "派件",
    TrackingStatus.DELIVERED: "签收",
}
STATE_OF = {v: k for k, v in reversed(KUAIDI100_STATES.items())}


def _as_kuaidi100(now: datetime) -> dict[str, Any]:
    """The simulated story as Kuaidi100 would report it at `now`: newest first, Beijing time."""
    story = [e for e in SimulatedCarrier(seed="contract").story(REF) if e.at <= now]
    rows = [
        kd.entry(f"{e.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}", e.description, WORDS.get(e.status, "在途"))
        for e in reversed(story)
    ]
    newest = story[-1].status if story else TrackingStatus.IN_TRANSIT
    return {
        "state": STATE_OF[newest],
        "ischeck": "1" if newest == TrackingStatus.DELIVERED else "0",
        "data": rows,
    }


@pytest.fixture(params=["simulated", "kuaidi100"])
def provider(request: Any, settings: Any) -> Iterator[tuple[TrackingAdapter, kd.FakeKuaidi100 | None]]:
    if request.param == "simulated":
        settings.TRACKING = tracking_settings(SIMULATED={"SEED": "contract"})
        yield adapter_get("simulated"), None
        return
    fake = kd.FakeKuaidi100()
    with kd.Server(fake) as srv:
        settings.TRACKING = tracking_settings(
            KUAIDI100={
                "CUSTOMER": kd.CUSTOMER,
                "KEY": kd.KEY,
                "SALT": kd.SALT,
                "CALLBACK_URL": "https://orderhub.example.com/tracking/kuaidi100/callback",
                "QUERY_URL": f"{srv.url}/poll/query.do",
                "SUBSCRIBE_URL": f"{srv.url}/poll",
            }
        )
        yield adapter_get("kuaidi100"), fake


def _at(provider: tuple[TrackingAdapter, kd.FakeKuaidi100 | None], now: datetime) -> Any:
    adapter, fake = provider
    if fake is not None:
        fake.tracks[REF.tracking_no] = _as_kuaidi100(now)
    return adapter.query(REF, now=now)


def test_it_has_a_name_and_says_whether_it_pushes(provider) -> None:
    adapter, _fake = provider
    assert adapter.name in {"simulated", "kuaidi100"} and isinstance(adapter.pushes, bool)


def test_subscribing_twice_is_fine(provider) -> None:
    adapter, _fake = provider
    adapter.subscribe(REF)
    adapter.subscribe(REF)


def test_a_delivered_parcel_reports_its_whole_story_and_is_finished(provider) -> None:
    result = _at(provider, T0 + timedelta(days=10))
    assert result.finished
    statuses = {e.status for e in result.events}
    assert {TrackingStatus.PICKED_UP, TrackingStatus.DELIVERED} <= statuses <= set(TrackingStatus.values)
    for e in result.events:
        assert e.at.tzinfo is not None and T0 < e.at < T0 + timedelta(days=10)
        assert e.description.strip()


def test_a_parcel_in_transit_is_not_finished_and_reports_only_the_past(provider) -> None:
    story = SimulatedCarrier(seed="contract").story(REF)
    middle = story[len(story) // 2].at
    result = _at(provider, middle)
    assert not result.finished
    assert result.events and max(e.at for e in result.events) <= middle
    assert TrackingStatus.DELIVERED not in {e.status for e in result.events}


def test_both_providers_report_the_same_story(provider) -> None:
    result = _at(provider, T0 + timedelta(days=10))
    expected = SimulatedCarrier(seed="contract").story(REF)
    assert sorted((e.at, e.description) for e in result.events) == [(e.at, e.description) for e in expected]
