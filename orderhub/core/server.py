"""The production web server: gunicorn, started from Python (`orderhub serve`, `orderhub demo`).

Threaded workers (gthread) serve orderhub.wsgi; static files are served by WhiteNoise from
STATIC_ROOT, which is brought up to date before the first worker starts, and from the app
finders (WHITENOISE_USE_FINDERS) when STATIC_ROOT cannot be written.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connections
from gunicorn.app.base import BaseApplication

logger = logging.getLogger("orderhub.server")


def default_workers() -> int:
    """Two processes per core, at most four: threads inside each do the waiting on I/O."""
    return max(1, min(4, 2 * (os.cpu_count() or 1)))


def static_prepare(say: Callable[[str], None] = print) -> None:
    """Copy new or changed static files to STATIC_ROOT (collectstatic is incremental).

    A read-only installation is not an error: WhiteNoise then serves from the finders.
    """
    root = settings.STATIC_ROOT
    try:
        call_command("collectstatic", interactive=False, verbosity=0)
    except OSError as exc:
        say(f"静态文件目录 {root} 不可写（{exc}）；改由应用目录直接提供 / serving static files from the apps")


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def public_url(host: str, port: int) -> str:
    """The URL to open in a browser (a wildcard address is reached through localhost)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, f"[{host}]" if ":" in host else host)  # noqa: S104
    return f"http://{shown}:{port}/"


class OrderHubServer(BaseApplication):
    """gunicorn configured in code: no config file, no command-line parsing of its own."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        assert self.cfg is not None
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Imported in each worker after the fork, so no database connection crosses it.
        from orderhub.wsgi import application

        return application


def server_options(*, host: str, port: int, workers: int, threads: int = 8) -> dict[str, Any]:
    return {
        "bind": [bind_address(host, port)],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 15,
        "keepalive": 5,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "orderhub",
        # Recycle workers now and then so a slow leak can never take the server down.
        "max_requests": 5000,
        "max_requests_jitter": 500,
        # gunicorn's control socket has one default path per user: several servers (a demo next
        # to the tests) would fight over it, and OrderHub does not use it.
        "control_socket_disable": True,
    }


def serve(*, host: str, port: int, workers: int, threads: int = 8, collect_static: bool = True) -> None:
    """Run gunicorn in this process until SIGINT/SIGTERM (then it stops its workers and returns)."""
    if collect_static:
        static_prepare()
    connections.close_all()  # never hand an open database connection to forked workers
    OrderHubServer(server_options(host=host, port=port, workers=workers, threads=threads)).run()


class JobWorkerProcess:
    """`orderhub worker` as a child process that lives exactly as long as the web server.

    It runs in its own session, so a Ctrl-C in the terminal reaches only the web server, which
    then stops it with one SIGTERM (the worker finishes its current job first). On Linux the
    kernel also stops it if this process dies without cleaning up.
    """

    def __init__(self, *, argv: list[str] | None = None, stop_timeout: float = 20.0) -> None:
        self.argv = argv or [sys.executable, "-m", "orderhub", "worker"]
        self.stop_timeout = stop_timeout
        self.owner_pid = os.getpid()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            self.argv, start_new_session=True, preexec_fn=_die_with_parent
        )

    def stop(self) -> int | None:
        """Stop the worker (only from the process that started it); returns its exit code."""
        proc = self.proc
        if proc is None or os.getpid() != self.owner_pid:
            return None  # a forked web worker unwinding through our caller: not its child
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                logger.warning("worker %s did not stop within %ss; killing it", proc.pid, self.stop_timeout)
                proc.kill()
                proc.wait()
        return proc.returncode


def _die_with_parent() -> None:
    """Runs in the child before exec: ask Linux to send SIGTERM when the parent dies."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
