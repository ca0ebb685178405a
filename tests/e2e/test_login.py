"""Logging in, the school switcher, and the forced change of a one-time password."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from conftest import TEST_PASSWORD, World
from e2e.helpers import add_account, screenshot, translated

pytestmark = pytest.mark.e2e


def _log_in(page: Page, app: Flask, login: str, password: str) -> None:
    """Fill in the English login form and submit it."""
    page.get_by_label(translated(app, "en", "Login"), exact=True).fill(login)
    page.get_by_label(translated(app, "en", "Password"), exact=True).fill(password)
    page.get_by_role("button", name=translated(app, "en", "Log in"), exact=True).click()


def test_login_and_switching_schools(page: Page, app: Flask, world: World) -> None:
    """A wrong password is refused on the login page; the guardian of two schools then lands on
    their children's diaries in both schools, opens one school and switches to the other from
    the header."""
    page.goto("/login")
    expect(page.locator("h1")).to_have_text(translated(app, "en", "Log in to Dienynas"))
    screenshot(page, "login")

    _log_in(page, app, "guardian.both", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text(
        translated(app, "en", "Wrong login or password.")
    )
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_label(translated(app, "en", "Login"), exact=True)).to_have_value(
        "guardian.both"
    )
    expect(page.get_by_label(translated(app, "en", "Password"), exact=True)).to_have_value("")

    _log_in(page, app, "guardian.both", TEST_PASSWORD)
    # The guardian prefers Polish (the account's language wins over the browser's) and lands on
    # the diaries of their children in both schools.
    expect(page).to_have_url(re.compile(r"/diary$"))
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page.locator("h1")).to_have_text(translated(app, "pl", "Diaries"))
    expect(page.locator("main h2")).to_have_text([world.school_a.name, world.school_b.name])
    expect(page.locator("header .user")).to_have_text(world.guardian_both.name)
    screenshot(page, "diaries_of_all_schools")

    header = page.locator("header")
    header.get_by_text(translated(app, "pl", "Switch school"), exact=True).click()
    header.get_by_role("link", name=world.school_a.name, exact=True).click()
    expect(page).to_have_url(re.compile(r"/s/school-a/$"))
    expect(page.locator("h1")).to_have_text(world.school_a.name)
    expect(page.locator("header .current-school")).to_have_text(world.school_a.name)
    expect(page.locator("main .roles li")).to_have_text([translated(app, "pl", "guardian")])
    screenshot(page, "school_home")

    header.get_by_text(translated(app, "pl", "Switch school"), exact=True).click()
    expect(header.get_by_role("link", name=world.school_a.name, exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    header.get_by_role("link", name=world.school_b.name, exact=True).click()
    expect(page).to_have_url(re.compile(r"/s/school-b/$"))
    expect(page.locator("h1")).to_have_text(world.school_b.name)
    expect(page.locator("header .current-school")).to_have_text(world.school_b.name)


def test_one_time_password_must_be_changed(page: Page, app: Flask, world: World) -> None:
    """An account created with a one-time password is sent to the change-password page on
    login and kept there; a weak new password is refused, a good one lets the user in. The
    account has no language of its own: its school's (Lithuanian) comes before the browser's,
    on the password page too."""
    login = "e2e.first.login"
    one_time = add_account(app, login, "Pirmas Prisijungimas", school_slug="school-a")
    assert one_time

    page.goto("/login")
    _log_in(page, app, login, one_time)
    expect(page).to_have_url(re.compile(r"/account/password"))
    expect(page.locator("h1")).to_have_text(translated(app, "lt", "Change password"))
    expect(page.locator("main")).to_contain_text(
        translated(
            app,
            "lt",
            "You logged in with a one-time password. Choose your own password to continue.",
        )
    )
    screenshot(page, "change_password")

    # Other pages stay closed until the password is changed.
    page.goto("/s/school-a/")
    expect(page).to_have_url(re.compile(r"/account/password"))

    current = page.get_by_label(translated(app, "lt", "Current password"), exact=True)
    new = page.get_by_label(translated(app, "lt", "New password"), exact=True)
    repeat = page.get_by_label(translated(app, "lt", "New password again"), exact=True)
    save = page.get_by_role("button", name=translated(app, "lt", "Save the new password"))

    current.fill(one_time)
    new.fill("qwertyuiop")
    repeat.fill("qwertyuiop")
    save.click()
    expect(page.locator("#password-error")).to_have_text(
        translated(app, "lt", "This password is too easy to guess; choose another.")
    )
    expect(page).to_have_url(re.compile(r"/account/password"))
    screenshot(page, "change_password_error")

    good = "Vasaros-atostogos-2026"
    page.get_by_label(translated(app, "lt", "Current password"), exact=True).fill(one_time)
    new.fill(good)
    repeat.fill(good)
    save.click()
    # One school: straight to its home page, with the confirmation.
    expect(page).to_have_url(re.compile(r"/s/school-a/$"))
    expect(page.get_by_role("status")).to_have_text(
        translated(app, "lt", "Your password has been changed.")
    )
    expect(page.locator("h1")).to_have_text(world.school_a.name)

    # The one-time password no longer works; the new one does, with no detour. (Inside the
    # school the page is in the school's language: the account has none, and the school's
    # default comes before the browser's in the locale chain.)
    page.locator("header").get_by_role(
        "button", name=translated(app, world.school_a.default_locale, "Log out"), exact=True
    ).click()
    expect(page).to_have_url(re.compile(r"/login$"))
    _log_in(page, app, login, one_time)
    expect(page.get_by_role("alert")).to_have_text(
        translated(app, "en", "Wrong login or password.")
    )
    _log_in(page, app, login, good)
    expect(page).to_have_url(re.compile(r"/s/school-a/$"))
