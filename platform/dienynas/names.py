"""The order of names, the same in Python and in SQL.

Lists of people read alphabetically, whatever the database's collation: case and accents do
not count (Š with S, Ž with Z, Ё with Е), so "Čepulis" is not put after "Žukas" and "de Vries"
not after "Zabiela", as the byte order of the embedded PostgreSQL (which has no ICU
collations) would. ``school.people.names`` orders persons (surname, first name) with these.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement

from dienynas.i18n import format_day


def name_sort_key(text: str) -> str:
    """Case- and accent-insensitive order (Š with S, Ё with Е)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _one_letter_folds() -> tuple[str, str]:
    """Each letter of the alphabets names are written in (Latin with its accented letters,
    Cyrillic) whose ``name_sort_key`` is one other letter, and that letter: the two arguments
    of SQL's ``translate``."""
    letters = [*range(0x41, 0x5B), *range(0xC0, 0x250), *range(0x400, 0x460)]
    source, target = [], []
    for letter in map(chr, letters):
        folded = name_sort_key(letter)
        if len(folded) == 1 and folded != letter:
            source.append(letter)
            target.append(folded)
    return "".join(source), "".join(target)


_FOLD_FROM, _FOLD_TO = _one_letter_folds()


def name_order(column: Any) -> ColumnElement[str]:
    """``name_sort_key`` in SQL, for ORDER BY: ``translate`` with the folds above, compared
    byte by byte (``COLLATE "C"``, which every PostgreSQL has) as Python compares the keys;
    it needs no ICU, extension or function in the database."""
    return func.translate(column, _FOLD_FROM, _FOLD_TO).collate("C")


def namesake_marks(people: Iterable[Any]) -> dict[int, str]:
    """For the people of one list (objects with ``id``, ``first_name``, ``last_name`` and
    ``birth_date``) who share their first and last name, what tells them apart after the
    name: " (their birth date)", or " (no. <id>)" without one; the others are not in it. A
    teacher marking two Matas Stankevičius in one class must know which row is which."""
    people = list(people)
    counts = Counter((name_sort_key(p.last_name), name_sort_key(p.first_name)) for p in people)
    marks = {}
    for person in people:
        if counts[(name_sort_key(person.last_name), name_sort_key(person.first_name))] > 1:
            shown = format_day(person.birth_date, "short") if person.birth_date else None
            marks[person.id] = f" ({shown or _('no. %(id)s', id=person.id)})"
    return marks
