"""Inbound webhooks from a site: the report-abuse button, signed with HMAC-SHA256."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from moderation.api.context import limit_reporter, parse
from moderation.db import session_scope
from moderation.errors import Unauthorised
from moderation.schemas import ReportWebhookIn
from moderation.services.reports import add_report
from moderation.services.webhook_secrets import webhook_site
from moderation.signing import SIGNATURE_HEADER, SignatureError, verify

bp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks")

SITE_HEADER = "X-Moderation-Site"


@bp.post("/reports")
def report_webhook() -> ResponseReturnValue:
    # The signature covers the raw bytes: verify before parsing anything.
    raw = request.get_data(cache=True)
    with session_scope() as session:
        site = webhook_site(session, request.headers.get(SITE_HEADER))
        site_id, secrets = site.id, list(site.webhook_secrets)
    try:
        verify(request.headers.get(SIGNATURE_HEADER), raw, secrets)
    except SignatureError as exc:
        raise Unauthorised(str(exc), field=SIGNATURE_HEADER) from exc
    report = parse(ReportWebhookIn)
    limit_reporter(site_id, report.reporter_id)
    result = add_report(site_id, report.comment_id, report)
    return jsonify(result.model_dump()), 201 if result.counted else 200
