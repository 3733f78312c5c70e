"""Tracking providers, by name. Each is built from settings when asked, so tests and a
changed configuration take effect without restarting anything."""

from __future__ import annotations

from orderhub.tracking.adapters.base import TrackingAdapter, TrackingError


def adapter_get(provider: str) -> TrackingAdapter:
    if provider == "simulated":
        from orderhub.tracking.adapters.simulated import SimulatedCarrier

        return SimulatedCarrier.from_settings()
    if provider == "kuaidi100":
        from orderhub.tracking.adapters.kuaidi100 import Kuaidi100

        return Kuaidi100.from_settings()
    raise TrackingError(f"unknown tracking provider: {provider!r}", code="unknown_provider", permanent=True)


PROVIDERS: tuple[str, ...] = ("simulated", "kuaidi100")
