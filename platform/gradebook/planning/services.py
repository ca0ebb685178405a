"""The test calendar: announcing, moving and cancelling planned tests, and reading them.

Two school rules (``gradebook.days.get_settings``) guard announcements:

- **notice**: a test is announced at least ``test_notice_days`` days ahead
  (``on_day - today >= test_notice_days``);
- **tests a day**: a class has at most ``tests_per_day`` planned tests a day.

The second rule is about the students of a class, not about groups. A group may be a whole
class, part of one (a language half) or students of several classes (an elective), so a test
conflicts with the tests already planned that day *for groups that share students with it*,
and the limit is broken when one student would sit more than ``tests_per_day`` tests. For
whole-class groups this is exactly "per class"; two halves of 5a writing their own English tests
on the same day do not conflict (no student sits both), while an elective mixing 5a and 5b
conflicts with a whole-class test of 5a or of 5b. The message names the conflicting tests
(subject and group) and the classes of the students concerned.

``test_rule`` decides what breaking either rule does: ``refuse`` raises a ``ServiceError``
naming the rule; ``warn`` returns the warnings without saving, and saving again with
``accept_warning`` (the :func:`warnings_key` of the warnings shown) keeps the test marked
``rule_warning``. A day in the past, a day
without lessons (weekend, holiday, outside the terms) and a day outside the group's school
year are always refused.
"""

from __future__ import annotations

import calendar
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, joinedload

from accounts.identity import Principal
from accounts.models import Role
from accounts.services import roles_in_school
from dienynas.database import take_turns
from dienynas.errors import NotFound, ServiceError
from dienynas.i18n import joined
from gradebook.access import require_group_writer
from gradebook.days import get_settings, teaching_term
from gradebook.planning.models import PlannedTest
from notifications.outbox import record_event
from school.calendar.models import Holiday
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.curriculum.models import AssessmentKind
from school.people.models import Person, Student
from school.permissions import person_of
from tenants.models import School

TOPIC_MAX = 300
#: The highest lesson number a day has (the timetable's limit).
MAX_LESSON_NO = 15


@dataclass
class AnnounceResult:
    """A saved test, or (``test_rule`` is ``warn``) the warnings to confirm before saving."""

    test: PlannedTest | None
    warnings: list[str] = field(default_factory=list)

    @property
    def saved(self) -> bool:
        return self.test is not None


def get_test(session: Session, test_id: int | None) -> PlannedTest:
    test = session.get(PlannedTest, test_id) if test_id else None
    if test is None:
        raise NotFound(_("There is no such planned test."))
    return test


def _clean_topic(topic: str | None) -> str:
    topic = (topic or "").strip()
    if not topic:
        raise ServiceError(_("Enter the test's topic."), field="topic")
    if len(topic) > TOPIC_MAX:
        raise ServiceError(
            ngettext(
                "The topic may be at most %(num)d character long.",
                "The topic may be at most %(num)d characters long.",
                TOPIC_MAX,
            ),
            field="topic",
        )
    return topic


def _check_kind(session: Session, kind_id: int | None) -> None:
    if kind_id is None:
        return
    kind = session.get(AssessmentKind, kind_id)
    if kind is None or not kind.is_active:
        raise ServiceError(_("Choose one of the school's assessment kinds."), field="kind_id")


def _check_lesson_no(lesson_no: int | None) -> None:
    if lesson_no is not None and not 0 <= lesson_no <= MAX_LESSON_NO:
        raise ServiceError(
            _("The lesson number must be from 0 to %(max)d.", max=MAX_LESSON_NO),
            field="lesson_no",
        )


def _check_day(session: Session, group: Group, on_day: date, today: date) -> None:
    if on_day < today:
        raise ServiceError(
            _("%(day)s has passed; a test is announced for a coming day.",
              day=format_date(on_day, "medium")),
            field="on_day",
        )  # fmt: skip
    term = teaching_term(session, on_day, "on_day")
    if term.year_id != group.year_id:
        raise ServiceError(
            _("%(day)s is outside the group's school year.", day=format_date(on_day, "medium")),
            field="on_day",
        )


def _notice_problem(session: Session, on_day: date, today: date) -> str | None:
    notice = get_settings(session).test_notice_days
    left = (on_day - today).days
    if left >= notice:
        return None
    return ngettext(
        "A test must be announced at least %(num)d day ahead; %(day)s is %(left)s away.",
        "A test must be announced at least %(num)d days ahead; %(day)s is %(left)s away.",
        notice,
        day=format_date(on_day, "medium"),
        left=ngettext("%(num)d day", "%(num)d days", left),
    )


def _test_label(test: PlannedTest, locale: str) -> str:
    return _(
        "%(subject)s (%(group)s)", subject=test.group.subject.name_in(locale), group=test.group.name
    )


def _daily_problem(
    session: Session, group: Group, on_day: date, exclude_id: int | None
) -> str | None:
    """The per-day rule, counted per student of ``group`` (see the module docstring)."""
    limit = get_settings(session).tests_per_day
    # Two teachers announcing for the same day at once would both count the tests before
    # either saves: announcements for one day of one school wait for each other.
    take_turns(session, f"tests:{on_day.isoformat()}", in_school=True)
    ours = select(GroupStudent.student_id).where(GroupStudent.group_id == group.id)
    query = (
        select(PlannedTest.id, Student.person_id, Student.class_id)
        .join(GroupStudent, GroupStudent.group_id == PlannedTest.group_id)
        .join(Student, Student.person_id == GroupStudent.student_id)
        .where(
            PlannedTest.on_day == on_day,
            Student.status == "active",
            GroupStudent.student_id.in_(ours),
        )
    )
    if exclude_id is not None:
        query = query.where(PlannedTest.id != exclude_id)
    tests_of: dict[int, set[int]] = defaultdict(set)
    class_of: dict[int, int | None] = {}
    for test_id, student_id, class_id in session.execute(query):
        tests_of[student_id].add(test_id)
        class_of[student_id] = class_id
    over = [s for s, tests in tests_of.items() if len(tests) >= limit]
    if not over:
        return None
    test_ids = set().union(*(tests_of[s] for s in over))
    class_ids = {class_of[s] for s in over} - {None}
    tests = session.scalars(
        select(PlannedTest)
        .where(PlannedTest.id.in_(test_ids))
        .options(joinedload(PlannedTest.group))
        .order_by(PlannedTest.lesson_no.nulls_last(), PlannedTest.id)
    ).all()
    classes = session.scalars(
        select(SchoolClass)
        .where(SchoolClass.id.in_(class_ids))
        .order_by(SchoolClass.grade_level, SchoolClass.letter)
    ).all()
    locale = str(get_locale())
    return ngettext(
        "A class may have at most %(num)d test a day. Already planned for %(day)s: %(tests)s "
        "(classes: %(classes)s).",
        "A class may have at most %(num)d tests a day. Already planned for %(day)s: %(tests)s "
        "(classes: %(classes)s).",
        limit,
        day=format_date(on_day, "medium"),
        tests=joined([_test_label(t, locale) for t in tests]),
        classes=joined([c.name for c in classes]),
    )


def warnings_key(warnings: Sequence[str]) -> str:
    """What the teacher accepts with "Save anyway": these warnings exactly. A form sent again
    with another day or group breaks other rules (or the same ones for another day), which
    were never shown: its key differs, so they are shown first."""
    return hashlib.sha256("\n".join(warnings).encode()).hexdigest()[:16]


def _apply_rules(
    session: Session,
    group: Group,
    on_day: date,
    today: date,
    exclude_id: int | None,
    accept_warning: str | None,
) -> tuple[list[str], bool]:
    """The broken rules' messages, and whether to stop (warn mode, not yet accepted:
    ``accept_warning`` is not the :func:`warnings_key` of exactly these). Refuse mode
    raises."""
    problems = [
        p
        for p in (
            _notice_problem(session, on_day, today),
            _daily_problem(session, group, on_day, exclude_id),
        )
        if p
    ]
    if not problems:
        return [], False
    if get_settings(session).test_rule == "refuse":
        raise ServiceError(problems[0], field="on_day")
    return problems, accept_warning != warnings_key(problems)


def announce_test(
    session: Session,
    account: Principal,
    school: School,
    *,
    group: Group,
    on_day: date,
    topic: str,
    kind_id: int | None,
    lesson_no: int | None,
    today: date,
    accept_warning: str | None = None,
) -> AnnounceResult:
    """Plan a test for ``group`` (its teachers or the administrator); writes a ``test`` event."""
    require_group_writer(session, account, school, group)
    topic = _clean_topic(topic)
    _check_kind(session, kind_id)
    _check_lesson_no(lesson_no)
    _check_day(session, group, on_day, today)
    warnings, stop = _apply_rules(session, group, on_day, today, None, accept_warning)
    if stop:
        return AnnounceResult(None, warnings)
    test = PlannedTest(
        group_id=group.id,
        on_day=on_day,
        topic=topic,
        kind_id=kind_id,
        lesson_no=lesson_no,
        announced_by=account.id,
        rule_warning=bool(warnings),
    )
    session.add(test)
    session.flush()
    record_event(session, "test", actor_id=account.id, planned_test_id=test.id, group_id=group.id)
    return AnnounceResult(test, warnings)


def _require_coming(test: PlannedTest, today: date, message: str) -> None:
    if test.on_day < today:
        raise ServiceError(message)


def update_test(
    session: Session,
    account: Principal,
    school: School,
    test: PlannedTest,
    *,
    on_day: date,
    topic: str,
    kind_id: int | None,
    lesson_no: int | None,
    today: date,
    accept_warning: str | None = None,
) -> AnnounceResult:
    """Change a coming test. Moving it to another day is a new announcement: the day is
    checked again with both rules and a ``test`` event tells the students and guardians; a
    change of topic, kind or lesson alone keeps the day and its earlier warning mark."""
    require_group_writer(session, account, school, test.group)
    _require_coming(test, today, _("A test that has taken place cannot be changed."))
    topic = _clean_topic(topic)
    _check_kind(session, kind_id)
    _check_lesson_no(lesson_no)
    moved = on_day != test.on_day
    warnings: list[str] = []
    if moved:
        _check_day(session, test.group, on_day, today)
        warnings, stop = _apply_rules(session, test.group, on_day, today, test.id, accept_warning)
        if stop:
            return AnnounceResult(None, warnings)
        test.rule_warning = bool(warnings)
    test.on_day, test.topic, test.kind_id, test.lesson_no = on_day, topic, kind_id, lesson_no
    session.flush()
    if moved:
        record_event(
            session, "test", actor_id=account.id, planned_test_id=test.id, group_id=test.group_id
        )
    return AnnounceResult(test, warnings)


def cancel_test(
    session: Session, account: Principal, school: School, test: PlannedTest, *, today: date
) -> None:
    """Remove a coming test (a test that has taken place stays in the calendar)."""
    require_group_writer(session, account, school, test.group)
    _require_coming(test, today, _("A test that has taken place cannot be cancelled."))
    session.delete(test)
    session.flush()


# --- reading ------------------------------------------------------------------------------------


def month_grid(session: Session, first: date) -> tuple[list[list[date | None]], dict[date, str]]:
    """The weeks of the month of ``first``, Monday to Friday (to Saturday in six-day weeks;
    days of other months are None), and the month's holiday days with the holiday's name."""
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    width = 6 if get_settings(session).saturday_lessons else 5
    weeks = [
        [d if d.month == first.month else None for d in week[:width]]
        for week in calendar.Calendar().monthdatescalendar(first.year, first.month)
    ]
    holiday_of: dict[date, str] = {}
    holidays = session.execute(
        select(Holiday.starts_on, Holiday.ends_on, Holiday.name).where(
            Holiday.starts_on <= last, Holiday.ends_on >= first
        )
    )
    for starts_on, ends_on, name in holidays:
        day = max(starts_on, first)
        while day <= min(ends_on, last):
            holiday_of[day] = name
            day += timedelta(days=1)
    return [w for w in weeks if any(w)], holiday_of


def taught_group_ids(session: Session, person: Person | None) -> set[int]:
    """The groups the person teaches (no query without a person)."""
    if person is None:
        return set()
    return set(
        session.scalars(select(GroupTeacher.group_id).where(GroupTeacher.teacher_id == person.id))
    )


def announceable_groups(
    session: Session, account: Principal, school: School, year_id: int | None
) -> list[Group]:
    """The groups of the school year the account may announce tests for: the administrator
    every group, a teacher the groups they teach."""
    if year_id is None:
        return []
    query = select(Group).where(Group.year_id == year_id).order_by(Group.name)
    if Role.ADMIN not in roles_in_school(account, school):
        person = person_of(session, account)
        if person is None:
            return []
        query = query.join(GroupTeacher, GroupTeacher.group_id == Group.id).where(
            GroupTeacher.teacher_id == person.id
        )
    return list(session.scalars(query))


def _groups_of_students(students: Select) -> Select:
    return select(GroupStudent.group_id).where(GroupStudent.student_id.in_(students))


def groups_of_class(class_id: int) -> Select:
    """The groups with active students of the class (whole-class, part and mixed groups)."""
    return _groups_of_students(
        select(Student.person_id).where(Student.class_id == class_id, Student.status == "active")
    )


def tests_between(
    session: Session,
    start: date,
    end: date,
    *,
    group_ids: Select | set[int] | None = None,
) -> list[PlannedTest]:
    """Planned tests from ``start`` to ``end`` (inclusive), of ``group_ids`` (ids or a
    subquery; None: every group), with group, subject and kind loaded: one query."""
    query = (
        select(PlannedTest)
        .where(PlannedTest.on_day >= start, PlannedTest.on_day <= end)
        .options(joinedload(PlannedTest.group), joinedload(PlannedTest.kind))
        .order_by(PlannedTest.on_day, PlannedTest.lesson_no.nulls_last(), PlannedTest.id)
    )
    if group_ids is not None:
        query = query.where(PlannedTest.group_id.in_(group_ids))
    return list(session.scalars(query))


def visible_group_filter(
    roles: set[Role],
    *,
    class_id: int | None,
    person: Person | None,
    taught_ids: set[int],
    student_ids: list[int],
) -> Select | set[int] | None:
    """Which groups' tests the calendar shows (None: all), as a subquery for
    :func:`tests_between` (no query of its own).

    With a class chosen (staff only), the class's tests. Otherwise the administrator and the
    director see every test; others the union of: the groups they teach (``taught_ids``), the
    groups with students of the classes ``person`` heads, and the groups of the students whose
    diary they read (``student_ids``, from ``access.diary_student_ids``)."""
    if class_id is not None:
        return groups_of_class(class_id)
    if roles & {Role.ADMIN, Role.DIRECTOR}:
        return None
    conditions = [
        Group.id.in_(taught_ids),
        Group.id.in_(select(GroupStudent.group_id).where(GroupStudent.student_id.in_(student_ids))),
    ]
    if person is not None:
        headed = select(SchoolClass.id).where(SchoolClass.head_id == person.id)
        conditions.append(
            Group.id.in_(
                _groups_of_students(
                    select(Student.person_id).where(
                        Student.class_id.in_(headed), Student.status == "active"
                    )
                )
            )
        )
    return select(Group.id).where(or_(*conditions))
