"""The processes a benchmark starts: the bare Flask app and `moderation up`, on loopback.

Each runs in its own session (process group) with its output in a log file, and is stopped
with SIGTERM to that group (SIGKILL if it does not stop in time).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

LOOPBACK = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent


class StartError(RuntimeError):
    """A server did not come up; the message ends with the tail of its log."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


class Server:
    """A child process group serving HTTP on ``127.0.0.1:port``."""

    def __init__(self, args: list[str], port: int, env: dict[str, str], log_path: Path) -> None:
        self.port = port
        self.url = f"http://{LOOPBACK}:{port}"
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's combined stdout/stderr."""
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``ready`` until it holds; raise StartError if the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None:
                raise StartError(f"{what} exited with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise StartError(f"{what} not ready after {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.3)

    def answers(self, path: str) -> bool:
        """True when ``GET path`` gets any HTTP answer."""
        try:
            requests.get(self.url + path, timeout=2)
        except requests.RequestException:
            return False
        return True

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL it if it is still there after 20 s."""
        if self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def start_bare(workers: int, log_dir: Path, timeout: float) -> Server:
    """bench/bare_app.py under gunicorn on a free loopback port.

    Started as `moderation up` starts its API (moderation/embedded.py): sync workers, no
    access log, the same graceful timeout, and no control socket (which would clash with
    other gunicorns on the host).
    """
    port = free_port()
    args = [sys.executable, "-m", "gunicorn", "--workers", str(workers),
            "--bind", f"{LOOPBACK}:{port}", "--graceful-timeout", "5", "--no-control-socket",
            "--chdir", str(BENCH_DIR), "bare_app:app"]
    server = Server(args, port, dict(os.environ), log_dir / "bare.log")
    try:
        server.wait_until(lambda: server.answers("/"), timeout, "bare Flask app")
    except StartError:
        server.stop()
        raise
    return server


def start_moderation(workers: int, data_dir: Path, timeout: float) -> tuple[Server, str]:
    """`moderation up` in ``data_dir`` on a free loopback port; returns it and the demo key.

    DATABASE_URL / CELERY_BROKER_URL pass through from the environment, so the same call
    runs on SQLite (the embedded default) or on PostgreSQL and Redis.
    """
    port = free_port()
    args = [sys.executable, "-m", "moderation.cli", "up", "--host", LOOPBACK,
            "--port", str(port), "--workers", str(workers)]
    env = {**os.environ, "MODERATION_DATA_DIR": str(data_dir)}
    server = Server(args, port, env, data_dir / "up.log")

    def ready() -> bool:
        log = server.log_path.read_text(errors="replace")
        return "is up at" in log and "ready." in log

    try:
        server.wait_until(ready, timeout, "moderation up")
    except StartError:
        server.stop()
        raise
    return server, (data_dir / "demo-api-key").read_text().strip()
