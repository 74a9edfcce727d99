"""The page's defences, from a real browser: escaping, CSP, CSRF, sites kept apart, sessions."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from moderation.db import session_scope
from moderation.entities import Comment, CommentStatus, Decision, Moderator, ReviewItem
from moderation.web.security import CONTENT_SECURITY_POLICY
from tests.web.conftest import log_in
from tests.web.seed import Score, Story, evidence_of, item_of, moderator, queued

SITE, OTHER_SITE = "the-courier", "the-herald"
STORY = Story("fete-2026", "Village fete raises £2,000", ("community",))
HOSTILE = ('Lovely day. <script>window.pwned=1</script> and '
           '<img src=x onerror="window.pwned=2"> you absolute idiot')


def flagged(site: str, comment_id: str, text: str = "You absolute idiot, read the article",
            ) -> int:
    queued(site, comment_id, text, STORY,
           {"personal-abuse": Score(0.8, evidence_of(text, "idiot"))})
    return item_of(comment_id)


def comment_row(external_id: str) -> tuple[CommentStatus, str | None, int]:
    with session_scope() as session:
        comment = session.scalars(select(Comment).where(Comment.external_id == external_id)).one()
        item = session.scalars(select(ReviewItem).where(ReviewItem.comment_id == comment.id)).one()
        decisions = len(session.scalars(select(Decision.id).where(
            Decision.comment_id == comment.id)).all())
        return comment.status, item.leased_by, decisions


def test_comment_markup_is_shown_as_text_never_run(page: Page) -> None:
    text = HOSTILE
    queued(SITE, "c-xss", text, STORY, {"personal-abuse": Score(0.8, evidence_of(
        text, "<script>window.pwned=1</script>", "idiot"))})
    moderator("alice", [SITE])
    log_in(page, "alice")

    for _ in ("queue", "item"):
        expect(page.locator("tr.entry, .comment-text").first).to_contain_text(
            "<script>window.pwned=1</script>")
        assert page.evaluate("typeof window.pwned") == "undefined"
        scripts = page.locator("script")
        expect(scripts).to_have_count(1)
        assert scripts.first.get_attribute("src") == "/moderate/static/queue.js"
        expect(page.locator("main img")).to_have_count(0)
        if page.url.endswith("/moderate/queue"):
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile(r"/moderate/items/\d+$"))

    body = page.inner_text(".comment-text")
    assert "<script>window.pwned=1</script>" in body
    assert '<img src=x onerror="window.pwned=2">' in body
    # The evidence is highlighted around the text, still as text.
    expect(page.locator("mark[data-rules=personal-abuse]").first).to_have_text(
        "<script>window.pwned=1</script>")


def test_security_headers_and_csrf(page: Page) -> None:
    item_id = flagged(SITE, "c-1")
    moderator("alice", [SITE])
    log_in(page, "alice")
    response = page.goto(f"/moderate/items/{item_id}")
    assert response is not None
    headers = response.headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert not page.locator("[style]").count(), "inline style attributes break the CSP"
    static = page.request.get("/moderate/static/app.css")
    assert static.headers["content-security-policy"] == CONTENT_SECURITY_POLICY

    url = f"/moderate/items/{item_id}/decision"
    # The browser's own cookie, but no token, then a wrong one: refused, nothing changes.
    missing = page.request.post(url, form={"decision": "approve"})
    assert missing.status == 400
    assert "did not come from this page" in missing.text()
    wrong = page.request.post(url, form={"decision": "approve", "csrf_token": "x" * 43})
    assert wrong.status == 400
    header = page.request.post(url, form={"decision": "approve"},
                               headers={"X-CSRF-Token": "nope"})
    assert header.status == 400
    assert comment_row("c-1") == (CommentStatus.IN_REVIEW, "moderator:alice", 0)
    logout = page.request.post("/moderate/logout", form={})
    assert logout.status == 400

    # The same requests with the page's token go through: the token was all that was missing.
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    assert token
    renewed = page.request.post(f"/moderate/items/{item_id}/renew",
                                headers={"X-CSRF-Token": token})
    assert renewed.status == 204
    accepted = page.request.post(url, form={"decision": "approve", "csrf_token": token})
    assert accepted.ok
    assert comment_row("c-1") == (CommentStatus.APPROVED, None, 1)


def test_a_moderator_cannot_open_another_sites_item(page: Page) -> None:
    flagged(SITE, "c-ours")
    theirs = flagged(OTHER_SITE, "c-theirs")
    moderator("alice", [SITE])
    log_in(page, "alice")
    expect(page.locator("tr.entry")).to_have_count(1)

    response = page.goto(f"/moderate/items/{theirs}")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    assert response.headers["content-type"].startswith("text/html")
    assert "c-theirs" not in page.content()
    token = page.get_attribute('meta[name="csrf-token"]', "content") or ""
    posted = page.request.post(f"/moderate/items/{theirs}/decision",
                               form={"decision": "approve", "csrf_token": token})
    assert posted.status == 404
    assert comment_row("c-theirs") == (CommentStatus.IN_REVIEW, None, 0)
    # Asking for the other site by name shows one's own site, not theirs.
    page.goto(f"/moderate/queue?site={OTHER_SITE}")
    expect(page.locator("tr.entry")).to_have_count(1)
    expect(page.locator("tr.entry")).to_contain_text("c-ours")


def test_a_disabled_moderator_is_signed_out(page: Page) -> None:
    flagged(SITE, "c-1")
    moderator("alice", [SITE])
    log_in(page, "alice")
    with session_scope() as session:
        session.execute(update(Moderator).values(disabled_at=Moderator.created_at))
    page.goto("/moderate/queue")
    expect(page).to_have_url(re.compile(r"/moderate/login"))
    cookie = next(c for c in page.context.cookies() if c["name"] == "moderation_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_an_admin_adds_a_moderator_who_can_then_sign_in(page: Page) -> None:
    moderator("root", [SITE, OTHER_SITE], role="admin")
    log_in(page, "root")
    page.goto("/moderate/admin/moderators")
    page.fill("#new-username", "bob")
    page.fill("#new-password", "short")
    page.evaluate("document.getElementById('new-password').removeAttribute('minlength')")
    page.check(f"input[name=sites][value={OTHER_SITE}]")
    page.click("form.stacked button[type=submit]")
    expect(page.locator(".error")).to_contain_text("at least 12 characters")
    page.fill("#new-password", "a long enough passphrase")
    page.click("form.stacked button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Added bob")
    expect(page.locator("table.plain")).to_contain_text(OTHER_SITE)

    page.context.clear_cookies()
    page.goto("/moderate/login")
    page.fill("#username", "bob")
    page.fill("#password", "a long enough passphrase")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/moderate/queue$"))
    expect(page.locator("h1")).to_contain_text(OTHER_SITE)
    assert page.goto("/moderate/admin/moderators").status == 403  # type: ignore[union-attr]
