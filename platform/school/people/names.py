"""The order of persons: by surname, then first name, then id (``dienynas.names``: case and
accents do not count), the same in Python and in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.sql.elements import ColumnElement

from dienynas.names import name_order, name_sort_key
from school.people.models import Person


def person_sort_key(person: Person) -> tuple[str, str, int]:
    return (name_sort_key(person.last_name), name_sort_key(person.first_name), person.id)


def person_order(person: Any = Person) -> tuple[ColumnElement[Any], ...]:
    """ORDER BY terms of ``person_sort_key`` (``person``: the Person entity or an alias)."""
    return name_order(person.last_name), name_order(person.first_name), person.id
