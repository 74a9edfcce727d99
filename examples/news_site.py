"""Play a news site against the moderation service.

Posts the comments in a JSON-lines file, receives the decision webhooks on a local port
(checking each signature and acting on each event once), prints what the site would show
for each comment as its decision arrives, then a summary table. Exits 0 when every comment
was stored and reached a final state (approved, rejected, or held for a moderator) within
--timeout, 1 otherwise.

Against the embedded default (``moderation up`` in this folder, in another terminal)::

    .venv/bin/python examples/news_site.py --url http://127.0.0.1:8000 \
        --key "$(cat var/demo-api-key)" --comments examples/comments.jsonl

It registers its webhook endpoint itself by running ``moderation webhooks add --site SITE
--url URL`` with this process's environment and folder, so against the same data as the
service, and keeps the signing secret in ``$MODERATION_DATA_DIR/news-site-webhooks.json``
(default ``./var``) so that later runs reuse that endpoint. When the service runs elsewhere,
register the endpoint there and pass the secret it printed with ``--webhook-secret``.

Each line of the comments file is a comment as ``POST /v1/comments`` takes it:
``{"id", "article": {"id", "title", "url", "tags"}, "author": {"id", "name"}, "text"}``.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from moderation.client import (
    CommentState,
    ModerationClient,
    ModerationError,
    SignatureError,
    WebhookDeduplicator,
    verify_webhook,
)

EVENTS_PATH = "/moderation-events"
MAX_EVENT_BYTES = 1_000_000
FINAL_STATUSES = ("approved", "rejected", "in_review")
DEMO_SITE = "demo"  # the site of the key `moderation up` prints (moderation/embedded.py)
STATE_FILE = "news-site-webhooks.json"


# -- what the site shows ------------------------------------------------------------------------


@dataclass
class Shown:
    """What the site knows about one of its comments."""

    comment_id: str
    story: str
    status: str = "not sent"
    visible: bool = False
    why: str = ""
    via: str = ""  # webhook | api
    last_event: int = -1  # the sequence number of the newest event applied
    events: int = 0

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def line(self) -> str:
        shown = "shown" if self.visible else "hidden"
        if self.status == "pending":
            shown += " (waiting for the moderation service)"
        elif self.why:
            shown += f" ({self.why})"
        return f"{self.comment_id}: {shown}"


def _flags_text(flags: list[dict[str, Any]]) -> str:
    return ", ".join(f"{f['rule']} {float(f['score']):.2f}" for f in flags)


def _by(actor: str) -> str:
    if actor == "model":
        return ""
    if actor == "readers":
        return " by readers' reports"
    return " by a moderator"


def describe_event(event: dict[str, Any]) -> tuple[str, bool, str]:
    """(status, visible, why) from a decision event, as the event says it was then."""
    data: dict[str, Any] = event.get("data") or {}
    comment: dict[str, Any] = event.get("comment") or {}
    status = str(data.get("status") or comment.get("status") or "pending")
    visible = bool(data.get("visible", comment.get("visible", False)))
    actor = str(event.get("actor") or "")
    flags = _flags_text(data.get("flags") or [])
    rules = ", ".join(data.get("rules") or [])
    kind = event["type"]
    if kind == "comment.hidden":
        why = (f"reported by {data.get('reports', 'several')} readers; "
               "hidden until a moderator decides")
    elif kind == "comment.restored":
        why = "a moderator's decision was undone; in review again"
    elif status == "in_review":
        why = "in review" + (f": {flags}" if flags else "")
    elif status == "rejected":
        why = f"rejected{_by(actor)}" + (f": {flags or rules}" if flags or rules else "")
    elif status == "approved":
        why = "approved by a moderator" if actor not in ("model", "") else ""
    else:
        why = status
    return status, visible, why


def describe_state(state: CommentState) -> tuple[str, bool, str]:
    """(status, visible, why) from ``GET /v1/comments/<id>``."""
    flags = ", ".join(f"{f.rule} {f.score:.2f}" for f in state.flags)
    by = " by a moderator" if state.decided_by == "moderator" else ""
    if state.status == "in_review":
        why = "in review" + (f": {flags}" if flags else "")
    elif state.status == "rejected":
        why = f"rejected{by}" + (f": {flags}" if flags else "")
    elif state.status == "approved":
        why = "approved by a moderator" if by else ""
    else:
        why = ""
    return state.status, state.visible, why


def event_sequence(event_id: str) -> int:
    """Events are numbered ``evt_<n>`` in the order they happened."""
    match = re.fullmatch(r"evt_(\d+)", event_id)
    return int(match.group(1)) if match else -1


# -- the webhook endpoint -----------------------------------------------------------------------


class EventReceiver(ThreadingHTTPServer):
    """Receives decision webhooks: verifies, de-duplicates, hands new events to the main
    thread. It answers 2xx only for an event it has kept, so the service retries the rest."""

    daemon_threads = True

    def __init__(self, host: str, port: int, secrets: list[str]) -> None:
        super().__init__((host, port), EventHandler)
        self.secrets = secrets
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen = WebhookDeduplicator(max_size=10_000)
        self.duplicates = 0
        self.refused = 0
        self._lock = threading.Lock()

    def receive(self, headers: dict[str, str], raw: bytes) -> int:
        try:
            event = verify_webhook(headers, raw, self.secrets)
        except SignatureError as exc:
            with self._lock:
                self.refused += 1
            event_id = headers.get("X-Moderation-Event-Id", "?")
            print(f"  ! refused a delivery of {event_id}: {exc} (is the signing secret right?)",
                  file=sys.stderr, flush=True)
            return 401
        if self.seen.first_time(event["id"]):
            self.events.put(event)
        else:
            with self._lock:
                self.duplicates += 1
        return 204


class EventHandler(BaseHTTPRequestHandler):
    server: EventReceiver
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        if urlsplit(self.path).path != EVENTS_PATH:
            self._answer(404)
            return
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            self._answer(400)
            return
        if length > MAX_EVENT_BYTES:
            self.close_connection = True
            self._answer(413)
            return
        raw = self.rfile.read(length)
        self._answer(self.server.receive(dict(self.headers.items()), raw))

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # the site prints what matters itself


# -- registering the endpoint -------------------------------------------------------------------


def data_dir() -> Path:
    return Path(os.environ.get("MODERATION_DATA_DIR", "var"))


def endpoint_secret(site: str, url: str) -> str:
    """The signing secret of this site's endpoint at ``url``: registered by an earlier run
    (kept next to the service's data), or registered now with ``moderation webhooks add``."""
    state_file = data_dir() / STATE_FILE
    known: dict[str, str] = {}
    if state_file.exists():
        known = json.loads(state_file.read_text())
    key = f"{site} {url}"
    if key in known:
        print(f"using the webhook endpoint registered earlier for {site} ({state_file})")
        return known[key]
    command = [sys.executable, "-m", "moderation.cli", "webhooks", "add", "--site", site,
               "--url", url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    match = re.search(r"signing secret: (\S+)", result.stdout)
    if result.returncode != 0 or match is None:
        raise SystemExit(f"could not register the webhook endpoint ({' '.join(command[1:])}):\n"
                         f"{result.stderr.strip()[-2000:]}\nRegister it yourself with "
                         f"`moderation webhooks add --site {site} --url {url}` and pass the "
                         "secret it prints with --webhook-secret.")
    print(f"registered {url} for site {site!r} (moderation webhooks add)")
    known[key] = match.group(1)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.touch(mode=0o600)
    state_file.write_text(json.dumps(known, indent=2) + "\n")
    return match.group(1)


# -- the run --------------------------------------------------------------------------------------


@dataclass
class Run:
    shown: dict[str, Shown] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    other_events: int = 0

    def apply(self, event: dict[str, Any]) -> None:
        comment_id = (event.get("comment") or {}).get("id")
        kind = event["type"]
        if comment_id is None:  # author events: warned, suspended, banned...
            print(f"[{event['id']} {kind}] author {(event.get('data') or {}).get('author', '')}",
                  flush=True)
            return
        item = self.shown.get(comment_id)
        if item is None:  # a comment this run did not send
            self.other_events += 1
            return
        item.events += 1
        sequence = event_sequence(event["id"])
        if sequence < item.last_event:
            print(f"[{event['id']} {kind}] {comment_id}: older than what we know, ignored",
                  flush=True)
            return
        item.last_event = sequence
        item.status, item.visible, item.why = describe_event(event)
        item.via = "webhook"
        print(f"[{event['id']} {kind}] {item.line()}", flush=True)


def load_comments(path: Path) -> list[dict[str, Any]]:
    comments = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            comment = json.loads(line)
        except ValueError as exc:
            raise SystemExit(f"{path}:{number}: not JSON: {exc}") from exc
        if not isinstance(comment, dict) or not {"id", "article", "text"} <= comment.keys():
            raise SystemExit(f"{path}:{number}: a comment needs id, article and text")
        comments.append(comment)
    return comments


def post_comments(client: ModerationClient, comments: list[dict[str, Any]], run: Run) -> None:
    for comment in comments:
        comment_id = str(comment["id"])
        item = run.shown[comment_id]
        try:
            accepted = client.submit_comment(
                comment_id, comment["article"], comment["text"], author=comment.get("author"),
                parent_id=comment.get("parent_id"), created_at=comment.get("created_at"))
        except ModerationError as exc:
            run.refused.append(comment_id)
            item.status, item.why = "refused", f"{exc.code}: {exc.message}"
            print(f"{comment_id}: refused by the service: {exc}", flush=True)
            continue
        if accepted.replayed and accepted.status != "pending":
            # Sent by an earlier run and decided then: its events are long delivered, so the
            # site reads the decision instead of waiting for one.
            state = client.comment(comment_id)
            item.status, item.visible, item.why = describe_state(state)
            item.via = "api"
            print(f"{comment_id}: already sent and decided earlier; {item.line()}", flush=True)
            continue
        if item.last_event < 0:  # its decision may already have arrived
            item.status = "pending"
            item.visible = False
        print(f"{comment_id}: posted ({accepted.status}"
              f"{', replayed' if accepted.replayed else ''}) on {item.story!r}", flush=True)


def wait_for_decisions(receiver: EventReceiver, run: Run, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        waiting = [s for s in run.shown.values() if s.status == "pending"]
        if not waiting:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            event = receiver.events.get(timeout=min(left, 1.0))
        except queue.Empty:
            continue
        run.apply(event)


def summary(run: Run, client: ModerationClient, receiver: EventReceiver) -> bool:
    rows = []
    for item in run.shown.values():
        if item.status == "pending":
            try:
                now = client.comment(item.comment_id).status
                item.why = f"no decision received; the service says {now}"
            except ModerationError as exc:
                item.why = f"no decision received ({exc})"
        rows.append((item.comment_id, item.story[:40], item.status,
                     "shown" if item.visible else "hidden", item.why, item.via or "-"))
    header = ("comment", "story", "status", "site shows", "why", "via")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip())
    done = [s for s in run.shown.values() if s.final]
    print(f"\n{len(done)} of {len(run.shown)} comments have a final state; "
          f"{sum(s.events for s in run.shown.values())} events applied, "
          f"{receiver.duplicates} duplicate deliveries ignored, "
          f"{receiver.refused} deliveries refused (bad signature).", flush=True)
    return len(done) == len(run.shown) and not run.refused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--url", required=True, help="The moderation service, e.g. "
                        "http://127.0.0.1:8000")
    parser.add_argument("--key", default=os.environ.get("MODERATION_API_KEY"),
                        help="The site's API key (default $MODERATION_API_KEY).")
    parser.add_argument("--comments", type=Path, required=True,
                        help="JSON lines, one comment each.")
    parser.add_argument("--site", default=DEMO_SITE,
                        help="The site the key belongs to (default: demo, the key `moderation "
                        "up` prints).")
    parser.add_argument("--host", default="127.0.0.1", help="Where to listen for webhooks.")
    parser.add_argument("--port", type=int, default=8765,
                        help="Port for the webhooks (0: any free port).")
    parser.add_argument("--webhook-url", default=None,
                        help="The URL the service should post to (default "
                        f"http://HOST:PORT{EVENTS_PATH}).")
    parser.add_argument("--webhook-secret", action="append", default=[],
                        help="The endpoint's signing secret, from `moderation webhooks add`; "
                        "without it the endpoint is registered here (repeat during a rotation).")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="Seconds to wait for every decision (default 60).")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("--key (or $MODERATION_API_KEY) is required")
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    comments = load_comments(args.comments)
    ids = [str(c["id"]) for c in comments]
    if len(set(ids)) != len(ids):
        raise SystemExit(f"{args.comments}: comment ids must be unique")
    client = ModerationClient(args.url, args.key)
    run = Run({str(c["id"]): Shown(str(c["id"]), str(c["article"].get("title") or
                                                    c["article"]["id"])) for c in comments})

    receiver = EventReceiver(args.host, args.port, list(args.webhook_secret))
    port = receiver.server_address[1]
    webhook_url = args.webhook_url or f"http://{args.host}:{port}{EVENTS_PATH}"
    thread = threading.Thread(target=receiver.serve_forever, name="webhooks", daemon=True)
    thread.start()
    try:
        if not receiver.secrets:
            receiver.secrets.append(endpoint_secret(args.site, webhook_url))
        print(f"news site for {args.site!r}: decisions arrive at {webhook_url}\n")
        post_comments(client, comments, run)
        print(f"\nwaiting up to {args.timeout:g} s for the decisions...\n")
        wait_for_decisions(receiver, run, args.timeout)
        ok = summary(run, client, receiver)
    except ModerationError as exc:
        print(f"the moderation service refused a request: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        receiver.shutdown()
        receiver.server_close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
