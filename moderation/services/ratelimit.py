"""Rate limits per API key and per reporting reader: fixed one-minute windows.

Why Redis in production: every web process must count against the same budget, and Redis's
INCR is atomic. The embedded default has no Redis and one machine, so it counts in the
process. When Redis does not answer, requests are let through (and the failure logged): a
limiter outage must never turn away comments the service could otherwise accept, and for a
few seconds after a failure Redis is not asked again, so a dead Redis costs no latency.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from moderation.errors import ServiceError

__all__ = ["RateLimited", "RateLimiter", "limiter_for"]

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60
BACKOFF_AFTER_FAILURE = 5.0


class RateLimited(ServiceError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class _Counter(Protocol):
    def incr(self, key: str, ttl: int) -> int: ...


class _MemoryCounter:
    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def incr(self, key: str, ttl: int) -> int:
        with self._lock:
            if len(self._counts) > 100_000:  # old windows: drop them all, cheaply
                self._counts.clear()
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]


class _RedisCounter:
    def __init__(self, url: str) -> None:
        import redis

        self._client: Any = redis.Redis.from_url(url, socket_connect_timeout=0.25,
                                                 socket_timeout=0.25)

    def incr(self, key: str, ttl: int) -> int:
        pipe = self._client.pipeline()
        pipe.incr(key)
        pipe.expire(key, ttl)
        count, _ = pipe.execute()
        return int(count)


@dataclass
class RateLimiter:
    counter: _Counter
    failed_at: float = 0.0

    def hit(self, bucket: str, limit: int, what: str, field: str | None = None) -> None:
        """Count one request in ``bucket``; raise RateLimited past ``limit`` a minute."""
        if limit <= 0:
            return
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        if now - self.failed_at < BACKOFF_AFTER_FAILURE:
            return
        try:
            count = self.counter.incr(f"rl:{bucket}:{window}", WINDOW_SECONDS * 2)
        except Exception:  # noqa: BLE001 - any failure of the limiter's store lets traffic in
            self.failed_at = now
            log.warning("rate limiter store unavailable; not limiting for %.0f s",
                        BACKOFF_AFTER_FAILURE, exc_info=True)
            return
        if count > limit:
            retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
            raise RateLimited(f"{what}: at most {limit} a minute; retry in {retry_after} s",
                              retry_after, field)


_limiters: dict[str, RateLimiter] = {}
_lock = threading.Lock()


def limiter_for(redis_url: str | None) -> RateLimiter:
    """One limiter per store per process (Redis when the broker is Redis, else memory)."""
    key = redis_url or "memory"
    with _lock:
        if key not in _limiters:
            counter: _Counter = _RedisCounter(redis_url) if redis_url else _MemoryCounter()
            _limiters[key] = RateLimiter(counter)
        return _limiters[key]
