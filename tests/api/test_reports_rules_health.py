"""Reader reports, the rule set and the health probes."""

from __future__ import annotations

from moderation.entities import AuditEvent, Report
from tests.api.payloads import comment
from tests.support import count


def test_a_report_is_counted_once_per_reader(client, auth):
    client.post("/v1/comments", json=comment(), headers=auth)
    report = {"reporter_id": "u-9", "reason": "threats", "note": "scary"}
    first = client.post("/v1/comments/c-1/reports", json=report, headers=auth)
    again = client.post("/v1/comments/c-1/reports", json=report, headers=auth)
    other = client.post("/v1/comments/c-1/reports", headers=auth,
                        json={"reporter_id": "u-10", "reason": "other"})
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert first.json == {"comment_id": "c-1", "reports": 1, "counted": True}
    assert again.json["counted"] is False
    assert other.json["reports"] == 2
    assert client.get("/v1/comments/c-1", headers=auth).json["reports"] == 2
    assert count(Report) == 2
    assert count(AuditEvent, kind="comment.reported") == 2


def test_a_report_needs_a_known_reason_and_a_reporter(client, auth):
    client.post("/v1/comments", json=comment(), headers=auth)
    bad_reason = client.post("/v1/comments/c-1/reports", headers=auth,
                             json={"reporter_id": "u-9", "reason": "boring"})
    assert bad_reason.status_code == 422
    assert bad_reason.json["field"] == "reason"
    assert "threats" in bad_reason.json["message"]
    no_reporter = client.post("/v1/comments/c-1/reports", headers=auth, json={"reason": "other"})
    assert no_reporter.status_code == 422
    assert no_reporter.json["field"] == "reporter_id"


def test_reporting_an_unknown_comment_is_404(client, auth):
    response = client.post("/v1/comments/ghost/reports", headers=auth,
                           json={"reporter_id": "u-9", "reason": "other"})
    assert response.status_code == 404


def test_the_rule_set_lists_the_default_rules(client, auth):
    response = client.get("/v1/rules", headers=auth)
    assert response.status_code == 200
    rules = {rule["id"]: rule for rule in response.json["rules"]}
    for rule_id in ("personal-abuse", "hate", "threats", "obscene", "spam", "personal-data",
                    "victim-identification", "legal-proceedings", "victim-blaming"):
        assert rules[rule_id]["description"]
        assert 0 < rules[rule_id]["review_threshold"] <= 1
    assert response.json["policy_version"].startswith("p-")


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"database": "ok", "broker": "ok"}


def test_readiness_fails_when_the_broker_is_down(settings):
    from dataclasses import replace

    from moderation import create_app
    from tests.support import free_port

    down = create_app(replace(settings, broker_url=f"redis://127.0.0.1:{free_port()}/0"))
    response = down.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["broker"] == "down"
