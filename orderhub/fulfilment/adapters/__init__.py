"""Adapters to outside systems: e-waybill providers and channel ship-notification (发货回传)."""
