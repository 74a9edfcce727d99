"""Coral Talk's external moderation phase: Coral asks us about each new or edited comment.

What Coral sends (``phases/external.ts``): a POST whose body is
``{action, comment: {body, parentID}, author: {id, role}, story: {id, url}, site: {id},
tenantID, tenantDomain}``, signed ``X-Coral-Signature: sha256=<hex>[,sha256=<hex>]`` with
HMAC-SHA256 of the raw body under each active ``empsec_...`` secret of the phase. No
timestamp is signed, so a captured request could be replayed; the comment's record is
therefore keyed on a hash of the body, and a replay finds the record already made and gets the
same answer without creating another.

What Coral understands back: HTTP 204 for "no opinion", or 200 with
``{actions: [{actionType: "FLAG", reason: "COMMENT_DETECTED_TOXIC" | "COMMENT_DETECTED_SPAM"}],
status: "NONE" | "APPROVED" | "REJECTED" | "PREMOD" | "SYSTEM_WITHHELD"}``; any other reason
makes Coral discard the whole answer. Our decision maps onto that:

* approve → 204: Coral's own later phases still run, as if we were not there;
* review → ``SYSTEM_WITHHELD`` with a flag, so the comment waits in Coral's queue too;
* reject → ``REJECTED`` with a flag.

Either way the comment also enters our queue with its rules and evidence.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.db import in_transaction_retrying_race, session_scope
from moderation.entities import Article, Author, Comment, CommentStatus, Site
from moderation.errors import Invalid, Unauthorised
from moderation.policy import Outcome, visible_for
from moderation.schemas import CoralModerationIn
from moderation.services import events
from moderation.services.scoring import assess
from moderation.services.sites import get_or_create_site, site_policy

if TYPE_CHECKING:
    from moderation.classifier import Scorer

__all__ = ["SIGNATURE_HEADER", "coral_site", "moderate", "set_coral_secret", "verify_signature"]

SIGNATURE_HEADER = "X-Coral-Signature"
SECRET_PATTERN = re.compile(r"^empsec_[0-9a-f]{32,128}$")
MAX_SECRETS = 2
SPAM_RULES = frozenset({"spam"})
_SLUG_WORDS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class CoralAnswer:
    status: int  # HTTP status: 200 or 204
    body: dict[str, Any] | None
    comment_id: str


def set_coral_secret(session: Session, site_name: str, secret: str,
                     keep_previous: bool = True) -> None:
    """Store the signing secret Coral shows for the site's external moderation phase."""
    secret = secret.strip()
    if not SECRET_PATTERN.match(secret):
        raise Invalid("a Coral signing secret reads empsec_ followed by hex digits",
                      field="secret")
    site = get_or_create_site(session, site_name)
    kept = [s for s in (site.coral_secrets or []) if s != secret][: MAX_SECRETS - 1]
    site.coral_secrets = [secret, *kept] if keep_previous else [secret]


def coral_site(site_name: str) -> tuple[int, list[str]]:
    with session_scope() as session:
        site = session.scalar(select(Site).where(Site.name == site_name))
        if site is None or not site.coral_secrets:
            raise Unauthorised("unknown site, or the site has no Coral signing secret",
                               field="site")
        return site.id, list(site.coral_secrets)


def verify_signature(header: str | None, raw_body: bytes, secrets: list[str]) -> None:
    """Coral's scheme: any ``sha256=<hex>`` value equal to HMAC-SHA256(secret, raw body)."""
    if not header:
        raise Unauthorised(f"the {SIGNATURE_HEADER} header is missing", field=SIGNATURE_HEADER)
    candidates = [value for name, _, value in (part.strip().partition("=")
                                               for part in header.split(","))
                  if name == "sha256" and value]
    if not candidates:
        raise Unauthorised(f"the {SIGNATURE_HEADER} header must read sha256=<hex>",
                           field=SIGNATURE_HEADER)
    valid = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
        for candidate in candidates:
            valid |= hmac.compare_digest(expected, candidate)
    if not valid:
        raise Unauthorised("the signature does not match the body", field=SIGNATURE_HEADER)


_TAG = re.compile(r"<[^>]{0,500}>")


def plain_text(body: str) -> str:
    """A phase set to send HTML sends Coral's rich text (``<p>``, ``<b>``, ``<br>``): score and
    keep what the reader sees."""
    if "<" not in body and "&" not in body:
        return body
    return html.unescape(_TAG.sub(" ", body)).strip()


def title_from_url(url: str) -> str:
    """Coral sends only the story's URL; its slug is usually the headline
    (``/news/man-denies-rape-at-festival-123``), which the story rules can read."""
    path = urlparse(url).path.rstrip("/")
    slug = path.rsplit("/", 1)[-1] if path else ""
    words = [w for w in _SLUG_WORDS.findall(slug.lower()) if not w.isdigit()]
    return " ".join(words).capitalize()


def _answer(outcome_decision: str, flags: list[str]) -> tuple[int, dict[str, Any] | None]:
    if outcome_decision == "approve":
        return 204, None
    reasons = sorted({"COMMENT_DETECTED_SPAM" if rule in SPAM_RULES else
                      "COMMENT_DETECTED_TOXIC" for rule in flags}) or ["COMMENT_DETECTED_TOXIC"]
    status = "REJECTED" if outcome_decision == "reject" else "SYSTEM_WITHHELD"
    return 200, {"actions": [{"actionType": "FLAG", "reason": r} for r in reasons],
                 "status": status}


def moderate(site_id: int, raw_body: bytes, request: CoralModerationIn, scorer: Scorer,
             max_chars: int) -> CoralAnswer:
    """Score Coral's comment now, keep it in our queue, and answer in Coral's terms."""
    from moderation.classifier import ScoringInput

    text = plain_text(request.comment.body)
    if len(text) > max_chars:
        raise Invalid(f"comment.body is {len(text)} characters long; the limit is {max_chars}",
                      field="comment.body")
    external_id = "coral:" + hashlib.sha256(raw_body).hexdigest()[:40]

    def record(session: Session) -> tuple[str, list[str]]:
        existing = session.scalar(select(Comment).where(
            Comment.site_id == site_id, Comment.external_id == external_id))
        if existing is not None:  # a replay or a retry: the same answer, nothing new
            return _replayed(session, existing)
        article = _article(session, site_id, request)
        rule_scores = scorer.score(ScoringInput(text, article.title, tuple(article.tags)))
        policy = site_policy(session.get_one(Site, site_id))
        comment = Comment(
            site_id=site_id, external_id=external_id, article=article,
            author=_author(session, site_id, request), text=text,
            parent_external_id=(f"coral:{request.comment.parent_id}"
                                if request.comment.parent_id else None),
            body_hash=hashlib.sha256(raw_body).hexdigest(), status=CommentStatus.PENDING,
            visible=visible_for(policy, CommentStatus.PENDING, article.tags),
        )
        session.add(comment)
        session.flush()
        events.record(session, site_id=site_id, comment_id=comment.id, kind="comment.received",
                      actor=f"coral:{request.action.lower()}", status="pending")
        outcome: Outcome = assess(session, comment, rule_scores, scorer.version, policy)
        return outcome.decision, [f.rule for f in outcome.flags]

    decision, flags = in_transaction_retrying_race(record)
    status, body = _answer(decision, flags)
    return CoralAnswer(status, body, external_id)


def _replayed(session: Session, comment: Comment) -> tuple[str, list[str]]:
    from moderation.entities import Assessment

    assessment = session.scalar(select(Assessment).where(Assessment.comment_id == comment.id)
                                .order_by(Assessment.id.desc()).limit(1))
    if assessment is None:
        return "approve", []
    return assessment.decision, list(assessment.flags)


def _article(session: Session, site_id: int, request: CoralModerationIn) -> Article:
    """The story, as the site described it through /v1/comments if it ever did (with its tags);
    else a new record titled from the URL's slug."""
    story = request.story
    article = session.scalar(select(Article).where(Article.site_id == site_id,
                                                   Article.external_id == story.id))
    if article is None:
        article = Article(site_id=site_id, external_id=story.id, title=title_from_url(story.url),
                          url=story.url, tags=[])
        session.add(article)
        session.flush()
    return article


def _author(session: Session, site_id: int, request: CoralModerationIn) -> Author | None:
    if request.author is None:
        return None
    author = session.scalar(select(Author).where(Author.site_id == site_id,
                                                 Author.external_id == request.author.id))
    if author is None:
        author = Author(site_id=site_id, external_id=request.author.id)
        session.add(author)
        session.flush()
    return author
