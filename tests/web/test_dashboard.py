"""The dashboard: server-drawn SVG charts of the queue and the decisions."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from moderation.db import session_scope
from moderation.entities import ReviewItem
from moderation.services.queue import claim, decide
from tests.web.conftest import log_in
from tests.web.seed import Score, Story, evidence_of, item_of, moderator, queued

SITE = "the-courier"
STORY = Story("market-2026", "Christmas market returns to the square", ("community",))


def test_the_dashboard_draws_its_charts(page: Page) -> None:
    moderator("alice", [SITE])
    for n in range(3):
        text = f"Idiot number {n}, read the article"
        queued(SITE, f"c-{n}", text, STORY,
               {"personal-abuse": Score(0.8, evidence_of(text, "Idiot"))})
    # Far above the reject threshold: the model rejects it by itself.
    queued(SITE, "c-spam", "Buy cheap watches at cheap-watches.biz", STORY,
           {"spam": Score(0.99)})
    with session_scope() as session:
        site_ids = (session.get_one(ReviewItem, item_of("c-0")).site_id,)
    for n, outcome in ((0, "reject"), (1, "approve")):
        with session_scope() as session:
            item_id = item_of(f"c-{n}")
            claim(session, item_id, site_ids, "moderator:alice")
            decide(session, item_id, site_ids, "moderator:alice", outcome,
                   ["personal-abuse"] if outcome == "reject" else [])

    log_in(page, "alice")
    response = page.goto("/moderate/dashboard")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(3)
    expect(page.locator(".figures")).to_contain_text("1 waiting now")
    expect(page.locator(".figures")).to_contain_text("2 decided from the queue")
    queue_chart, rule_chart, decider_chart = (charts.nth(i) for i in range(3))
    expect(queue_chart.locator("polyline.chart-line")).to_have_count(1)
    assert queue_chart.locator(".series-opened rect").count() >= 1
    expect(rule_chart).to_contain_text("personal-abuse")
    expect(rule_chart).to_contain_text("spam")
    expect(decider_chart.locator("rect.series-rejected title")).to_have_count(2)
    expect(decider_chart.locator("title").first).to_have_text(
        "Decisions by the model and by moderators")
    # The bars say who decided what: the model rejected 1, alice approved 1 and rejected 1.
    titles = decider_chart.locator("rect title").all_text_contents()
    assert "model: 1 rejected" in titles
    assert "moderators: 1 approved" in titles and "moderators: 1 rejected" in titles
