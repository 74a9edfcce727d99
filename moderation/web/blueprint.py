"""The blueprint object alone, so every view module can import it without a cycle."""

from __future__ import annotations

from flask import Blueprint

# The app has no static route of its own (static_folder=None); the page's CSS and JS are
# served by this blueprint under /moderate/static/, which the CSP's 'self' allows.
bp = Blueprint("moderate", __name__, url_prefix="/moderate",
               template_folder="templates", static_folder="static")
