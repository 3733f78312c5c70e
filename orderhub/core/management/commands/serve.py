"""`orderhub serve`: the production web server (gunicorn with threaded workers)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from orderhub.core.server import default_workers, public_url, serve


class Command(BaseCommand):
    help = "Run OrderHub's web server (gunicorn, threaded workers, logs to stdout) until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        add_server_arguments(parser)

    def handle(self, *args: Any, **opts: Any) -> None:
        self.stdout.write(f"OrderHub: {public_url(opts['host'], opts['port'])}  (Ctrl-C 停止 / to stop)")
        self.stdout.flush()
        serve(
            host=opts["host"],
            port=opts["port"],
            workers=opts["workers"],
            threads=opts["threads"],
            collect_static=not opts["no_collectstatic"],
        )


def add_server_arguments(parser: CommandParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--workers", type=int, default=default_workers(), help="worker processes (default: 2 per core, ≤ 4)"
    )
    parser.add_argument("--threads", type=int, default=8, help="threads per worker process (default 8)")
    parser.add_argument(
        "--no-collectstatic", action="store_true", help="do not refresh STATIC_ROOT before starting"
    )
