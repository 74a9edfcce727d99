"""Fixtures on real services: a migrated PostgreSQL database of its own, Redis, workers.

Set TEST_DATABASE_URL / TEST_REDIS_URL to point elsewhere; the defaults are this
machine's services (see .ci/run, which starts them when they do not answer).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from moderation import db
from moderation.config import Settings
from moderation.entities import Base
from moderation.migrate import upgrade
from moderation.services.keys import create_key
from tests.support import Process, start_worker

ADMIN_URL = os.environ.get("TEST_DATABASE_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


@contextmanager
def scratch_database(prefix: str, migrate: bool = True) -> Iterator[str]:
    """A new PostgreSQL database (migrated to head unless told not to), dropped after."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        if migrate:
            upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The test session's database; the flow tests' worker shares it."""
    with scratch_database("moderation_test") as url:
        yield url
        db.dispose_engine()


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()
    return REDIS_URL


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


def clean_env() -> dict[str, str]:
    """This process's environment without the service's own settings."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("MODERATION_", "DATABASE_URL", "CELERY_"))}


def service_env(database_url: str, broker_url: str, data_dir: Path,
                **extra: str) -> dict[str, str]:
    """Environment for a worker or API child process on PostgreSQL and a Redis broker."""
    env = clean_env()
    env.update({
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "MODERATION_DATA_DIR": str(data_dir),
        "MODERATION_PENDING_GRACE_SECONDS": "3",
        "MODERATION_SWEEP_INTERVAL_SECONDS": "1",
        "MODERATION_WEBHOOK_INTERVAL_SECONDS": "0.5",
        "MODERATION_WEBHOOK_BACKOFF_SECONDS": "0.3",
        "MODERATION_WEBHOOK_MAX_ATTEMPTS": "4",
        "MODERATION_LOG_LEVEL": "INFO",
    })
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def settings(pg_url: str, redis_url: str, data_dir: Path) -> Settings:
    return Settings.from_env(database_url=pg_url, broker_url=redis_url, data_dir=data_dir,
                             pending_grace_seconds=3.0, sweep_interval_seconds=1.0)


@pytest.fixture(scope="session")
def app(settings: Settings):  # type: ignore[no-untyped-def]
    from moderation import create_app

    return create_app(settings)


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table before a test that uses the database."""
    if "pg_url" in request.fixturenames:
        request.getfixturevalue("app")
        with db.get_engine().begin() as conn:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


def new_key(site: str) -> str:
    with db.session_scope() as session:
        return create_key(session, site)


@pytest.fixture
def api_key(app) -> str:  # type: ignore[no-untyped-def]
    return new_key("the-courier")


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture(scope="session")
def worker(pg_url: str, redis_url: str, data_dir: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """One real Celery worker (with beat) for the flow tests, on PostgreSQL + Redis."""
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    proc = start_worker(service_env(pg_url, redis_url, data_dir), log, concurrency=2)
    yield proc
    proc.stop()


@pytest.fixture
def private_pg_url() -> Iterator[str]:
    """A migrated database of the test's own, so no other worker touches its comments."""
    with scratch_database("moderation_private") as url:
        yield url
