"""Nothing accepted is lost: a worker killed mid-batch, Redis down when a comment arrives."""

from __future__ import annotations

import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from tests.api.payloads import comment
from tests.conftest import service_env
from tests.support import RedisServer, cli, start_api, start_worker, wait_for


def _status_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM comments GROUP BY status")).all()
    engine.dispose()
    return {status: n for status, n in rows}


def _scalar(url: str, sql: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar_one()
    engine.dispose()
    return int(value)


def test_comments_of_a_worker_killed_mid_batch_are_still_scored(private_pg_url, tmp_path: Path):
    redis = RedisServer(tmp_path)
    redis.start()
    env = service_env(private_pg_url, redis.url, tmp_path, MODERATION_SCORE_BATCH_SIZE="10")
    api, url = start_api(env, tmp_path / "api.log")
    first = second = None
    try:
        key = cli(env, "keys", "create", "--site", "fault-site").strip()
        headers = {"Authorization": f"Bearer {key}"}
        total = 1000
        for start in range(0, total, 500):
            batch = {"comments": [comment(f"k-{i}", text=f"Comment number {i}, you idiot"
                                          if i % 3 == 0 else f"Comment number {i}")
                                  for i in range(start, start + 500)]}
            assert requests.post(f"{url}/v1/comments:batch", json=batch, headers=headers,
                                 timeout=60).status_code == 202

        first = start_worker(env, tmp_path / "worker-1.log", beat=False)
        wait_for(lambda: _status_counts(private_pg_url).get("pending", total) < total, 60,
                 interval=0.05, message="the first worker to start scoring")
        first.kill()
        pending_after_kill = _status_counts(private_pg_url).get("pending", 0)
        assert pending_after_kill > 0, "the worker finished before it could be killed"

        # A new worker with the sweeper: the killed worker's unacked messages are not
        # redelivered by Redis for an hour; the sweeper re-enqueues what is still pending.
        second = start_worker(env, tmp_path / "worker-2.log", beat=True)
        wait_for(lambda: _status_counts(private_pg_url).get("pending", 0) == 0, 180,
                 interval=0.5, message="every comment to be scored after the kill")
        assert sum(_status_counts(private_pg_url).values()) == total
        assert _scalar(private_pg_url, "SELECT count(*) FROM assessments") == total
        assert _scalar(private_pg_url,
                       "SELECT count(DISTINCT comment_id) FROM assessments") == total
    finally:
        for proc in (first, second, api):
            if proc is not None:
                proc.stop()
        redis.stop()


def test_a_comment_accepted_while_redis_is_down_is_scored_when_it_returns(
        private_pg_url, tmp_path: Path):
    redis = RedisServer(tmp_path)
    redis.start()
    env = service_env(private_pg_url, redis.url, tmp_path)
    api, url = start_api(env, tmp_path / "api.log")
    worker = None
    try:
        key = cli(env, "keys", "create", "--site", "outage-site").strip()
        headers = {"Authorization": f"Bearer {key}"}
        worker = start_worker(env, tmp_path / "worker.log", beat=True)
        redis.stop()

        started = time.monotonic()
        response = requests.post(f"{url}/v1/comments", headers=headers, timeout=30,
                                 json=comment("down-1", text="I will kill you tonight"))
        assert response.status_code == 202
        assert response.json() == {"id": "down-1", "status": "pending"}
        assert time.monotonic() - started < 10, "accepting must not wait for the broker"
        assert requests.get(f"{url}/readyz", timeout=30).status_code == 503
        state = requests.get(f"{url}/v1/comments/down-1", headers=headers, timeout=10).json()
        assert state["status"] == "pending"
        assert _scalar(private_pg_url, "SELECT count(*) FROM comments") == 1

        redis.start()

        def scored() -> dict | None:
            body = requests.get(f"{url}/v1/comments/down-1", headers=headers, timeout=10).json()
            return body if body["status"] != "pending" else None

        state = wait_for(scored, 120, interval=0.5, message="the comment to be scored")
        assert "threats" in {flag["rule"] for flag in state["flags"]}
    finally:
        if worker is not None:
            worker.stop()
        api.stop()
        redis.stop()
