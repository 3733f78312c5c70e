"""`orderhub audit verify` / `orderhub audit anchor`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orderhub.orders.audit import audit_anchor_create, audit_verify


class Command(BaseCommand):
    help = "Verify the hash-chained operation log, or seal it with an anchor now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify", "anchor"])

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "anchor":
            anchor = audit_anchor_create()
            if anchor is None:
                self.stdout.write("nothing to seal")
            else:
                self.stdout.write(
                    f"anchor {anchor.pk}: entries {anchor.first_log_id}-{anchor.last_log_id} "
                    f"({anchor.entry_count})"
                )
            return
        report = audit_verify()
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"OK: {report.entries} log entries of {report.orders} orders, "
                    f"{report.anchors} anchors verified"
                )
            )
            return
        first = report.first_problem
        assert first is not None
        where = []
        if first.order_id is not None:
            where.append(f"order id {first.order_id}")
        if first.log_id is not None:
            where.append(f"log entry id {first.log_id}")
        if first.seq is not None:
            where.append(f"seq {first.seq}")
        self.stderr.write(f"FIRST BROKEN: {', '.join(where)} [{first.kind}] {first.message}")
        for p in (report.problems or [])[1:]:
            self.stderr.write(f"  also: order {p.order_id} log {p.log_id} [{p.kind}] {p.message}")
        raise CommandError(f"audit failed: {len(report.problems or [])} problem(s)")
