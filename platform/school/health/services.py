"""Health recommendations: the health specialist (and the administrator) write and remove
them; the teachers of the student's groups read them in the journal (``journal.services``),
the class head on the student's page (and both get a notification, without the text); the
administration, the health specialist and the social pedagogue see the school's list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.models import Role
from accounts.services import roles_in_school
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from notifications.outbox import record_event
from school.calendar.services import current_year
from school.classes.models import SchoolClass
from school.health.models import TEXT_MAX, HealthRecommendation
from school.people.models import Person, Student
from school.people.names import person_order
from tenants.models import School

WRITERS = frozenset({Role.HEALTH_SPECIALIST, Role.ADMIN})
#: Who sees the school's list (the teachers see their students' in the journal).
READERS = WRITERS | {Role.DIRECTOR, Role.SOCIAL_PEDAGOGUE}


def in_force(today: date) -> ColumnElement[bool]:
    """The recommendations that apply on ``today``."""
    until = HealthRecommendation.valid_until
    return or_(until.is_(None), until >= today)


def require_writer(account: Principal, school: School) -> None:
    if not roles_in_school(account, school) & WRITERS:
        raise PermissionDenied(
            _("Only the health specialist and the e-diary administrator write health "
              "recommendations.")
        )  # fmt: skip


def require_reader(account: Principal, school: School) -> None:
    if not roles_in_school(account, school) & READERS:
        raise PermissionDenied(
            _("Only the health specialist, the social pedagogue, the director and the e-diary "
              "administrator see the school's health recommendations.")
        )  # fmt: skip


def write(
    session: Session,
    account: Principal,
    school: School,
    *,
    student_id: int | None,
    text: str | None,
    valid_until: date | None,
    today: date,
) -> HealthRecommendation:
    """A recommendation for an active student of the school."""
    require_writer(account, school)
    student = session.get(Student, student_id) if student_id else None
    if student is None or student.status != "active":
        raise ServiceError(_("Choose a student of the school."), field="student_id")
    text = " ".join((text or "").split())
    if not text:
        raise ServiceError(_("Write the recommendation."), field="text")
    if len(text) > TEXT_MAX:
        raise ServiceError(
            ngettext(
                "The recommendation may be at most %(num)d character long.",
                "The recommendation may be at most %(num)d characters long.",
                TEXT_MAX,
            ),
            field="text",
        )
    if valid_until is not None and valid_until < today:
        raise ServiceError(
            _("The last day cannot be in the past: remove a recommendation that no longer "
              "applies."),
            field="valid_until",
        )  # fmt: skip
    recommendation = HealthRecommendation(
        student_id=student.person_id, text=text, valid_until=valid_until, written_by=account.id
    )
    session.add(recommendation)
    session.flush()
    if student.class_id is not None:
        record_event(
            session, "health_recommendation", actor_id=account.id,
            student_id=student.person_id, class_id=student.class_id,
            recommendation_id=recommendation.id,
        )  # fmt: skip
    return recommendation


def remove(session: Session, account: Principal, school: School, recommendation_id: int) -> None:
    require_writer(account, school)
    recommendation = session.get(HealthRecommendation, recommendation_id)
    if recommendation is None:
        raise NotFound(_("There is no such health recommendation."))
    session.delete(recommendation)
    session.flush()


@dataclass(frozen=True)
class Listed:
    recommendation: HealthRecommendation
    student: Person
    school_class: SchoolClass | None


def school_list(session: Session, account: Principal, school: School, today: date) -> list[Listed]:
    """The recommendations in force for the school's active students, by class and name; one
    query."""
    require_reader(account, school)
    rows = session.execute(
        select(HealthRecommendation, Person, SchoolClass)
        .join(Person, Person.id == HealthRecommendation.student_id)
        .join(Student, Student.person_id == Person.id)
        .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
        .where(Student.status == "active", in_force(today))
        .order_by(
            SchoolClass.grade_level, SchoolClass.letter, *person_order(Person),
            HealthRecommendation.id,
        )
    )  # fmt: skip
    return [Listed(*row) for row in rows]


def of_student(session: Session, student_id: int, today: date) -> list[HealthRecommendation]:
    """A student's recommendations in force (the caller shows the student's page only to
    those who may read it)."""
    return list(
        session.scalars(
            select(HealthRecommendation)
            .where(HealthRecommendation.student_id == student_id, in_force(today))
            .order_by(HealthRecommendation.id)
        )
    )


def students_to_choose(session: Session, today: date) -> list[tuple[SchoolClass, list[Person]]]:
    """The active students of this school year's classes, by class and name, for the form;
    two queries."""
    year = current_year(session, today)
    if year is None:
        return []
    rows = session.execute(
        select(SchoolClass, Person)
        .join(Student, Student.class_id == SchoolClass.id)
        .join(Person, Person.id == Student.person_id)
        .where(Student.status == "active", SchoolClass.year_id == year.id)
        .order_by(SchoolClass.grade_level, SchoolClass.letter, *person_order(Person))
    )
    by_class: dict[SchoolClass, list[Person]] = {}
    for school_class, person in rows:
        by_class.setdefault(school_class, []).append(person)
    return list(by_class.items())
