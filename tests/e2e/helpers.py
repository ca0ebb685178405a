"""Helpers of the browser tests: expected texts, committed test data, screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import force_locale, gettext
from playwright.sync_api import Page

from accounts.models import Role
from accounts.services import create_account, grant_role
from dienynas.database import db
from tenants.services import get_school

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
#: Logins and address names of the data e2e tests commit (removed after each test).
E2E_LOGIN_PREFIX = "e2e."
E2E_SLUG_PREFIX = "e2e-"


def translated(app: Flask, locale: str, message: str, **variables: Any) -> str:
    """``message`` as the app shows it in ``locale`` (whatever the catalogues hold now)."""
    with app.test_request_context(), force_locale(locale):
        return gettext(message, **variables)


def add_account(
    app: Flask,
    login: str,
    name: str,
    *,
    password: str | None = None,
    school_slug: str | None = None,
    role: Role = Role.TEACHER,
) -> str | None:
    """Commit an account (login starting with ``e2e.``), optionally with a role in a school;
    returns its one-time password when ``password`` is None."""
    assert login.startswith(E2E_LOGIN_PREFIX), login
    with app.app_context():
        account, one_time = create_account(db.session, login=login, name=name, password=password)
        if school_slug is not None:
            grant_role(db.session, account, get_school(db.session, school_slug), role)
        db.session.commit()
        db.session.remove()
    return one_time


def screenshot(page: Page, name: str) -> None:
    """Save the whole page as tests/e2e/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
