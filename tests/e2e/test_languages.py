"""The language switcher in the header."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from dienynas.i18n import LANGUAGE_NAMES
from e2e.helpers import translated

pytestmark = pytest.mark.e2e


def _expect_login_page_in(page: Page, app: Flask, locale: str) -> None:
    """The login page is shown in ``locale``: ``<html lang>``, texts and the chosen option."""
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.locator("h1")).to_have_text(translated(app, locale, "Log in to Dienynas"))
    expect(page.locator("main button[type=submit]")).to_have_text(translated(app, locale, "Log in"))
    expect(page.locator("main label[for=password]")).to_have_text(
        translated(app, locale, "Password")
    )
    expect(page.locator("#locale-select")).to_have_value(locale)


@pytest.mark.parametrize("locale", ["ru", "pl", "lt", "en"])
def test_language_switcher_on_the_login_page(
    make_page: Callable[[str], Page], app: Flask, locale: str
) -> None:
    """Choosing a language relabels the page in it, and the choice outlives navigation (it
    beats the browser's Accept-Language, which asks for another language throughout)."""
    browser_language = "lt" if locale == "en" else "en"
    page = make_page(browser_language)
    page.goto("/login")
    _expect_login_page_in(page, app, browser_language)

    with page.expect_navigation():
        page.locator("#locale-select").select_option(label=LANGUAGE_NAMES[locale])
    expect(page).to_have_url(re.compile(r"/login"))
    _expect_login_page_in(page, app, locale)

    page.goto("/")  # to the login page again, through the redirect
    expect(page).to_have_url(re.compile(r"/login\?next="))
    _expect_login_page_in(page, app, locale)


def test_languages_switch_in_turn(page: Page, app: Flask) -> None:
    """Switching from one language straight to the next works every time."""
    page.goto("/login")
    for locale in ("ru", "pl", "lt", "en"):
        with page.expect_navigation():
            page.locator("#locale-select").select_option(locale)
        _expect_login_page_in(page, app, locale)
