"""Reports from readers, sent by the site's backend with its API key."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from moderation.api.context import limit_reporter, parse, principal, require_key
from moderation.schemas import ReportIn
from moderation.services.reports import add_report

bp = Blueprint("reports", __name__, url_prefix="/v1")


@bp.post("/comments/<comment_id>/reports")
@require_key("submit")
def report_comment(comment_id: str) -> ResponseReturnValue:
    report = parse(ReportIn)
    limit_reporter(principal().site_id, report.reporter_id)
    result = add_report(principal().site_id, comment_id, report)
    return jsonify(result.model_dump()), 201 if result.counted else 200
