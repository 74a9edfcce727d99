"""The ceiling: a bare Flask JSON endpoint shaped like ``POST /v1/comments``.

It parses the JSON body and answers 202 ``{"id": ..., "status": "pending"}`` with no
authentication, validation, database or broker, so under gunicorn with the same number of
workers it measures what "Flask JSON under gunicorn on this machine" can do at best.
Run it as ``gunicorn --chdir bench bare_app:app``.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.post("/v1/comments")
def submit_comment() -> tuple[Response, int]:
    """Accept a comment without doing anything with it."""
    body = request.get_json()
    return jsonify({"id": body["id"], "status": "pending"}), 202
