"""The client side of the benchmarks: concurrent POSTs and polling for decisions.

Requests go through ``http.client`` (standard library, a new connection per request, as
gunicorn's sync workers close every connection anyway), which costs the client far less CPU
than ``requests`` and so lets the bare endpoint show its real ceiling on a small machine.
"""

from __future__ import annotations

import http.client
import json
import resource
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

REQUEST_TIMEOUT = 10.0
POLL_PAUSE = 0.25


@dataclass(frozen=True)
class Sent:
    """One POST: the comment id, its HTTP status (0: no answer) and client clock times."""

    comment_id: str
    status: int
    started_at: float  # time.time() when the request was started
    seconds: float  # until the response was read


@dataclass(frozen=True)
class Phase:
    """A burst of POSTs: every request, the wall time it took and the client's CPU time."""

    sent: list[Sent]
    started_at: float
    seconds: float
    client_cpu_seconds: float

    @property
    def accepted(self) -> int:
        """How many got 202."""
        return sum(1 for s in self.sent if s.status == 202)

    @property
    def accepted_per_second(self) -> float:
        """202s per second of the phase's wall time."""
        return self.accepted / self.seconds


@dataclass(frozen=True)
class Decision:
    """A scored comment: its status and the server's ``scored_at`` (model finished)."""

    status: str
    at: float


class Client:
    """JSON over HTTP to one loopback server, optionally with a bearer key."""

    def __init__(self, port: int, key: str | None) -> None:
        self.port = port
        self.headers = {"Content-Type": "application/json"}
        if key:
            self.headers["Authorization"] = f"Bearer {key}"

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """One request on a fresh connection; returns (status, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=self.headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def post_comment(self, comment_id: str, body: bytes) -> Sent:
        """POST one pre-serialised comment and time it."""
        started_at, start = time.time(), time.perf_counter()
        try:
            status, _ = self.request("POST", "/v1/comments", body)
        except OSError:
            status = 0
        return Sent(comment_id, status, started_at, time.perf_counter() - start)

    def decision(self, comment_id: str) -> Decision | None:
        """The comment's decision, or None while it is pending (or the GET failed)."""
        try:
            status, body = self.request("GET", f"/v1/comments/{comment_id}")
        except OSError:
            return None
        state: dict[str, Any] = json.loads(body) if status == 200 else {}
        if state.get("status", "pending") == "pending":
            return None
        return Decision(state["status"],
                        datetime.fromisoformat(state["scored_at"]).timestamp())


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def send_all(client: Client, comments: Sequence[dict[str, Any]], concurrency: int,
             deadline: float) -> Phase:
    """POST every comment with ``concurrency`` threads; the bodies are encoded beforehand.

    Comments not yet sent when ``time.monotonic()`` passes ``deadline`` are skipped and
    count as unanswered (status 0).
    """
    bodies = [(c["id"], json.dumps(c).encode()) for c in comments]

    def send(comment_id: str, body: bytes) -> Sent:
        if time.monotonic() >= deadline:
            return Sent(comment_id, 0, time.time(), 0.0)
        return client.post_comment(comment_id, body)

    with ThreadPoolExecutor(concurrency, thread_name_prefix="send") as pool:
        cpu, started_at, start = _cpu_seconds(), time.time(), time.perf_counter()
        sent = list(pool.map(lambda item: send(*item), bodies))
        seconds = time.perf_counter() - start
    return Phase(sent, started_at, seconds, _cpu_seconds() - cpu)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def await_decisions(client: Client, comment_ids: Sequence[str], deadline: float,
                    pollers: int) -> dict[str, Decision]:
    """Poll until every comment is decided or ``time.monotonic()`` passes ``deadline``.

    Each pass walks the undecided ids in the order they were sent, ``pollers`` at a time,
    and ends early at the first chunk that is entirely pending: the worker takes the oldest
    pending comments first, so the rest are pending too. That keeps polling from taking CPU
    from the worker it is measuring.
    """
    decided: dict[str, Decision] = {}
    undecided = list(comment_ids)
    with ThreadPoolExecutor(pollers, thread_name_prefix="poll") as pool:
        while undecided and time.monotonic() < deadline:
            for chunk in _chunks(undecided, pollers):
                found = dict(zip(chunk, pool.map(client.decision, chunk), strict=True))
                decided.update({cid: d for cid, d in found.items() if d is not None})
                if not any(found.values()) or time.monotonic() >= deadline:
                    break
            undecided = [cid for cid in undecided if cid not in decided]
            if undecided:
                time.sleep(POLL_PAUSE)
    return decided
