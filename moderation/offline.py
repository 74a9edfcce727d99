"""`moderation score`: the workers' scorer and policy, over JSON lines, without a server."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from moderation.api.errors import field_path
from moderation.config import Settings
from moderation.policy import Policy, decide, default_policy
from moderation.schemas import ArticleIn

CHUNK = 256


class OfflineIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int
    article: ArticleIn | None = None
    text: str = Field(min_length=1)


def _policy(settings: Settings, site_name: str | None) -> Policy:
    if site_name is None:
        return default_policy()
    from sqlalchemy import select

    from moderation import db
    from moderation.entities import Site
    from moderation.services.sites import site_policy

    db.init_engine(settings.database_url)
    with db.session_scope() as session:
        site = session.scalar(select(Site).where(Site.name == site_name))
        if site is None:
            raise SystemExit(f"no site named {site_name!r}")
        return site_policy(site)


def score_lines(lines: Iterable[str], out: IO[str], settings: Settings,
                site_name: str | None = None) -> int:
    """Write one JSON line per input line; returns the exit code (1 if any line was bad)."""
    from moderation.classifier import ScoringInput, load_scorer

    scorer = load_scorer(settings.model_dir)
    policy = _policy(settings, site_name)
    failed = False
    pending: list[tuple[OfflineIn | None, dict[str, Any] | None]] = []

    def flush() -> None:
        good = [item for item, _ in pending if item is not None]
        inputs = [
            ScoringInput(text=item.text,
                         article_title=item.article.title if item.article else "",
                         article_tags=tuple(item.article.tags) if item.article else ())
            for item in good
        ]
        results = iter(scorer.score_many(inputs))
        for item, error in pending:
            if item is None:
                out.write(json.dumps(error) + "\n")
                continue
            scores = next(results)
            tags = item.article.tags if item.article else []
            outcome = decide(policy, scores, tags)
            out.write(json.dumps({
                "id": item.id,
                "flags": [flag.rule for flag in outcome.flags],
                "scores": {rule: round(float(s.score), 4) for rule, s in scores.items()},
                "decision": outcome.decision,
            }) + "\n")
        pending.clear()

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            pending.append((OfflineIn.model_validate_json(line), None))
        except ValidationError as exc:
            failed = True
            first = exc.errors()[0]
            pending.append((None, {"line": number, "error": "validation_error",
                                   "field": field_path(first["loc"]),
                                   "message": first["msg"]}))
        if len(pending) >= CHUNK:
            flush()
    flush()
    out.flush()
    return 1 if failed else 0
