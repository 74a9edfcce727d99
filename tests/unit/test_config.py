"""Settings: safe defaults, clear refusals."""

from __future__ import annotations

import pytest

from moderation.config import ConfigError, Settings, normalise_database_url


def test_defaults_need_no_external_server(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "MODERATION_DATABASE_URL",
                 "MODERATION_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MODERATION_DATA_DIR", str(tmp_path))
    settings = Settings.from_env()
    assert settings.database_url == f"sqlite:///{tmp_path / 'moderation.sqlite3'}"
    assert settings.broker_url == f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    assert settings.embedded


def test_production_refuses_the_default_secret(monkeypatch):
    monkeypatch.setenv("MODERATION_ENV", "production")
    monkeypatch.delenv("MODERATION_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="MODERATION_SECRET_KEY"):
        Settings.from_env()
    monkeypatch.setenv("MODERATION_SECRET_KEY", "a-real-secret")
    assert Settings.from_env().env == "production"


def test_a_malformed_number_is_named(monkeypatch):
    monkeypatch.setenv("MODERATION_MAX_TEXT_CHARS", "lots")
    with pytest.raises(ConfigError, match="MODERATION_MAX_TEXT_CHARS"):
        Settings.from_env()


def test_postgres_urls_use_psycopg3():
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"
