"""`moderation up`: the whole service in the foreground on one machine, no external server.

It migrates the database, makes sure a demo site and key exist, then supervises two child
processes: the API under gunicorn and a Celery worker with the periodic jobs embedded
(-B). With DATABASE_URL / CELERY_BROKER_URL set, the same runs against PostgreSQL/Redis.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from moderation import db
from moderation.config import Settings
from moderation.errors import Unauthorised
from moderation.migrate import upgrade
from moderation.services.keys import authenticate, create_key

DEMO_SITE = "demo"


def demo_key(settings: Settings) -> str:
    """The demo site's key, kept in the data folder (owner-readable only) across restarts."""
    key_file = settings.data_dir / "demo-api-key"
    db.init_engine(settings.database_url)
    with db.session_scope() as session:
        if key_file.exists():
            raw = key_file.read_text().strip()
            try:
                authenticate(session, raw)
                return raw
            except Unauthorised:
                pass
        raw = create_key(session, DEMO_SITE, name="demo")
    key_file.touch(mode=0o600)
    key_file.write_text(raw + "\n")
    return raw


def _wait_until_up(url: str, api: subprocess.Popen, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if api.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):  # noqa: S310 - our URL
                return True
        except OSError:
            time.sleep(0.3)
    return False


def run_embedded(settings: Settings, host: str, port: int, web_workers: int) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    key = demo_key(settings)
    env = {**os.environ, "MODERATION_DATA_DIR": str(settings.data_dir)}
    python = sys.executable
    worker = subprocess.Popen(
        [python, "-m", "celery", "-A", "workers.celery_app", "worker", "-B",
         "--concurrency", "1", "--loglevel", "INFO",
         "--schedule", str(settings.data_dir / "celerybeat-schedule")],
        env=env,
    )
    api = subprocess.Popen(
        [python, "-m", "gunicorn", "--workers", str(web_workers), "--bind", f"{host}:{port}",
         "--graceful-timeout", "5", "--no-control-socket", "moderation.wsgi:app"],
        env=env,
    )
    children = [api, worker]
    url = f"http://{host}:{port}"

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if _wait_until_up(url, api):
        print(f"\nModeration service is up at {url}\n"
              f"  demo site API key: {key}\n"
              f"  data: {Path(settings.data_dir)}\n"
              f"  try:  curl -s -X POST {url}/v1/comments -H 'Authorization: Bearer {key}' "
              "-H 'Content-Type: application/json' -d '{\"id\": \"c-1\", \"article\": "
              "{\"id\": \"a-1\", \"title\": \"Roadworks\"}, \"text\": \"I will find you and "
              "kill you\"}'\n"
              f"        curl -s {url}/v1/comments/c-1 -H 'Authorization: Bearer {key}'\n",
              flush=True)
    # Supervise: when either child ends, stop the other and exit with its status.
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop()
    codes = []
    for child in children:
        try:
            codes.append(child.wait(timeout=20))
        except subprocess.TimeoutExpired:
            child.kill()
            codes.append(child.wait())
    return 0 if all(code in (0, -signal.SIGTERM) for code in codes) else 1
