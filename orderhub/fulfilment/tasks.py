"""Durable and periodic jobs of fulfilment."""
