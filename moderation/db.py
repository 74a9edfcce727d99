"""Engine and session factory: one session per request, one per task.

The engine is created by ``init_engine`` (from the app factory or the worker's process
init), never at import time, and disposed after fork so pooled connections are never
shared between processes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

_engine: Engine | None = None
_session_factory: sessionmaker[Session] | None = None
_engine_pid: int | None = None

T = TypeVar("T")


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while the worker writes; busy_timeout waits for the lock
    # instead of failing, foreign_keys makes SQLite honour the schema like PostgreSQL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def init_engine(url: str) -> Engine:
    """Create (or replace) the process-wide engine and session factory."""
    global _engine, _session_factory, _engine_pid
    if _engine is not None:
        _engine.dispose(close=_engine_pid == os.getpid())
    _engine = make_engine(url)
    _engine_pid = os.getpid()
    _session_factory = sessionmaker(bind=_engine, expire_on_commit=False)
    return _engine


def ensure_engine(url: str) -> None:
    """Create this process's engine on first use; a forked child gets its own."""
    if _engine is None or _engine_pid != os.getpid():
        init_engine(url)


def dispose_engine() -> None:
    """Close this process's pooled connections (at shutdown, or before dropping a database)."""
    if _engine is not None:
        _engine.dispose()


def get_engine() -> Engine:
    if _engine is None:
        raise RuntimeError("database engine not initialised; call init_engine() first")
    return _engine


def new_session() -> Session:
    if _session_factory is None:
        raise RuntimeError("database engine not initialised; call init_engine() first")
    return _session_factory()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error; services use this."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def in_transaction_retrying_race(work: Callable[[Session], T]) -> T:
    """Run ``work`` in a transaction; if a concurrent insert broke a unique constraint,
    run it once more, when it sees the other request's row (a replay, a repeat report)."""
    try:
        with session_scope() as session:
            return work(session)
    except IntegrityError:
        with session_scope() as session:
            return work(session)
