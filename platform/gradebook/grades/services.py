"""Grades, their history, and term and year grades.

Every grade change writes a ``GradeChange`` row (who, when, old and new value, kind, comment)
and an outbox event in the same transaction. A term is *locked* for grades when its term-grade
function (``school.locks``) is set ``locked`` by the administrator, or, in automatic mode, once
its closing point (the end of the unlock window) has passed; an administrator's explicit
``open`` unlocks it again. Grades of a locked term are added, changed and deleted only by the
administrator, and those changes are flagged ``after_lock``.

Term grades are suggested from the term's grades (the mean, rounded by the school's rule; on
the pass/fail scale the latest grade) and confirmed by the group's teacher inside the unlock
window; year grades (``term_id`` NULL) are suggested from the confirmed term grades and
confirmed inside the last term's window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.models import Account, Role
from accounts.services import require_role, roles_in_school
from dienynas.errors import NotFound, ServiceError
from gradebook.access import require_group_writer, require_head_of_student, require_lesson_writer
from gradebook.days import get_settings, teaching_term
from gradebook.grades.models import Grade, GradeChange, TermGrade
from gradebook.lessons.models import Lesson
from notifications.outbox import record_event
from school.calendar.models import SchoolYear, Term
from school.calendar.services import current_year
from school.classes.models import Group, GroupStudent, SchoolClass
from school.curriculum.models import AssessmentKind, GradeScale, Subject
from school.curriculum.services import grade_label, validate_grade
from school.locks.services import (
    TERM_GRADES,
    LockState,
    lock_state,
    require_open,
    states_for_year,
)
from school.people.models import Person, Student
from school.people.names import person_sort_key
from tenants.models import School

COMMENT_MAX = 500
#: The grade-history page shows at most this many changes (the newest).
HISTORY_LIMIT = 500


# --- locks ------------------------------------------------------------------------------------


def term_locked(session: Session, term: Term, today: date) -> bool:
    """The term's grades are closed to teachers ``today`` (see the module's docstring)."""
    state = lock_state(session, term, TERM_GRADES, today)
    if state.mode == "open":
        return False
    if state.mode == "locked":
        return True
    return today > state.window_end


def _check_lock(
    session: Session, account: Principal, school: School, term: Term, today: date
) -> bool:
    """True when the change is made after the lock (by the administrator); a refusal for
    anyone else."""
    if not term_locked(session, term, today):
        return False
    if Role.ADMIN not in roles_in_school(account, school):
        raise ServiceError(
            _(
                "%(term)s is locked: only the e-diary administrator may change its grades.",
                term=term.label,
            )
        )
    return True


# --- checks -----------------------------------------------------------------------------------


def _require_member(session: Session, group: Group, student_id: int) -> None:
    """The student is in the group and has not left the school (a student who left keeps
    their group memberships for the archive, read-only)."""
    status = session.scalar(
        select(Student.status)
        .join(GroupStudent, GroupStudent.student_id == Student.person_id)
        .where(GroupStudent.group_id == group.id, GroupStudent.student_id == student_id)
    )
    if status is None:
        raise ServiceError(_("The student is not in this group."), field="student")
    if status != "active":
        raise ServiceError(
            _("The student has left the school: their records can no longer be changed."),
            field="student",
        )


def _kind(session: Session, kind_id: int | None, current: int | None = None) -> int | None:
    """An active assessment kind (a grade may keep the inactive kind it already has)."""
    if kind_id is None or kind_id == current:
        return kind_id
    kind = session.get(AssessmentKind, kind_id)
    if kind is None or not kind.is_active:
        raise ServiceError(_("Choose one of the school's assessment kinds."), field="kind")
    return kind.id


def _comment(comment: str | None) -> str | None:
    text = (comment or "").strip()
    if len(text) > COMMENT_MAX:
        raise ServiceError(
            ngettext(
                "The comment may be at most %(num)d character long.",
                "The comment may be at most %(num)d characters long.",
                COMMENT_MAX,
            ),
            field="comment",
        )
    return text or None


def _value(group: Group, value: str | None) -> str:
    if not (value or "").strip():
        raise ServiceError(_("Enter the grade."), field="value")
    return validate_grade(group.subject.scale, value)


# --- grades -----------------------------------------------------------------------------------


def get_grade(session: Session, grade_id: int | None) -> Grade:
    grade = session.get(Grade, grade_id) if grade_id else None
    if grade is None:
        raise NotFound(_("There is no such grade."))
    return grade


def _require_grade_writer(
    session: Session, account: Principal, school: School, grade: Grade
) -> None:
    """The group's teachers, the administrator, or the substitute who gave it in their lesson
    (a grade from another school: the student's class head); never for a student who has left
    (their records are the school's archive)."""
    if session.scalar(select(Student.status).where(Student.person_id == grade.student_id)) != (
        "active"
    ):
        raise ServiceError(
            _("The student has left the school: their records can no longer be changed."),
            field="student",
        )
    if grade.origin is not None:  # from another school: the class head entered it
        require_head_of_student(session, account, school, session.get(Student, grade.student_id))
    elif grade.lesson_id is not None:
        require_lesson_writer(session, account, school, session.get(Lesson, grade.lesson_id))
    else:
        require_group_writer(session, account, school, session.get(Group, grade.group_id))


def add_grade(
    session: Session,
    account: Principal,
    school: School,
    *,
    group: Group,
    student_id: int,
    value: str,
    kind_id: int | None = None,
    comment: str | None = None,
    lesson: Lesson | None = None,
    on_day: date | None = None,
    today: date,
) -> Grade:
    """A grade in ``lesson`` (on its day) or on ``on_day`` (a school day of a term)."""
    if lesson is not None:
        if lesson.group_id != group.id:
            raise NotFound(_("There is no such lesson in this group."))
        require_lesson_writer(session, account, school, lesson)
        on_day = lesson.on_day
        term = session.get(Term, lesson.term_id)
    else:
        require_group_writer(session, account, school, group)
        if on_day is None:
            raise ServiceError(_("Enter a date."), field="on_day")
        term = teaching_term(session, on_day)
    checked = _check_new_grade(
        session, account, school, group, student_id, on_day, term, value, kind_id, comment, today
    )
    return _insert_grade(session, account, group, student_id, on_day, term, *checked, lesson=lesson)


def _check_new_grade(
    session: Session,
    account: Principal,
    school: School,
    group: Group,
    student_id: int,
    on_day: date,
    term: Term,
    value: str,
    kind_id: int | None,
    comment: str | None,
    today: date,
) -> tuple[str, int | None, str | None, bool]:
    """What every new grade is checked for (not in the future, in the group's year, for a
    student of the group, on the scale, the lock): (value, kind, comment, after the lock)."""
    if on_day > today:
        raise ServiceError(
            _(
                "A grade cannot be given in advance: %(day)s has not come yet.",
                day=format_date(on_day, "medium"),
            ),
            field="on_day",
        )
    if term.year_id != group.year_id:
        raise ServiceError(_("The day is outside this group's school year."), field="on_day")
    _require_member(session, group, student_id)
    return (
        _value(group, value),
        _kind(session, kind_id),
        _comment(comment),
        _check_lock(session, account, school, term, today),
    )


def _insert_grade(
    session: Session,
    account: Principal,
    group: Group,
    student_id: int,
    on_day: date,
    term: Term,
    value: str,
    kind_id: int | None,
    comment: str | None,
    after_lock: bool,
    *,
    lesson: Lesson | None = None,
    origin: str | None = None,
) -> Grade:
    """The checked grade, its history's "create" row and the guardians' event."""
    grade = Grade(
        student_id=student_id,
        group_id=group.id,
        lesson_id=lesson.id if lesson is not None else None,
        on_day=on_day,
        term_id=term.id,
        value=value,
        kind_id=kind_id,
        comment=comment,
        origin=origin,
        created_by=account.id,
    )
    session.add(grade)
    session.flush()
    session.add(
        GradeChange(
            grade_id=grade.id,
            student_id=student_id,
            group_id=group.id,
            on_day=on_day,
            action="create",
            new_value=value,
            new_kind_id=kind_id,
            new_comment=comment,
            changed_by=account.id,
            after_lock=after_lock,
        )
    )
    record_event(
        session, "grade", actor_id=account.id,
        grade_id=grade.id, student_id=student_id, group_id=group.id,
    )  # fmt: skip
    session.flush()
    return grade


# --- grades from another school -------------------------------------------------------------

ORIGIN_MAX = 200


def _origin(origin: str | None) -> str:
    text = (origin or "").strip()
    if not text:
        raise ServiceError(
            _("Enter the school where the grade was given, e.g. the hospital school."),
            field="origin",
        )
    if len(text) > ORIGIN_MAX:
        raise ServiceError(
            _("The school's name may be at most %(num)d characters long.", num=ORIGIN_MAX),
            field="origin",
        )
    return text


def add_outside_grade(
    session: Session,
    account: Principal,
    school: School,
    *,
    class_id: int,
    student_id: int | None,
    group_id: int | None,
    on_day: date | None,
    value: str,
    origin: str | None,
    kind_id: int | None = None,
    comment: str | None = None,
    today: date,
) -> Grade:
    """A grade a student of the class got in another school while away (a hospital or
    sanatorium school), entered by their class head (or the administrator) from that
    school's certificate into one of the student's subject groups; it keeps where it was
    given. The day must be a school day of one of the group's terms, not in the future; a
    locked term takes it from the administrator only."""
    student = session.get(Student, student_id) if student_id else None
    if student is None or student.class_id != class_id:
        raise ServiceError(_("Choose a student of the class."), field="student")
    group = session.get(Group, group_id) if group_id else None
    if group is None:
        raise ServiceError(_("Choose the subject."), field="group")
    require_head_of_student(session, account, school, student)
    if student.status != "active":
        raise ServiceError(
            _("The student has left the school: their records can no longer be changed."),
            field="student",
        )
    place = _origin(origin)
    if on_day is None:
        raise ServiceError(_("Enter a date."), field="on_day")
    term = teaching_term(session, on_day)
    checked = _check_new_grade(
        session, account, school, group, student.person_id, on_day, term, value, kind_id,
        comment, today,
    )  # fmt: skip
    return _insert_grade(
        session, account, group, student.person_id, on_day, term, *checked, origin=place
    )


def outside_grade_choices(
    session: Session, school_class: SchoolClass
) -> tuple[list[Student], list[Group]]:
    """For the form: the class's active students (in name order) and the subject groups of the
    class's year that any of them is in (two queries)."""
    students = sorted(
        session.scalars(
            select(Student).where(Student.class_id == school_class.id, Student.status == "active")
        ),
        key=lambda student: person_sort_key(student.person),
    )
    groups = list(
        session.scalars(
            select(Group)
            .where(
                Group.year_id == school_class.year_id,
                Group.id.in_(
                    select(GroupStudent.group_id).where(
                        GroupStudent.student_id.in_([s.person_id for s in students])
                    )
                ),
            )
            .order_by(Group.name)
        )
    )
    return students, groups


@dataclass(frozen=True)
class OutsideGradeRow:
    grade: Grade
    student: Person
    subject: Subject
    label: str  # the grade as shown


def _outside_rows(school_class: SchoolClass) -> Select:
    return (
        select(Grade, Person, Subject)
        .join(Student, Student.person_id == Grade.student_id)
        .join(Person, Person.id == Grade.student_id)
        .join(Group, Group.id == Grade.group_id)
        .join(Subject, Subject.id == Group.subject_id)
        .where(
            Student.class_id == school_class.id,
            Student.status == "active",
            Grade.origin.is_not(None),
        )
    )


def _outside_row(grade: Grade, person: Person, subject: Subject) -> OutsideGradeRow:
    return OutsideGradeRow(grade, person, subject, grade_label(subject.scale, grade.value))


def outside_grades(session: Session, school_class: SchoolClass) -> list[OutsideGradeRow]:
    """The grades from other schools of the class's active students, latest first (one
    query)."""
    rows = session.execute(
        _outside_rows(school_class).order_by(Grade.on_day.desc(), Grade.id.desc())
    )
    return [_outside_row(*row) for row in rows]


def outside_grade(session: Session, school_class: SchoolClass, grade_id: int) -> OutsideGradeRow:
    """One grade from another school of the class's active students; ``NotFound`` for any
    other grade (of the journal, of another class, of a student who has left)."""
    row = session.execute(_outside_rows(school_class).where(Grade.id == grade_id)).first()
    if row is None:
        raise NotFound(_("There is no such grade."))
    return _outside_row(*row)


def change_grade(
    session: Session,
    account: Principal,
    school: School,
    grade: Grade,
    *,
    value: str,
    kind_id: int | None,
    comment: str | None,
    today: date,
) -> Grade:
    """New value, kind and comment; nothing is recorded when nothing changed."""
    _require_grade_writer(session, account, school, grade)
    stored = _value(session.get(Group, grade.group_id), value)
    kind = _kind(session, kind_id, grade.kind_id)
    text = _comment(comment)
    if (stored, kind, text) == (grade.value, grade.kind_id, grade.comment):
        return grade
    after_lock = _check_lock(session, account, school, session.get(Term, grade.term_id), today)
    session.add(
        GradeChange(
            grade_id=grade.id,
            student_id=grade.student_id,
            group_id=grade.group_id,
            on_day=grade.on_day,
            action="update",
            old_value=grade.value,
            new_value=stored,
            old_kind_id=grade.kind_id,
            new_kind_id=kind,
            old_comment=grade.comment,
            new_comment=text,
            changed_by=account.id,
            after_lock=after_lock,
        )
    )
    if stored != grade.value:
        record_event(
            session, "grade_changed", actor_id=account.id,
            grade_id=grade.id, student_id=grade.student_id, group_id=grade.group_id,
        )  # fmt: skip
    grade.value, grade.kind_id, grade.comment = stored, kind, text
    grade.updated_at = datetime.now(UTC)
    session.flush()
    return grade


def delete_grade(
    session: Session, account: Principal, school: School, grade: Grade, *, today: date
) -> None:
    """Remove a grade; its history stays (``GradeChange`` has no foreign key to it)."""
    _require_grade_writer(session, account, school, grade)
    after_lock = _check_lock(session, account, school, session.get(Term, grade.term_id), today)
    session.add(
        GradeChange(
            grade_id=grade.id,
            student_id=grade.student_id,
            group_id=grade.group_id,
            on_day=grade.on_day,
            action="delete",
            old_value=grade.value,
            old_kind_id=grade.kind_id,
            old_comment=grade.comment,
            changed_by=account.id,
            after_lock=after_lock,
        )
    )
    record_event(
        session, "grade_changed", actor_id=account.id,
        grade_id=grade.id, student_id=grade.student_id, group_id=grade.group_id,
    )  # fmt: skip
    session.delete(grade)
    session.flush()


# --- history ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    change: GradeChange
    changed_by: str
    student: Person
    group: Group
    subject: Subject
    old_label: str | None
    new_label: str | None
    old_kind: AssessmentKind | None
    new_kind: AssessmentKind | None
    #: Where the grade was given when not in this school (a hospital school, or the school a
    #: transferred student came from); None also once the grade is deleted.
    origin: str | None = None


def grade_history(
    session: Session,
    account: Principal,
    school: School,
    *,
    group_id: int | None = None,
    student_id: int | None = None,
    since: date | None = None,
    limit: int = HISTORY_LIMIT,
) -> list[HistoryRow]:
    """The newest changes first (the administrator and the director only); three queries."""
    require_role(account, school, Role.ADMIN, Role.DIRECTOR)
    query = (
        select(GradeChange, Person, Group, Subject, Grade.origin)
        .join(Person, Person.id == GradeChange.student_id)
        .join(Group, Group.id == GradeChange.group_id)
        .join(Subject, Subject.id == Group.subject_id)
        .outerjoin(Grade, Grade.id == GradeChange.grade_id)
        .order_by(GradeChange.changed_at.desc(), GradeChange.id.desc())
        .limit(limit)
    )
    if group_id is not None:
        query = query.where(GradeChange.group_id == group_id)
    if student_id is not None:
        query = query.where(GradeChange.student_id == student_id)
    if since is not None:
        query = query.where(GradeChange.changed_at >= since)
    rows = session.execute(query).all()
    if not rows:
        return []
    names = dict(
        session.execute(
            select(Account.id, Account.name).where(
                Account.id.in_({change.changed_by for change, *_rest in rows})
            )
        ).all()
    )
    kinds = {kind.id: kind for kind in session.scalars(select(AssessmentKind))}

    def label(subject: Subject, value: str | None) -> str | None:
        return None if value is None else grade_label(subject.scale, value)

    return [
        HistoryRow(
            change=change,
            changed_by=names.get(change.changed_by, "—"),
            student=student,
            group=group,
            subject=subject,
            old_label=label(subject, change.old_value),
            new_label=label(subject, change.new_value),
            old_kind=kinds.get(change.old_kind_id),
            new_kind=kinds.get(change.new_kind_id),
            origin=origin,
        )
        for change, student, group, subject, origin in rows
    ]


def _group_people(session: Session, group_id: int) -> list[Person]:
    """The group's students, sorted as people expect (Š after S, not after Z)."""
    return sorted(
        session.scalars(
            select(Person)
            .join(GroupStudent, GroupStudent.student_id == Person.id)
            .where(GroupStudent.group_id == group_id)
        ),
        key=person_sort_key,
    )


def history_choices(
    session: Session, today: date, *, group_id: int | None, student_id: int | None
) -> tuple[list[Group], list[Person]]:
    """What the history page's filters offer: the groups of the current school year, and the
    chosen group's students (or the chosen student alone)."""
    year = current_year(session, today)
    groups = (
        list(session.scalars(select(Group).where(Group.year_id == year.id).order_by(Group.name)))
        if year
        else []
    )
    if group_id is not None:
        return groups, _group_people(session, group_id)
    student = session.get(Person, student_id) if student_id is not None else None
    return groups, [student] if student is not None else []


# --- term and year grades -----------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """What the grades say: how many there are, their mean (numeric scales), the suggestion."""

    count: int
    mean: Decimal | None
    suggested: str | None


def _round(mean: Decimal, rounding: str) -> int:
    mode = ROUND_HALF_DOWN if rounding == "half_down" else ROUND_HALF_UP
    return int(mean.quantize(Decimal(1), rounding=mode))


def _suggest(scale: GradeScale, values: list[str], rounding: str) -> Suggestion:
    """``values`` in the order given (oldest first). Pass/fail: the latest grade decides,
    since a later pass shows the student has caught up."""
    if not values:
        return Suggestion(0, None, None)
    if scale.kind == "pass_fail":
        return Suggestion(len(values), None, values[-1])
    mean = Decimal(sum(int(v) for v in values)) / len(values)
    return Suggestion(len(values), mean, str(_round(mean, rounding)))


def _group_student_ids(session: Session, group: Group) -> list[int]:
    return list(
        session.scalars(select(GroupStudent.student_id).where(GroupStudent.group_id == group.id))
    )


def _suggestions(
    scale: GradeScale, student_ids: Iterable[int], rows: Iterable[tuple[int, str]], rounding: str
) -> dict[int, Suggestion]:
    values: dict[int, list[str]] = {student_id: [] for student_id in student_ids}
    for student_id, value in rows:
        if student_id in values:
            values[student_id].append(value)
    return {sid: _suggest(scale, found, rounding) for sid, found in values.items()}


def suggest_term_grades(session: Session, group: Group, term: Term) -> dict[int, Suggestion]:
    """Every student of the group: the term's grades counted, their mean, the suggestion."""
    rows = session.execute(
        select(Grade.student_id, Grade.value)
        .where(Grade.group_id == group.id, Grade.term_id == term.id)
        .order_by(Grade.on_day, Grade.id)
    ).all()
    return _suggestions(
        group.subject.scale,
        _group_student_ids(session, group),
        rows,
        get_settings(session).rounding,
    )


def _year_terms(session: Session, group: Group) -> list[Term]:
    return list(
        session.scalars(select(Term).where(Term.year_id == group.year_id).order_by(Term.number))
    )


def suggest_year_grades(session: Session, group: Group) -> dict[int, Suggestion]:
    """Every student of the group: the mean of the confirmed term grades, rounded."""
    rows = session.execute(
        select(TermGrade.student_id, TermGrade.value)
        .join(Term, Term.id == TermGrade.term_id)
        .where(TermGrade.group_id == group.id, TermGrade.value.is_not(None))
        .order_by(Term.number)
    ).all()
    return _suggestions(
        group.subject.scale,
        _group_student_ids(session, group),
        rows,
        get_settings(session).rounding,
    )


def _confirm(
    session: Session,
    account: Principal,
    group: Group,
    term_id: int | None,
    suggestions: Mapping[int, Suggestion],
    values: Mapping[int, str],
) -> list[TermGrade]:
    """Validate every value first (nothing saved on a bad one), then write the changed ones."""
    scale = group.subject.scale
    outsiders = set(values) - set(suggestions)
    if outsiders:
        raise ServiceError(_("The student is not in this group."), field="student")
    cleaned: dict[int, str | None] = {}
    for student_id, raw in values.items():
        if not (raw or "").strip():
            cleaned[student_id] = None
            continue
        try:
            cleaned[student_id] = validate_grade(scale, raw)
        except ServiceError as exc:
            name = session.get(Person, student_id).full_name
            raise ServiceError(
                _("Student: %(name)s. %(message)s", name=name, message=exc.message),
                field=f"value-{student_id}",
            ) from None
    query = select(TermGrade).where(TermGrade.group_id == group.id)
    if term_id is None:
        query = query.where(TermGrade.term_id.is_(None), TermGrade.year_id == group.year_id)
    else:
        query = query.where(TermGrade.term_id == term_id)
    existing = {row.student_id: row for row in session.scalars(query)}
    now = datetime.now(UTC)
    changed = []
    for student_id, value in cleaned.items():
        row = existing.get(student_id)
        if row is None:
            if value is None:
                continue
            row = TermGrade(
                student_id=student_id, group_id=group.id, year_id=group.year_id, term_id=term_id
            )
            session.add(row)
        row.suggested = suggestions[student_id].suggested
        if row.value == value:
            continue
        row.value, row.confirmed_by, row.confirmed_at = value, account.id, now
        changed.append(row)
    session.flush()
    for row in changed:
        ids = {"term_id": term_id} if term_id is not None else {"year_id": group.year_id}
        record_event(
            session, "term_grade", actor_id=account.id,
            term_grade_id=row.id, student_id=row.student_id, group_id=group.id, **ids,
        )  # fmt: skip
    session.flush()
    return changed


def get_term_of_group(session: Session, group: Group, term_id: int | None) -> Term:
    term = session.get(Term, term_id) if term_id else None
    if term is None or term.year_id != group.year_id:
        raise NotFound(_("There is no such term in this group's school year."))
    return term


def confirm_term_grades(
    session: Session,
    account: Principal,
    school: School,
    group: Group,
    term: Term,
    values: Mapping[int, str],
    today: date,
) -> list[TermGrade]:
    """The teacher's term grades (student id → value; blank clears) inside the unlock window.
    Returns the rows whose value changed."""
    require_group_writer(session, account, school, group)
    if term.year_id != group.year_id:
        raise NotFound(_("There is no such term in this group's school year."))
    require_open(session, term, TERM_GRADES, today)
    return _confirm(
        session, account, group, term.id, suggest_term_grades(session, group, term), values
    )


def confirm_year_grades(
    session: Session,
    account: Principal,
    school: School,
    group: Group,
    values: Mapping[int, str],
    today: date,
) -> list[TermGrade]:
    """The year grades, inside the unlock window of the year's last term."""
    require_group_writer(session, account, school, group)
    terms = _year_terms(session, group)
    if not terms:
        raise ServiceError(_("This school year has no terms yet."))
    require_open(session, terms[-1], TERM_GRADES, today)
    return _confirm(session, account, group, None, suggest_year_grades(session, group), values)


# --- the term grades page ---------------------------------------------------------------------


@dataclass(frozen=True)
class TermGradeRow:
    student: Person
    term: Suggestion
    term_grade: TermGrade | None
    year: Suggestion
    year_grade: TermGrade | None


@dataclass(frozen=True)
class TermGradeSheet:
    group: Group
    scale: GradeScale
    terms: list[Term]
    term: Term
    #: The term's and the last term's (year grades') term-grade function today.
    term_state: LockState
    year_state: LockState
    rows: list[TermGradeRow]


def term_grade_sheet(
    session: Session, group: Group, term_id: int | None, today: date
) -> TermGradeSheet:
    """The page's data in a constant number of queries: the chosen term (else the one of
    ``today``, else the last), every student with both suggestions and confirmed grades."""
    states = {
        state.term.id: state
        for state in states_for_year(session, session.get(SchoolYear, group.year_id), today)
        if state.function == TERM_GRADES
    }
    if not states:
        raise ServiceError(_("This school year has no terms yet."))
    terms = [state.term for state in states.values()]
    if term_id is not None and term_id not in states:
        raise NotFound(_("There is no such term in this group's school year."))
    term = (
        states[term_id].term
        if term_id is not None
        else next((t for t in terms if t.starts_on <= today <= t.ends_on), terms[-1])
    )
    scale = group.subject.scale
    rounding = get_settings(session).rounding
    people = _group_people(session, group.id)
    ids = [person.id for person in people]
    grades = session.execute(
        select(Grade.student_id, Grade.value)
        .where(Grade.group_id == group.id, Grade.term_id == term.id)
        .order_by(Grade.on_day, Grade.id)
    ).all()
    confirmed = session.scalars(
        select(TermGrade).where(TermGrade.group_id == group.id, TermGrade.year_id == group.year_id)
    ).all()
    number = {t.id: t.number for t in terms}
    term_values = sorted(
        (number[row.term_id], row.student_id, row.value)
        for row in confirmed
        if row.term_id is not None and row.value is not None
    )
    term_suggestions = _suggestions(scale, ids, grades, rounding)
    year_suggestions = _suggestions(scale, ids, [(s, v) for _n, s, v in term_values], rounding)
    this_term = {row.student_id: row for row in confirmed if row.term_id == term.id}
    year = {row.student_id: row for row in confirmed if row.term_id is None}
    rows = [
        TermGradeRow(
            student=person,
            term=term_suggestions[person.id],
            term_grade=this_term.get(person.id),
            year=year_suggestions[person.id],
            year_grade=year.get(person.id),
        )
        for person in people
    ]
    return TermGradeSheet(
        group=group,
        scale=scale,
        terms=terms,
        term=term,
        term_state=states[term.id],
        year_state=states[terms[-1].id],
        rows=rows,
    )


def value_label(scale: GradeScale, value: str | None) -> str:
    """A stored grade as the reader sees it (empty for none)."""
    return "" if value is None else grade_label(scale, value)
