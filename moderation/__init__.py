"""Comment moderation service for news publishers.

``create_app`` builds the Flask API; ``workers.celery_app`` the Celery workers.
"""

from moderation.app import create_app

__all__ = ["create_app"]
