"""Real processes for the tests: Celery workers, a private redis-server, `moderation up`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.2,
             message: str = "condition") -> Any:
    """Poll until ``predicate`` returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class Process:
    """A child process in its own process group, with its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group: no clean shutdown, no chance to ack or requeue."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM to the leader, which stops its own children as in production."""
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        # Whatever the leader left behind goes too.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._log.close()


def start_worker(env: dict[str, str], log_path: Path, *, beat: bool = True,
                 concurrency: int = 1, timeout: float = 60) -> Process:
    args = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
            "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-gossip",
            "--without-mingle", "--without-heartbeat"]
    if beat:
        args += ["-B", "--schedule", str(log_path.with_suffix(".schedule"))]
    worker = Process(args, env, log_path)
    try:
        wait_for(lambda: "ready." in worker.log() or not worker.alive(), timeout,
                 message="the worker to be ready")
    except AssertionError:
        worker.stop()
        raise
    if not worker.alive():
        raise AssertionError("worker died on start:\n" + worker.log()[-3000:])
    return worker


class RedisServer:
    """A private redis-server on its own port, so a test can stop and restart it."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, 10, message="redis-server to answer")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


def count(model: type, **where: Any) -> int:
    """Rows of ``model`` matching ``where`` (SQLAlchemy 2.0 style)."""
    from sqlalchemy import func, select

    from moderation.db import session_scope

    query = select(func.count()).select_from(model).filter_by(**where)
    with session_scope() as session:
        return int(session.scalar(query) or 0)


def start_api(env: dict[str, str], log_path: Path, timeout: float = 60) -> tuple[Process, str]:
    """The API under gunicorn, as in production; returns the process and its base URL."""
    import urllib.request

    port = free_port()
    api = Process([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind",
                   f"127.0.0.1:{port}", "--no-control-socket", "moderation.wsgi:app"],
                  env, log_path)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if not api.alive():
            raise AssertionError("API died on start:\n" + api.log()[-3000:])
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):  # noqa: S310
                return True
        except OSError:
            return False

    wait_for(up, timeout, message="the API to answer")
    return api, url


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run `moderation ARGS` and return its standard output; fail the test on error."""
    result = subprocess.run([sys.executable, "-m", "moderation.cli", *args], env=env, cwd=ROOT,
                            input=stdin, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"moderation {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout
