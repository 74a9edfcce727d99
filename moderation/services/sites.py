"""Sites (tenants) and their policy."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.entities import Site
from moderation.policy import Policy, default_policy


def get_or_create_site(session: Session, name: str) -> Site:
    """A site by name, created with the default rule set when new."""
    site = session.scalar(select(Site).where(Site.name == name))
    if site is None:
        site = Site(name=name, policy=default_policy().model_dump(mode="json"))
        session.add(site)
        session.flush()
    return site


def site_policy(site: Site) -> Policy:
    return Policy.model_validate(site.policy) if site.policy else default_policy()
