"""The municipality console: the operator lists schools and adds one."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from conftest import TEST_PASSWORD, World
from e2e.helpers import screenshot, translated

pytestmark = pytest.mark.e2e

NEW_SLUG = "e2e-naujoji-mokykla"
NEW_NAME = "E2E naujoji mokykla"


def test_operator_adds_a_school(page: Page, app: Flask, world: World) -> None:
    """The operator sees the schools, gets the field error for a bad address name, then adds a
    school that is listed as being set up."""

    def en(message: str, **variables: str) -> str:
        return translated(app, "en", message, **variables)

    page.goto("/login")
    page.get_by_label(en("Login"), exact=True).fill("operator.test")
    page.get_by_label(en("Password"), exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name=en("Log in"), exact=True).click()
    expect(page.locator("h1")).to_have_text(en("Your schools"))

    page.get_by_role("link", name=en("Municipality console: schools")).click()
    expect(page).to_have_url(re.compile(r"/municipality/schools$"))
    expect(page.locator("h1")).to_have_text(en("Schools of the municipality"))
    rows = page.locator("main tbody tr")
    for school in (world.school_a, world.school_b):
        row = rows.filter(has_text=school.name)
        expect(row).to_have_count(1)
        expect(row.locator("code")).to_have_text(f"/s/{school.slug}/")
        expect(row.locator(".status")).to_have_text(en("open"))
    screenshot(page, "municipality_console")

    name = page.get_by_label(en("Name"), exact=True)
    slug = page.get_by_label(en("Address name"), exact=True)
    add = page.get_by_role("button", name=en("Add the school"), exact=True)

    # The browser itself refuses an address name of the wrong form...
    name.fill(NEW_NAME)
    slug.fill("Naujoji Mokykla!")
    add.click()
    assert slug.evaluate("input => input.validity.patternMismatch")
    expect(page.locator("#slug-error")).to_have_count(0)

    # ...and the server too, with the error under the field (when the browser does not check).
    page.locator("main form:has(#slug)").evaluate("form => { form.noValidate = true; }")
    add.click()
    expect(page.locator("#slug-error")).to_have_text(
        en(
            "The address name must be 3 to 40 lowercase Latin letters, digits or hyphens, "
            "not starting or ending with a hyphen (e.g. vilniaus-licejus)."
        )
    )
    expect(page.get_by_label(en("Name"), exact=True)).to_have_value(NEW_NAME)  # kept

    # An address name that is taken passes the browser's check but not the server's.
    page.get_by_label(en("Address name"), exact=True).fill(world.school_a.slug)
    page.get_by_role("button", name=en("Add the school"), exact=True).click()
    expect(page.locator("#slug-error")).to_have_text(
        en("A school with the address name “%(slug)s” already exists.", slug=world.school_a.slug)
    )
    expect(rows.filter(has_text=NEW_NAME)).to_have_count(0)  # nothing was saved
    screenshot(page, "municipality_console_field_error")

    page.get_by_label(en("Address name"), exact=True).fill(NEW_SLUG)
    page.get_by_label(en("Default language"), exact=True).select_option("pl")
    page.get_by_role("button", name=en("Add the school"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/municipality/schools$"))
    expect(page.get_by_role("status")).to_have_text(
        en("The school “%(name)s” is being set up; it opens in a minute.", name=NEW_NAME)
    )
    new_row = rows.filter(has_text=NEW_NAME)
    expect(new_row).to_have_count(1)
    expect(new_row.locator("code")).to_have_text(f"/s/{NEW_SLUG}/")
    expect(new_row.locator(".status")).to_have_text(en("being set up"))
    expect(page.locator("#slug-error")).to_have_count(0)
    screenshot(page, "municipality_console_added")
