"""The embedded default: `moderation up` with SQLite and a file-backed broker, no server."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.api.payloads import comment
from tests.conftest import clean_env
from tests.support import Process, cli, free_port, wait_for


def embedded_env(data_dir: Path) -> dict[str, str]:
    env = clean_env()
    env.update({"MODERATION_DATA_DIR": str(data_dir), "MODERATION_PENDING_GRACE_SECONDS": "5",
                "MODERATION_SWEEP_INTERVAL_SECONDS": "2"})
    return env


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    data_dir = tmp_path_factory.mktemp("embedded")
    port = free_port()
    service = Process([sys.executable, "-m", "moderation.cli", "up", "--port", str(port)],
                      embedded_env(data_dir), data_dir / "up.log")
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if not service.alive():
            raise AssertionError("moderation up died:\n" + service.log()[-3000:])
        return "is up at" in service.log() and "ready." in service.log()

    try:
        wait_for(ready, 90, message="moderation up to start its API and worker")
        key = (data_dir / "demo-api-key").read_text().strip()
        yield url, key, data_dir
    finally:
        service.stop()


def test_up_uses_no_external_server(embedded):
    _, _, data_dir = embedded
    assert (data_dir / "moderation.sqlite3").exists()
    assert (data_dir / "broker.sqlite3").exists()
    assert oct((data_dir / "demo-api-key").stat().st_mode & 0o777) == "0o600"


def test_a_threat_comes_back_flagged_within_seconds(embedded):
    url, key, _ = embedded
    headers = {"Authorization": f"Bearer {key}"}
    body = comment("emb-1", text="I know where you live and I will kill you")
    response = requests.post(f"{url}/v1/comments", json=body, headers=headers, timeout=10)
    assert response.status_code == 202

    def state() -> dict | None:
        got = requests.get(f"{url}/v1/comments/emb-1", headers=headers, timeout=10).json()
        return got if got["status"] != "pending" else None

    decided = wait_for(state, 30, message="the embedded worker to score the comment")
    assert "threats" in [flag["rule"] for flag in decided["flags"]]
    replay = requests.post(f"{url}/v1/comments", json=body, headers=headers, timeout=10)
    assert replay.status_code == 202
    assert replay.json()["status"] == decided["status"]
    report = requests.post(f"{url}/v1/comments/emb-1/reports", headers=headers, timeout=10,
                           json={"reporter_id": "r-1", "reason": "threats"})
    assert report.status_code == 201
    assert requests.get(f"{url}/readyz", timeout=10).status_code == 200


def test_keys_create_prints_a_working_key(embedded):
    url, _, data_dir = embedded
    key = cli(embedded_env(data_dir), "keys", "create", "--site", "another-title").strip()
    assert key.startswith("mod_")
    response = requests.get(f"{url}/v1/rules", headers={"Authorization": f"Bearer {key}"},
                            timeout=10)
    assert response.status_code == 200


def test_score_reads_json_lines_and_writes_one_line_each(tmp_path):
    lines = [
        {"id": "1", "article": {"id": "a", "title": "Court case", "tags": []},
         "text": "I will find you and kill you"},
        {"id": "2", "article": {"id": "a", "title": "Roadworks"},
         "text": "Sensible plan, glad the council listened."},
        {"id": 3, "text": "Ring me on 07700 900123 for cheap loans www.cash-now.biz"},
    ]
    stdin = "\n".join(json.dumps(line) for line in lines) + "\n"
    out = cli(embedded_env(tmp_path), "score", stdin=stdin)
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in results] == ["1", "2", 3]
    for result in results:
        assert set(result) == {"id", "flags", "scores", "decision"}
        assert result["decision"] in ("approve", "review", "reject")
        assert {"threats", "personal-abuse", "hate", "obscene", "spam",
                "personal-data"} <= set(result["scores"])
    assert "threats" in results[0]["flags"]
    assert results[1] == {**results[1], "flags": [], "decision": "approve"}
    assert {"personal-data", "spam"} & set(results[2]["flags"])


def test_score_reads_a_file_and_reports_bad_lines(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "ok", "text": "hello"}\n{"id": "bad"}\n')
    env = embedded_env(tmp_path)
    result = subprocess.run([sys.executable, "-m", "moderation.cli", "score", str(path)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["id"] == "ok"
    assert second == {"line": 2, "error": "validation_error", "field": "text",
                      "message": "Field required"}


EXAMPLE = Path(__file__).resolve().parents[2] / "examples"


def test_the_example_news_site_runs_against_the_embedded_default(embedded):
    """The README's example integration: posts comments with moderation.client, registers its
    webhook endpoint, and every decision reaches it signed, over the webhook."""
    url, key, data_dir = embedded
    result = subprocess.run(
        [sys.executable, str(EXAMPLE / "news_site.py"), "--url", url, "--key", key,
         "--comments", str(EXAMPLE / "comments.jsonl"), "--port", "0", "--timeout", "90"],
        env=embedded_env(data_dir), capture_output=True, text=True, timeout=180)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    sent = [json.loads(line) for line in (EXAMPLE / "comments.jsonl").read_text().splitlines()]
    assert f"{len(sent)} of {len(sent)} comments have a final state" in out
    assert "0 deliveries refused" in out
    rows = {line.split()[0]: line for line in out.splitlines()
            if line.split() and line.split()[0] in {c["id"] for c in sent}
            and line.rstrip().endswith(("webhook", "api"))}
    assert rows.keys() == {c["id"] for c in sent}
    # Each decision came over the signed webhook, not from polling the API.
    assert all(line.rstrip().endswith("webhook") for line in rows.values()), out
    threat = next(c["id"] for c in sent if "I will kill them" in c["text"])
    assert "in_review" in rows[threat] and "threats" in rows[threat]
    harmless = next(c["id"] for c in sent if "zebra crossing" in c["article"]["title"])
    assert "approved" in rows[harmless] and "shown" in rows[harmless]
