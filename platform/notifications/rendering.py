"""What a notification says, in the recipient's language.

:func:`load_facts` reads the records an event points to (its payload holds ids only) into plain
values once per event; :func:`render` turns them into a subject and text lines under the
recipient's locale (``dienynas.i18n.in_locale``), with subject names in that language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_date, pgettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Account
from gradebook.attendance.models import Attendance, Excuse
from gradebook.grades.models import Grade, GradeChange, TermGrade
from gradebook.lessons.models import Homework, Lesson
from gradebook.planning.models import PlannedTest
from gradebook.remarks.models import Remark
from notifications.announcements.models import Announcement
from notifications.messages.models import Message, MessageThread
from school.classes.models import Group, SchoolClass
from school.curriculum.models import AssessmentKind, Subject
from school.curriculum.services import pass_fail_label
from school.people.models import Person
from tenants.models import School


@dataclass(frozen=True)
class Translated:
    """A name with its translations (subjects, assessment kinds)."""

    name: str
    translations: dict[str, str] = field(default_factory=dict)

    def in_(self, locale: str) -> str:
        return self.translations.get(locale) or self.name

    @classmethod
    def of(cls, thing: Subject | AssessmentKind | None) -> Translated | None:
        return None if thing is None else cls(thing.name, dict(thing.name_translations or {}))


@dataclass(frozen=True)
class Facts:
    """The values a notification shows (read once per event, rendered per locale)."""

    kind: str
    variant: str = ""  # absent/late/left_early, praise/remark/reprimand, approved/rejected, …
    student: str | None = None
    subject: Translated | None = None
    assessment: Translated | None = None
    value: str | None = None
    pass_fail: bool = False  # the value is a pass/fail code, shown translated
    day: date | None = None
    until: date | None = None
    text: str | None = None
    school: str | None = None  # transfers: the other school's name
    title: str | None = None  # a message thread's subject, an announcement's title
    school_class: str | None = None  # the class a new student joined
    author: str | None = None  # a message's sender


def _subject_of_group(session: Session, group_id: int | None) -> Translated | None:
    group = session.get(Group, group_id) if group_id else None
    return Translated.of(group.subject) if group else None


def _student_name(session: Session, student_id: int | None) -> str | None:
    person = session.get(Person, student_id) if student_id else None
    return person.full_name if person else None


def load_facts(session: Session, kind: str, ids: dict[str, int]) -> Facts | None:
    """The facts of an event (``kind``, its payload ``ids``), or None when what it reported no
    longer exists (nothing to say)."""
    student = _student_name(session, ids.get("student_id"))
    if kind == "grade":
        grade = session.get(Grade, ids["grade_id"])
        if grade is None:
            return None
        group = session.get(Group, grade.group_id)
        return Facts(
            "grade",
            student=student,
            subject=Translated.of(group.subject),
            assessment=Translated.of(grade.kind),
            value=grade.value,
            pass_fail=group.subject.scale.kind == "pass_fail",
            day=grade.on_day,
            text=grade.comment,
        )
    if kind == "grade_changed":
        grade = session.get(Grade, ids["grade_id"])
        if grade is not None:
            group = session.get(Group, grade.group_id)
            return Facts(
                "grade_changed",
                "changed",
                student=student,
                subject=Translated.of(group.subject),
                assessment=Translated.of(grade.kind),
                value=grade.value,
                pass_fail=group.subject.scale.kind == "pass_fail",
                day=grade.on_day,
                text=grade.comment,
            )
        change = session.scalar(
            select(GradeChange)
            .where(GradeChange.grade_id == ids["grade_id"])
            .order_by(GradeChange.id.desc())
            .limit(1)
        )
        if change is None:
            return None
        group = session.get(Group, change.group_id)
        return Facts(
            "grade_changed",
            "removed",
            student=student,
            subject=Translated.of(group.subject) if group else None,
            value=change.old_value,
            pass_fail=bool(group) and group.subject.scale.kind == "pass_fail",
            day=change.on_day,
        )
    if kind == "absence":
        mark = session.get(Attendance, (ids["lesson_id"], ids["student_id"]))
        if mark is None:
            return None
        lesson = session.get(Lesson, ids["lesson_id"])
        return Facts(
            "absence",
            mark.mark,
            student=student,
            subject=_subject_of_group(session, lesson.group_id),
            day=lesson.on_day,
        )
    if kind == "remark":
        remark = session.get(Remark, ids["remark_id"])
        if remark is None:
            return None
        return Facts(
            "remark",
            remark.kind,
            student=student,
            subject=_subject_of_group(session, remark.group_id),
            day=remark.on_day,
            text=remark.text,
        )
    if kind == "homework":
        homework = session.get(Homework, ids["homework_id"])
        if homework is None:
            return None
        lesson = session.get(Lesson, homework.lesson_id)
        return Facts(
            "homework",
            subject=_subject_of_group(session, lesson.group_id),
            day=homework.due_on or lesson.on_day,
            text=homework.text,
        )
    if kind == "test":
        test = session.get(PlannedTest, ids["planned_test_id"])
        if test is None:
            return None
        return Facts(
            "test",
            subject=_subject_of_group(session, test.group_id),
            assessment=Translated.of(test.kind),
            day=test.on_day,
            text=test.topic,
        )
    if kind == "term_grade":
        term_grade = session.get(TermGrade, ids["term_grade_id"])
        if term_grade is None or term_grade.value is None:
            return None
        group = session.get(Group, term_grade.group_id)
        return Facts(
            "term_grade",
            student=student,
            subject=Translated.of(group.subject),
            value=term_grade.value,
            pass_fail=group.subject.scale.kind == "pass_fail",
            text=term_grade.comment,
        )
    if kind == "excuse_decision":
        excuse = session.get(Excuse, ids["excuse_id"])
        if excuse is None or excuse.status == "pending":
            return None
        return Facts(
            "excuse_decision",
            excuse.status,
            student=student,
            day=excuse.from_day,
            until=excuse.to_day,
            text=excuse.decision_note,
        )
    if kind in ("transfer_incoming", "transfer_claimed", "transfer_new_school"):
        return _transfer_facts(session, kind, ids)
    if kind in ("message", "announcement"):
        return _posted_facts(session, kind, ids)
    if kind in ("student_joined", "health_recommendation"):
        school_class = session.get(SchoolClass, ids["class_id"])
        if student is None or school_class is None:
            return None
        return Facts(kind, student=student, school_class=school_class.name)
    raise ValueError(f"no text for event kind {kind!r}")


def _transfer_facts(session: Session, kind: str, ids: dict[str, int]) -> Facts | None:
    """A transfer notice: the student's name and the other school's (from the public pool row,
    which every school's role may read)."""
    from transfers.models import PoolEntry

    entry = session.get(PoolEntry, ids["pool_id"])
    if entry is None:
        return None
    other_id = entry.from_school_id if kind == "transfer_incoming" else entry.claimed_school_id
    other = session.get(School, other_id) if other_id else None
    if other is None:  # returned to the pool meanwhile: nothing true to say
        return None
    return Facts(kind, student=entry.full_name, school=other.name, day=entry.left_on)


def _posted_facts(session: Session, kind: str, ids: dict[str, int]) -> Facts | None:
    """A new message (the thread's subject, the sender, the text) or a published announcement."""
    if kind == "message":
        message = session.get(Message, ids["message_id"])
        if message is None:
            return None
        thread = session.get(MessageThread, message.thread_id)
        sender = session.get(Account, message.sender_id)
        return Facts(
            "message",
            title=thread.subject,
            author=sender.name if sender else None,
            text=message.body,
        )
    announcement = session.get(Announcement, ids["announcement_id"])
    if announcement is None:
        return None
    return Facts("announcement", title=announcement.title, text=announcement.body)


@dataclass(frozen=True)
class Rendered:
    subject: str
    lines: list[str]

    @property
    def body(self) -> str:
        return "\n".join(self.lines)


def _day(day: date | None) -> str:
    return format_date(day, "medium") if day else ""


def render(facts: Facts, locale: str) -> Rendered:
    """The notification in the current Babel locale (call inside ``in_locale(locale)``);
    ``locale`` picks the subject's name."""
    subject = facts.subject.in_(locale) if facts.subject else ""
    value = pass_fail_label(facts.value) if facts.pass_fail and facts.value else facts.value
    lines: list[str] = []
    if facts.student:
        lines.append(_("Student: %(name)s", name=facts.student))
    if facts.kind == "grade":
        if facts.assessment:
            title = _(
                "New grade in %(subject)s: %(value)s (%(kind)s)",
                subject=subject,
                value=value,
                kind=facts.assessment.in_(locale),
            )
        else:
            title = _("New grade in %(subject)s: %(value)s", subject=subject, value=value)
        lines.append(_("Date: %(date)s", date=_day(facts.day)))
    elif facts.kind == "grade_changed":
        if facts.variant == "removed":
            title = _("A grade in %(subject)s was removed: %(value)s", subject=subject, value=value)
        else:
            title = _("Grade changed in %(subject)s: %(value)s", subject=subject, value=value)
        lines.append(_("Date: %(date)s", date=_day(facts.day)))
    elif facts.kind == "absence":
        if facts.variant == "late":
            title = _("Late for %(subject)s on %(date)s", subject=subject, date=_day(facts.day))
        elif facts.variant == "left_early":
            title = _("Left %(subject)s early on %(date)s", subject=subject, date=_day(facts.day))
        else:
            title = _("Absent from %(subject)s on %(date)s", subject=subject, date=_day(facts.day))
    elif facts.kind == "remark":
        if facts.variant == "praise":
            title = _("New praise")
        elif facts.variant == "reprimand":
            title = _("New reprimand")
        else:
            title = pgettext("notification", "New remark")
        if subject:
            lines.append(_("Subject: %(subject)s", subject=subject))
        lines.append(_("Date: %(date)s", date=_day(facts.day)))
    elif facts.kind == "homework":
        title = _("Homework in %(subject)s for %(date)s", subject=subject, date=_day(facts.day))
    elif facts.kind == "test":
        title = _("Test in %(subject)s on %(date)s", subject=subject, date=_day(facts.day))
        if facts.assessment:
            lines.append(_("Kind: %(kind)s", kind=facts.assessment.in_(locale)))
    elif facts.kind == "term_grade":
        title = _("Term grade in %(subject)s: %(value)s", subject=subject, value=value)
    elif facts.kind == "excuse_decision":
        span = {"start": _day(facts.day), "end": _day(facts.until)}
        if facts.variant == "approved":
            title = _("Excuse for %(start)s – %(end)s approved", **span)
        else:
            title = _("Excuse for %(start)s – %(end)s rejected", **span)
    elif facts.kind == "transfer_incoming":
        title = _("A student is heading to your school: %(name)s", name=facts.student)
        lines.append(_("Previous school: %(school)s", school=facts.school))
        lines.append(_("Left on %(date)s", date=_day(facts.day)))
        lines.append(_("Find the student in the pool of unassigned students to claim them."))
    elif facts.kind == "transfer_claimed":
        title = _("%(name)s now studies at %(school)s", name=facts.student, school=facts.school)
    elif facts.kind == "transfer_new_school":
        title = _("Your child's new school is %(school)s", school=facts.school)
    elif facts.kind == "message":
        title = _("New message from %(name)s: %(subject)s", name=facts.author, subject=facts.title)
    elif facts.kind == "announcement":
        title = _("Announcement: %(title)s", title=facts.title)
    elif facts.kind == "health_recommendation":
        title = _(
            "A health recommendation for a student of class %(name)s", name=facts.school_class
        )
        lines.append(
            _("Read it in your journal or on the student's page, and take it into account.")
        )
    elif facts.kind == "student_joined":
        title = _("A new student in class %(name)s", name=facts.school_class)
        lines.append(
            _(
                "The student is in the groups of the whole class; add them to the groups of "
                "part of the class where they belong."
            )
        )
    else:
        raise ValueError(f"no text for event kind {facts.kind!r}")
    if facts.text:
        lines.append(facts.text)
    return Rendered(title, lines)
