"""Outbound decision webhooks through a real worker to a real HTTP endpoint: signed, retried
with backoff after failures, at least once and never dropped; dead letters and redelivery."""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from moderation.db import session_scope
from moderation.entities import AuditEvent, DeliveryState, WebhookDelivery
from moderation.services import webhooks_out
from moderation.signing import SIGNATURE_HEADER, verify
from tests.api.payloads import comment
from tests.conftest import new_key
from tests.support import wait_for


class SiteEndpoint:
    """A news site's webhook receiver: verifies signatures, fails its first N requests."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.secret = ""
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                verify(self.headers.get(SIGNATURE_HEADER), raw, [outer.secret])
                body = json.loads(raw)
                assert body["id"] == self.headers["X-Moderation-Event-Id"]
                with outer.lock:
                    failing = len(outer.received) < outer.fail_first
                    status = 503 if failing else 200
                    outer.received.append({"id": body["id"], "status": status, "body": body})
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def acked(self) -> Counter[str]:
        with self.lock:
            return Counter(r["id"] for r in self.received if r["status"] == 200)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint(app) -> Any:  # type: ignore[no-untyped-def]
    site_endpoint = SiteEndpoint(fail_first=3)
    with session_scope() as session:
        _, site_endpoint.secret = webhooks_out.add_endpoint(session, "the-courier",
                                                            site_endpoint.url)
    yield site_endpoint
    site_endpoint.close()


def _outbound_event_ids() -> set[str]:
    with session_scope() as session:
        return {f"evt_{e.id}" for e in session.scalars(select(AuditEvent))
                if e.kind in webhooks_out.EVENT_TYPES}


def test_an_endpoint_failing_three_times_then_recovering_gets_every_event(client, worker,
                                                                         endpoint):
    auth = {"Authorization": f"Bearer {new_key('the-courier')}"}
    texts = ["Thanks, useful piece.", "I know where you live and I will kill you",
             "The bins were not collected again.", "You are a pathetic idiot",
             "Good to see the library reopen."]
    for i, text in enumerate(texts):
        assert client.post("/v1/comments", json=comment(f"w-{i}", text=text),
                           headers=auth).status_code == 202

    def all_acked() -> bool:
        expected = _outbound_event_ids()
        return len(expected) >= len(texts) and set(endpoint.acked()) == expected

    wait_for(all_acked, 90, message="every decision event acknowledged by the site")
    acked = endpoint.acked()
    assert all(n == 1 for n in acked.values()), acked  # acknowledged ones are not resent
    failed = [r["id"] for r in endpoint.received if r["status"] != 200]
    assert len(failed) == 3
    receipts = Counter(r["id"] for r in endpoint.received)
    for event_id in failed:  # each failure was followed by another attempt
        assert receipts[event_id] >= 2
    assert len(endpoint.received) == len(acked) + 3
    statuses = {r["body"]["comment"]["id"]: r["body"]["comment"]["status"]
                for r in endpoint.received if r["status"] == 200}
    assert set(statuses) == {f"w-{i}" for i in range(len(texts))}
    with session_scope() as session:
        states = {d.state for d in session.scalars(select(WebhookDelivery))}
        assert states == {DeliveryState.DELIVERED}
        attempts = [d.attempts for d in session.scalars(select(WebhookDelivery))]
    assert sum(attempts) == len(endpoint.received)


def test_a_delivery_is_dead_after_the_last_retry_and_redelivered_on_request(client, worker,
                                                                           request):
    down = SiteEndpoint(fail_first=10_000)
    request.addfinalizer(down.close)
    key = new_key("the-courier")
    auth = {"Authorization": f"Bearer {key}"}
    with session_scope() as session:
        _, down.secret = webhooks_out.add_endpoint(session, "the-courier", down.url)
    client.post("/v1/comments", json=comment("d-1", text="Nice one, thanks"), headers=auth)

    def dead() -> list[dict[str, Any]]:
        return client.get("/v1/webhook-deliveries?state=dead",
                          headers=auth).json["deliveries"]

    (given_up,) = wait_for(dead, 60, message="the delivery to be given up on")
    attempts = int(worker_setting("MODERATION_WEBHOOK_MAX_ATTEMPTS"))
    assert given_up["attempts"] == attempts and given_up["last_status"] == 503
    assert len(down.received) == attempts
    other = {"Authorization": f"Bearer {new_key('the-gazette')}"}
    assert client.get("/v1/webhook-deliveries", headers=other).json["deliveries"] == []
    assert client.post(f"/v1/webhook-deliveries/{given_up['id']}/redeliver",
                       headers=other).status_code == 404
    down.fail_first = 0
    assert client.post("/v1/webhook-deliveries/redeliver-dead",
                       headers=auth).json == {"requeued": 1}
    wait_for(lambda: down.acked(), 30, message="the redelivered event to arrive")
    assert list(down.acked().values()) == [1]
    assert down.received[-1]["id"] == given_up["event_id"]


def worker_setting(name: str) -> str:
    from tests.conftest import service_env

    return service_env("", "", Path("."))[name]
