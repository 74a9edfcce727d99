"""Rate limits per key and per reader (Redis-backed, 429 + Retry-After), and key management:
scopes, listing, revocation."""

from __future__ import annotations

import dataclasses
import time
import uuid

import pytest
from click.testing import CliRunner

from moderation.cli import main as cli
from moderation.db import session_scope
from moderation.services.keys import create_key
from moderation.services.ratelimit import RateLimiter, _RedisCounter, limiter_for
from tests.api.payloads import comment


@pytest.fixture
def limited_client(settings):  # type: ignore[no-untyped-def]
    from moderation import create_app

    app = create_app(dataclasses.replace(settings, rate_limit_per_key=3,
                                         rate_limit_per_reporter=2, preload_model=False))
    return app.test_client()


def _key(scopes: tuple[str, ...] = ("submit", "read", "moderate", "admin")) -> str:
    with session_scope() as session:
        return create_key(session, "the-courier", scopes=scopes)


def test_a_key_over_its_limit_gets_429_with_retry_after(limited_client, pg_url):
    auth = {"Authorization": f"Bearer {_key()}"}
    for i in range(3):
        assert limited_client.post("/v1/comments", json=comment(f"c{i}"),
                                   headers=auth).status_code == 202
    response = limited_client.post("/v1/comments", json=comment("c9"), headers=auth)
    assert response.status_code == 429
    assert response.json["error"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    other = {"Authorization": f"Bearer {_key()}"}  # another key has its own budget
    assert limited_client.get("/v1/rules", headers=other).status_code == 200


def test_the_perspective_endpoint_says_429_in_googles_shape(limited_client, pg_url):
    key = _key()
    body = {"comment": {"text": "fine"}, "requestedAttributes": {"TOXICITY": {}},
            "doNotStore": True}
    for _ in range(3):
        limited_client.post(f"/v1alpha1/comments:analyze?key={key}", json={})
    response = limited_client.post(f"/v1alpha1/comments:analyze?key={key}", json=body)
    assert response.status_code == 429
    assert response.json["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert "Retry-After" in response.headers


def test_one_reader_cannot_flood_reports(client, auth, settings):
    from moderation import create_app

    app = create_app(dataclasses.replace(settings, rate_limit_per_reporter=2,
                                         preload_model=False))
    limited = app.test_client()
    reader = f"reader-{uuid.uuid4().hex[:8]}"
    for i in range(3):
        client.post("/v1/comments", json=comment(f"c{i}"), headers=auth)
    statuses = [limited.post(f"/v1/comments/c{i}/reports", headers=auth,
                             json={"reporter_id": reader, "reason": "other"}).status_code
                for i in range(3)]
    assert statuses == [201, 201, 429]
    refused = limited.post("/v1/comments/c2/reports", headers=auth,
                           json={"reporter_id": reader, "reason": "other"})
    assert refused.json["field"] == "reporter_id"


def test_a_dead_redis_lets_traffic_through_without_waiting():
    limiter = RateLimiter(_RedisCounter("redis://127.0.0.1:1/0"))
    started = time.perf_counter()
    for _ in range(50):
        limiter.hit("key:x", 1, "requests")  # would be limited if counted
    assert time.perf_counter() - started < 2.0  # one failed connect, then no more tries


def test_the_in_process_limiter_counts_too():
    limiter = limiter_for(None)
    bucket = f"key:{uuid.uuid4().hex}"
    limiter.hit(bucket, 2, "requests")
    limiter.hit(bucket, 2, "requests")
    with pytest.raises(Exception, match="at most 2 a minute"):
        limiter.hit(bucket, 2, "requests")


def test_scopes_listing_and_revocation(client, pg_url):
    runner = CliRunner(env={"DATABASE_URL": pg_url})
    created = runner.invoke(cli, ["keys", "create", "--site", "the-courier", "--name", "cms",
                                  "--scope", "submit"])
    assert created.exit_code == 0, created.output
    key = created.output.strip()
    auth = {"Authorization": f"Bearer {key}"}
    assert client.post("/v1/comments", json=comment("c1"), headers=auth).status_code == 202
    assert client.get("/v1/comments/c1", headers=auth).status_code == 403  # no read scope
    listed = runner.invoke(cli, ["keys", "list", "--site", "the-courier"])
    prefix = key.split("_")[1]
    assert prefix in listed.output and "submit" in listed.output and "active" in listed.output
    assert key.split("_", 2)[2] not in listed.output  # the secret is never shown
    revoked = runner.invoke(cli, ["keys", "revoke", prefix])
    assert revoked.exit_code == 0, revoked.output
    assert client.post("/v1/comments", json=comment("c2"), headers=auth).status_code == 401
    assert "revoked" in runner.invoke(cli, ["keys", "list", "--site", "the-courier"]).output
    assert runner.invoke(cli, ["keys", "revoke", "nope"]).exit_code != 0
