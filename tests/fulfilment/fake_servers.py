"""Local HTTP servers implementing the providers' documented contracts, for adapter tests."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RawHandler = Callable[[dict[str, Any]], tuple[int, Any]]


@contextmanager
def raw_server(handle: RawHandler) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback server that hands `handle` the request as received: path, query, body, content type.

    The answer is JSON, or the bytes given as is (a proxy's HTML page, say).
    """
    received: list[dict[str, Any]] = []

    class H(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            path, _, query = self.path.partition("?")
            request = {
                "path": path,
                "query": {k: v[0] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()},
                "body": self.rfile.read(length).decode("utf-8"),
                "content_type": self.headers.get("Content-Type", ""),
                "target": self.path,
            }
            received.append(request)
            status, payload = handle(request)
            data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


Handler = Callable[[dict[str, str]], tuple[int, dict[str, Any]]]


@contextmanager
def form_server(handle: Handler) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A loopback server: each POSTed form (x-www-form-urlencoded) goes to `handle`; JSON comes back."""
    received: list[dict[str, str]] = []

    def as_form(request: dict[str, Any]) -> tuple[int, Any]:
        form = {k: v[0] for k, v in urllib.parse.parse_qs(request["body"], keep_blank_values=True).items()}
        form["_content_type"] = request["content_type"]
        form["_path"] = request["target"]
        received.append(form)
        return handle(form)

    with raw_server(as_form) as (url, _raw):
        yield url, received
