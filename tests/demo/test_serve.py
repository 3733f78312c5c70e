"""`orderhub serve` and `orderhub demo` as a user runs them: real processes, real HTTP, clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
STARTUP_SECONDS = 90  # the test machines are busy: starting is slow there, never hung


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'orderhub.sqlite3'}"
    env["ORDERHUB_STATIC_ROOT"] = str(tmp_path / "static")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a local test server
        return response.status, response.read()


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            fetch(url)
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"server did not answer within {STARTUP_SECONDS}s:\n{log.read_text()}")


def wait_for_line(log: Path, text: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while text not in log.read_text():
        if time.monotonic() > deadline:
            pytest.fail(f"no {text!r} in the log within {STARTUP_SECONDS}s:\n{log.read_text()}")
        time.sleep(0.3)


def children(pid: int) -> set[int]:
    """Every live descendant of `pid` (Linux /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        kids = {p for p, pp in parents.items() if pp == parent}
        todo += list(kids - found)
        found |= kids
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def stop(proc: subprocess.Popen[bytes], sig: int) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serve_answers_pages_and_static_files_then_stops(tmp_path: Path) -> None:
    env, port, log = environment(tmp_path), free_port(), tmp_path / "serve.log"
    subprocess.run([sys.executable, "-m", "orderhub", "migrate", "-v0"], env=env, check=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "orderhub", "serve", "--port", str(port), "--workers", "1"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/accounts/login/", proc, log)
            status, body = fetch(f"{base}/accounts/login/")
            assert status == 200 and b"csrfmiddlewaretoken" in body
            status, css = fetch(f"{base}/static/admin/css/base.css")
            assert status == 200 and b"body" in css
        finally:
            code = stop(proc, signal.SIGTERM)
    assert code == 0, log.read_text()
    assert "gthread" in log.read_text()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_demo_runs_web_and_worker_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    env, port, log = environment(tmp_path), free_port(), tmp_path / "demo.log"
    with log.open("wb") as out:
        argv = ["demo", "--orders", "40", "--port", str(port), "--workers", "1"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "orderhub", *argv], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}/accounts/login/", proc, log)
            wait_for_line(log, "started (queues")  # the job worker is up and polling
            running = children(proc.pid)
            workers = [p for p in running if b"orderhub\x00worker" in Path(f"/proc/{p}/cmdline").read_bytes()]
            assert len(workers) == 1, log.read_text()
            assert len(running) >= 2  # the job worker and at least one web worker
        finally:
            code = stop(proc, signal.SIGINT)  # what Ctrl-C sends
    text = log.read_text()
    assert code == 0, text
    assert "hengchi-demo-2024" in text and "台州恒驰汽配有限公司" in text
    assert not [p for p in running if alive(p)], text
    assert "stopped after" in text  # the worker said goodbye: it was stopped, not killed
