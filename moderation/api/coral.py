"""Coral Talk's external moderation phase: ``POST /v1/coral/<site>/external-moderation``.

Authenticated by Coral's own signature (``X-Coral-Signature``) under the site's signing secret,
which the site copies from Coral's admin into ``moderation sites coral-secret``: Coral cannot
send an API key. The site is named in the URL so the right secret is known before the body is
trusted.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from moderation.api.context import parse, scorer, settings
from moderation.schemas import CoralModerationIn
from moderation.services.coral import SIGNATURE_HEADER, coral_site, moderate, verify_signature

bp = Blueprint("coral", __name__, url_prefix="/v1/coral")

COMMENT_ID_HEADER = "X-Moderation-Comment-Id"


@bp.post("/<site_name>/external-moderation")
def external_moderation(site_name: str) -> ResponseReturnValue:
    # The signature covers the raw bytes (Coral pretty-prints its JSON): verify first.
    raw = request.get_data(cache=True)
    site_id, secrets = coral_site(site_name)
    verify_signature(request.headers.get(SIGNATURE_HEADER), raw, secrets)
    answer = moderate(site_id, raw, parse(CoralModerationIn), scorer(),
                      settings().max_text_chars)
    response = jsonify(answer.body) if answer.body is not None else Response(status=204)
    response.status_code = answer.status
    response.headers[COMMENT_ID_HEADER] = answer.comment_id
    return response
