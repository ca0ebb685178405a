"""WSGI entry point for gunicorn: ``gunicorn dienynas.wsgi:app``."""

from dienynas.app import create_app

app = create_app()
