"""The site's community rules, as readers and moderators see them."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from moderation.api.context import principal, require_key
from moderation.db import session_scope
from moderation.entities import Site
from moderation.policy import policy_version
from moderation.schemas import RuleOut
from moderation.services.sites import site_policy

bp = Blueprint("rules", __name__, url_prefix="/v1")


@bp.get("/rules")
@require_key("read")
def list_rules() -> ResponseReturnValue:
    with session_scope() as session:
        policy = site_policy(session.get_one(Site, principal().site_id))
    rules = [RuleOut.model_validate(rule.model_dump()).model_dump() for rule in policy.rules]
    return jsonify({"rules": rules, "policy_version": policy_version(policy),
                    "premoderate_tags": policy.premoderate_tags})
