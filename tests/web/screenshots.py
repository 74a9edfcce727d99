"""Screenshots of the moderators' page for the README: docs/queue.png and docs/decision.png.

    .venv/bin/python -m tests.web.screenshots

Seeds a scratch PostgreSQL database (TEST_DATABASE_URL, as the tests) with a realistic
evening on a UK local-news site, scored by the installed classifier, serves the app on a
local port and photographs it in headless Chromium at 1280x800. The site's policy here
leaves every removal to a person (no reject thresholds), so everything flagged is queued.
Not a test (no test_ prefix): pytest does not collect it.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from werkzeug.serving import make_server

from moderation.classifier import ScoringInput, load_scorer
from moderation.config import Settings
from moderation.db import session_scope
from moderation.entities import Site, utcnow
from moderation.services.queue import claim
from moderation.services.sites import get_or_create_site, site_policy
from tests.conftest import scratch_database
from tests.support import free_port
from tests.web.conftest import launch
from tests.web.seed import PASSWORD, Score, Story, item_of, moderator, queued, report

ROOT = Path(__file__).resolve().parents[2]
SITE = "the-ashford-courier"

COURT = Story("ashford-rape-charge", "Man, 34, charged with rape after incident in Ashford",
              ("sexual-offences", "active-proceedings", "crime"),
              "https://courier.example/news/ashford-rape-charge")
PARKING = Story("parking-charges-rise", "Council approves 12% rise in town centre parking "
                "charges", ("council", "transport"),
                "https://courier.example/news/parking-charges-rise")
HOUSING = Story("green-lane-appeal", "Plans for 400 homes on Green Lane fields go to appeal",
                ("planning", "housing"), "https://courier.example/news/green-lane-appeal")

# (id, story, author id, author name, minutes ago, text, parent id)
COMMENTS = [
    ("c-2101", COURT, "u-310", "AshfordMum", 95,
     "Terrible news. I hope the court gets to the truth and everyone involved gets support.",
     None),
    ("c-2104", COURT, "u-377", "EstateLad", 58,
     "Everyone on the estate knows it was Jenny Walsh from Albert Road who went to the "
     "police, she works at the Co-op on the high street.", "c-2101"),
    ("c-2107", COURT, "u-312", "JusticeForAll", 41,
     "He's obviously guilty, he was done for the same thing in 2019. Lock him up and throw "
     "away the key.", None),
    ("c-2110", COURT, "u-310", "AshfordMum", 12,
     "Please don't post names here, you could wreck someone's life. Let the police do their "
     "job.", "c-2104"),
    ("c-2112", PARKING, "u-402", "Disgruntled of Kennington", 77,
     "Cllr Hughes, I know where you live and I'll be waiting outside your house. Raise the "
     "charges again and see what happens.", None),
    ("c-2115", PARKING, "u-415", "ParkAndRide", 33,
     "Typical of this lot, they never listen to anyone who actually lives here. Shut the whole "
     "council down.", None),
    ("c-2118", PARKING, "u-433", "whistleblower99", 26,
     "If you want his number it's 07700 900123, give him a ring and tell him what you think.",
     None),
    ("c-2121", HOUSING, "u-451", "GreenLaneResident", 64,
     "You're a complete idiot. Only a moron would think 400 homes on a flood plain is a good "
     "idea.", None),
    ("c-2124", HOUSING, "u-477", "homeworker_uk", 19,
     "Make £500 a day working from home!! Thousands already have. Visit cheap-deals4u.biz now",
     None),
    ("c-2127", HOUSING, "u-480", "Maggie T", 8,
     "The drainage report in the appeal papers is worth reading before anyone decides.", None),
]


def human_only_policy() -> None:
    """This newsroom wants a person to confirm every removal: no automatic rejection."""
    with session_scope() as session:
        site = get_or_create_site(session, SITE)
        policy = site_policy(site).model_dump(mode="json")
        for rule in policy["rules"]:
            rule["reject_threshold"] = None
            for limits in rule["tags"].values():
                limits["reject_threshold"] = None
        site.policy = policy


def seed() -> None:
    human_only_policy()
    moderator("sarah", [SITE], role="senior", display_name="Sarah Okafor")
    moderator("tom", [SITE], display_name="Tom Reid")
    scorer = load_scorer()
    now = utcnow()
    for comment_id, story, author_id, name, minutes, text, parent in COMMENTS:
        result = scorer.score(ScoringInput(text=text, article_title=story.title,
                                           article_tags=story.tags))
        scores = {rule: Score(r.score, tuple(r.evidence)) for rule, r in result.items()}
        queued(SITE, comment_id, text, story, scores, author=(author_id, name),
               parent_id=parent, model_version=scorer.version,
               received=now - timedelta(minutes=minutes))
    # Readers report the borderline one: back into the queue it goes, reasons and all.
    report(SITE, "c-2115", "r-1001", "personal-abuse", "Calling for the council to be shut "
           "down is one thing, but this thread is getting nasty.")
    report(SITE, "c-2115", "r-1002", "personal-abuse")
    report(SITE, "c-2115", "r-1007", "other", "Off topic rant")
    report(SITE, "c-2104", "r-1003", "victim-identification",
           "This names the woman in the case!")
    with session_scope() as session:
        site_id = session.scalars(select(Site.id).where(Site.name == SITE)).one()
        # Tom is already looking at one, so the queue shows who holds what.
        claim(session, item_of("c-2121"), (site_id,), "moderator:tom")


def shoot(base_url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(base_url=base_url,
                                      viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto("/moderate/login")
        page.fill("#username", "sarah")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/moderate/queue")
        page.keyboard.press("j")
        page.screenshot(path=str(out / "queue.png"))
        page.goto(f"/moderate/items/{item_of('c-2104')}")
        page.screenshot(path=str(out / "decision.png"))
        browser.close()


def main() -> int:
    out = ROOT / "docs"
    out.mkdir(exist_ok=True)
    from moderation import create_app

    with scratch_database("moderation_screens") as url, \
            tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.from_env(database_url=url, broker_url="memory://",
                                     data_dir=Path(data_dir), preload_model=False)
        app = create_app(settings)
        seed()
        port = free_port()
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            shoot(f"http://127.0.0.1:{port}", out)
        finally:
            server.shutdown()
            server.server_close()
            from moderation import db

            db.dispose_engine()
    print(f"wrote {out / 'queue.png'} and {out / 'decision.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
