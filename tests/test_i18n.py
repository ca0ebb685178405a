"""Languages: the catalogues are complete and current, and the locale chain picks the right one.

DESIGN.md 6: Lithuanian, Russian, Polish and English; CI fails on an untranslated or fuzzy
message in any catalogue. The terms the catalogues use are fixed in docs/glossary.md.
"""

from __future__ import annotations

import ast
import functools
import gettext
import io
import os
import re
import shlex
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, render_template_string
from flask_babel import get_babel

from accounts.models import Role
from accounts.services import create_account, grant_role
from conftest import TEST_PASSWORD, login, post_form
from dienynas.config import SUPPORTED_LOCALES
from dienynas.i18n import in_locale
from tenants.models import School

REPO = Path(__file__).resolve().parents[1]
TRANSLATIONS = REPO / "translations"
POT = TRANSLATIONS / "messages.pot"
GLOSSARY = REPO / "docs" / "glossary.md"
LOCALES = ("lt", "ru", "pl", "en")
THREE_FORM_LOCALES = ("lt", "ru", "pl")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _keys(catalog: Catalog) -> set:
    """The messages of a catalogue: (context, msgid) with msgid a (singular, plural) pair for
    plural messages; the header entry left out."""
    return {(m.context, m.id) for m in catalog if m.id}


def _forms(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_the_app_offers_exactly_the_catalogued_languages():
    assert set(SUPPORTED_LOCALES) == set(LOCALES)
    for locale in LOCALES:
        assert _po_path(locale).is_file(), locale


# --- complete, not fuzzy, in step with messages.pot -------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_has_every_message_translated_and_none_fuzzy(locale):
    catalog = _read(_po_path(locale), locale)
    assert not catalog.fuzzy, f"{locale}: the header is marked fuzzy"
    untranslated = [m.id for m in catalog if m.id and not all(_forms(m))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"{locale}: {len(untranslated)} untranslated: {untranslated}"
    assert not fuzzy, f"{locale}: {len(fuzzy)} fuzzy: {fuzzy}"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_holds_exactly_the_messages_of_the_template(locale):
    template = _keys(_read(POT))
    catalog = _read(_po_path(locale), locale)
    keys = _keys(catalog)
    assert not catalog.obsolete, f"{locale}: obsolete messages: {list(catalog.obsolete)}"
    assert not template - keys, f"{locale}: missing (update the catalogue): {template - keys}"
    assert not keys - template, f"{locale}: not in messages.pot: {keys - template}"


def test_english_catalogue_repeats_the_source():
    for m in _read(_po_path("en"), "en"):
        if m.id:
            expected = m.id if isinstance(m.id, tuple) else (m.id,)
            assert _forms(m) == expected, m.id


def _makefile_extract_arguments() -> list[str]:
    """The ``pybabel extract`` arguments of the Makefile's ``extract-messages`` target (the one
    place the keywords and options are kept), without the program."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    recipe = re.search(r"^extract-messages:.*\n((?:\t.*\n?)+)", makefile, re.MULTILINE)
    assert recipe, "the Makefile has no extract-messages target"
    for line in recipe.group(1).splitlines():
        words = shlex.split(line.strip())
        if len(words) > 1 and words[0].endswith("pybabel") and words[1] == "extract":
            return words[2:]
    raise AssertionError("extract-messages runs no pybabel extract")


@dataclass
class Extraction:
    """What ``make extract-messages`` would write, extracted in memory with Babel's API: the
    catalogue, and where each message was found (messages.pot keeps no locations)."""

    catalog: Catalog
    keywords: dict
    found_in: dict[tuple, list[str]]


@functools.cache
def extract_messages() -> Extraction:
    arguments = _makefile_extract_arguments()
    assert Path(arguments[arguments.index("-o") + 1]) == POT.relative_to(REPO)
    assert "--no-default-keywords" not in arguments  # pgettext, npgettext are Babel's defaults
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(
        parse_keywords([arguments[i + 1] for i, a in enumerate(arguments) if a == "-k"])
    )
    with (REPO / arguments[arguments.index("-F") + 1]).open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    catalog = Catalog()
    found_in: dict[tuple, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(REPO / arguments[-1]), method_map, options_map, keywords
    ):
        catalog.add(message, None, context=context)
        key = (context, catalog.get(message, context=context).id)
        found_in.setdefault(key, []).append(f"{filename}:{lineno}")
    return Extraction(catalog, keywords, found_in)


def test_messages_pot_is_up_to_date_with_the_code():
    """Extracting again as ``make extract-messages`` does (same babel.cfg, keywords, folder)
    gives the messages of messages.pot: a string added to the code without re-extracting, or
    removed from it, fails here, with where it is."""
    extraction = extract_messages()
    committed, extracted = _keys(_read(POT)), _keys(extraction.catalog)
    missing = sorted(extracted - committed, key=repr)
    assert not missing, "in the code but not in messages.pot (run make extract-messages):\n" + (
        "\n".join(f"{key!r} at {', '.join(extraction.found_in[key])}" for key in missing)
    )
    assert not committed - extracted, (
        f"in messages.pot but gone from the code (run make extract-messages): "
        f"{committed - extracted}"
    )


_TRANSLATING = {
    "gettext", "ngettext", "pgettext", "npgettext",
    "lazy_gettext", "lazy_ngettext", "lazy_pgettext", "lazy_npgettext",
}  # fmt: skip


def test_every_translation_function_of_the_code_is_an_extraction_keyword():
    """A translation function imported under a name the extraction does not know (say
    ``lazy_pgettext as _lp``) would leave its strings out of messages.pot silently."""
    keywords = extract_messages().keywords
    unknown = []
    for path in sorted((REPO / "platform").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "flask_babel":
                for name in node.names:
                    if name.name in _TRANSLATING and (name.asname or name.name) not in keywords:
                        unknown.append(f"{path.relative_to(REPO)}: {name.name} as {name.asname}")
    assert not unknown, f"add these names to the Makefile's extract keywords: {unknown}"


def test_extraction_covers_templates_and_every_kind_of_call():
    """Templates and Python, with a context (pgettext), plural (ngettext), both (npgettext)
    and lazily (``_l``): each kind is found where the code uses it."""
    found = extract_messages().found_in
    kinds = set()
    for (context, msgid), places in found.items():
        plural = isinstance(msgid, tuple)
        for place in places:
            kinds.add((place.split(":")[0].rsplit(".", 1)[1], context is not None, plural))
    assert kinds >= {
        ("py", False, False), ("py", True, False), ("py", False, True), ("py", True, True),
        ("html", False, False), ("html", True, False), ("html", False, True),
        ("html", True, True),
    }, kinds  # fmt: skip
    # the lazy names (module-level labels, e.g. the menu's) are keywords too
    snippet = b'_l("Menu"); lazy_gettext("Label"); npgettext("mark", "%(num)d g", "%(num)d gs", n)'
    messages = [
        (context, message)
        for _line, message, _comments, context in extract(
            "python", io.BytesIO(snippet), keywords=extract_messages().keywords
        )
    ]
    assert messages == [
        (None, "Menu"), (None, "Label"), ("mark", ("%(num)d g", "%(num)d gs"))
    ], messages  # fmt: skip


# --- placeholders --------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0 +\-]*(?:\d+|\*)?(?:\.\d+)?([diouxXeEfFgGcrsa%])")


def _placeholders(text: str) -> Counter:
    return Counter(
        f"%({name})" + kind if name else "%" + kind for name, kind in _PLACEHOLDER.findall(text)
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_of_every_translation_match_the_source(locale):
    wrong = []
    for m in _read(_po_path(locale), locale):
        if not m.id:
            continue
        if isinstance(m.id, tuple):
            # every form (1, 21, 2, 22, 5 …) shows the number, as the plural msgid does
            expected = _placeholders(m.id[1])
            assert _placeholders(m.id[0]) - expected == Counter(), m.id
        else:
            expected = _placeholders(m.id)
        for form in _forms(m):
            if form and _placeholders(form) != expected:
                wrong.append((m.id, form))
    assert not wrong, f"{locale}: placeholders differ: {wrong}"


_QUOTES = {
    "lt": ("„", "“", "”«»"),
    "pl": ("„", "”", "“«»"),
    "ru": ("«", "»", "„“”"),
}


@pytest.mark.parametrize("locale", THREE_FORM_LOCALES)
def test_translations_use_the_quotation_marks_of_their_language(locale):
    """lt „…“, pl „…”, ru «…» (docs/glossary.md), opened and closed in pairs."""
    opening, closing, foreign = _QUOTES[locale]
    wrong = []
    for m in _read(_po_path(locale), locale):
        for form in _forms(m) if m.id else ():
            if any(q in form for q in foreign) or form.count(opening) != form.count(closing):
                wrong.append(form)
    assert not wrong, f"{locale}: wrong quotation marks: {wrong}"


# --- plural forms --------------------------------------------------------------------------

#: The CLDR category of each count, and the gettext form (0, 1, 2) the catalogue gives it.
PLURALS = {
    "lt": {1: "one", 2: "few", 5: "few", 10: "other", 11: "other", 12: "other", 21: "one",
           22: "few", 111: "other"},
    "ru": {1: "one", 2: "few", 5: "many", 10: "many", 11: "many", 12: "many", 21: "one",
           22: "few", 111: "many"},
    "pl": {1: "one", 2: "few", 5: "many", 10: "many", 11: "many", 12: "many", 21: "many",
           22: "few", 111: "many"},
}  # fmt: skip
GETTEXT_FORM = {"one": 0, "few": 1, "many": 2, "other": 2}


@pytest.mark.parametrize("locale", THREE_FORM_LOCALES)
def test_plural_forms_header_has_three_forms_in_the_right_order(locale):
    catalog = _read(_po_path(locale), locale)
    header = dict(catalog.mime_headers)["Plural-Forms"]
    match = re.fullmatch(r"nplurals=(\d+);\s*plural=(.+?);?", header.strip())
    assert match, header
    assert int(match.group(1)) == catalog.num_plurals == 3
    form_of = gettext.c2py(match.group(2))
    babel_locale = Locale.parse(locale)
    for n, category in PLURALS[locale].items():
        assert babel_locale.plural_form(n) == category, (locale, n)
        assert form_of(n) == GETTEXT_FORM[category], (locale, n, header)


@pytest.mark.parametrize("locale", THREE_FORM_LOCALES)
def test_plural_translations_have_all_three_forms(locale):
    for m in _read(_po_path(locale), locale):
        if m.id and isinstance(m.id, tuple):
            assert len(_forms(m)) == 3 and all(_forms(m)), (locale, m.id)


# --- the glossary --------------------------------------------------------------------------


def _glossary_labels() -> dict[str, dict[str, str]]:
    """The rows of the glossary's sections whose cells are exact UI labels (roles, statuses):
    English term -> {locale: label}."""
    labels: dict[str, dict[str, str]] = {}
    section = ""
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif section in ("Roles and people", "School statuses (the municipality console)"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if line.startswith("|") and len(cells) >= 4 and cells[0] not in ("en", "---"):
                labels[cells[0]] = dict(zip(("lt", "ru", "pl"), cells[1:4], strict=True))
    return labels


def test_role_names_and_statuses_follow_the_glossary():
    labels = _glossary_labels()
    assert {"e-diary administrator", "class head", "guardian", "suspended"} <= set(labels)
    for locale in THREE_FORM_LOCALES:
        catalog = _read(_po_path(locale), locale)
        for term, translations in labels.items():
            message = catalog.get(term)
            if message is not None:  # a glossary term the UI shows as a label
                assert message.string == translations[locale], (locale, term)


# --- the locale chain in requests ----------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogues(app: Flask):
    """Requests read the compiled catalogues (``make translations``): compile any that is
    missing or older than its .po, and let the app load them afresh."""
    compiled = False
    for locale in LOCALES:
        po, mo = _po_path(locale), _po_path(locale).with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            partial = mo.with_name(f".{mo.name}.{os.getpid()}")
            with partial.open("wb") as f:
                write_mo(f, _read(po, locale))
            partial.replace(mo)
            compiled = True
    if compiled:
        with app.app_context():
            get_babel().instance.domain_instance.cache.clear()


def _page(client, path: str, **headers) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code, response.headers)
    return response.get_data(as_text=True)


def _lang(page: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', page)
    assert match, page[:300]
    return match.group(1)


def test_login_page_follows_accept_language(client, world):
    page = _page(client, "/login", **{"Accept-Language": "ru"})
    assert _lang(page) == "ru"
    assert "Войти" in page and "Вход в систему Dienynas" in page and "Пароль" in page
    assert "Prisijungti" not in page and "Log in" not in page

    page = _page(client, "/login", **{"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    assert _lang(page) == "pl"
    assert "Zaloguj się" in page and "Logowanie do systemu Dienynas" in page and "Hasło" in page

    page = _page(client, "/login", **{"Accept-Language": "lt"})
    assert _lang(page) == "lt"
    assert "Prisijungti" in page and "Prisijungimo vardas" in page and "Slaptažodis" in page

    page = _page(client, "/login", **{"Accept-Language": "en"})
    assert _lang(page) == "en"
    assert "Log in to Dienynas" in page


def test_without_accept_language_the_login_page_is_lithuanian(client, world):
    page = _page(client, "/login")
    assert _lang(page) == "lt" and "Prisijungti" in page


def test_session_choice_beats_accept_language(client, world):
    response = post_form(
        client, "/language", {"locale": "pl", "next": "/login"}, form_page="/login"
    )
    assert response.status_code == 302
    page = _page(client, "/login", **{"Accept-Language": "ru"})
    assert _lang(page) == "pl"
    assert "Zaloguj się" in page and "Войти" not in page


def test_the_language_chosen_before_logging_in_stays_after_logging_out(client, world):
    post_form(client, "/language", {"locale": "pl", "next": "/login"}, form_page="/login")
    login(client, "guardian.both")
    post_form(client, "/logout", {}, form_page="/s/school-a/")
    page = _page(client, "/login", **{"Accept-Language": "ru"})
    assert _lang(page) == "pl" and "Zaloguj się" in page


def test_unknown_language_choice_is_ignored(client, world):
    post_form(client, "/language", {"locale": "de", "next": "/login"}, form_page="/login")
    page = _page(client, "/login", **{"Accept-Language": "ru"})
    assert _lang(page) == "ru"


def test_account_preference_beats_session_choice_and_school_default(client, world):
    """guardian.both prefers Polish; the session chose Russian before logging in, and
    school-b's default is Russian too: the account's preference wins."""
    post_form(client, "/language", {"locale": "ru", "next": "/login"}, form_page="/login")
    assert "Войти" in _page(client, "/login")
    login(client, "guardian.both")
    page = _page(client, "/s/school-b/", **{"Accept-Language": "lt"})
    assert _lang(page) == "pl"
    assert "Twoje role w tej szkole:" in page and "rodzic (opiekun)" in page
    assert "Wyloguj się" in page


def test_school_default_beats_accept_language(client, db_session, world):
    school_b = db_session.get(School, world.school_b.id)
    account, _ = create_account(
        db_session, login="no.preference", name="Nina Bez Wyboru", password=TEST_PASSWORD
    )
    grant_role(db_session, account, school_b, Role.CLASS_HEAD)
    db_session.commit()
    login(client, "no.preference")

    page = _page(client, "/s/school-b/", **{"Accept-Language": "pl"})
    assert _lang(page) == "ru"
    assert "Ваши роли в этой школе:" in page and "классный руководитель" in page
    assert "Выйти" in page

    # outside a school's pages (the password, contacts, error pages) the account's school
    # still decides: the reader does not switch language on following a header link
    page = _page(client, "/account/password", **{"Accept-Language": "pl"})
    assert _lang(page) == "ru" and "Zmiana hasła" not in page
    # with schools of two languages, outside them the browser's language applies
    grant_role(db_session, account, db_session.get(School, world.school_a.id), Role.TEACHER)
    db_session.commit()
    page = _page(client, "/account/password", **{"Accept-Language": "pl"})
    assert _lang(page) == "pl" and "Zmiana hasła" in page


def test_session_choice_beats_school_default(client, db_session, world):
    """Without an account preference, the language chosen in the session beats the school's
    default. (Choosing while logged in also stores the choice on the account.)"""
    school_b = db_session.get(School, world.school_b.id)
    account, _ = create_account(
        db_session, login="session.chooser", name="Sandra Rinkėja", password=TEST_PASSWORD
    )
    grant_role(db_session, account, school_b, Role.TEACHER)
    db_session.commit()
    login(client, "session.chooser")
    with client.session_transaction() as session:
        session["locale"] = "lt"

    page = _page(client, "/s/school-b/", **{"Accept-Language": "pl"})
    assert _lang(page) == "lt"
    assert "Jūsų vaidmenys šioje mokykloje:" in page and "mokytojas" in page


def test_choosing_a_language_when_logged_in_becomes_the_account_preference(client, world):
    login(client, "admin.a")  # prefers English
    assert _lang(_page(client, "/s/school-a/", **{"Accept-Language": "pl"})) == "en"
    response = post_form(
        client, "/language", {"locale": "ru", "next": "/s/school-a/"}, form_page="/s/school-a/"
    )
    assert response.status_code == 302
    page = _page(client, "/s/school-a/", **{"Accept-Language": "en"})
    assert _lang(page) == "ru"
    assert "e-diary administrator" not in page
    assert "администратор электронного журнала" in page


@pytest.mark.parametrize(
    ("locale", "short", "medium", "day"),
    [
        # not CLDR's American "12/8/26, 1:12 AM", "Dec 8, 2026, 1:12:00 AM", "12/8/26"
        ("en", "8 Dec 2026, 01:12", "8 Dec 2026, 01:12:00", "8 Dec 2026"),
        ("lt", "2026-12-08 01:12", "2026-12-08 01:12:00", "2026-12-08"),
        ("ru", "08.12.2026, 01:12", "8 дек. 2026\u202fг., 01:12:00", "08.12.2026"),
        ("pl", "8.12.2026, 01:12", "8 gru 2026, 01:12:00", "8.12.2026"),
    ],
)
def test_dates_and_times_read_the_same_way_in_every_language(app, locale, short, medium, day):
    """The ``datetime`` and ``date`` filters: the day before the month, a 24-hour clock, the
    time in the school's zone (23:12 UTC is 01:12 the next day in Vilnius in winter)."""
    at = datetime(2026, 12, 7, 23, 12, tzinfo=UTC)
    template = "{{ at|datetime('short') }}|{{ at|datetime('medium') }}|{{ on|date('short') }}"
    with app.test_request_context(), in_locale(locale):
        shown = render_template_string(template, at=at, on=date(2026, 12, 8))
    assert shown.split("|") == [short, medium, day]
