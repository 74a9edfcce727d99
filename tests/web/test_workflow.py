"""Working the queue with the keyboard only: sign in, open, approve, reject, escalate, undo."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from moderation.db import session_scope
from moderation.entities import (
    AuditEvent,
    Author,
    AuthorStatus,
    Comment,
    CommentStatus,
    Decision,
    ReviewItem,
    ReviewState,
)
from tests.web.conftest import log_in
from tests.web.seed import Score, Story, evidence_of, item_of, moderator, queued

SITE = "the-courier"
STORY = Story("bus-station-2026", "Bus station to close for six months", ("transport",),
              "https://courier.example/news/bus-station")

THREAT = "Whoever signed this off, I know where you live and you'll get what's coming."
INSULT = "You are a pathetic idiot and so is everyone who voted for this."
SPAM = "Earn £500 a day from home!!! Visit cheap-deals4u.biz now"


def three_items() -> tuple[int, int, int]:
    """Three queued comments whose queue order is fixed by their scores × rule severity."""
    queued(SITE, "c-threat", THREAT, STORY, {
        "threats": Score(0.82, evidence_of(THREAT, "I know where you live"))})
    queued(SITE, "c-insult", INSULT, STORY, {
        "personal-abuse": Score(0.71, evidence_of(INSULT, "pathetic idiot"))},
        author=("u-2", "RoundaboutRon"))
    queued(SITE, "c-spam", SPAM, STORY, {
        "spam": Score(0.9, evidence_of(SPAM, "Earn £500 a day", "cheap-deals4u.biz"))},
        author=("u-3", "deals"))
    return item_of("c-threat"), item_of("c-insult"), item_of("c-spam")


def state(external_id: str) -> tuple[Comment, ReviewItem, list[Decision]]:
    with session_scope() as session:
        comment = session.scalars(select(Comment).where(Comment.external_id == external_id)).one()
        item = session.scalars(select(ReviewItem).where(ReviewItem.comment_id == comment.id)).one()
        decisions = list(session.scalars(select(Decision).where(
            Decision.comment_id == comment.id).order_by(Decision.id)))
        return comment, item, decisions


def test_sign_in_then_work_the_queue_with_the_keyboard(page: Page) -> None:
    threat, insult, spam = three_items()
    moderator("alice", [SITE])

    page.goto("/moderate/queue")
    expect(page).to_have_url(re.compile(r"/moderate/login"))
    page.fill("#username", "alice")
    page.fill("#password", "not the password at all")
    with page.expect_response(re.compile(r"/moderate/login$")) as refused:
        page.click("button[type=submit]")
    assert refused.value.status == 401
    expect(page.locator(".error")).to_have_text("Wrong username or password.")
    page.fill("#password", "correct horse battery staple")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/moderate/queue$"))

    rows = page.locator("tr.entry")
    expect(rows).to_have_count(3)
    assert [rows.nth(i).get_attribute("data-item") for i in range(3)] == [
        str(threat), str(insult), str(spam)]
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile("selected"))
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile("selected"))

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/moderate/items/{threat}$"))
    expect(page.locator("mark[data-rules=threats]")).to_have_text("I know where you live")
    page.keyboard.press("a")
    expect(page).to_have_url(re.compile(rf"/moderate/items/{insult}$"))
    expect(page.locator(".flash-undo")).to_contain_text("Approved — press u to undo")
    expect(page.locator("input[name=rules][value=personal-abuse]")).to_be_checked()
    page.keyboard.press("r")
    expect(page).to_have_url(re.compile(rf"/moderate/items/{spam}$"))
    expect(page.locator(".flash-undo")).to_contain_text("Rejected — press u to undo")
    page.keyboard.press("e")
    # Only a senior can take an escalated comment, so nothing is left for alice.
    expect(page).to_have_url(re.compile(r"/moderate/queue"))
    expect(page.locator(".flash").first).to_contain_text("Escalated")

    comment, item, decisions = state("c-threat")
    assert comment.status == CommentStatus.APPROVED and comment.visible
    assert item.state == ReviewState.CLOSED
    assert [(d.outcome, d.decided_by, d.actor, d.rules) for d in decisions] == [
        ("approve", "moderator", "moderator:alice", [])]
    comment, item, decisions = state("c-insult")
    assert comment.status == CommentStatus.REJECTED and not comment.visible
    assert [(d.outcome, d.actor, d.rules) for d in decisions] == [
        ("reject", "moderator:alice", ["personal-abuse"])]
    comment, item, decisions = state("c-spam")
    assert comment.status == CommentStatus.IN_REVIEW
    assert item.state == ReviewState.OPEN and item.escalated and item.leased_by is None
    assert decisions == []
    with session_scope() as session:
        kinds = session.scalars(select(AuditEvent.kind).where(
            AuditEvent.comment_id == comment.id)).all()
    assert "review.escalated" in kinds


def test_u_undoes_the_last_decision(page: Page) -> None:
    threat, insult, _ = three_items()
    moderator("alice", [SITE])
    log_in(page, "alice")

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/moderate/items/{threat}$"))
    page.keyboard.press("a")
    expect(page).to_have_url(re.compile(rf"/moderate/items/{insult}$"))
    assert state("c-threat")[0].status == CommentStatus.APPROVED

    page.keyboard.press("u")
    expect(page).to_have_url(re.compile(rf"/moderate/items/{threat}$"))
    expect(page.locator(".status strong").first).to_have_text("in review")
    expect(page.locator("#decide-approve")).to_be_visible()

    comment, item, decisions = state("c-threat")
    assert comment.status == CommentStatus.IN_REVIEW and not comment.visible
    assert item.state == ReviewState.OPEN and item.leased_by == "moderator:alice"
    assert len(decisions) == 1 and decisions[0].undone_at is not None
    # The comment she had moved on to is let go when she goes back.
    assert state("c-insult")[1].leased_by is None


def test_next_and_previous_let_go_of_the_comment(page: Page) -> None:
    threat, insult, _ = three_items()
    moderator("alice", [SITE])
    log_in(page, "alice")
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(rf"/moderate/items/{threat}$"))
    assert state("c-threat")[1].leased_by == "moderator:alice"
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(rf"/moderate/items/{insult}$"))
    assert state("c-threat")[1].leased_by is None
    assert state("c-insult")[1].leased_by == "moderator:alice"
    page.keyboard.press("k")
    expect(page).to_have_url(re.compile(rf"/moderate/items/{threat}$"))
    page.keyboard.press("q")
    expect(page).to_have_url(re.compile(r"/moderate/queue"))
    assert state("c-threat")[1].leased_by is None


def test_bulk_reject_with_x_and_shift_r_then_an_author_action(page: Page) -> None:
    threat, insult, spam = three_items()
    moderator("alice", [SITE])
    log_in(page, "alice")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator(".js-selected-count")).to_have_text("2")
    page.keyboard.press("Shift+R")
    expect(page.locator(".flash").first).to_have_text("Rejected 2 comments.")
    expect(page.locator("tr.entry")).to_have_count(1)
    assert [(d.outcome, d.rules) for d in state("c-insult")[2]] == [
        ("reject", ["personal-abuse"])]
    assert [(d.outcome, d.rules) for d in state("c-spam")[2]] == [("reject", ["spam"])]
    assert state("c-threat")[0].status == CommentStatus.IN_REVIEW

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/moderate/items/{threat}$"))
    page.fill("#author-note", "final warning about threats")
    page.click(".author-actions button[value=suspend]")
    expect(page.locator(".flash").first).to_have_text("u-1 suspended for 7 days.")
    with session_scope() as session:
        author = session.scalars(select(Author).where(Author.external_id == "u-1")).one()
        assert author.status == AuthorStatus.SUSPENDED and author.suspended_until is not None
        note = session.scalars(select(AuditEvent.data).where(
            AuditEvent.kind == "author.suspend")).one()["note"]
    assert note == "final warning about threats"
    expect(page.locator(".author")).to_contain_text("Standing: suspended")
