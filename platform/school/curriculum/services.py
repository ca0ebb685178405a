"""Rules of subjects, grade scales and assessment kinds."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from school.curriculum.models import AssessmentKind, GradeScale

DEFAULT_SCALES = (
    ("ten_point", "numeric", 1, 10),
    ("pass_fail", "pass_fail", None, None),
    ("five_point", "numeric", 2, 5),
)
#: code → the kind's name in each language; a school gets its own language's name.
DEFAULT_KINDS = {
    "test": {"lt": "Kontrolinis darbas", "ru": "Контрольная работа", "pl": "Sprawdzian",
             "en": "Test"},
    "quiz": {"lt": "Apklausa raštu", "ru": "Самостоятельная работа", "pl": "Kartkówka",
             "en": "Quiz"},
    "homework": {"lt": "Namų darbas", "ru": "Домашнее задание", "pl": "Praca domowa",
                 "en": "Homework"},
    "oral": {"lt": "Atsakinėjimas žodžiu", "ru": "Устный ответ", "pl": "Odpowiedź ustna",
             "en": "Oral answer"},
    "project": {"lt": "Projektas", "ru": "Проект", "pl": "Projekt", "en": "Project"},
    "classwork": {"lt": "Darbas pamokoje", "ru": "Работа на уроке", "pl": "Praca na lekcji",
                  "en": "Classwork"},
}  # fmt: skip


def install_default_scales_and_kinds(session: Session, locale: str) -> None:
    """Idempotent: adds what is missing. Kinds are named in the school's language ``locale``."""
    have_scales = set(session.scalars(select(GradeScale.code)))
    for code, kind, low, high in DEFAULT_SCALES:
        if code not in have_scales:
            session.add(GradeScale(code=code, kind=kind, min_value=low, max_value=high))
    have_kinds = set(session.scalars(select(AssessmentKind.code)))
    for code, names in DEFAULT_KINDS.items():
        if code not in have_kinds:
            session.add(
                AssessmentKind(
                    code=code, name=names.get(locale, names["lt"]), name_translations=names
                )
            )
    session.flush()
