"""Sample gradebook data for a school already set up (classes, groups, students, timetable):
the demo seed and ``bench/diary.py`` use it to show a journal that has been lived in.

:func:`fill_month` writes, for the school days of a period, the timetable's lessons with
topics, homework on some of them, grades (about one per student per three lessons, on each
subject's scale, of the school's assessment kinds; a whole-group test on announced test days),
attendance (illnesses of a few days, most excused by the class head; some lateness and the odd
skipped lesson), a few remarks and the test calendar (past tests and some announced for the
fortnight after the period). Rows are written with bulk inserts; the same ``rng`` seed gives
the same data. It is meant for a period that has no gradebook data yet.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from gradebook.attendance.models import Attendance, Excuse
from gradebook.days import school_days
from gradebook.grades.models import Grade
from gradebook.lessons.models import Homework, Lesson
from gradebook.lessons.services import ensure_lessons
from gradebook.planning.models import PlannedTest
from gradebook.remarks.models import Remark
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.curriculum.models import AssessmentKind, GradeScale
from school.people.models import Person, Student
from school.timetable.models import TimetableEntry

#: Chances per student and school day / lesson.
ILLNESS_START = 0.015  # falls ill (absent 1–4 school days)
ILLNESS_EXCUSED = 0.8  # the class head excuses the illness
SKIPPED = 0.006  # misses one lesson, unexcused
LATE = 0.03
LEFT_EARLY = 0.004
GRADE_CHANCE = 0.3  # a present student gets a grade in a lesson (≈ 1 in 3 lessons)
WITHOUT_TOPIC = 0.04  # the teacher forgot the topic
HOMEWORK = 0.35
REMARKS_PER_GROUP = 2
FUTURE_TEST_DAYS = 14
#: How often each assessment kind is used for an ordinary grade (tests come from the calendar).
KIND_WEIGHTS = {"classwork": 30, "oral": 22, "homework": 22, "quiz": 16, "project": 5}

PHRASES = {
    "lt": {
        "topics": (
            "Naujos temos aiškinimas",
            "Pratimai ir uždaviniai",
            "Kartojimas",
            "Savarankiškas darbas",
            "Darbas grupėmis",
            "Praktinis darbas",
        ),
        "homework": "Pratimai {a}–{b}, {p} psl.",
        "test": "Kontrolinis darbas: § {a}–{b}",
        "praise": ("Puikiai pasirodė olimpiadoje.", "Aktyviai dirbo pamokoje."),
        "remark": ("Neatliko namų darbų.", "Pamiršo pratybų sąsiuvinį."),
        "reprimand": ("Trukdė pamokai.",),
    },
    "ru": {
        "topics": (
            "Объяснение новой темы",
            "Упражнения и задачи",
            "Повторение",
            "Самостоятельная работа",
            "Работа в группах",
            "Практическая работа",
        ),
        "homework": "Упражнения {a}–{b}, стр. {p}",
        "test": "Контрольная работа: § {a}–{b}",
        "praise": ("Отлично выступил(а) на олимпиаде.", "Активно работал(а) на уроке."),
        "remark": ("Не выполнил(а) домашнее задание.", "Забыл(а) рабочую тетрадь."),
        "reprimand": ("Мешал(а) вести урок.",),
    },
    "pl": {
        "topics": (
            "Wprowadzenie nowego tematu",
            "Ćwiczenia i zadania",
            "Powtórzenie",
            "Praca samodzielna",
            "Praca w grupach",
            "Ćwiczenia praktyczne",
        ),
        "homework": "Ćwiczenia {a}–{b}, str. {p}",
        "test": "Sprawdzian: § {a}–{b}",
        "praise": ("Świetny występ na olimpiadzie.", "Aktywna praca na lekcji."),
        "remark": ("Brak pracy domowej.", "Zapomniał(a) zeszytu ćwiczeń."),
        "reprimand": ("Przeszkadzał(a) w prowadzeniu lekcji.",),
    },
    "en": {
        "topics": (
            "A new topic explained",
            "Exercises and problems",
            "Revision",
            "Independent work",
            "Group work",
            "Practical work",
        ),
        "homework": "Exercises {a}–{b}, page {p}",
        "test": "Test: § {a}–{b}",
        "praise": ("Did very well in the olympiad.", "Worked actively in the lesson."),
        "remark": ("Did not do the homework.", "Forgot the workbook."),
        "reprimand": ("Disturbed the lesson.",),
    },
}


@dataclass
class _GroupInfo:
    group: Group
    scale: GradeScale
    account_id: int | None  # who writes in the group's journal (its first teacher's account)
    students: list[int] = field(default_factory=list)
    lessons: list[dict] = field(default_factory=list)


def _moment(day: date, lesson_no: int) -> datetime:
    """When a lesson's marks are written: at the end of the lesson, local time."""
    return datetime.combine(day, time(8 + min(lesson_no, 12), 40)).astimezone()


def _grade_value(rng: random.Random, scale: GradeScale, ability: float) -> str:
    if scale.kind == "pass_fail":
        return "passed" if rng.random() < 0.9 + ability / 10 else "failed"
    share = min(max(rng.gauss(ability, 0.14), 0.0), 1.0)
    return str(round(scale.min_value + share * (scale.max_value - scale.min_value)))


def fill_month(
    session: Session, *, start: date, days: int, rng: random.Random, locale: str = "lt"
) -> dict[str, int]:
    """Fill ``days`` days from ``start`` with gradebook data (see the module); texts in
    ``locale``. Returns how many rows of each kind were written."""
    end = start + timedelta(days=days - 1)
    phrases = PHRASES.get(locale, PHRASES["en"])
    group_ids = sorted(
        set(
            session.scalars(select(TimetableEntry.group_id).where(TimetableEntry.valid_from <= end))
        )
    )
    ensure_lessons(session, start, end, group_ids=group_ids)
    groups = _load_groups(session, group_ids)
    lessons = session.execute(
        select(Lesson.id, Lesson.group_id, Lesson.on_day, Lesson.lesson_no, Lesson.term_id)
        .where(Lesson.group_id.in_(group_ids), Lesson.on_day.between(start, end))
        .order_by(Lesson.on_day, Lesson.lesson_no, Lesson.group_id)
    ).all()
    for lesson in lessons:
        groups[lesson.group_id].lessons.append(lesson._asdict())
    kinds = dict(
        session.execute(
            select(AssessmentKind.code, AssessmentKind.id).where(AssessmentKind.is_active)
        ).all()
    )
    ordinary_kinds = [kinds[code] for code in KIND_WEIGHTS if code in kinds] or [None]
    kind_weights = [KIND_WEIGHTS[code] for code in KIND_WEIGHTS if code in kinds] or [1]
    students = session.execute(
        select(Student.person_id, Student.class_id, Person.account_id)
        .join(SchoolClass, SchoolClass.id == Student.class_id)
        .outerjoin(Person, Person.id == SchoolClass.head_id)
        .where(Student.status == "active")
        .order_by(Student.person_id)
    ).all()
    head_account = {s.person_id: s.account_id for s in students}
    class_of = {s.person_id: s.class_id for s in students}
    ability = {s.person_id: min(max(rng.gauss(0.68, 0.13), 0.15), 0.98) for s in students}
    counts = dict.fromkeys(
        ("lessons", "homework", "grades", "attendance", "excuses", "remarks", "planned_tests"), 0
    )
    counts["lessons"] = len(lessons)

    _write_topics_and_homework(session, rng, groups, phrases, counts)
    teaching_days = school_days(session, start, end)
    illness, excuses = _illnesses(session, rng, teaching_days, head_account, counts)
    tests = _tests(session, rng, groups, class_of, kinds.get("test"), phrases, end, counts)

    attendance_rows, grade_rows = [], []
    for info in groups.values():
        if info.account_id is None:
            continue  # nobody could have written in this journal
        subject_bias = {s: rng.gauss(0, 0.05) for s in info.students}
        for lesson in info.lessons:
            day, lesson_id = lesson["on_day"], lesson["id"]
            test = lesson_id in tests
            moment = _moment(day, lesson["lesson_no"])
            for student in info.students:
                mark, excuse_id = None, None
                if (student, day) in illness:
                    mark, excuse_id = "absent", excuses.get((student, day))
                else:
                    roll = rng.random()
                    if roll < SKIPPED:
                        mark = "absent"
                    elif roll < SKIPPED + LATE:
                        mark = "late"
                    elif roll < SKIPPED + LATE + LEFT_EARLY:
                        mark = "left_early"
                if mark is not None:
                    attendance_rows.append(
                        {
                            "lesson_id": lesson_id,
                            "student_id": student,
                            "mark": mark,
                            "excuse_id": excuse_id,
                            "marked_by": info.account_id,
                            "marked_at": moment,
                        }
                    )
                if mark == "absent" or not (test or rng.random() < GRADE_CHANCE):
                    continue
                grade_rows.append(
                    {
                        "student_id": student,
                        "group_id": info.group.id,
                        "lesson_id": lesson_id,
                        "on_day": day,
                        "term_id": lesson["term_id"],
                        "value": _grade_value(
                            rng, info.scale, ability[student] + subject_bias[student]
                        ),
                        "kind_id": kinds.get("test")
                        if test
                        else rng.choices(ordinary_kinds, kind_weights)[0],
                        "created_by": info.account_id,
                        "created_at": moment,
                    }
                )
    if attendance_rows:
        session.execute(insert(Attendance), attendance_rows)
    if grade_rows:
        session.execute(insert(Grade), grade_rows)
    counts["attendance"], counts["grades"] = len(attendance_rows), len(grade_rows)

    _remarks(session, rng, groups, phrases, counts)
    session.flush()
    return counts


def _load_groups(session: Session, group_ids: list[int]) -> dict[int, _GroupInfo]:
    groups = {
        g.id: _GroupInfo(g, g.subject.scale, None)
        for g in session.scalars(select(Group).where(Group.id.in_(group_ids)).order_by(Group.id))
    }
    for group_id, account_id in session.execute(
        select(GroupTeacher.group_id, Person.account_id)
        .join(Person, Person.id == GroupTeacher.teacher_id)
        .where(GroupTeacher.group_id.in_(group_ids), Person.account_id.is_not(None))
        .order_by(GroupTeacher.group_id, Person.id)
    ):
        if groups[group_id].account_id is None:
            groups[group_id].account_id = account_id
    for group_id, student_id in session.execute(
        select(GroupStudent.group_id, GroupStudent.student_id)
        .join(Student, Student.person_id == GroupStudent.student_id)
        .where(GroupStudent.group_id.in_(group_ids), Student.status == "active")
        .order_by(GroupStudent.group_id, GroupStudent.student_id)
    ):
        groups[group_id].students.append(student_id)
    return groups


def _write_topics_and_homework(
    session: Session, rng: random.Random, groups: dict[int, _GroupInfo], phrases, counts
) -> None:
    topics, homework = [], []
    for info in groups.values():
        for number, lesson in enumerate(info.lessons, start=1):
            if rng.random() >= WITHOUT_TOPIC:
                topic = f"§ {number}. {rng.choice(phrases['topics'])}"
                topics.append({"id": lesson["id"], "topic": topic})
            if rng.random() < HOMEWORK:
                following = info.lessons[number] if number < len(info.lessons) else None
                first = rng.randint(1, 30)
                homework.append(
                    {
                        "lesson_id": lesson["id"],
                        "text": phrases["homework"].format(
                            a=first, b=first + rng.randint(1, 5), p=rng.randint(10, 180)
                        ),
                        "due_on": following["on_day"] if following else None,
                    }
                )
    if topics:
        session.execute(update(Lesson), topics)
    if homework:
        session.execute(insert(Homework), homework)
    counts["homework"] = len(homework)


def _illnesses(
    session: Session,
    rng: random.Random,
    teaching_days: list[date],
    head_account: dict[int, int | None],
    counts: dict[str, int],
) -> tuple[set[tuple[int, date]], dict[tuple[int, date], int]]:
    """Days each student is ill, and the class head's excuse covering each excused one."""
    ill: set[tuple[int, date]] = set()
    spans: list[tuple[int, list[date], int]] = []
    for student, account_id in head_account.items():
        index = 0
        while index < len(teaching_days):
            if rng.random() < ILLNESS_START:
                span = teaching_days[index : index + rng.randint(1, 4)]
                ill.update((student, day) for day in span)
                if account_id is not None and rng.random() < ILLNESS_EXCUSED:
                    spans.append((student, span, account_id))
                index += len(span) + 1
            else:
                index += 1
    excuses: dict[tuple[int, date], int] = {}
    if spans:
        ids = session.scalars(
            insert(Excuse).returning(Excuse.id, sort_by_parameter_order=True),
            [
                {
                    "student_id": student,
                    "from_day": span[0],
                    "to_day": span[-1],
                    "reason": "illness",
                    "source": "class_head",
                    "status": "approved",
                    "school_days": len(span),
                    "submitted_by": account_id,
                    "decided_by": account_id,
                    "decided_at": _moment(span[-1], 8),
                }
                for student, span, account_id in spans
            ],
        ).all()
        for excuse_id, (student, span, _account) in zip(ids, spans, strict=True):
            excuses.update(((student, day), excuse_id) for day in span)
    counts["excuses"] = len(spans)
    return ill, excuses


def _tests(
    session: Session,
    rng: random.Random,
    groups: dict[int, _GroupInfo],
    class_of: dict[int, int | None],
    test_kind: int | None,
    phrases,
    end: date,
    counts: dict[str, int],
) -> set[int]:
    """One test a group in the period (graded for the whole group) and one announced for the
    fortnight after it, at most one a day per class; the ids of the period's test lessons."""
    taken: set[tuple[int | None, date]] = set()
    coming = _coming_lessons(session, groups, end)
    rows, in_period = [], set()
    for info in groups.values():
        if info.account_id is None:
            continue
        classes = {class_of.get(s) for s in info.students}
        half = len(info.lessons) // 2
        for candidates, graded in ((info.lessons[half:], True), (coming[info.group.id], False)):
            free = [
                lesson
                for lesson in candidates
                if not any((c, lesson["on_day"]) in taken for c in classes)
            ]
            if not free:
                continue
            lesson = rng.choice(free)
            day = lesson["on_day"]
            taken.update((c, day) for c in classes)
            first = rng.randint(1, 20)
            rows.append(
                {
                    "group_id": info.group.id,
                    "on_day": day,
                    "lesson_no": lesson["lesson_no"],
                    "kind_id": test_kind,
                    "topic": phrases["test"].format(a=first, b=first + rng.randint(2, 6)),
                    "announced_by": info.account_id,
                    "announced_at": _moment(day - timedelta(days=rng.randint(8, 14)), 6),
                }
            )
            if graded:
                in_period.add(lesson["id"])
    if rows:
        session.execute(insert(PlannedTest), rows)
    counts["planned_tests"] = len(rows)
    return in_period


def _coming_lessons(
    session: Session, groups: dict[int, _GroupInfo], end: date
) -> dict[int, list[dict]]:
    """The timetable's lessons of each group on the school days after ``end`` (not written)."""
    days = school_days(session, end + timedelta(days=1), end + timedelta(days=FUTURE_TEST_DAYS))
    entries = session.execute(
        select(
            TimetableEntry.group_id,
            TimetableEntry.weekday,
            TimetableEntry.lesson_no,
            TimetableEntry.valid_from,
            TimetableEntry.valid_to,
        )
        .where(TimetableEntry.group_id.in_(list(groups)))
        .order_by(TimetableEntry.group_id, TimetableEntry.weekday, TimetableEntry.lesson_no)
    ).all()
    coming: dict[int, list[dict]] = defaultdict(list)
    for day in days:
        for e in entries:
            valid = e.valid_from <= day and (e.valid_to is None or e.valid_to >= day)
            if valid and e.weekday == day.isoweekday():
                coming[e.group_id].append({"on_day": day, "lesson_no": e.lesson_no})
    return coming


def _remarks(
    session: Session, rng: random.Random, groups: dict[int, _GroupInfo], phrases, counts
) -> None:
    rows = []
    for info in groups.values():
        if info.account_id is None or not info.students or not info.lessons:
            continue
        for _n in range(REMARKS_PER_GROUP):
            kind = rng.choices(("praise", "remark", "reprimand"), (50, 38, 12))[0]
            lesson = rng.choice(info.lessons)
            rows.append(
                {
                    "student_id": rng.choice(info.students),
                    "group_id": info.group.id,
                    "kind": kind,
                    "text": rng.choice(phrases[kind]),
                    "on_day": lesson["on_day"],
                    "written_by": info.account_id,
                    "created_at": _moment(lesson["on_day"], lesson["lesson_no"]),
                }
            )
    if rows:
        session.execute(insert(Remark), rows)
    counts["remarks"] = len(rows)
