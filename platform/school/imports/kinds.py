"""The lists that can be imported and exported, each built on its feature's services."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Account
from dienynas.errors import DienynasError
from school.calendar.models import SchoolYear
from school.calendar.services import current_year
from school.classes import services as classes
from school.classes.models import SchoolClass
from school.curriculum import services as curriculum
from school.curriculum.models import GradeScale, Subject
from school.imports.services import Importer, RowProblem, register
from school.people.models import Person
from tenants.models import School

LOCALES = ("lt", "ru", "pl", "en")

# --- subjects --------------------------------------------------------------------------------

SCALE_ALIASES = {
    "ten_point": ("ten_point", "10", "1-10", "1–10", "dešimtbalė", "десятибалльная",
                  "dziesięciostopniowa"),
    "pass_fail": ("pass_fail", "įskaita", "įskaityta/neįskaityta", "зачёт", "зачет",
                  "zaliczenie"),
    "five_point": ("five_point", "5", "2-5", "2–5", "penkiabalė", "пятибалльная",
                   "pięciostopniowa"),
}  # fmt: skip


def _scale_id(session: Session, value: str) -> int | None:
    value = value.strip().lower()
    if not value:
        return None
    code = next((c for c, names in SCALE_ALIASES.items() if value in names), None)
    scale = session.scalar(select(GradeScale).where(GradeScale.code == code)) if code else None
    if scale is None:
        raise RowProblem(
            "scale",
            _(
                "Unknown grade scale “%(value)s”; use ten_point, pass_fail or five_point.",
                value=value,
            ),
        )
    return scale.id


def _apply_subject(session: Session, school: School, row: dict[str, str]) -> str:
    try:
        return _create_or_update_subject(session, school, row)
    except DienynasError as exc:
        if exc.field == f"name_{school.default_locale}":
            raise RowProblem("name", exc.message) from None  # the school's own name column
        raise


def _create_or_update_subject(session: Session, school: School, row: dict[str, str]) -> str:
    code = row.get("code", "").strip().upper()
    names = {school.default_locale: row.get("name", "")}
    for locale in LOCALES:
        if row.get(f"name_{locale}") and locale != school.default_locale:
            names[locale] = row[f"name_{locale}"]
    scale_id = _scale_id(session, row.get("scale", ""))
    existing = session.scalar(select(Subject).where(func.upper(Subject.code) == code))
    if existing is None:
        curriculum.create_subject(
            session, school_locale=school.default_locale, code=code, names=names, scale_id=scale_id
        )
        return "created"
    before = (existing.name, dict(existing.name_translations), existing.scale_id)
    curriculum.update_subject(
        session,
        existing,
        school_locale=school.default_locale,
        code=code,
        names={**curriculum.names_of(existing, school.default_locale), **names},
        scale_id=scale_id or existing.scale_id,
    )
    after = (existing.name, dict(existing.name_translations), existing.scale_id)
    return "unchanged" if before == after else "updated"


def _export_subjects(session: Session, school: School) -> Iterable[dict[str, Any]]:
    scales = dict(session.execute(select(GradeScale.id, GradeScale.code)).all())
    for subject in curriculum.list_subjects(session):
        row = {"code": subject.code, "name": subject.name, "scale": scales[subject.scale_id]}
        row.update({f"name_{loc}": subject.name_translations.get(loc, "") for loc in LOCALES})
        yield row


register(
    Importer(
        kind="subjects",
        columns={
            "code": ("kodas", "код", "kod"),
            "name": ("pavadinimas", "название", "nazwa", "dalykas", "предмет", "przedmiot"),
            "scale": ("skalė", "vertinimo skalė", "шкала", "skala"),
            **{
                f"name_{loc}": (f"pavadinimas {loc}", f"название {loc}", f"nazwa {loc}")
                for loc in LOCALES
            },
        },
        required=("code", "name"),
        apply_row=_apply_subject,
        export_rows=_export_subjects,
        field_columns={"scale_id": "scale"},
    )
)


# --- classes ---------------------------------------------------------------------------------

CLASS_RE = re.compile(r"^\s*(\d{1,2})\s*([^\d\s]{0,4})\s*$")


def _year(session: Session, name: str) -> SchoolYear:
    if name:
        year = session.scalar(select(SchoolYear).where(SchoolYear.name == name))
        if year is None:
            raise RowProblem("year", _("There is no school year “%(name)s”.", name=name))
        return year
    year = current_year(session, date.today())
    if year is None:
        raise RowProblem("year", _("Set up the school year first."))
    return year


def parse_class_name(value: str) -> tuple[int, str]:
    """ "5a" → (5, "a"); "10 B" → (10, "b"); "12" → (12, "")."""
    match = CLASS_RE.match(value or "")
    if not match:
        raise RowProblem("class", _("“%(value)s” is not a class name like 5a.", value=value))
    return int(match.group(1)), match.group(2).lower()


def person_id_by_login(session: Session, login: str, column: str) -> int | None:
    login = (login or "").strip().lower()
    if not login:
        return None
    person_id = session.scalar(
        select(Person.id)
        .join(Account, Account.id == Person.account_id)
        .where(Account.login == login)
    )
    if person_id is None:
        raise RowProblem(column, _("Nobody in this school has the login “%(login)s”.", login=login))
    return person_id


def _apply_class(session: Session, school: School, row: dict[str, str]) -> str:
    year = _year(session, row.get("year", ""))
    level, letter = parse_class_name(row.get("class", ""))
    head_id = person_id_by_login(session, row.get("head_login", ""), "head_login")
    existing = session.scalar(
        select(SchoolClass).where(
            SchoolClass.year_id == year.id,
            SchoolClass.grade_level == level,
            func.lower(SchoolClass.letter) == letter,
        )
    )
    if existing is None:
        classes.create_class(
            session, school, year=year, grade_level=level, letter=letter, head_id=head_id
        )
        return "created"
    if head_id is None or existing.head_id == head_id:
        return "unchanged"
    classes.update_class(
        session, school, existing, grade_level=level, letter=existing.letter, head_id=head_id
    )
    return "updated"


def _export_classes(session: Session, school: School) -> Iterable[dict[str, Any]]:
    rows = session.execute(
        select(SchoolYear.name, SchoolClass.grade_level, SchoolClass.letter, Account.login)
        .join(SchoolYear, SchoolYear.id == SchoolClass.year_id)
        .outerjoin(Person, Person.id == SchoolClass.head_id)
        .outerjoin(Account, Account.id == Person.account_id)
        .order_by(SchoolYear.starts_on, SchoolClass.grade_level, SchoolClass.letter)
    )
    for year, level, letter, head_login in rows:
        yield {"year": year, "class": f"{level}{letter}", "head_login": head_login or ""}


register(
    Importer(
        kind="classes",
        columns={
            "class": ("klasė", "класс", "klasa"),
            "year": ("mokslo metai", "учебный год", "rok szkolny"),
            "head_login": ("klasės vadovas", "классный руководитель", "wychowawca"),
        },
        required=("class",),
        apply_row=_apply_class,
        export_rows=_export_classes,
        field_columns={"grade_level": "class", "letter": "class", "head": "head_login"},
    )
)
