"""Settings read once from the environment, with defaults that make the embedded mode work.

Every setting has a ``MODERATION_*`` variable; the database and broker also honour the
conventional ``DATABASE_URL`` and ``CELERY_BROKER_URL`` so docker-compose and PaaS hosts
need no translation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

DEFAULT_SECRET = "dev-secret-change-me"  # noqa: S105 - refused in production, see validate()


class ConfigError(ValueError):
    """A setting is missing or unsafe; the process must not start."""


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


N = TypeVar("N", int, float)


def _env_number(name: str, default: N, kind: type[N]) -> N:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be {'an integer' if kind is int else 'a number'}, "
                          f"got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    secret_key: str = DEFAULT_SECRET
    data_dir: Path = Path("var")
    database_url: str = ""
    broker_url: str = ""
    model_dir: Path | None = None
    max_text_chars: int = 10_000
    max_body_bytes: int = 2_000_000
    max_batch: int = 500
    # A comment still pending after this long is re-enqueued by the sweeper.
    pending_grace_seconds: float = 60.0
    sweep_interval_seconds: float = 30.0
    # Up to this many pending comments are scored together when the queue is deep.
    score_batch_size: int = 64
    # Publishing must never block an accepted comment: give up on the broker quickly,
    # the sweeper enqueues it later.
    broker_publish_timeout_seconds: float = 2.0
    log_level: str = "INFO"
    # Load the classifier when a web process starts rather than on its first synchronous
    # request (comments:analyze, Coral), which would otherwise wait ~1-3 s past Coral's 800 ms.
    preload_model: bool = True
    # Outbound webhooks: how often new events are fanned out and due deliveries sent, and
    # the first retry's delay (doubling each time: 5 s, 10 s, ... about 21 min in all).
    webhook_interval_seconds: float = 2.0
    webhook_backoff_seconds: float = 5.0
    webhook_max_attempts: int = 8
    # Requests a minute per API key, and reports a minute per reader (0 = no limit).
    rate_limit_per_key: int = 6000
    rate_limit_per_reporter: int = 10
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        data_dir = Path(_env("MODERATION_DATA_DIR", "var")).resolve()
        database_url = os.environ.get("DATABASE_URL") or _env(
            "MODERATION_DATABASE_URL", f"sqlite:///{data_dir / 'moderation.sqlite3'}"
        )
        broker_url = os.environ.get("CELERY_BROKER_URL") or _env(
            "MODERATION_BROKER_URL", f"sqla+sqlite:///{data_dir / 'broker.sqlite3'}"
        )
        model_dir = os.environ.get("MODERATION_MODEL_DIR")
        settings = cls(
            env=_env("MODERATION_ENV", "development"),
            secret_key=_env("MODERATION_SECRET_KEY", DEFAULT_SECRET),
            data_dir=data_dir,
            database_url=normalise_database_url(database_url),
            broker_url=broker_url,
            model_dir=Path(model_dir) if model_dir else None,
            max_text_chars=_env_number("MODERATION_MAX_TEXT_CHARS", 10_000, int),
            max_body_bytes=_env_number("MODERATION_MAX_BODY_BYTES", 2_000_000, int),
            max_batch=_env_number("MODERATION_MAX_BATCH", 500, int),
            pending_grace_seconds=_env_number("MODERATION_PENDING_GRACE_SECONDS", 60.0, float),
            sweep_interval_seconds=_env_number("MODERATION_SWEEP_INTERVAL_SECONDS", 30.0, float),
            score_batch_size=_env_number("MODERATION_SCORE_BATCH_SIZE", 64, int),
            broker_publish_timeout_seconds=_env_number("MODERATION_BROKER_TIMEOUT_SECONDS", 2.0,
                                                       float),
            log_level=_env("MODERATION_LOG_LEVEL", "INFO"),
            preload_model=_env("MODERATION_PRELOAD_MODEL", "true").lower() not in (
                "0", "false", "no"),
            webhook_interval_seconds=_env_number("MODERATION_WEBHOOK_INTERVAL_SECONDS", 2.0,
                                                 float),
            webhook_backoff_seconds=_env_number("MODERATION_WEBHOOK_BACKOFF_SECONDS", 5.0,
                                                float),
            webhook_max_attempts=_env_number("MODERATION_WEBHOOK_MAX_ATTEMPTS", 8, int),
            rate_limit_per_key=_env_number("MODERATION_RATE_LIMIT_PER_KEY", 6000, int),
            rate_limit_per_reporter=_env_number("MODERATION_RATE_LIMIT_PER_REPORTER", 10, int),
        )
        known = {f.name for f in fields(cls)}
        settings = replace(settings, **{k: v for k, v in overrides.items() if k in known})
        settings.validate()
        return settings

    @property
    def redis_url(self) -> str | None:
        """The Redis the rate limits count in: the broker's, when the broker is Redis."""
        return self.broker_url if self.broker_url.startswith(("redis://", "rediss://")) else None

    @property
    def embedded(self) -> bool:
        """True when running on SQLite with the file-backed broker (no external server)."""
        return self.database_url.startswith("sqlite")

    def validate(self) -> None:
        if self.env == "production" and self.secret_key == DEFAULT_SECRET:
            raise ConfigError("MODERATION_SECRET_KEY must be set in production")
        if self.max_text_chars < 1:
            raise ConfigError("MODERATION_MAX_TEXT_CHARS must be positive")
        if self.score_batch_size < 1:
            raise ConfigError("MODERATION_SCORE_BATCH_SIZE must be positive")


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way (postgres://, postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
