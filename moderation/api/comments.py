"""Comments in (single and batch) and their state."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from moderation.api.context import celery, parse, principal, require_key, settings
from moderation.errors import Invalid
from moderation.schemas import AcceptedOut, CommentBatchIn, CommentIn
from moderation.services import comments, dispatch, intake

bp = Blueprint("comments", __name__, url_prefix="/v1")


def _accept(items: list[CommentIn], field_prefix: str) -> list[intake.Accepted]:
    config = settings()
    intake.check_text_length(items, config.max_text_chars, field_prefix)
    caller = principal()
    accepted = intake.accept_comments(caller.site_id, items, f"api:{caller.key_prefix}",
                                      field_prefix)
    # Only after the commit: a task must never look for a comment that is not there yet.
    new_ids = [a.comment_id for a in accepted if a.created]
    if new_ids:
        dispatch.enqueue_scoring(celery(), new_ids, config.score_batch_size)
    return accepted


def _out(accepted: intake.Accepted) -> dict:
    return AcceptedOut(id=accepted.external_id, status=accepted.status).model_dump()


@bp.post("/comments")
@require_key("submit")
def submit_comment() -> ResponseReturnValue:
    (accepted,) = _accept([parse(CommentIn)], "")
    response = jsonify(_out(accepted))
    response.status_code = 202
    if not accepted.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("/comments:batch")
@require_key("submit")
def submit_batch() -> ResponseReturnValue:
    batch = parse(CommentBatchIn)
    limit = settings().max_batch
    if len(batch.comments) > limit:
        raise Invalid(f"a batch holds at most {limit} comments; got {len(batch.comments)}",
                      field="comments")
    accepted = _accept(batch.comments, "comments")
    return jsonify({"comments": [_out(a) for a in accepted]}), 202


@bp.get("/comments/<comment_id>")
@require_key("read")
def get_comment(comment_id: str) -> ResponseReturnValue:
    state = comments.comment_state(principal().site_id, comment_id)
    return jsonify(state.model_dump(mode="json"))
