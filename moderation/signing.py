"""HMAC-SHA256 signatures for webhooks, both ways: ``t=<unix time>,v1=<hex digest>``.

The digest covers ``"<t>." + raw body``, so a captured request cannot be replayed once the
timestamp is outside the tolerance, and the body cannot be altered. Several ``v1=`` values
may be sent (one per secret during a rotation); any valid one is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

SIGNATURE_HEADER = "X-Moderation-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The signature is missing, malformed, stale or does not match."""


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for ``body``: what a site (or our outbound webhooks) sends."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return f"t={stamp},v1={_digest(secret, stamp, body)}"


def verify(header: str | None, body: bytes, secrets: Iterable[str],
           tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: float | None = None) -> int:
    """Check ``header`` against every current secret; returns the signed timestamp."""
    if not header:
        raise SignatureError(f"the {SIGNATURE_HEADER} header is missing")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError(f"the {SIGNATURE_HEADER} header must read t=<unix time>,v1=<hex>")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError(f"the signature timestamp is more than {tolerance} s from now")
    # Compare against every secret and candidate without stopping early.
    valid = False
    for secret in secrets:
        expected = _digest(secret, timestamp, body)
        for candidate in candidates:
            valid |= hmac.compare_digest(expected, candidate)
    if not valid:
        raise SignatureError("the signature does not match the body")
    return timestamp
