"""The OpenAPI document at /v1/openapi.json, the docs page at /docs, and schemathesis run
against the app through the document: no request it generates may get a 5xx."""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import inspect
import itertools
import json
import re
import textwrap
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from pydantic import BaseModel
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from moderation import db
from moderation.api import register_api
from moderation.api.openapi import OPERATIONS, REF_TEMPLATE, build_document, render_docs
from moderation.services.coral import set_coral_secret
from moderation.services.webhook_secrets import rotate_webhook_secret
from moderation.signing import sign

SITE = "the-courier"  # the site of the api_key fixture
CORAL_SECRET = "empsec_" + "5a" * 16
KNOWN_COMMENT = "c-known"
# The views that validate a body name the model in one of these calls.
PARSERS = {"parse", "_body"}


@pytest.fixture
def document(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get("/v1/openapi.json")  # no key: the document is public
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.json


def _flask_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def _api_routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(path, method) of every rule under /v1 and /v1alpha1, straight from the URL map."""
    return {(_flask_to_openapi(rule.rule), method.lower())
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith(("/v1/", "/v1alpha1/"))
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}


def _request_model(view: Any) -> type[BaseModel] | None:
    """The model a view passes to ``parse``/``_body``, read from its source."""
    function = inspect.unwrap(view)
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    names = [node.args[0].id for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
             and node.func.id in PARSERS and node.args and isinstance(node.args[0], ast.Name)]
    assert len(names) <= 1, f"{function.__name__} parses more than one body: {names}"
    return function.__globals__[names[0]] if names else None


def _schema_of(ref: str, document: dict[str, Any]) -> dict[str, Any]:
    assert ref.startswith("#/components/schemas/"), ref
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]]


# The document --------------------------------------------------------------------------------


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1.")
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


def test_every_api_route_is_documented(app, document):
    documented = {(path, method) for path, methods in document["paths"].items()
                  for method in methods}
    routes = _api_routes(app)
    assert routes - documented == set(), "routes missing from the document"
    # Besides the API, only the probes; never the moderators' pages.
    assert {path for path, _ in documented - routes} == {"/healthz", "/readyz"}
    assert not any(path.startswith("/moderate") for path, _ in documented)


def test_every_route_has_an_entry_with_a_unique_operation_id(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if rule.rule.startswith(("/v1/", "/v1alpha1/", "/healthz", "/readyz"))}
    assert endpoints - set(OPERATIONS) == set()
    assert set(OPERATIONS) - endpoints == set(), "entries for views that no longer exist"
    ids = [op.operation_id for op in OPERATIONS.values()]
    assert len(ids) == len(set(ids))


def test_each_request_body_is_the_model_its_view_validates_with(app, document):
    path_of = {rule.endpoint: _flask_to_openapi(rule.rule) for rule in app.url_map.iter_rules()}
    for endpoint, op in OPERATIONS.items():
        model = _request_model(app.view_functions[endpoint])
        assert op.request is model, f"{endpoint} validates with {model}, documented {op.request}"
        method = next(iter(document["paths"][path_of[endpoint]]))
        item = document["paths"][path_of[endpoint]][method]
        if model is None:
            assert "requestBody" not in item, endpoint
            continue
        body = item["requestBody"]
        assert body["required"] is True
        ref = body["content"]["application/json"]["schema"]["$ref"]
        # The component is the model's own JSON schema, as pydantic validates it.
        own = model.model_json_schema(ref_template=REF_TEMPLATE)
        own.pop("$defs", None)
        assert _schema_of(ref, document) == own, endpoint


def test_every_reference_resolves(document):
    refs = set(re.findall(r'"\$ref": "(#/[^"]+)"', json.dumps(document)))
    assert refs
    for ref in refs:
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, f"dangling {ref}"
            node = node[part]


def test_errors_security_and_rate_limits_are_described(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerKey"] == {**schemes["bearerKey"], "type": "http", "scheme": "bearer"}
    assert (schemes["apiKeyHeader"]["in"], schemes["apiKeyHeader"]["name"]) == (
        "header", "X-Api-Key")
    assert (schemes["perspectiveKey"]["in"], schemes["perspectiveKey"]["name"]) == (
        "query", "key")
    assert schemes["coralSignature"]["name"] == "X-Coral-Signature"
    error = document["components"]["schemas"]["ErrorOut"]
    assert set(error["properties"]) == {"error", "message", "field", "details"}
    google = document["components"]["schemas"]["GoogleErrorOut"]
    assert {"code", "message", "status", "details"} <= set(google["properties"])

    for path, methods in document["paths"].items():
        for item in methods.values():
            responses = item["responses"]
            public = item["security"] == []
            prefix = ("#/components/responses/PerspectiveError" if path.startswith("/v1alpha1/")
                      else "#/components/responses/Error")
            if not public:
                assert responses["401"] == {"$ref": f"{prefix}401"}, path
                assert responses["429"] == {"$ref": f"{prefix}429"}, path
            if "requestBody" in item:
                wanted = ("400", "413") if path.startswith("/v1alpha1/") else (
                    "400", "413", "422")
                for status in wanted:
                    assert responses[status] == {"$ref": f"{prefix}{status}"}, (path, status)
    rate_limited = document["components"]["responses"]["Error429"]
    assert set(rate_limited["headers"]) == {"Retry-After"}

    webhook = document["paths"]["/v1/webhooks/reports"]["post"]["security"]
    assert webhook == [{"reportWebhookSignature": [], "reportWebhookSite": []}]
    coral = document["paths"]["/v1/coral/{site_name}/external-moderation"]["post"]["security"]
    assert coral == [{"coralSignature": []}]
    analyze = document["paths"]["/v1alpha1/comments:analyze"]["post"]["security"]
    assert {"perspectiveKey": ["submit"]} in analyze
    assert {"perspectiveKey": ["submit"]} not in (
        document["paths"]["/v1/comments"]["post"]["security"])


def test_the_document_is_built_once_and_stable(app, document):
    assert build_document(app) == document
    assert app.extensions["moderation.openapi"] == document


# The docs page -------------------------------------------------------------------------------


def test_docs_page_lists_every_operation_under_a_strict_csp(client, document):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'none';")
    assert "script-src" not in policy and "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.get_data(as_text=True)
    assert "<script" not in html and "http://" not in html and "https://" not in html
    # The one inline stylesheet is the one the policy's hash allows.
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    for path, methods in document["paths"].items():
        assert f'<span class="path">{path}</span>' in html
        for item in methods.values():
            assert f'id="op-{item["operationId"]}"' in html
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in html


def test_docs_page_escapes_what_it_shows(app, document):
    hostile = json.loads(json.dumps(document))
    item = hostile["paths"]["/v1/comments"]["post"]
    item["summary"] = "<script>alert(1)</script>"
    item["description"] = 'Says `<img src=x onerror="alert(2)">` & **<b>**'
    hostile["components"]["schemas"]["CommentIn"]["properties"]["text"]["description"] = (
        "</td><script>alert(3)</script>")
    with app.test_request_context():
        html = render_docs(hostile)
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<code>&lt;img src=x onerror=&#34;alert(2)&#34;&gt;</code> &amp; " in html
    assert "<strong>&lt;b&gt;</strong>" in html
    assert "&lt;/td&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in html


# Schemathesis --------------------------------------------------------------------------------


class Signer:
    """What a fuzzed request needs besides its generated parts: the key, the webhook
    signatures, and now and then ids that exist, so the views' deeper paths run too."""

    def __init__(self, api_key: str, webhook_secret: str) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self._turn = itertools.count()

    def known_half_the_time(self) -> bool:
        return next(self._turn) % 2 == 0

    def call_kwargs(self, case: Any) -> dict[str, Any]:
        """Keyword arguments for ``case.call_and_validate``."""
        path = case.operation.path
        if path == "/v1/webhooks/reports":
            raw = _raw_body(case)
            return {"data": raw, "headers": {
                "X-Moderation-Site": SITE,
                "X-Moderation-Signature": sign(self.webhook_secret, raw)}}
        if path == "/v1/coral/{site_name}/external-moderation":
            case.path_parameters["site_name"] = SITE
            raw = _raw_body(case)
            signature = hmac.new(CORAL_SECRET.encode(), raw, hashlib.sha256).hexdigest()
            return {"data": raw, "headers": {"X-Coral-Signature": f"sha256={signature}"}}
        if "{comment_id}" in path and self.known_half_the_time():
            case.path_parameters["comment_id"] = KNOWN_COMMENT
        if path in ("/healthz", "/readyz", "/v1/openapi.json"):
            return {}
        return {"headers": {"Authorization": f"Bearer {self.api_key}"}}


def _raw_body(case: Any) -> bytes:
    """The bytes the transport would send, so the signature covers exactly them."""
    sent = case.as_transport_kwargs()
    if "json" in sent:
        return json.dumps(sent["json"]).encode()
    data = sent.get("data", b"")
    return data.encode() if isinstance(data, str) else bytes(data or b"")


@pytest.fixture
def signer(client, api_key, auth) -> Signer:  # type: ignore[no-untyped-def]
    with db.session_scope() as session:
        webhook_secret = rotate_webhook_secret(session, SITE)
        set_coral_secret(session, SITE, CORAL_SECRET)
    known = {"id": KNOWN_COMMENT, "article": {"id": "a-1", "title": "Roadworks"},
             "text": "The roadworks are late again."}
    assert client.post("/v1/comments", json=known, headers=auth).status_code == 202
    return Signer(api_key, webhook_secret)


# Operations that run the classifier in the request get fewer examples.
SCORED = r"(comments:analyze|/external-moderation)$"


def fuzz_config(max_examples: int) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "seed": 20261125,
        "generation": {"max-examples": max_examples, "deterministic": True,
                       "no-shrink": True, "database": "none"},
        "operations": [{"include-path-regex": SCORED,
                        "generation": {"max-examples": 6}}],
    })


def _collection_schema() -> Any:
    """The document of the API's routes, built at collection from the blueprints alone (no
    database needed): schemathesis makes one test per operation from it, each run against
    the real app. ``test_fuzzed_document_is_the_served_one`` keeps the two the same."""
    bare = Flask("openapi-collection")
    register_api(bare)
    return schemathesis.openapi.from_dict(build_document(bare), config=fuzz_config(25))


schema = _collection_schema()


def test_fuzzed_document_is_the_served_one(document):
    assert schema.raw_schema == document


@schema.parametrize()
# The fixtures (a key, the sites' secrets, one stored comment) serve every example on purpose.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_generated_request_gets_a_server_error(case, app, signer):
    case.call_and_validate(app=app, checks=[not_a_server_error], **signer.call_kwargs(case))
