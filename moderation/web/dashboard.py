"""The dashboard: how the queue is doing, from the review items and the decisions."""

from __future__ import annotations

from collections import Counter

from flask import render_template, request

from moderation.db import session_scope
from moderation.web.blueprint import bp
from moderation.web.charts import Series, bar_chart, time_chart
from moderation.web.common import chosen_site
from moderation.web.stats import dashboard_stats

PERIODS = (24, 48, 168)


@bp.get("/dashboard")
def dashboard() -> str:
    site = chosen_site()
    hours = request.args.get("hours", "48")
    period = int(hours) if hours.isdigit() and int(hours) in PERIODS else 48
    with session_scope() as session:
        stats = dashboard_stats(session, site.id, hours=period)
    labels = [start.strftime("%H:00" if period <= 48 else "%a %H:00")
              for start in stats.bucket_starts]
    queue_chart = time_chart(
        f"Queue size and flow per hour, last {period} hours (UTC)", labels,
        [Series("entered the queue", stats.opened, "series-opened", "bars"),
         Series("decided", stats.closed, "series-closed", "bars"),
         Series("waiting", stats.queue_size, "series-size")],
        label_every=6 if period <= 48 else 24)
    rule_chart = bar_chart(
        "Decisions citing each rule", [(rule, (human, model))
                                       for rule, human, model in stats.per_rule],
        [Series("by moderators", (), "series-human"), Series("by the model", (), "series-model")])
    deciders = stats.by_decider
    decider_chart = bar_chart(
        "Decisions by the model and by moderators",
        [(who, (deciders.get(key, Counter())["approve"], deciders.get(key, Counter())["reject"]))
         for who, key in (("model", "model"), ("moderators", "moderator"))],
        [Series("approved", (), "series-approved"), Series("rejected", (), "series-rejected")])
    total = {key: sum(counter.values()) for key, counter in deciders.items()}
    return render_template("moderate/dashboard.html", site=site, stats=stats, period=period,
                           periods=PERIODS, queue_chart=queue_chart, rule_chart=rule_chart,
                           decider_chart=decider_chart, totals=total)
