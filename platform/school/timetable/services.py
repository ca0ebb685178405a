"""Rules of the weekly timetable: adding, moving and ending entries; clash detection; the
week grids of a class, a teacher and a room.

An entry says: group G has lesson number N on weekday W (ISO, Monday to Friday; Saturday in a
school with six-day weeks), optionally in room R, from date F to date T inside the group's
school year. Changing an entry from a date keeps history: the old entry ends the day before
and a new one starts, so lessons already given stay at the time they were given. Every change
brings the group's lessons already generated from that date in line at once
(``gradebook.lessons.services.follow_timetable``): the empty lessons of the old slot go, the
new slot's are generated.

A clash is another entry in the same weekday and lesson number, with overlapping dates, that
has the same group, shares a teacher, shares a room, or shares students. Students are shared
when both groups list the same student, or one of them is a whole-class group of the other's
class (a whole-class group clashes with everything of its class even before the class list is
entered). All of it is found by one SQL statement; a transaction-level advisory lock per slot
keeps two editors from both passing the check.

Run inside a transaction bound to the school. Services only flush.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta

from babel.dates import get_day_names
from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, exists, false, or_, select, union, union_all
from sqlalchemy.orm import Session, aliased, joinedload

from dienynas.database import take_turns
from dienynas.errors import NotFound, ServiceError
from dienynas.i18n import joined
from gradebook.days import get_settings
from gradebook.lessons.services import follow_timetable
from school.calendar.models import BellSchedule, Holiday, Room, SchoolYear
from school.calendar.services import list_schedules, schedule_for_grade
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.people.models import Person, Student
from school.people.names import person_order
from school.timetable.models import TimetableEntry

MONDAY, SATURDAY, SUNDAY = 1, 6, 7
MAX_LESSON_NO = 15
#: How many students a clash message names (then "and N more").
NAMED_STUDENTS = 3


def weekday_names() -> dict[int, str]:
    """ISO weekday (1 = Monday) → its name in the current language, from Babel's locale data."""
    names = get_day_names("wide", locale=get_locale())
    return {iso: names[iso - 1] for iso in range(MONDAY, SUNDAY + 1)}


# --- reading form input -----------------------------------------------------------------------


def form_int(value: str | None, field: str, message: str) -> int:
    """An integer typed or chosen in a form (an id fits a bigint); ``message`` (already
    localised) when it is not."""
    try:
        number = int((value or "").strip())
    except ValueError:
        raise ServiceError(message, field=field) from None
    if not -(2**63) <= number < 2**63:
        raise ServiceError(message, field=field)
    return number


def form_optional_id(value: str | None, field: str, message: str) -> int | None:
    """An optional choice from a list: empty means none."""
    return form_int(value, field, message) if (value or "").strip() else None


# --- bell schedules ---------------------------------------------------------------------------


def schedule_for_class(session: Session, school_class: SchoolClass) -> BellSchedule | None:
    return schedule_for_grade(session, school_class.grade_level)


def schedules_of_group(session: Session, group: Group) -> list[BellSchedule]:
    """The bell schedules the group's lessons follow: its class's; for a group of several
    classes, those of its students' grade levels, or the default one while it has no students.
    """
    if group.class_id is not None:
        levels = [group.school_class.grade_level]
    else:
        levels = session.scalars(
            select(SchoolClass.grade_level)
            .join(Student, Student.class_id == SchoolClass.id)
            .join(GroupStudent, GroupStudent.student_id == Student.person_id)
            .where(GroupStudent.group_id == group.id, Student.status == "active")
            .distinct()
            .order_by(SchoolClass.grade_level)
        ).all()
    if not levels:
        return [s for s in list_schedules(session) if s.is_default]
    schedules = {}
    for level in levels:
        schedule = schedule_for_grade(session, level)
        if schedule is not None:
            schedules[schedule.id] = schedule
    return list(schedules.values())


def common_schedule(session: Session) -> BellSchedule | None:
    """The schedule whose times fit every grade level: only when the school has just one."""
    schedules = list_schedules(session)
    return schedules[0] if len(schedules) == 1 else None


# --- checks -----------------------------------------------------------------------------------


def _check_weekday(session: Session, weekday: int) -> None:
    """A day with lessons: Saturday only in a school with six-day weeks (the gradebook setting
    lesson generation reads; an entry on another Saturday would never give a lesson)."""
    if weekday == SUNDAY:
        raise ServiceError(_("There are no lessons on Sunday."), field="weekday")
    if not MONDAY <= weekday <= SATURDAY:
        raise ServiceError(_("Choose a day from Monday to Saturday."), field="weekday")
    if weekday == SATURDAY and not get_settings(session).saturday_lessons:
        raise ServiceError(
            _(
                "This school has no lessons on Saturdays: the gradebook setting “%(setting)s” is "
                "off. The e-diary administrator can turn it on in the gradebook settings.",
                setting=_("Lessons on Saturdays (six-day weeks)"),
            ),
            field="weekday",
        )


def _check_lesson_no(session: Session, group: Group, lesson_no: int) -> None:
    if not 0 <= lesson_no <= MAX_LESSON_NO:
        raise ServiceError(
            _("The lesson number must be from 0 to %(max)d.", max=MAX_LESSON_NO),
            field="lesson_no",
        )
    for schedule in schedules_of_group(session, group):
        numbers = [p.lesson_no for p in schedule.periods]
        if not numbers:
            raise ServiceError(
                _(
                    "The bell schedule “%(schedule)s” has no lesson times yet; add them first.",
                    schedule=schedule.name,
                ),
                field="lesson_no",
            )
        if lesson_no not in numbers:
            raise ServiceError(
                _(
                    "There is no lesson %(number)d in the bell schedule “%(schedule)s” "
                    "(lessons: %(numbers)s).",
                    number=lesson_no,
                    schedule=schedule.name,
                    numbers=", ".join(str(n) for n in numbers),
                ),
                field="lesson_no",
            )


def _check_room(session: Session, room_id: int | None) -> Room | None:
    if room_id is None:
        return None
    room = session.get(Room, room_id)
    if room is None:
        raise ServiceError(_("Choose a room from the list."), field="room")
    if not room.is_active:
        raise ServiceError(
            _("Room %(room)s is no longer in use; choose another.", room=room.code), field="room"
        )
    return room


def _check_dates(year: SchoolYear, valid_from: date, valid_to: date) -> None:
    outside = _(
        "The dates must be inside the school year %(year)s (%(start)s – %(end)s).",
        year=year.name,
        start=format_date(year.starts_on, "medium"),
        end=format_date(year.ends_on, "medium"),
    )
    if not year.starts_on <= valid_from <= year.ends_on:
        raise ServiceError(outside, field="valid_from")
    if not year.starts_on <= valid_to <= year.ends_on:
        raise ServiceError(outside, field="valid_to")
    if valid_to < valid_from:
        raise ServiceError(_("The last day must not be before the first day."), field="valid_to")


# --- clashes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clash:
    kind: str  # group, teacher, class (shares students), room
    other: TimetableEntry
    teacher_id: int | None = None
    student_id: int | None = None
    #: one of the two is a whole-class group of the other's class (kind "class")
    whole_class: bool = False


def _lock_slot(session: Session, weekday: int, lesson_no: int) -> None:
    """Serialise changes to one weekday + lesson number of this school until commit."""
    take_turns(session, f"timetable:{weekday}:{lesson_no}", in_school=True)


def find_clashes(
    session: Session,
    group: Group,
    *,
    weekday: int,
    lesson_no: int,
    room_id: int | None,
    valid_from: date,
    valid_to: date,
    ignore_entry_id: int | None = None,
) -> list[Clash]:
    """Entries that would clash with ``group`` having this lesson, in one SQL statement."""
    other = aliased(TimetableEntry, name="other")
    other_group = aliased(Group, name="other_group")

    mine_t, their_t = aliased(GroupTeacher, name="mine_t"), aliased(GroupTeacher, name="their_t")
    shared_teacher = (
        select(their_t.teacher_id)
        .join(mine_t, and_(mine_t.teacher_id == their_t.teacher_id, mine_t.group_id == group.id))
        .where(their_t.group_id == other.group_id)
        .order_by(their_t.teacher_id)
        .limit(1)
        .scalar_subquery()
    )

    my_students = [select(GroupStudent.student_id).where(GroupStudent.group_id == group.id)]
    if group.kind == "class" and group.class_id is not None:
        classmate = aliased(Student, name="classmate")
        my_students.append(select(classmate.person_id).where(classmate.class_id == group.class_id))
    their_listed = aliased(GroupStudent, name="their_s")
    shared_student = (
        select(Student.person_id)
        .where(
            Student.status == "active",
            Student.person_id.in_(
                union_all(*my_students) if len(my_students) > 1 else my_students[0]
            ),
            or_(
                exists()
                .where(
                    their_listed.group_id == other.group_id,
                    their_listed.student_id == Student.person_id,
                )
                .correlate_except(their_listed),
                and_(other_group.kind == "class", Student.class_id == other_group.class_id),
            ),
        )
        .order_by(Student.person_id)
        .limit(1)
        .scalar_subquery()
    )

    whole_class: ColumnElement[bool]
    if group.class_id is None:
        whole_class = false()
    elif group.kind == "class":
        whole_class = other_group.class_id == group.class_id
    else:
        whole_class = and_(other_group.class_id == group.class_id, other_group.kind == "class")

    query = (
        select(
            other,
            shared_teacher.label("teacher_id"),
            shared_student.label("student_id"),
            whole_class.label("whole_class"),
        )
        .join(other_group, other_group.id == other.group_id)
        .where(
            other.weekday == weekday,
            other.lesson_no == lesson_no,
            other.valid_from <= valid_to,
            or_(other.valid_to.is_(None), other.valid_to >= valid_from),
        )
        .order_by(other_group.name, other.valid_from)
    )
    if ignore_entry_id is not None:
        query = query.where(other.id != ignore_entry_id)

    clashes = []
    for entry, teacher_id, student_id, is_whole_class in session.execute(query):
        if entry.group_id == group.id:
            clashes.append(Clash("group", entry))
        elif teacher_id is not None:
            clashes.append(Clash("teacher", entry, teacher_id=teacher_id))
        elif is_whole_class or student_id is not None:
            clashes.append(
                Clash("class", entry, student_id=student_id, whole_class=bool(is_whole_class))
            )
        elif room_id is not None and entry.room_id == room_id:
            clashes.append(Clash("room", entry))
    return clashes


def _clash_message(session: Session, group: Group, clash: Clash) -> str:
    """The clash in words (looks up the teacher or class named; only on the refusal path)."""
    slot = {
        "group": clash.other.group.name,
        "day": weekday_names()[clash.other.weekday],
        "number": clash.other.lesson_no,
    }
    if clash.kind == "group":
        return _("%(group)s already has a lesson on %(day)s, lesson %(number)d.", **slot)
    if clash.kind == "teacher":
        teacher = session.get(Person, clash.teacher_id)
        return _(
            "Teacher %(teacher)s already teaches %(group)s on %(day)s, lesson %(number)d.",
            teacher=teacher.full_name,
            **slot,
        )
    if clash.kind == "room":
        return _(
            "Room %(room)s is already taken by %(group)s on %(day)s, lesson %(number)d.",
            room=clash.other.room.code,
            **slot,
        )
    if not clash.whole_class:
        # The groups share students (listed in both, or one's class list): name them, not
        # their class, which is not what the editor changed.
        students = _shared_students(session, group, clash.other.group)
        if len(students) == 1:
            return _(
                "Student %(student)s already has %(group)s on %(day)s, lesson %(number)d.",
                student=students[0].full_name,
                **slot,
            )
        names = [person.full_name for person in students[:NAMED_STUDENTS]]
        if len(students) > NAMED_STUDENTS:
            others = len(students) - NAMED_STUDENTS
            names.append(ngettext("%(num)d more student", "%(num)d more students", others))
        return _(
            "Students %(students)s already have %(group)s on %(day)s, lesson %(number)d.",
            students=joined(names),
            **slot,
        )
    return _(
        "Class %(class_name)s already has %(group)s on %(day)s, lesson %(number)d.",
        class_name=session.get(SchoolClass, group.class_id).name,
        **slot,
    )


def _in_group(group: Group) -> ColumnElement[bool]:
    """SQL: the ``Student`` is in ``group``: listed, or in its class for a whole-class group
    (as :func:`find_clashes` counts them)."""
    listed = exists().where(
        GroupStudent.group_id == group.id, GroupStudent.student_id == Student.person_id
    )
    if group.kind == "class" and group.class_id is not None:
        return or_(listed, Student.class_id == group.class_id)
    return listed


def _shared_students(session: Session, group: Group, other: Group) -> list[Person]:
    """The active students of both groups, by name (one query; only on the refusal path)."""
    return list(
        session.scalars(
            select(Person)
            .join(Student, Student.person_id == Person.id)
            .where(Student.status == "active", _in_group(group), _in_group(other))
            .order_by(*person_order())
        )
    )


def _refuse_clashes(
    session: Session,
    group: Group,
    *,
    weekday: int,
    lesson_no: int,
    room_id: int | None,
    valid_from: date,
    valid_to: date,
    ignore_entry_id: int | None = None,
) -> None:
    _lock_slot(session, weekday, lesson_no)
    clashes = find_clashes(
        session,
        group,
        weekday=weekday,
        lesson_no=lesson_no,
        room_id=room_id,
        valid_from=valid_from,
        valid_to=valid_to,
        ignore_entry_id=ignore_entry_id,
    )
    if clashes:
        raise ServiceError(
            " ".join(_clash_message(session, group, c) for c in clashes),
            field="room" if all(c.kind == "room" for c in clashes) else None,
        )


def refuse_group_clashes(session: Session, group: Group, field: str | None = None) -> None:
    """Refuse a change of the group's teachers or students that makes its lessons clash.

    For school.classes: call it after flushing the new members, before committing. Checks each
    of the group's entries (a handful) with one statement each; room clashes cannot arise from
    such a change and are not looked for.
    """
    entries = session.scalars(select(TimetableEntry).where(TimetableEntry.group_id == group.id))
    messages: list[str] = []
    for entry in entries:
        clashes = find_clashes(
            session,
            group,
            weekday=entry.weekday,
            lesson_no=entry.lesson_no,
            room_id=None,
            valid_from=entry.valid_from,
            valid_to=last_day(session, entry),
            ignore_entry_id=entry.id,
        )
        messages.extend(_clash_message(session, group, c) for c in clashes)
    if messages:
        raise ServiceError(" ".join(dict.fromkeys(messages)), field=field)


# --- changing the timetable -------------------------------------------------------------------


def get_entry(session: Session, entry_id: int) -> TimetableEntry:
    entry = session.get(TimetableEntry, entry_id)
    if entry is None:
        raise NotFound(_("This timetable entry does not exist (it may have been deleted)."))
    return entry


def _year_of(session: Session, group: Group) -> SchoolYear:
    return session.get(SchoolYear, group.year_id)


def add_entry(
    session: Session,
    *,
    group_id: int,
    weekday: int,
    lesson_no: int,
    room_id: int | None,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> TimetableEntry:
    """Add a weekly lesson. The dates default to the whole school year of the group."""
    group = session.get(Group, group_id)
    if group is None:
        raise ServiceError(_("Choose a group."), field="group")
    _check_weekday(session, weekday)
    _check_lesson_no(session, group, lesson_no)
    _check_room(session, room_id)
    year = _year_of(session, group)
    valid_from = valid_from or year.starts_on
    valid_to = valid_to or year.ends_on
    _check_dates(year, valid_from, valid_to)
    _refuse_clashes(
        session,
        group,
        weekday=weekday,
        lesson_no=lesson_no,
        room_id=room_id,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    entry = TimetableEntry(
        group_id=group.id,
        weekday=weekday,
        lesson_no=lesson_no,
        room_id=room_id,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    session.add(entry)
    session.flush()
    follow_timetable(session, group.id, valid_from)
    return entry


def last_day(session: Session, entry: TimetableEntry) -> date:
    """The entry's last day (an open-ended entry runs to the end of its school year)."""
    return entry.valid_to or _year_of(session, entry.group).ends_on


def move_entry(
    session: Session,
    entry_id: int,
    *,
    weekday: int,
    lesson_no: int,
    room_id: int | None,
    from_date: date | None,
) -> TimetableEntry:
    """Give the entry another day, lesson number or room from ``from_date`` on.

    From the entry's first day, the entry itself changes; from a later day, the entry ends the
    day before and a new entry (returned) continues to the old last day.
    """
    entry = get_entry(session, entry_id)
    group = entry.group
    _check_weekday(session, weekday)
    _check_lesson_no(session, group, lesson_no)
    _check_room(session, room_id)
    end = last_day(session, entry)
    if from_date is None:
        raise ServiceError(_("Enter the date from which the change applies."), field="from_date")
    if not entry.valid_from <= from_date <= end:
        raise ServiceError(
            _(
                "The change must start between %(start)s and %(end)s, while this entry is valid.",
                start=format_date(entry.valid_from, "medium"),
                end=format_date(end, "medium"),
            ),
            field="from_date",
        )
    if (weekday, lesson_no, room_id) == (entry.weekday, entry.lesson_no, entry.room_id):
        raise ServiceError(_("Nothing would change: choose another day, lesson or room."))
    _refuse_clashes(
        session,
        group,
        weekday=weekday,
        lesson_no=lesson_no,
        room_id=room_id,
        valid_from=from_date,
        valid_to=end,
        ignore_entry_id=entry.id,
    )
    if from_date == entry.valid_from:
        entry.weekday, entry.lesson_no, entry.room_id = weekday, lesson_no, room_id
        session.flush()
        follow_timetable(session, group.id, from_date)
        return entry
    entry.valid_to = from_date - timedelta(days=1)
    successor = TimetableEntry(
        group_id=entry.group_id,
        weekday=weekday,
        lesson_no=lesson_no,
        room_id=room_id,
        valid_from=from_date,
        valid_to=end,
    )
    session.add(successor)
    session.flush()
    follow_timetable(session, group.id, from_date)
    return successor


def end_entry(
    session: Session, entry_id: int, from_date: date | None, *, delete: bool = False
) -> bool:
    """Remove the entry from ``from_date`` on: earlier weeks stay as history. With ``delete``
    (an entry made by mistake), or from its first day, the entry is deleted; returns True then.
    """
    entry = get_entry(session, entry_id)
    if not delete and from_date is None:
        raise ServiceError(_("Enter the first day without this lesson."), field="from_date")
    group_id = entry.group_id
    if delete or from_date <= entry.valid_from:
        first = entry.valid_from
        session.delete(entry)
        session.flush()
        follow_timetable(session, group_id, first)
        return True
    end = last_day(session, entry)
    if from_date > end:
        raise ServiceError(
            _("This entry already ends on %(date)s.", date=format_date(end, "medium")),
            field="from_date",
        )
    entry.valid_to = from_date - timedelta(days=1)
    session.flush()
    follow_timetable(session, group_id, from_date)
    return False


# --- reading ----------------------------------------------------------------------------------


def get_class(session: Session, class_id: int) -> tuple[SchoolClass, SchoolYear]:
    row = session.execute(
        select(SchoolClass, SchoolYear)
        .join(SchoolYear, SchoolYear.id == SchoolClass.year_id)
        .where(SchoolClass.id == class_id)
    ).one_or_none()
    if row is None:
        raise NotFound(_("There is no such class."))
    school_class, year = row
    return school_class, year


def classes_of_year(session: Session, year_id: int) -> list[SchoolClass]:
    return list(
        session.scalars(
            select(SchoolClass)
            .options(joinedload(SchoolClass.head))
            .where(SchoolClass.year_id == year_id)
            .order_by(SchoolClass.grade_level, SchoolClass.letter)
        )
    )


def teachers_of_year(session: Session, year_id: int) -> list[Person]:
    """People who teach at least one group of the year."""
    teaching = (
        select(GroupTeacher.teacher_id)
        .join(Group, Group.id == GroupTeacher.group_id)
        .where(Group.year_id == year_id)
    )
    return list(
        session.scalars(select(Person).where(Person.id.in_(teaching)).order_by(*person_order()))
    )


def active_rooms(session: Session) -> list[Room]:
    return list(session.scalars(select(Room).where(Room.is_active).order_by(Room.code)))


def groups_for_class(
    session: Session, school_class: SchoolClass
) -> tuple[list[Group], list[Group]]:
    """The class's own groups, and the year's groups of several classes (one query)."""
    groups = session.scalars(
        select(Group)
        .where(
            Group.year_id == school_class.year_id,
            or_(Group.class_id == school_class.id, Group.kind == "mixed"),
        )
        .order_by(Group.name)
    ).all()
    own = [g for g in groups if g.class_id == school_class.id]
    return own, [g for g in groups if g.class_id != school_class.id]


def class_filter(class_id: int) -> ColumnElement[bool]:
    """Entries of the class: its own groups and groups any of its students belong to."""
    own = select(Group.id).where(Group.class_id == class_id)
    via_students = (
        select(GroupStudent.group_id)
        .join(Student, Student.person_id == GroupStudent.student_id)
        .where(Student.class_id == class_id, Student.status == "active")
    )
    return TimetableEntry.group_id.in_(union(own, via_students))


def teacher_filter(person_id: int) -> ColumnElement[bool]:
    return TimetableEntry.group_id.in_(
        select(GroupTeacher.group_id).where(GroupTeacher.teacher_id == person_id)
    )


def room_filter(room_id: int) -> ColumnElement[bool]:
    return TimetableEntry.room_id == room_id


def entries_of_year(
    session: Session, which: ColumnElement[bool], year: SchoolYear
) -> list[TimetableEntry]:
    """Every entry (current, past and future) in the year, by day, lesson and date."""
    return list(
        session.scalars(
            select(TimetableEntry)
            .where(
                which,
                TimetableEntry.valid_from <= year.ends_on,
                or_(TimetableEntry.valid_to.is_(None), TimetableEntry.valid_to >= year.starts_on),
            )
            .order_by(
                TimetableEntry.weekday,
                TimetableEntry.lesson_no,
                TimetableEntry.valid_from,
                TimetableEntry.id,
            )
        )
    )


def teachers_by_group(session: Session, group_ids: Iterable[int]) -> dict[int, list[Person]]:
    """Group id → its teachers by name (one query for all groups)."""
    ids = set(group_ids)
    result: dict[int, list[Person]] = defaultdict(list)
    if not ids:
        return result
    rows = session.execute(
        select(GroupTeacher.group_id, Person)
        .join(Person, Person.id == GroupTeacher.teacher_id)
        .where(GroupTeacher.group_id.in_(ids))
        .order_by(*person_order())
    )
    for group_id, person in rows:
        result[group_id].append(person)
    return result


@dataclass(frozen=True)
class Day:
    weekday: int
    date: date
    name: str
    holiday: str | None


@dataclass(frozen=True)
class Row:
    lesson_no: int
    starts_at: time | None
    ends_at: time | None
    cells: list[list[TimetableEntry]]


@dataclass(frozen=True)
class Week:
    monday: date
    days: list[Day]
    rows: list[Row]
    teachers: dict[int, list[Person]]

    @property
    def previous(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def next(self) -> date:
        return self.monday + timedelta(days=7)

    @property
    def last_day(self) -> date:
        return self.days[-1].date

    @property
    def is_empty(self) -> bool:
        return not any(cell for row in self.rows for cell in row.cells)


def week(
    session: Session, which: ColumnElement[bool], on: date, schedule: BellSchedule | None
) -> Week:
    """The timetable of the week containing ``on``: each day shows the entries valid that day;
    rows are the schedule's lesson numbers plus any other number in use (three queries)."""
    monday = on - timedelta(days=on.isoweekday() - 1)
    saturday = monday + timedelta(days=SATURDAY - 1)
    entries = session.scalars(
        select(TimetableEntry).where(
            which,
            TimetableEntry.valid_from <= saturday,
            or_(TimetableEntry.valid_to.is_(None), TimetableEntry.valid_to >= monday),
        )
    ).all()
    entries = sorted(entries, key=lambda e: (e.group.name, e.valid_from))
    holidays = session.scalars(
        select(Holiday).where(Holiday.starts_on <= saturday, Holiday.ends_on >= monday)
    ).all()

    names = weekday_names()
    last = SATURDAY if any(e.weekday == SATURDAY for e in entries) else SATURDAY - 1
    days = []
    for weekday in range(MONDAY, last + 1):
        day = monday + timedelta(days=weekday - 1)
        holiday = next((h.name for h in holidays if h.starts_on <= day <= h.ends_on), None)
        days.append(Day(weekday, day, names[weekday], holiday))

    periods = {p.lesson_no: p for p in schedule.periods} if schedule else {}
    numbers = sorted(set(periods) | {e.lesson_no for e in entries})
    rows = []
    for number in numbers:
        period = periods.get(number)
        cells = [
            [
                e
                for e in entries
                if e.weekday == day.weekday
                and e.lesson_no == number
                and e.valid_from <= day.date
                and (e.valid_to is None or day.date <= e.valid_to)
            ]
            for day in days
        ]
        rows.append(
            Row(number, period.starts_at if period else None, period.ends_at if period else None,
                cells)
        )  # fmt: skip
    return Week(monday, days, rows, teachers_by_group(session, {e.group_id for e in entries}))


def clamp(day: date, start: date, end: date) -> date:
    return min(max(day, start), end)
