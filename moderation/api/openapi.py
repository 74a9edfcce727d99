"""The API's OpenAPI 3.1 document (``GET /v1/openapi.json``) and its rendered docs (``GET /docs``).

The document is generated, not written: paths, methods and path parameters come from the app's
URL map; request bodies are the JSON schemas of the very pydantic models the views validate with
(``model_json_schema`` through ``pydantic.json_schema.models_json_schema``); responses are the
response models of ``moderation.schemas`` and ``moderation.api.openapi_models``. What the code
cannot say (summaries, which key scope a view needs, which errors it can answer) is the table
:data:`OPERATIONS` below, keyed by Flask endpoint. ``tests/api/test_openapi.py`` fails when an
API route has no entry, or when a view validates with another model than its entry names.

The docs page is rendered on the server from the same document: no script, no CDN, a strict
Content Security Policy.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from flask import Blueprint, Flask, Response, current_app, render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from moderation.api import openapi_models as out
from moderation.perspective.schemas import AnalyzeCommentRequest, SuggestCommentScoreRequest
from moderation.schemas import (
    AcceptedOut,
    ClaimIn,
    CommentBatchIn,
    CommentIn,
    CommentStateOut,
    CoralModerationIn,
    ReportIn,
    ReportOut,
    ReportWebhookIn,
    ReviewDecisionIn,
    UndoIn,
)

__all__ = ["OPERATIONS", "bp", "build_document", "document", "render_docs"]

bp = Blueprint("openapi", __name__, template_folder="templates")

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
# The rules the document describes: the JSON API and the probes, not the moderators' pages.
API_PREFIXES = ("/v1/", "/v1alpha1/", "/healthz", "/readyz")
_TEMPLATES = Path(__file__).parent / "templates" / "openapi"

# models_json_schema's answer: (model, mode) → its {"$ref": ...}.
SchemaRefs = Mapping[tuple[Any, JsonSchemaMode], Mapping[str, Any]]

Auth = Literal["public", "key", "perspective", "report-webhook", "coral"]


@dataclass(frozen=True)
class Answer:
    """One documented response of an operation."""

    description: str
    model: type[BaseModel] | None = None
    schema: Mapping[str, Any] | None = None  # for answers with no model
    headers: tuple[str, ...] = ()  # names in RESPONSE_HEADERS


@dataclass(frozen=True)
class Param:
    """A query parameter (path parameters come from the URL rule)."""

    name: str
    schema: Mapping[str, Any]
    description: str


@dataclass(frozen=True)
class Operation:
    """What the code cannot say about a view."""

    operation_id: str
    tag: str
    summary: str
    description: str = ""
    auth: Auth = "key"
    scope: str | None = None  # the API key scope the view requires
    request: type[BaseModel] | None = None  # the model the view validates its body with
    answers: Mapping[int, Answer] = field(default_factory=dict)
    errors: tuple[int, ...] = ()  # beyond those that follow from auth and the body
    query: tuple[Param, ...] = ()
    path_descriptions: Mapping[str, str] = field(default_factory=dict)


RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "Retry-After": {"description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer", "minimum": 0}},
    "WWW-Authenticate": {"description": '`Bearer realm="moderation"`.',
                         "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "`true` when this id was already stored with the same body: nothing "
                       "new was created.",
        "schema": {"type": "string", "enum": ["true"]}},
    "X-Moderation-Comment-Id": {
        "description": "Our id of the comment this request stored, to find it in the review "
                       "queue and the audit log.",
        "schema": {"type": "string"}},
}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "bearerKey": {
        "type": "http", "scheme": "bearer",
        "description": "A site's API key, `Authorization: Bearer mod_<prefix>_<secret>`, made "
                       "by `moderation keys create --site NAME`. A key has scopes (`submit`, "
                       "`read`, `moderate`, `admin`); an operation names the one it needs."},
    "apiKeyHeader": {
        "type": "apiKey", "in": "header", "name": "X-Api-Key",
        "description": "The same API key in a header of its own."},
    "perspectiveKey": {
        "type": "apiKey", "in": "query", "name": "key",
        "description": "/v1alpha1 only: the API key where Perspective clients (Coral) put it. "
                       "A key in a URL ends up in access logs; prefer a header where the "
                       "client allows it."},
    "googApiKey": {
        "type": "apiKey", "in": "header", "name": "X-Goog-Api-Key",
        "description": "/v1alpha1 only: the API key in Google's header."},
    "reportWebhookSignature": {
        "type": "apiKey", "in": "header", "name": "X-Moderation-Signature",
        "description": "`t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.\" + the raw body>` under "
                       "the site's webhook secret (`moderation sites webhook-secret`). "
                       "Timestamps more than 5 minutes away are refused; during a rotation "
                       "several `v1=` values may be sent. Goes with `X-Moderation-Site`."},
    "reportWebhookSite": {
        "type": "apiKey", "in": "header", "name": "X-Moderation-Site",
        "description": "The name of the site whose webhook secret signed the request."},
    "coralSignature": {
        "type": "apiKey", "in": "header", "name": "X-Coral-Signature",
        "description": "Coral's signature, `sha256=<hex HMAC-SHA256 of the raw body>` under "
                       "the signing secret of the external moderation phase (`moderation "
                       "sites coral-secret`); the site is named in the path."},
}

_ERROR_TEXT = {
    400: "The body is not JSON, or not a JSON object.",
    401: "No API key, or not a valid one (or, for signed requests, no valid signature).",
    403: "The key lacks the scope this operation needs.",
    404: "No such resource for this site.",
    409: "A conflict with the current state.",
    413: "The body is larger than `MODERATION_MAX_BODY_BYTES`.",
    422: "A field is wrong: `field` names it, `details` lists every one.",
    429: "Too many requests: wait for `Retry-After` seconds. (The service may rate-limit "
         "any operation; clients should honour it.)",
}
_GOOGLE_ERROR_TEXT = {
    400: "Perspective's `INVALID_ARGUMENT`: the body is not valid, a field is wrong (the "
         "`errorType` says which check failed), or the language is not supported.",
    401: "`UNAUTHENTICATED`: no API key, or not a valid one.",
    403: "`PERMISSION_DENIED`: the key lacks the `submit` scope.",
    413: "`COMMENT_TOO_LONG`: the body is larger than `MODERATION_MAX_BODY_BYTES`.",
    429: "`RESOURCE_EXHAUSTED`: too many requests; wait for `Retry-After` seconds.",
}

_SIGNED_BODY = ("The signature covers the raw bytes of the body: sign exactly what you send.")

_STRING = {"type": "string"}
_FLAG = {"type": "boolean", "default": False}

OPERATIONS: dict[str, Operation] = {
    "health.healthz": Operation(
        "healthz", "health", "Liveness", auth="public",
        description="200 while the process is alive. Needs no key and reveals nothing else.",
        answers={200: Answer("Alive.", out.HealthOut)}),
    "health.readyz": Operation(
        "readyz", "health", "Readiness", auth="public",
        description="200 when the database and the broker answer, 503 otherwise.",
        answers={200: Answer("Ready.", out.ReadyOut),
                 503: Answer("A dependency is down: `checks` says which.", out.ReadyOut)}),
    "openapi.openapi_json": Operation(
        "getOpenApiDocument", "meta", "This document", auth="public",
        description="The OpenAPI 3.1 description of the API, generated from the schemas that "
                    "validate requests. Rendered for people at `/docs`.",
        answers={200: Answer("The document.", schema={"type": "object"})}),
    "comments.submit_comment": Operation(
        "submitComment", "comments", "Submit a comment", scope="submit", request=CommentIn,
        description="Stores the comment durably and answers 202 at once; the workers score "
                    "it. Idempotent on `id`: the same id and body again is answered 202 with "
                    "`Idempotent-Replayed: true`, the same id with another body is a 409. "
                    "`text` longer than `MODERATION_MAX_TEXT_CHARS` is a 422.",
        answers={202: Answer("Stored; status `pending` until scored.", AcceptedOut,
                             headers=("Idempotent-Replayed",))},
        errors=(409,)),
    "comments.submit_batch": Operation(
        "submitComments", "comments", "Submit a batch of comments", scope="submit",
        request=CommentBatchIn,
        description="Up to `MODERATION_MAX_BATCH` (500) comments, stored in one transaction; "
                    "each is idempotent as for a single comment. Field errors name the item: "
                    "`comments[3].text`.",
        answers={202: Answer("All stored.", out.BatchAcceptedOut)},
        errors=(409,)),
    "comments.get_comment": Operation(
        "getComment", "comments", "A comment's state", scope="read",
        description="Whether to show the comment (`visible`), its status, the rules it "
                    "may break with their scores and evidence offsets, and who decided.",
        answers={200: Answer("The comment's state.", CommentStateOut)},
        errors=(404,),
        path_descriptions={"comment_id": "The site's id of the comment."}),
    "reports.report_comment": Operation(
        "reportComment", "reports", "Report a comment", scope="submit", request=ReportIn,
        description="A reader's report, forwarded by the site's backend. `reason` is a rule "
                    "id of the site or `other`. One reader counts once per comment.",
        answers={201: Answer("Counted.", ReportOut),
                 200: Answer("This reader had already reported it: not counted again.",
                             ReportOut)},
        errors=(404,),
        path_descriptions={"comment_id": "The site's id of the comment."}),
    "rules.list_rules": Operation(
        "listRules", "rules", "The site's community rules", scope="read",
        answers={200: Answer("The rules, as readers and moderators see them.", out.RulesOut)}),
    "webhooks.report_webhook": Operation(
        "reportWebhook", "webhooks", "Report a comment (signed webhook)",
        auth="report-webhook", request=ReportWebhookIn,
        description="The site's report-abuse button, calling us directly: the report's body "
                    "plus `comment_id`, signed with the site's webhook secret. "
                    + _SIGNED_BODY + " A bad signature is a 401 and nothing is stored.",
        answers={201: Answer("Counted.", ReportOut),
                 200: Answer("This reader had already reported it.", ReportOut)},
        errors=(404,)),
    "perspective.analyze": Operation(
        "analyzeComment", "perspective", "Perspective: AnalyzeComment", auth="perspective",
        scope="submit", request=AnalyzeCommentRequest,
        description="Perspective API's `comments:analyze`, request and answer in its shapes, "
                    "scored now. With `doNotStore: false` the comment is also decided under "
                    "the site's rules and queued if a rule may be broken. `article` is our "
                    "extension: the story, for the story rules. Errors come in Google's "
                    "envelope.",
        answers={200: Answer("Scores per requested attribute.", out.AnalyzeCommentResponse,
                             headers=("X-Moderation-Comment-Id",))}),
    "perspective.suggestscore": Operation(
        "suggestCommentScore", "perspective", "Perspective: SuggestCommentScore",
        auth="perspective", scope="submit", request=SuggestCommentScoreRequest,
        description="A person's scores for a comment (Coral sends its moderators' decisions), "
                    "kept as labels for retraining.",
        answers={200: Answer("Recorded.", out.SuggestCommentScoreResponse)}),
    "coral.external_moderation": Operation(
        "coralExternalModeration", "coral", "Coral Talk: external moderation phase",
        auth="coral", request=CoralModerationIn,
        description="Coral's ExternalModerationRequest, signed by Coral. Scores the comment "
                    "now, keeps it in the review queue when a rule may be broken, and answers "
                    "in Coral's terms. A replay (same raw body) gets the same answer and "
                    "stores nothing new. " + _SIGNED_BODY,
        answers={200: Answer("Withhold (`SYSTEM_WITHHELD`) or reject (`REJECTED`), with a "
                             "flag.", out.CoralModerationOut,
                             headers=("X-Moderation-Comment-Id",)),
                 204: Answer("No rule broken: no opinion, Coral's own phases carry on.",
                             headers=("X-Moderation-Comment-Id",))},
        path_descriptions={"site_name": "The site, as named by `moderation sites "
                                        "coral-secret --site NAME`."}),
    "review.list_queue": Operation(
        "listReviewQueue", "review-queue", "The review queue", scope="moderate",
        description="Open items of the site, most urgent first.",
        answers={200: Answer("The queue.", out.ReviewQueueOut)},
        errors=(422,),
        query=(
            Param("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                  "At most this many items (values outside 1-500 are clamped)."),
            Param("rule", _STRING, "Only items that may break this rule."),
            Param("story", _STRING, "Only comments on this story (the site's article id)."),
            Param("section", _STRING, "Only stories of this section."),
            Param("author", _STRING, "Only comments by this author (the site's author id)."),
            Param("reported", _FLAG, "Only comments readers reported."),
            Param("escalated", _FLAG, "Only items escalated to a senior moderator."),
            Param("q", _STRING, "Only comments whose text contains this."),
        )),
    "review.claim_item": Operation(
        "claimReviewItem", "review-queue", "Claim an item", scope="moderate", request=ClaimIn,
        description="Leases the item to `moderator` for 5 minutes (claiming again renews "
                    "it). 409 when someone else holds it or it is decided; 403 when it is "
                    "escalated and `senior` is not set.",
        answers={200: Answer("Leased.", out.ClaimOut)},
        errors=(404, 409),
        path_descriptions={"item_id": "The review item (`item_id` in the queue)."}),
    "review.decide_item": Operation(
        "decideReviewItem", "review-queue", "Decide an item", scope="moderate",
        request=ReviewDecisionIn,
        description="Approve, reject (with the rules broken) or escalate an item you hold.",
        answers={200: Answer("Decided.", out.ReviewDecisionOut)},
        errors=(404, 409),
        path_descriptions={"item_id": "The review item (`item_id` in the queue)."}),
    "review.undo_decision": Operation(
        "undoReviewDecision", "review-queue", "Undo a decision", scope="moderate",
        request=UndoIn,
        description="Takes a moderator's decision back within 2 minutes: the item is in "
                    "review again, leased to whoever undid it.",
        answers={200: Answer("Undone.", out.UndoOut)},
        errors=(404, 409),
        path_descriptions={"decision_id": "`decision_id` from the decision's answer."}),
    "deliveries.list_deliveries": Operation(
        "listWebhookDeliveries", "webhook-deliveries", "The outbound webhook delivery log",
        scope="admin",
        description="Deliveries of the site's decision events to its endpoints, with their "
                    "retries.",
        answers={200: Answer("The log.", out.DeliveriesOut)},
        errors=(422,),
        query=(Param("state", {"type": "string", "enum": ["pending", "delivered", "dead"]},
                     "Only deliveries in this state."),)),
    "deliveries.redeliver": Operation(
        "redeliverWebhookDelivery", "webhook-deliveries", "Redeliver one delivery",
        scope="admin", description="Queues the delivery again, attempts reset.",
        answers={202: Answer("Queued.", out.RedeliveryOut)},
        errors=(404,),
        path_descriptions={"delivery_id": "`id` in the delivery log."}),
    "deliveries.redeliver_dead": Operation(
        "redeliverDeadWebhookDeliveries", "webhook-deliveries", "Redeliver every dead delivery",
        scope="admin", description="Queues every delivery that gave up again, attempts reset.",
        answers={202: Answer("Queued.", out.RequeuedOut)}),
}

TAGS = [
    {"name": "comments", "description": "Comments in, and their state."},
    {"name": "reports", "description": "Readers' reports, from the site's backend."},
    {"name": "webhooks", "description": "Signed webhooks from the site."},
    {"name": "rules", "description": "The site's community rules."},
    {"name": "review-queue", "description": "The review queue, for sites' own tools."},
    {"name": "webhook-deliveries", "description": "Our webhooks to the site: the delivery log "
                                                  "and redelivery."},
    {"name": "perspective", "description": "Google Perspective API, drop-in (`/v1alpha1`)."},
    {"name": "coral", "description": "Coral Talk's external moderation phase."},
    {"name": "health", "description": "Probes for load balancers and orchestrators."},
    {"name": "meta", "description": "This document."},
]

_DESCRIPTION = """\
Comment moderation for news sites: send each comment, read back the decision.

**Keys.** Every /v1 operation but the probes, this document and the signed webhooks needs one \
of the site's API keys, as `Authorization: Bearer <key>` or `X-Api-Key: <key>`; the \
Perspective-compatible operations (/v1alpha1) also take it as `?key=` or `X-Goog-Api-Key`.

**Errors** are JSON: `{"error": <code>, "message", "field", "details"}` on /v1, Google's \
envelope `{"error": {"code", "message", "status", "details"}}` on /v1alpha1. Any operation \
may answer 429 with `Retry-After` when a rate limit applies.
"""

# Which errors follow from how a view authenticates.
_AUTH_ERRORS: dict[str, tuple[int, ...]] = {
    "public": (), "key": (401, 403), "perspective": (401, 403),
    "report-webhook": (401,), "coral": (401,),
}
_SECURITY: dict[str, list[str]] = {
    "key": ["bearerKey", "apiKeyHeader"],
    "perspective": ["bearerKey", "apiKeyHeader", "perspectiveKey", "googApiKey"],
}
_RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def api_rules(app: Flask) -> list[tuple[str, str, str]]:
    """(Flask rule, method, endpoint) of every route the document must describe."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIXES):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, rule.endpoint))
    return sorted(found)


def openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """``/v1/review-queue/<int:item_id>/claim`` → ``/v1/review-queue/{item_id}/claim`` and its
    path parameters, typed by the rule's converters."""
    parameters = []
    for match in _RULE_ARGUMENT.finditer(rule):
        converter = match.group("converter") or "default"
        schema: dict[str, Any]
        if converter == "int":
            schema = {"type": "integer", "minimum": 0}
        elif converter in ("default", "string"):
            schema = {"type": "string", "minLength": 1}
        else:
            raise ValueError(f"no schema for the URL converter {converter!r} in {rule}")
        parameters.append({"name": match.group("name"), "in": "path", "required": True,
                           "schema": schema})
    return _RULE_ARGUMENT.sub(lambda m: "{" + m.group("name") + "}", rule), parameters


def _models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    """Every model the document shows: request bodies as validated, the rest as sent."""
    chosen: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for op in OPERATIONS.values():
        if op.request is not None:
            chosen[(op.request, "validation")] = None
        for answer in op.answers.values():
            if answer.model is not None:
                chosen[(answer.model, "serialization")] = None
    chosen[(out.ErrorOut, "serialization")] = None
    chosen[(out.GoogleErrorEnvelope, "serialization")] = None
    return list(chosen)


def _json(schema: Mapping[str, Any] | dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": dict(schema)}}


def _error_responses(
        refs: SchemaRefs,
) -> dict[str, dict[str, Any]]:
    responses: dict[str, dict[str, Any]] = {}
    contract = refs[(out.ErrorOut, "serialization")]
    google = refs[(out.GoogleErrorEnvelope, "serialization")]
    for status, text in _ERROR_TEXT.items():
        body: dict[str, Any] = {"description": text, "content": _json(contract)}
        if status == 401:
            body["headers"] = {"WWW-Authenticate": {"$ref": "#/components/headers/"
                                                            "WWW-Authenticate"}}
        if status == 429:
            body["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
        responses[f"Error{status}"] = body
    for status, text in _GOOGLE_ERROR_TEXT.items():
        body = {"description": text, "content": _json(google)}
        if status == 429:
            body["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
        responses[f"PerspectiveError{status}"] = body
    return responses


def _error_statuses(op: Operation) -> list[int]:
    statuses = set(_AUTH_ERRORS[op.auth]) | set(op.errors)
    if op.request is not None:
        statuses |= {400, 413, 422}
    if op.auth != "public":
        statuses.add(429)
    if op.auth == "perspective":  # Google has no 422: a field error is an INVALID_ARGUMENT
        statuses = {400 if s == 422 else s for s in statuses}
    return sorted(statuses)


def _security(op: Operation) -> list[dict[str, list[str]]]:
    if op.auth == "public":
        return []
    if op.auth == "report-webhook":
        return [{"reportWebhookSignature": [], "reportWebhookSite": []}]
    if op.auth == "coral":
        return [{"coralSignature": []}]
    roles = [op.scope] if op.scope else []
    return [{name: roles} for name in _SECURITY[op.auth]]


def _operation(op: Operation, path_parameters: list[dict[str, Any]],
               refs: SchemaRefs
               ) -> dict[str, Any]:
    item: dict[str, Any] = {"operationId": op.operation_id, "tags": [op.tag],
                            "summary": op.summary}
    description = op.description
    if op.scope:
        description = (description + "\n\n" if description else "") + (
            f"Needs a key with the `{op.scope}` scope.")
    if description:
        item["description"] = description
    parameters = [dict(p, description=op.path_descriptions[p["name"]])
                  if p["name"] in op.path_descriptions else p for p in path_parameters]
    parameters += [{"name": q.name, "in": "query", "required": False, "schema": dict(q.schema),
                    "description": q.description} for q in op.query]
    if parameters:
        item["parameters"] = parameters
    if op.request is not None:
        item["requestBody"] = {"required": True,
                               "content": _json(refs[(op.request, "validation")])}
    responses: dict[str, Any] = {}
    for status, answer in sorted(op.answers.items()):
        response: dict[str, Any] = {"description": answer.description}
        if answer.model is not None:
            response["content"] = _json(refs[(answer.model, "serialization")])
        elif answer.schema is not None:
            response["content"] = _json(answer.schema)
        if answer.headers:
            response["headers"] = {name: {"$ref": f"#/components/headers/{name}"}
                                   for name in answer.headers}
        responses[str(status)] = response
    prefix = "PerspectiveError" if op.auth == "perspective" else "Error"
    for status in _error_statuses(op):
        responses[str(status)] = {"$ref": f"#/components/responses/{prefix}{status}"}
    item["responses"] = responses
    item["security"] = _security(op)
    return item


def _version() -> str:
    try:
        return metadata.version("moderation")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``'s API routes that have an entry in OPERATIONS."""
    refs, definitions = models_json_schema(_models(), ref_template=REF_TEMPLATE)
    paths: dict[str, dict[str, Any]] = {}
    for rule, method, endpoint in api_rules(app):
        op = OPERATIONS.get(endpoint)
        if op is None:
            continue  # the tests insist that every API route has an entry
        path, path_parameters = openapi_path(rule)
        paths.setdefault(path, {})[method.lower()] = _operation(op, path_parameters, refs)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Moderation API", "version": _version(), "description": _DESCRIPTION,
                 "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
        "tags": TAGS,
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "responses": _error_responses(refs),
            "headers": RESPONSE_HEADERS,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def document() -> dict[str, Any]:
    """The current app's document, built once per app."""
    built = current_app.extensions.get("moderation.openapi")
    if built is None:
        built = build_document(current_app)
        current_app.extensions["moderation.openapi"] = built
    return built


@bp.get("/v1/openapi.json")
def openapi_json() -> ResponseReturnValue:
    # Serialised here rather than by jsonify, which would sort the keys.
    return Response(json.dumps(document(), ensure_ascii=False), mimetype="application/json")


# The docs page ----------------------------------------------------------------------------


@cache
def _stylesheet() -> str:
    return (_TEMPLATES / "docs.css").read_text(encoding="utf-8")


def content_security_policy() -> str:
    """No script, no fetch, no frame; only our own inline stylesheet, allowed by its hash."""
    digest = base64.b64encode(hashlib.sha256(_stylesheet().encode()).digest()).decode()
    return (f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'none'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _anchor(name: str) -> str:
    return "schema-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def type_label(schema: Mapping[str, Any]) -> Markup:
    """A short, linked, escaped label for a JSON schema: ``array of <a>ArticleIn</a>``."""
    if "$ref" in schema:
        name = _ref_name(str(schema["$ref"]))
        return Markup('<a href="#{}">{}</a>').format(_anchor(name), name)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return Markup(" | ").join(type_label(s) for s in schema[key])
    if "const" in schema:
        return Markup("<code>{}</code>").format(json.dumps(schema["const"]))
    if "enum" in schema:
        return Markup(" | ").join(Markup("<code>{}</code>").format(json.dumps(v))
                                  for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        if "prefixItems" in schema:
            inner = Markup(", ").join(type_label(s) for s in schema["prefixItems"])
            return Markup("[{}]").format(inner)
        return Markup("array of {}").format(type_label(schema.get("items", {})))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return Markup("map of string to {}").format(
            type_label(schema["additionalProperties"]))
    if isinstance(kind, list):
        return Markup(" | ").join(escape(k) for k in kind)
    label = escape(kind or "any")
    if "format" in schema:
        label = Markup("{} ({})").format(label, schema["format"])
    return label


_CONSTRAINTS = ("minLength", "maxLength", "pattern", "minimum", "maximum", "minItems",
                "maxItems", "default")


def _constraints(schema: Mapping[str, Any]) -> str:
    found = {key: schema[key] for key in _CONSTRAINTS if key in schema}
    for option in schema.get("anyOf", []):
        found.update({key: option[key] for key in _CONSTRAINTS if key in option})
    return ", ".join(f"{key} {json.dumps(value)}" for key, value in found.items())


def _schema_view(name: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    required = set(schema.get("required", []))
    properties = [{"name": prop, "type": type_label(spec), "required": prop in required,
                   "constraints": _constraints(spec),
                   "description": spec.get("description", "")}
                  for prop, spec in schema.get("properties", {}).items()]
    return {"name": name, "anchor": _anchor(name), "title": schema.get("title", name),
            "description": schema.get("description", ""), "properties": properties,
            "type": type_label(schema) if not properties else None,
            "additional": schema.get("additionalProperties") is True}


def _resolve(doc: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local ``$ref`` (components/responses, components/headers)."""
    while "$ref" in node:
        target: Any = doc
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _operation_view(doc: Mapping[str, Any], path: str, method: str,
                    item: Mapping[str, Any]) -> dict[str, Any]:
    responses = []
    for status, ref_or_response in item.get("responses", {}).items():
        response = _resolve(doc, ref_or_response)
        content = response.get("content", {}).get("application/json", {})
        responses.append({
            "status": status, "description": response.get("description", ""),
            "type": type_label(content["schema"]) if "schema" in content else None,
            "headers": list(response.get("headers", {})),
        })
    body = item.get("requestBody", {}).get("content", {}).get("application/json")
    security = [" + ".join(f"{name} ({', '.join(roles)})" if roles else name
                           for name, roles in requirement.items())
                for requirement in item.get("security", [])]
    return {
        "id": item.get("operationId", f"{method}-{path}"), "method": method.upper(),
        "path": path, "summary": item.get("summary", ""),
        "description": item.get("description", ""),
        "parameters": [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                        "type": type_label(p.get("schema", {})),
                        "constraints": _constraints(p.get("schema", {})),
                        "description": p.get("description", "")}
                       for p in item.get("parameters", [])],
        "body": type_label(body["schema"]) if body else None,
        "responses": responses, "security": security,
    }


_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*([^*]+)\*\*")


def prose(text: str) -> list[Markup]:
    """The paragraphs of a description, escaped, with its `code` and **bold** marked up."""
    paragraphs = []
    for part in str(text).split("\n\n"):
        if part.strip():
            html = str(escape(part.strip()))  # escaped first: the markup added is ours
            html = _STRONG.sub(r"<strong>\1</strong>", _CODE.sub(r"<code>\1</code>", html))
            paragraphs.append(Markup(html))  # noqa: S704 - escaped above
    return paragraphs


def render_docs(doc: Mapping[str, Any]) -> str:
    """The docs page for ``doc``: every operation by tag, then every schema."""
    by_tag: dict[str, list[dict[str, Any]]] = {}
    for path, methods in doc.get("paths", {}).items():
        for method, item in methods.items():
            tag = (item.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append(_operation_view(doc, path, method, item))
    described = {t["name"]: t.get("description", "") for t in doc.get("tags", [])}
    order = [t["name"] for t in doc.get("tags", [])]
    groups = [{"name": tag, "description": described.get(tag, ""), "operations": ops}
              for tag, ops in sorted(by_tag.items(),
                                     key=lambda kv: (order.index(kv[0]) if kv[0] in order
                                                     else len(order), kv[0]))]
    components = doc.get("components", {})
    return render_template(
        "openapi/docs.html", info=doc.get("info", {}), groups=groups,
        intro=prose(doc.get("info", {}).get("description", "")),
        schemas=[_schema_view(name, schema)
                 for name, schema in sorted(components.get("schemas", {}).items())],
        schemes=sorted(components.get("securitySchemes", {}).items()),
        headers=sorted(components.get("headers", {}).items()),
        # Our own file, hashed into the CSP as it is.
        stylesheet=Markup(_stylesheet()),  # noqa: S704
        prose=prose,
    )


@bp.get("/docs")
def docs() -> ResponseReturnValue:
    response = Response(render_docs(document()), mimetype="text/html")
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    return response
