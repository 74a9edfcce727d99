"""WSGI entry point for gunicorn: ``gunicorn 'moderation.wsgi:app'``."""

from moderation.app import create_app

app = create_app()
