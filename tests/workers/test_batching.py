"""A task tops its batch up from the backlog, and never scores a comment twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from moderation import db
from moderation.classifier import load_scorer
from moderation.entities import Assessment, Comment, CommentStatus
from moderation.schemas import CommentIn
from moderation.services.intake import accept_comments
from moderation.services.scoring import score_pending
from moderation.services.sites import get_or_create_site
from tests.api.payloads import comment
from tests.support import count


@pytest.fixture
def backlog(private_pg_url: str, pg_url: str) -> Iterator[list[int]]:
    """25 pending comments in a database no worker watches; the engine is restored after."""
    db.init_engine(private_pg_url)
    try:
        with db.session_scope() as session:
            site_id = get_or_create_site(session, "batch-site").id
        accepted = accept_comments(
            site_id, [CommentIn.model_validate(comment(f"q-{i}", text=f"Comment {i}"))
                for i in range(25)], actor="test")
        yield [a.comment_id for a in accepted]
    finally:
        db.init_engine(pg_url)


@pytest.fixture(scope="module")
def scorer():  # type: ignore[no-untyped-def]
    return load_scorer()


def test_a_deep_queue_is_scored_in_batches(backlog, scorer):
    newest = backlog[-1]
    scored = score_pending([newest], scorer, batch_size=10)
    assert len(scored) == 10
    assert scored[0].comment_id == newest
    # The rest of the batch is the oldest of the backlog.
    assert [s.comment_id for s in scored[1:]] == backlog[:9]
    assert count(Comment, status=CommentStatus.PENDING) == 15


def test_already_scored_comments_are_left_alone(backlog, scorer):
    first = score_pending(backlog[:5], scorer, batch_size=5)
    again = score_pending(backlog[:5], scorer, batch_size=5)
    assert {s.comment_id for s in first} == set(backlog[:5])
    # Nothing of the first five again; the batch was filled from the backlog instead.
    assert not {s.comment_id for s in again} & set(backlog[:5])
    with db.session_scope() as session:
        scored_ids = list(session.scalars(select(Assessment.comment_id)))
    assert len(scored_ids) == len(set(scored_ids)) == 10
