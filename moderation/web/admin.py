"""Administrators add moderators, for the sites they administer themselves."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from moderation.db import session_scope
from moderation.entities import Moderator, ModeratorRole, ModeratorSite
from moderation.errors import Forbidden, ServiceError
from moderation.services.moderators import MIN_PASSWORD, create_moderator
from moderation.web.blueprint import bp
from moderation.web.security import current, my_sites

ROLES = [role.value for role in ModeratorRole]


def _require_admin() -> None:
    if not current().admin:
        raise Forbidden("only an administrator can manage moderators")


def _colleagues() -> list[dict[str, object]]:
    """Moderators working for at least one of the admin's sites (not other publishers')."""
    site_ids = current().site_ids
    with session_scope() as session:
        found = session.scalars(
            select(Moderator).where(Moderator.id.in_(
                select(ModeratorSite.moderator_id).where(ModeratorSite.site_id.in_(site_ids))))
            .options(selectinload(Moderator.sites)).order_by(Moderator.username))
        return [{"username": m.username, "display_name": m.display_name, "role": m.role.value,
                 "sites": sorted(s.name for s in m.sites if s.id in site_ids),
                 "sections": list(m.sections or []), "disabled": m.disabled_at is not None}
                for m in found]


@bp.route("/admin/moderators", methods=["GET", "POST"])
def moderators() -> Response | tuple[str, int]:
    _require_admin()
    form: dict[str, object] = {"role": "moderator", "sites": []}
    error, status = "", 200
    if request.method == "POST":
        chosen = request.form.getlist("sites")
        form = {"username": request.form.get("username", ""), "role": request.form.get("role"),
                "display_name": request.form.get("display_name", ""), "sites": chosen,
                "sections": request.form.get("sections", "")}
        mine = {site.name for site in my_sites()}
        try:
            if set(chosen) - mine:
                raise Forbidden("you can only add moderators to your own sites", field="sites")
            with session_scope() as session:
                created = create_moderator(
                    session, str(form["username"]), request.form.get("password", ""),
                    sites=chosen, role=str(form["role"] or ""),
                    display_name=str(form["display_name"]),
                    sections=str(form["sections"]).split(","))
                name = created.username
        except ServiceError as exc:
            error, status = exc.message, exc.status
        else:
            flash(f"Added {name}. Give them their password by a private channel.", "info")
            return redirect(url_for("moderate.moderators"), 303)
    return render_template("moderate/admin.html", colleagues=_colleagues(), roles=ROLES,
                           form=form, error=error, min_password=MIN_PASSWORD), status
