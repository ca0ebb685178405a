"""Browser tests: the test app served on a loopback port, driven by Debian's Chromium.

The server runs in a thread of the test process with the app's normal engine, so it sees what
the ``world`` fixture committed (not what ``db_session`` holds: e2e tests never use it). Data an
e2e test adds is committed with ``e2e`` names and removed after the test (:func:`e2e_cleanup`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Error, Page, Playwright, sync_playwright
from sqlalchemy import text
from werkzeug.serving import BaseWSGIServer, make_server

from conftest import World
from dienynas.database import db
from e2e.helpers import E2E_LOGIN_PREFIX, E2E_SLUG_PREFIX

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live_server(app: Flask, world: World) -> Iterator[str]:
    """The app served on a free loopback port in a background thread; yields its base URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium; the tests fail (never skip) when it is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: the browser tests need it. Install it with "
            "scripts/install-browser.sh (Debian: apt-get install chromium) or set CHROMIUM_PATH. "
            "Playwright's own browser download is not used.",
            pytrace=False,
        )
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
    except Error as exc:
        pytest.fail(f"Chromium at {CHROMIUM} did not start: {exc}", pytrace=False)
    yield browser
    browser.close()


@pytest.fixture
def make_page(browser: Browser, live_server: str) -> Iterator[Callable[[str], Page]]:
    """``make_page("lt-LT")``: a page in a fresh browser context (no cookies) whose browser asks
    the server for that language; the contexts are closed after the test."""
    contexts: list[BrowserContext] = []

    def make(browser_locale: str = "en-US") -> Page:
        context = browser.new_context(
            base_url=live_server,
            locale=browser_locale,
            viewport={"width": 1280, "height": 800},
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(make_page: Callable[[str], Page]) -> Page:
    """A page in a fresh browser context whose browser asks for English."""
    return make_page("en-US")


@pytest.fixture(autouse=True)
def e2e_cleanup(app: Flask) -> Iterator[None]:
    """Remove the accounts and schools an e2e test committed (``e2e`` names) after it, so the
    rest of the suite sees only the ``world`` data."""
    yield
    with app.app_context():
        db.session.execute(
            text("DELETE FROM accounts WHERE login LIKE :p"), {"p": E2E_LOGIN_PREFIX + "%"}
        )
        db.session.execute(
            text("DELETE FROM schools WHERE slug LIKE :p AND schema_version IS NULL"),
            {"p": E2E_SLUG_PREFIX + "%"},
        )
        db.session.commit()
        db.session.remove()
