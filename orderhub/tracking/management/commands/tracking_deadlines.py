"""Re-time every watched parcel's stall check after the default threshold changed in settings
(rules edited in the admin or through `stall_threshold_set` re-time their parcels themselves)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from orderhub.tracking.thresholds import stall_deadlines_recompute


class Command(BaseCommand):
    help = "Recompute stall_due_at of every watched parcel from the current thresholds."

    def handle(self, *args: Any, **options: Any) -> None:
        updated = stall_deadlines_recompute()
        self.stdout.write(f"{updated} watched parcel(s) re-timed")
