"""Per-site secrets for the signed report webhook, with rotation."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.entities import Site
from moderation.errors import Unauthorised
from moderation.services.sites import get_or_create_site

# During a rotation both the new and the previous secret are accepted.
MAX_ACTIVE_SECRETS = 2


def rotate_webhook_secret(session: Session, site_name: str, keep_previous: bool = True) -> str:
    """A new secret for the site (created if needed), newest first; returns it."""
    site = get_or_create_site(session, site_name)
    secret = "whsec_" + secrets.token_urlsafe(32)
    kept = list(site.webhook_secrets or [])[: MAX_ACTIVE_SECRETS - 1] if keep_previous else []
    site.webhook_secrets = [secret, *kept]
    return secret


def webhook_site(session: Session, site_name: str | None) -> Site:
    """The site a webhook claims to come from, if it has a secret to check against."""
    site = (session.scalar(select(Site).where(Site.name == site_name))
            if site_name else None)
    if site is None or not site.webhook_secrets:
        raise Unauthorised("unknown site, or the site has no webhook secret",
                           field="X-Moderation-Site")
    return site
