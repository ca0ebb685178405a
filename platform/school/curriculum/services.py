"""Rules of subjects, grade scales and assessment kinds.

Run inside a transaction bound to the school. Services validate, raise ``ServiceError`` naming
the field at fault and only flush; the request commits once.

Names: a subject's or an assessment kind's ``name`` is its name in the school's own language;
``name_translations`` holds the names in the other languages (never the school's own, so that a
rename cannot leave a stale copy behind).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, pgettext
from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from dienynas.config import SUPPORTED_LOCALES
from dienynas.errors import NotFound, ServiceError
from dienynas.forms import parse_id
from gradebook.grades.models import Grade, TermGrade
from school.classes.models import Group
from school.curriculum.models import AssessmentKind, GradeScale, Subject

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

SCALE_LABELS = {
    "ten_point": _l("10-point scale, 1 to 10"),
    "pass_fail": _l("pass/fail"),
    "five_point": _l("5-point scale, 2 to 5"),
}
#: The values a pass/fail grade is stored as.
PASSED, FAILED = "passed", "failed"
#: The lowest satisfactory grade of each numeric scale: 4 ("patenkinamai") on the Lithuanian
#: 10-point scale, 3 ("удовлетворительно") on the 5-point one. A lower grade, or "failed" on
#: the pass/fail scale, is unsatisfactory.
LOWEST_SATISFACTORY = {"ten_point": 4, "five_point": 3}

SUBJECT_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,19}$")
KIND_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,19}$")
SUBJECT_NAME_MAX = 120
KIND_NAME_MAX = 80


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


# --- names in four languages -------------------------------------------------------------------


def names_of(item: Subject | AssessmentKind, school_locale: str) -> dict[str, str]:
    """The item's name per language as the edit form shows it (``name_<locale>`` fields)."""
    names = {loc: item.name_translations.get(loc, "") for loc in SUPPORTED_LOCALES}
    names[school_locale] = item.name
    return names


def _clean_names(
    names: Mapping[str, str | None], school_locale: str, max_length: int
) -> tuple[str, dict[str, str]]:
    """The name in the school's language and the translations into the other languages."""
    cleaned = {loc: (names.get(loc) or "").strip() for loc in SUPPORTED_LOCALES}
    if not cleaned[school_locale]:
        raise ServiceError(
            _("Enter the name in the school's language."), field=f"name_{school_locale}"
        )
    for loc, value in cleaned.items():
        if len(value) > max_length:
            raise ServiceError(
                ngettext(
                    "The name may be at most %(num)d character long.",
                    "The name may be at most %(num)d characters long.",
                    max_length,
                ),
                field=f"name_{loc}",
            )
    translations = {loc: v for loc, v in cleaned.items() if v and loc != school_locale}
    return cleaned[school_locale], translations


def _name_taken_by(
    session: Session, model: type[Subject] | type[AssessmentKind], name: str, own_id: int | None
) -> str | None:
    """The name (as recorded) of another subject or kind called ``name`` in the school's
    language, case aside: two of one name could not be told apart in the lists a teacher
    picks from."""
    query = select(model.name).where(func.lower(model.name) == name.lower())
    if own_id is not None:
        query = query.where(model.id != own_id)
    return session.scalar(query.limit(1))


# --- grade scales -----------------------------------------------------------------------------


def scale_label(scale: GradeScale) -> str:
    label = SCALE_LABELS.get(scale.code)
    if label is not None:
        return str(label)
    if scale.kind == "numeric":
        return f"{scale.min_value}–{scale.max_value}"
    return scale.code


def list_scales(session: Session) -> list[tuple[GradeScale, int]]:
    """Every scale with the number of subjects graded on it (one query)."""
    used = select(Subject.scale_id, func.count().label("n")).group_by(Subject.scale_id).subquery()
    rows = session.execute(
        select(GradeScale, func.coalesce(used.c.n, 0))
        .outerjoin(used, used.c.scale_id == GradeScale.id)
        .order_by(GradeScale.id)
    )
    return [(scale, count) for scale, count in rows]


def active_scales(session: Session) -> list[GradeScale]:
    return list(
        session.scalars(select(GradeScale).where(GradeScale.is_active).order_by(GradeScale.id))
    )


def get_scale(session: Session, scale_id: int) -> GradeScale:
    scale = session.get(GradeScale, scale_id)
    if scale is None:
        raise NotFound(_("There is no such grade scale."))
    return scale


def set_scale_active(session: Session, scale: GradeScale, active: bool) -> None:
    """Enable or disable a scale for new subjects; a scale a subject uses stays enabled."""
    if not active:
        used_by = list(
            session.scalars(
                select(Subject.name).where(Subject.scale_id == scale.id).order_by(Subject.name)
            )
        )
        if used_by:
            shown = ", ".join(used_by[:5]) + (", …" if len(used_by) > 5 else "")
            raise ServiceError(
                ngettext(
                    "The scale “%(scale)s” cannot be disabled: %(num)d subject is graded on it "
                    "(%(subjects)s). Give it another scale first.",
                    "The scale “%(scale)s” cannot be disabled: %(num)d subjects are graded on "
                    "it (%(subjects)s). Give them another scale first.",
                    len(used_by),
                    scale=scale_label(scale),
                    subjects=shown,
                ),
            )
    scale.is_active = active
    session.flush()


def pass_fail_label(value: str) -> str:
    if value == PASSED:
        return pgettext("grade", "passed")
    return pgettext("grade", "failed")


def _folded(text: str) -> str:
    """Lower case without accents ("Įsk." → "isk"), for matching what a teacher types."""
    decomposed = unicodedata.normalize("NFKD", text.strip().rstrip(".").casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _pass_fail_code(text: str) -> str | None:
    """``PASSED`` or ``FAILED`` for the code, its label in the current language, or the
    start of either typed in short, with or without accents ("įsk", "isk", "ne", "з", "n"):
    the two words differ from their first letter in every language. None otherwise."""
    typed = _folded(text)
    if not typed:
        return None
    matches = {
        code
        for code in (PASSED, FAILED)
        for word in (code, pass_fail_label(code))
        if _folded(word).startswith(typed)
    }
    return matches.pop() if len(matches) == 1 else None


def validate_grade(scale: GradeScale, value: str | int) -> str:
    """The grade as it is stored: a whole number in ``min..max`` as text ("7"), or ``"passed"``
    / ``"failed"`` on the pass/fail scale (the codes, or their labels in the current language,
    also in short: :func:`_pass_fail_code`). Raises ServiceError(field="value") for anything
    else."""
    text = str(value).strip()
    if scale.kind == "pass_fail":
        code = _pass_fail_code(text)
        if code is not None:
            return code
        raise ServiceError(
            _(
                "On the pass/fail scale the grade is “%(passed)s” or “%(failed)s”.",
                passed=pass_fail_label(PASSED),
                failed=pass_fail_label(FAILED),
            ),
            field="value",
        )
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or not scale.min_value <= number <= scale.max_value:
        raise ServiceError(
            _(
                "The grade must be a whole number from %(min)d to %(max)d.",
                min=scale.min_value,
                max=scale.max_value,
            ),
            field="value",
        )
    return str(number)


def unsatisfactory(value: ColumnElement[str]) -> ColumnElement[bool]:
    """SQL: whether the stored grade ``value`` is unsatisfactory on its scale (the statement
    must join ``GradeScale``)."""
    number = case((value.regexp_match("^[0-9]+$"), cast(value, Integer)))
    below = [
        and_(GradeScale.code == code, number < lowest)
        for code, lowest in LOWEST_SATISFACTORY.items()
    ]
    return or_(and_(GradeScale.kind == "pass_fail", value == FAILED), *below)


def grade_label(scale: GradeScale, value: str) -> str:
    """How a stored grade is shown to the reader (pass/fail translated, numbers as they are)."""
    if scale.kind == "pass_fail":
        return pass_fail_label(value)
    return value


# --- subjects ---------------------------------------------------------------------------------


def list_subjects(session: Session) -> list[Subject]:
    """Active subjects first, then by name (the scale comes joined)."""
    return list(session.scalars(select(Subject).order_by(Subject.is_active.desc(), Subject.name)))


def active_subjects(session: Session) -> list[Subject]:
    return list(session.scalars(select(Subject).where(Subject.is_active).order_by(Subject.name)))


def get_subject(session: Session, subject_id: int) -> Subject:
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(_("There is no such subject."))
    return subject


def _clean_subject_code(session: Session, code: str, subject: Subject | None) -> str:
    code = (code or "").strip().upper()
    if not code:
        raise ServiceError(_("Enter the subject's code, e.g. MAT."), field="code")
    if not SUBJECT_CODE_RE.match(code):
        raise ServiceError(
            _(
                "The subject's code may hold only Latin letters, digits and hyphens, no spaces, "
                "at most 20 characters, e.g. MAT or LT-K."
            ),
            field="code",
        )
    query = select(Subject.name).where(Subject.code == code)
    if subject is not None:
        query = query.where(Subject.id != subject.id)
    taken_by = session.scalar(query)
    if taken_by is not None:
        raise ServiceError(
            _(
                "The code “%(code)s” is already used by the subject “%(name)s”.",
                code=code,
                name=taken_by,
            ),
            field="code",
        )
    return code


def _clean_subject_names(
    session: Session, names: Mapping[str, str | None], school_locale: str, subject: Subject | None
) -> tuple[str, dict[str, str]]:
    name, translations = _clean_names(names, school_locale, SUBJECT_NAME_MAX)
    taken_by = _name_taken_by(session, Subject, name, subject.id if subject else None)
    if taken_by is not None:
        raise ServiceError(
            _("The school already has a subject named “%(name)s”.", name=taken_by),
            field=f"name_{school_locale}",
        )
    return name, translations


def _chosen_scale(session: Session, scale_id: str | int | None, subject: Subject | None) -> int:
    scale_key = parse_id(scale_id)
    scale = session.get(GradeScale, scale_key) if scale_key else None
    if scale is None:
        raise ServiceError(_("Choose the grade scale."), field="scale")
    keeps_own = subject is not None and subject.scale_id == scale.id
    if not scale.is_active and not keeps_own:
        raise ServiceError(
            _("The scale “%(scale)s” is disabled in this school.", scale=scale_label(scale)),
            field="scale",
        )
    return scale.id


def create_subject(
    session: Session,
    *,
    school_locale: str,
    code: str,
    names: Mapping[str, str | None],
    scale_id: str | int | None,
) -> Subject:
    """``names`` maps a locale to the subject's name in it; the school's own is required."""
    code = _clean_subject_code(session, code, None)
    name, translations = _clean_subject_names(session, names, school_locale, None)
    subject = Subject(
        code=code,
        name=name,
        name_translations=translations,
        scale_id=_chosen_scale(session, scale_id, None),
        is_active=True,
    )
    session.add(subject)
    session.flush()
    return subject


def _refuse_scale_change(session: Session, subject: Subject) -> None:
    """Grades already given on the subject's scale would no longer fit another one."""
    grades = session.scalar(
        select(
            select(func.count(Grade.id))
            .join(Group, Group.id == Grade.group_id)
            .where(Group.subject_id == subject.id)
            .scalar_subquery()
            + select(func.count(TermGrade.id))
            .join(Group, Group.id == TermGrade.group_id)
            .where(Group.subject_id == subject.id)
            .scalar_subquery()
        )
    )
    if grades:
        raise ServiceError(
            ngettext(
                "The subject already has %(num)d grade; its grade scale can no longer be changed.",
                "The subject already has %(num)d grades; its grade scale can no longer be changed.",
                grades,
            ),
            field="scale",
        )


def update_subject(
    session: Session,
    subject: Subject,
    *,
    school_locale: str,
    code: str,
    names: Mapping[str, str | None],
    scale_id: str | int | None,
) -> None:
    code = _clean_subject_code(session, code, subject)
    name, translations = _clean_subject_names(session, names, school_locale, subject)
    scale = _chosen_scale(session, scale_id, subject)
    if scale != subject.scale_id:
        _refuse_scale_change(session, subject)
    subject.code, subject.name, subject.name_translations = code, name, translations
    subject.scale_id = scale
    session.flush()
    session.expire(subject, ["scale"])


def set_subject_active(session: Session, subject: Subject, active: bool) -> None:
    """A deactivated subject keeps its groups and grades but is not offered for new groups."""
    subject.is_active = active
    session.flush()


def delete_subject(session: Session, subject: Subject) -> None:
    """Only a subject no group uses (a mistake); one that was taught is deactivated instead."""
    groups = session.scalar(select(func.count()).where(Group.subject_id == subject.id))
    if groups:
        raise ServiceError(
            ngettext(
                "The subject “%(name)s” is taught in %(num)d group; deactivate it instead.",
                "The subject “%(name)s” is taught in %(num)d groups; deactivate it instead.",
                groups,
                name=subject.name,
            )
        )
    session.delete(subject)
    session.flush()


# --- assessment kinds ---------------------------------------------------------------------------


def list_kinds(session: Session) -> list[AssessmentKind]:
    return list(
        session.scalars(
            select(AssessmentKind).order_by(AssessmentKind.is_active.desc(), AssessmentKind.name)
        )
    )


def offered_kinds(session: Session, keeping: int | None = None) -> list[AssessmentKind]:
    """The kinds a grade form offers: the active ones, and ``keeping`` (the kind the grade has
    already) even when it is no longer active, so that saving the form keeps it (as
    ``gradebook.grades.services`` allows)."""
    return [kind for kind in list_kinds(session) if kind.is_active or kind.id == keeping]


def get_kind(session: Session, kind_id: int) -> AssessmentKind:
    kind = session.get(AssessmentKind, kind_id)
    if kind is None:
        raise NotFound(_("There is no such assessment kind."))
    return kind


def _clean_kind_names(
    session: Session,
    names: Mapping[str, str | None],
    school_locale: str,
    kind: AssessmentKind | None,
) -> tuple[str, dict[str, str]]:
    name, translations = _clean_names(names, school_locale, KIND_NAME_MAX)
    taken_by = _name_taken_by(session, AssessmentKind, name, kind.id if kind else None)
    if taken_by is not None:
        raise ServiceError(
            _("The school already has an assessment kind named “%(name)s”.", name=taken_by),
            field=f"name_{school_locale}",
        )
    return name, translations


def create_kind(
    session: Session, *, school_locale: str, code: str, names: Mapping[str, str | None]
) -> AssessmentKind:
    code = (code or "").strip().lower()
    if not KIND_CODE_RE.match(code):
        raise ServiceError(
            _(
                "The code may hold only Latin letters, digits, hyphens and underscores, no "
                "spaces, at most 20 characters, e.g. lab_work."
            ),
            field="code",
        )
    taken_by = session.scalar(select(AssessmentKind.name).where(AssessmentKind.code == code))
    if taken_by is not None:
        raise ServiceError(
            _("The code “%(code)s” is already used by “%(name)s”.", code=code, name=taken_by),
            field="code",
        )
    name, translations = _clean_kind_names(session, names, school_locale, None)
    kind = AssessmentKind(code=code, name=name, name_translations=translations, is_active=True)
    session.add(kind)
    session.flush()
    return kind


def rename_kind(
    session: Session,
    kind: AssessmentKind,
    *,
    school_locale: str,
    names: Mapping[str, str | None],
) -> None:
    """New names; the code stays (grades keep pointing at the same kind)."""
    kind.name, kind.name_translations = _clean_kind_names(session, names, school_locale, kind)
    session.flush()


def set_kind_active(session: Session, kind: AssessmentKind, active: bool) -> None:
    """A deactivated kind stays on the grades given with it, but is not offered for new ones."""
    kind.is_active = active
    session.flush()
