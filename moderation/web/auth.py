"""Signing in and out."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask import session as web_session
from werkzeug.wrappers import Response

from moderation.db import session_scope
from moderation.errors import Unauthorised
from moderation.services.moderators import authenticate_moderator
from moderation.web.blueprint import bp
from moderation.web.security import end_session, safe_next, start_session

# Longer than any sane password; refusing early keeps a huge body from costing an Argon2 run.
MAX_PASSWORD = 1024


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int]:
    if request.method == "GET" and web_session.get("moderator") is not None:
        return redirect(safe_next(request.args.get("next")))
    error, status = "", 200
    username = request.form.get("username", "").strip()[:100]
    if request.method == "POST":
        password = request.form.get("password", "")
        try:
            if len(password) > MAX_PASSWORD:
                raise Unauthorised("wrong username or password")
            with session_scope() as session:
                moderator = authenticate_moderator(session, username, password)
        except Unauthorised:
            # The same words whichever was wrong, so the page does not confirm a username.
            error, status = "Wrong username or password.", 401
        else:
            start_session(moderator)
            return redirect(safe_next(request.form.get("next")), 303)
    return render_template("moderate/login.html", error=error, username=username,
                           next=request.values.get("next", "")), status


@bp.post("/logout")
def logout() -> Response:
    end_session()
    return redirect(url_for("moderate.login"), 303)
