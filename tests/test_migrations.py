"""Migrations go up, down and up again on both databases, and match the entities."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from moderation.entities import Base
from moderation.migrate import downgrade, upgrade
from tests.conftest import scratch_database


def _round_trip(url: str) -> None:
    upgrade(url)
    engine = create_engine(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"entities and migrations disagree: {diff}"
    downgrade(url)
    assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
    upgrade(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_sqlite_round_trip(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'm.sqlite3'}")


def test_postgresql_round_trip():
    with scratch_database("moderation_mig", migrate=False) as url:
        _round_trip(url)
