"""A small client for the moderation API, for a site's backend. Standard library only.

::

    from moderation.client import ModerationClient

    client = ModerationClient("http://127.0.0.1:8000", api_key)
    client.submit_comment("c-1", {"id": "a-1", "title": "Roadworks", "tags": []},
                          "I know where you live", author={"id": "u-1"})
    client.comment("c-1").visible          # show it or not

Every call raises :class:`ModerationError` (status, error code, message, field) when the
service refuses it, :class:`RateLimited` on 429 (with ``retry_after`` seconds) and
:class:`ServiceUnreachable` when no answer came back. Submitting comments is retried on a
lost connection or a 502/503/504: the same id with the same body is a replay, never a
second comment.

The receiving side of the decision webhooks: :func:`verify_webhook` checks the
``X-Moderation-Signature`` header over the raw body and returns the event; deliveries come
at least once, so keep a :class:`WebhookDeduplicator` and act on each event id once.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moderation.signing import DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER, SignatureError, verify

__all__ = ["EVENT_ID_HEADER", "Accepted", "CommentState", "Flag", "ModerationClient",
           "ModerationError", "RateLimited", "ServiceUnreachable", "SignatureError",
           "WebhookDeduplicator", "verify_webhook"]

EVENT_ID_HEADER = "X-Moderation-Event-Id"
USER_AGENT = "moderation-client/1"
# Statuses worth another try for an idempotent request: the service (or a proxy) is busy.
_RETRY_STATUSES = frozenset({502, 503, 504})


class ModerationError(Exception):
    """The service refused a request: its HTTP status and the JSON error body's fields.

    ``code`` is the body's ``error`` (``validation_error``, ``unauthorised``, ``conflict``...),
    or Perspective's ``errorType`` for the ``/v1alpha1`` endpoint; ``field`` names the field
    at fault (``article.id``, ``comments[3].text``) when the service says.
    """

    def __init__(self, status: int | None, code: str, message: str, field: str | None = None,
                 details: Sequence[Mapping[str, Any]] = (), body: Any = None) -> None:
        super().__init__(f"{status or 'no answer'} {code}: {message}"
                         + (f" (field {field})" if field else ""))
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.details = list(details)
        self.body = body


class RateLimited(ModerationError):
    """429: too many requests. ``retry_after`` is the wait the service asked for, if any."""

    def __init__(self, status: int | None, code: str, message: str, field: str | None = None,
                 details: Sequence[Mapping[str, Any]] = (), body: Any = None,
                 retry_after: float | None = None) -> None:
        super().__init__(status, code, message, field, details, body)
        self.retry_after = retry_after


class ServiceUnreachable(ModerationError):
    """No answer: connection refused or dropped, or the timeout passed."""

    def __init__(self, message: str) -> None:
        super().__init__(None, "unreachable", message)


@dataclass(frozen=True)
class Accepted:
    """The answer to a submitted comment: stored, with its status at that moment."""

    id: str
    status: str
    replayed: bool = False  # the same id and body had been sent before


@dataclass(frozen=True)
class Flag:
    rule: str
    score: float
    evidence: list[tuple[int, int]] = field(default_factory=list)  # [start, end) into the text


@dataclass(frozen=True)
class CommentState:
    """``GET /v1/comments/<id>``; ``raw`` keeps the whole answer."""

    id: str
    status: str  # pending | approved | in_review | rejected
    visible: bool
    flags: list[Flag]
    scores: dict[str, float]
    decided_by: str | None
    reports: int
    raw: dict[str, Any]

    @property
    def final(self) -> bool:
        """Decided, or waiting for a moderator: no longer waiting for the model."""
        return self.status != "pending"

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> CommentState:
        flags = [Flag(f["rule"], float(f["score"]),
                      [(int(s), int(e)) for s, e in f.get("evidence", [])])
                 for f in body.get("flags", [])]
        return cls(id=str(body["id"]), status=str(body["status"]), visible=bool(body["visible"]),
                   flags=flags, scores=dict(body.get("scores", {})),
                   decided_by=body.get("decided_by"), reports=int(body.get("reports", 0)),
                   raw=dict(body))


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_from_response(status: int, raw: bytes, headers: Mapping[str, str]) -> ModerationError:
    """The exception for an error answer: the service's JSON body, Google's envelope (the
    Perspective endpoints) or, from a proxy, anything else."""
    body: Any = None
    code, message, field_name, details = f"http_{status}", "", None, []
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        message = raw[:200].decode(errors="replace").strip()
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # {"error": {"code", "status", "message", "details"}}
            types = [d.get("errorType") for d in error.get("details") or []
                     if isinstance(d, dict) and d.get("errorType")]
            code = str(types[0] if types else error.get("status") or code)
            message = str(error.get("message") or "")
            field_name = error.get("field")
            details = [d for d in error.get("details") or [] if isinstance(d, dict)]
        elif isinstance(error, str):  # {"error", "message", "field", "details"}
            code = error
            message = str(body.get("message") or "")
            field_name = body.get("field")
            details = [d for d in body.get("details") or [] if isinstance(d, dict)]
    message = message or f"HTTP {status}"
    if status == 429:
        lookup = {k.lower(): v for k, v in headers.items()}
        return RateLimited(status, code, message, field_name, details, body,
                           retry_after=_retry_after(lookup.get("retry-after")))
    return ModerationError(status, code, message, field_name, details, body)


@dataclass
class _Response:
    status: int
    headers: dict[str, str]
    body: Any


class ModerationClient:
    """The moderation API with one site's key.

    ``retries`` and ``backoff`` apply to comment submissions only (idempotent by id):
    up to ``retries`` more attempts, waiting ``backoff``, then twice that, and so on.
    """

    def __init__(self, base_url: str, api_key: str, timeout: float = 10, *, retries: int = 3,
                 backoff: float = 0.5) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    # -- transport ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any = None,
                 query: Mapping[str, str] | None = None) -> _Response:
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json",
                   "User-Agent": USER_AGENT}
        if data is not None:
            headers["Content-Type"] = "application/json"
        # base_url is checked to be http(s) in __init__: no file: or ftp: here.
        request = urllib.request.Request(url, data=data, headers=headers,  # noqa: S310
                                         method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
                status, answer_headers = response.status, dict(response.headers.items())
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            headers_in = dict(exc.headers.items()) if exc.headers is not None else {}
            raise error_from_response(exc.code, raw, headers_in) from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            # Refused, reset or dropped connections, timeouts, a truncated answer.
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise ServiceUnreachable(f"{method} {url}: {reason}") from exc
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError as exc:
            raise ModerationError(status, "invalid_response",
                                  f"the answer to {method} {path} is not JSON") from exc
        return _Response(status, answer_headers, parsed)

    def _request_idempotent(self, method: str, path: str, body: Any) -> _Response:
        """Retry on no answer or 502/503/504: safe because the request is idempotent."""
        attempt = 0
        while True:
            try:
                return self._request(method, path, body)
            except ModerationError as exc:
                retryable = isinstance(exc, ServiceUnreachable) or exc.status in _RETRY_STATUSES
                if not retryable or attempt >= self.retries:
                    raise
            time.sleep(self.backoff * (2 ** attempt))
            attempt += 1

    # -- comments ----------------------------------------------------------------------------

    @staticmethod
    def comment_body(comment_id: str, article: Mapping[str, Any], text: str, *,
                     author: Mapping[str, Any] | None = None, parent_id: str | None = None,
                     created_at: str | datetime | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"id": comment_id, "article": dict(article), "text": text}
        if author is not None:
            body["author"] = dict(author)
        if parent_id is not None:
            body["parent_id"] = parent_id
        if created_at is not None:
            body["created_at"] = (created_at.isoformat() if isinstance(created_at, datetime)
                                  else created_at)
        return body

    def submit_comment(self, comment_id: str, article: Mapping[str, Any], text: str, *,
                       author: Mapping[str, Any] | None = None, parent_id: str | None = None,
                       created_at: str | datetime | None = None) -> Accepted:
        """``POST /v1/comments``. ``article`` is ``{"id", "title", "url", "tags"}``."""
        body = self.comment_body(comment_id, article, text, author=author, parent_id=parent_id,
                                 created_at=created_at)
        response = self._request_idempotent("POST", "/v1/comments", body)
        replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
        return Accepted(str(response.body["id"]), str(response.body["status"]), replayed)

    def submit_batch(self, comments: Sequence[Mapping[str, Any]]) -> list[Accepted]:
        """``POST /v1/comments:batch`` with whole comment bodies (up to 500)."""
        response = self._request_idempotent("POST", "/v1/comments:batch",
                                            {"comments": [dict(c) for c in comments]})
        return [Accepted(str(a["id"]), str(a["status"])) for a in response.body["comments"]]

    def comment(self, comment_id: str) -> CommentState:
        """``GET /v1/comments/<id>``: status, whether to show it, flags and scores."""
        path = "/v1/comments/" + urllib.parse.quote(comment_id, safe="")
        return CommentState.from_json(self._request("GET", path).body)

    def report(self, comment_id: str, reporter_id: str, reason: str,
               note: str = "") -> dict[str, Any]:
        """A reader's report (``reason``: a rule id or ``other``); one reader counts once.
        Returns ``{"comment_id", "reports", "counted"}``."""
        path = "/v1/comments/" + urllib.parse.quote(comment_id, safe="") + "/reports"
        body = {"reporter_id": reporter_id, "reason": reason, "note": note}
        return dict(self._request("POST", path, body).body)

    def rules(self) -> dict[str, Any]:
        """The site's rules: ``{"rules": [...], "policy_version", "premoderate_tags"}``."""
        return dict(self._request("GET", "/v1/rules").body)

    # -- the review queue (a key with the ``moderate`` scope) ---------------------------------

    def review_queue(self, **filters: str | int | bool) -> dict[str, Any]:
        """``GET /v1/review-queue``; filters: rule, story, section, author, reported,
        escalated, q, limit. Returns ``{"items": [...], "counts_by_rule": {...}}``."""
        query = {name: ("true" if value else "false") if isinstance(value, bool) else str(value)
                 for name, value in filters.items()}
        return dict(self._request("GET", "/v1/review-queue", query=query).body)

    def claim(self, item_id: int, moderator: str, *, senior: bool = False) -> dict[str, Any]:
        """Lease a queue item to ``moderator`` for a few minutes."""
        body = {"moderator": moderator, "senior": senior}
        return dict(self._request("POST", f"/v1/review-queue/{int(item_id)}/claim", body).body)

    def decide(self, item_id: int, moderator: str, decision: str,
               rules: Iterable[str] = (), note: str = "", *,
               senior: bool = False) -> dict[str, Any]:
        """``decision``: approve, reject (name the ``rules`` broken) or escalate."""
        body = {"moderator": moderator, "decision": decision, "rules": list(rules),
                "note": note, "senior": senior}
        path = f"/v1/review-queue/{int(item_id)}/decision"
        return dict(self._request("POST", path, body).body)

    def undo(self, decision_id: int, moderator: str, *, senior: bool = False) -> dict[str, Any]:
        """Take a moderator's decision back (within the undo window)."""
        body = {"moderator": moderator, "senior": senior}
        path = f"/v1/review-queue/decisions/{int(decision_id)}/undo"
        return dict(self._request("POST", path, body).body)

    # -- Perspective-compatible scoring -------------------------------------------------------

    def analyze(self, text: str, attributes: Iterable[str] = ("TOXICITY",), *,
                languages: Sequence[str] = ("en",), do_not_store: bool = True,
                article: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``POST /v1alpha1/comments:analyze`` in Perspective's shapes.

        With ``do_not_store=False`` the comment is also stored, decided under the site's rules
        and queued when a rule may be broken. ``summary_scores`` picks out the values.
        """
        body: dict[str, Any] = {"comment": {"text": text},
                                "requestedAttributes": {name: {} for name in attributes},
                                "languages": list(languages), "doNotStore": do_not_store}
        if article is not None:
            body["article"] = dict(article)
        return dict(self._request("POST", "/v1alpha1/comments:analyze", body).body)

    @staticmethod
    def summary_scores(analysis: Mapping[str, Any]) -> dict[str, float]:
        """``{"TOXICITY": 0.93, ...}`` from an :meth:`analyze` answer."""
        return {name: float(value["summaryScore"]["value"])
                for name, value in analysis.get("attributeScores", {}).items()}


# -- receiving decision webhooks ---------------------------------------------------------------


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, candidate in headers.items():
        if key.lower() == wanted:
            return candidate
    return None


def verify_webhook(headers: Mapping[str, str], raw_body: bytes, secrets: str | Iterable[str],
                   tolerance: int = DEFAULT_TOLERANCE_SECONDS,
                   now: float | None = None) -> dict[str, Any]:
    """Check a decision webhook and return its event; raises :class:`SignatureError`.

    ``raw_body`` must be the bytes as received (before any JSON parsing). ``secrets`` is the
    endpoint's signing secret, or several during a rotation. The signature must be within
    ``tolerance`` seconds of now, as the service's own inbound webhooks require.
    """
    secret_list = [secrets] if isinstance(secrets, str) else list(secrets)
    if not secret_list:
        raise SignatureError("no signing secret to check against")
    verify(_header(headers, SIGNATURE_HEADER), raw_body, secret_list, tolerance, now)
    try:
        event = json.loads(raw_body)
    except ValueError as exc:
        raise SignatureError("the signed body is not JSON") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) \
            or not isinstance(event.get("type"), str):
        raise SignatureError("the signed body is not an event (no id or type)")
    header_id = _header(headers, EVENT_ID_HEADER)
    if header_id is not None and header_id != event["id"]:
        raise SignatureError(f"the {EVENT_ID_HEADER} header does not match the body's id")
    return event


class WebhookDeduplicator:
    """The event ids seen lately (at most ``max_size``, oldest forgotten first); thread-safe.

    Deliveries are at least once: the same event may come again (a lost answer, a retry, a
    redelivery on request). Act on it only when :meth:`first_time` says so; if acting on it
    fails, :meth:`forget` it so the next delivery is processed. A site that must not act twice
    even across restarts keeps the ids in its database instead.
    """

    def __init__(self, max_size: int = 10_000) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        """True the first time an id is seen (and remember it); False for a repeat."""
        with self._lock:
            if event_id in self._seen:
                self._seen.move_to_end(event_id)
                return False
            self._seen[event_id] = None
            while len(self._seen) > self.max_size:
                self._seen.popitem(last=False)
            return True

    def forget(self, event_id: str) -> None:
        with self._lock:
            self._seen.pop(event_id, None)

    def __contains__(self, event_id: object) -> bool:
        with self._lock:
            return event_id in self._seen

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)
