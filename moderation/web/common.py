"""What the views share: the chosen site, queue filters in URLs, formatting, error pages."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import g, render_template, request
from flask import session as web_session
from werkzeug.exceptions import HTTPException

from moderation.errors import Forbidden, ServiceError
from moderation.services.queue import QueueFilters
from moderation.web.blueprint import bp
from moderation.web.security import CSRF_FIELD, SiteChoice, csrf_token, my_sites

log = logging.getLogger(__name__)

# Query parameters of the queue's filters; item pages carry them so "next" keeps the view.
FILTER_PARAMS = ("rule", "story", "section", "author", "reported", "escalated", "q")


def chosen_site() -> SiteChoice:
    """The site named by ``?site=`` among the moderator's own, else their first."""
    sites = my_sites()
    if not sites:
        raise Forbidden("your account is not assigned to any site; ask an administrator")
    wanted = request.values.get("site", "")
    return next((site for site in sites if site.name == wanted), sites[0])


def filters_from(values: Mapping[str, str]) -> QueueFilters:
    def text(name: str) -> str:
        return str(values.get(name, "")).strip()[:200]

    return QueueFilters(rule=text("rule"), story=text("story"), section=text("section"),
                        author=text("author"), reported_only=values.get("reported") == "1",
                        search=text("q"), escalated_only=values.get("escalated") == "1")


def filter_args(filters: QueueFilters) -> dict[str, Any]:
    """The filters as query parameters, only those set (short, readable URLs)."""
    args = {"rule": filters.rule, "story": filters.story, "section": filters.section,
            "author": filters.author, "q": filters.search,
            "reported": "1" if filters.reported_only else "",
            "escalated": "1" if filters.escalated_only else ""}
    return {name: value for name, value in args.items() if value}


def waited(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%d %b %Y %H:%M UTC")


def event_summary(data: Mapping[str, Any]) -> str:
    """One line saying what an audit event changed and why, from its data."""
    parts = []
    if data.get("previous") and data.get("status"):
        parts.append(f"{data['previous']} → {data['status']}")
    if data.get("rules"):
        parts.append("rules: " + ", ".join(map(str, data["rules"])))
    if data.get("flags"):
        parts.append("flags: " + ", ".join(
            f"{f.get('rule')} {float(f.get('score', 0)):.2f}" for f in data["flags"]
            if isinstance(f, Mapping)))
    if data.get("reason"):
        parts.append(f"reason: {data['reason']}")
    if data.get("author"):
        parts.append(f"author: {data['author']}")
    if data.get("days"):
        parts.append(f"{data['days']} days")
    if data.get("note"):
        parts.append(f"note: {data['note']}")
    return " · ".join(parts)


def excerpt(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def take_undo_offer() -> dict[str, Any] | None:
    """The decision just made, offered once for undo on the next page (like a flash)."""
    offer = web_session.pop("undo", None)
    return offer if isinstance(offer, dict) else None


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "csrf_field": CSRF_FIELD, "waited": waited,
            "when": when, "event_summary": event_summary, "excerpt": excerpt,
            "me": g.get("moderator"), "sites": g.get("moderator_sites", []),
            "take_undo_offer": take_undo_offer}


def error_page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("moderate/error.html", status=status, title=title,
                           message=message), status


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> tuple[str, int]:
    titles = {403: "Not allowed", 404: "Not found", 409: "Someone got there first",
              422: "Please check the form", 401: "Please sign in"}
    return error_page(exc.status, titles.get(exc.status, "Something is wrong"), exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[str, int]:
    status = exc.code or 500
    return error_page(status, exc.name, exc.description or exc.name)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> tuple[str, int]:
    log.exception("unhandled error on the moderators' page")
    return error_page(500, "Something went wrong",
                      "An unexpected error occurred and was logged. Try again in a moment.")
