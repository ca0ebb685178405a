"""Rules of classes and subject groups.

Run inside a transaction bound to the school. Services validate, raise ``ServiceError`` naming
the field at fault and only flush; the request commits once. List queries are shaped so that a
page runs a fixed number of statements whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, joinedload

from accounts.identity import Principal
from accounts.models import Role, SchoolGrant
from accounts.services import require_role
from dienynas.errors import NotFound, ServiceError
from dienynas.forms import parse_id
from dienynas.i18n import format_day
from gradebook.grades.following import follow_into_group
from gradebook.grades.models import Grade, TermGrade
from gradebook.lessons.models import Lesson
from school.calendar.models import SchoolYear
from school.calendar.services import list_years, studies_end, year_before
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.curriculum.models import Subject
from school.people import services as people
from school.people.models import Person, Student
from school.people.names import person_order, person_sort_key
from school.timetable.services import refuse_group_clashes
from tenants.models import School

#: Roles whose holders can head a class or teach a group.
TEACHING_ROLES = (Role.TEACHER.value, Role.CLASS_HEAD.value)
GROUP_KINDS = {
    "class": _l("whole class"),
    "part": _l("part of a class"),
    "mixed": _l("students of several classes"),
}
LETTER_MAX = 4
GROUP_NAME_MAX = 60


# --- school years ---------------------------------------------------------------------------


# --- staff ----------------------------------------------------------------------------------


def teaching_staff(session: Session, school: School) -> list[Person]:
    """People of the school whose account is granted ``teacher`` or ``class_head`` here."""
    granted = select(SchoolGrant.account_id).where(
        SchoolGrant.school_id == school.id, SchoolGrant.role.in_(TEACHING_ROLES)
    )
    return list(
        session.scalars(
            select(Person).where(Person.account_id.in_(granted)).order_by(*person_order())
        )
    )


def _teaching_person(session: Session, school: School, person_id: int) -> Person | None:
    granted = select(SchoolGrant.account_id).where(
        SchoolGrant.school_id == school.id, SchoolGrant.role.in_(TEACHING_ROLES)
    )
    return session.scalar(
        select(Person).where(Person.id == person_id, Person.account_id.in_(granted))
    )


# --- classes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassRow:
    school_class: SchoolClass
    students: int


def list_classes(session: Session, year: SchoolYear) -> list[ClassRow]:
    """The year's classes in order (1a, 1b, …, 12c) with their head and active students."""
    counts = (
        select(Student.class_id, func.count().label("n"))
        .where(Student.status == "active")
        .group_by(Student.class_id)
        .subquery()
    )
    rows = session.execute(
        select(SchoolClass, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.class_id == SchoolClass.id)
        .where(SchoolClass.year_id == year.id)
        .options(joinedload(SchoolClass.head))
        .order_by(SchoolClass.grade_level, func.lower(SchoolClass.letter))
    )
    return [ClassRow(c, n) for c, n in rows]


def get_class(session: Session, class_id: int) -> SchoolClass:
    school_class = session.get(SchoolClass, class_id, options=[joinedload(SchoolClass.head)])
    if school_class is None:
        raise NotFound(_("There is no such class."))
    return school_class


def _clean_class(
    session: Session,
    school: School,
    year: SchoolYear,
    grade_level: str | int | None,
    letter: str | None,
    head_id: str | int | None,
    school_class: SchoolClass | None,
) -> tuple[int, str, int | None]:
    level = parse_id(grade_level)
    if level is None or not 1 <= level <= 12:
        raise ServiceError(_("The grade must be a whole number from 1 to 12."), field="grade_level")
    letter = (letter or "").strip()
    if len(letter) > LETTER_MAX or not (letter == "" or letter.isalpha()):
        raise ServiceError(
            _(
                "The class letter must be 1 to 4 letters, e.g. a; leave it empty for a single "
                "class."
            ),
            field="letter",
        )
    same = select(SchoolClass.id).where(
        SchoolClass.year_id == year.id,
        SchoolClass.grade_level == level,
        func.lower(SchoolClass.letter) == letter.lower(),
    )
    if school_class is not None:
        same = same.where(SchoolClass.id != school_class.id)
    if session.scalar(same) is not None:
        raise ServiceError(
            _(
                "Class %(name)s already exists in the school year %(year)s.",
                name=f"{level}{letter}",
                year=year.name,
            ),
            field="letter",
        )
    if head_id in (None, ""):
        return level, letter, None
    person_id = parse_id(head_id)
    head = _teaching_person(session, school, person_id) if person_id else None
    if head is None:
        raise ServiceError(_("The class head must be one of the school's teachers."), field="head")
    return level, letter, head.id


def create_class(
    session: Session,
    school: School,
    *,
    year: SchoolYear,
    grade_level: str | int | None,
    letter: str | None,
    head_id: str | int | None = None,
) -> SchoolClass:
    level, letter, head = _clean_class(session, school, year, grade_level, letter, head_id, None)
    school_class = SchoolClass(year_id=year.id, grade_level=level, letter=letter, head_id=head)
    session.add(school_class)
    session.flush()
    return school_class


def update_class(
    session: Session,
    school: School,
    school_class: SchoolClass,
    *,
    grade_level: str | int | None,
    letter: str | None,
    head_id: str | int | None,
) -> None:
    year = session.get(SchoolYear, school_class.year_id)
    level, letter, head = _clean_class(
        session, school, year, grade_level, letter, head_id, school_class
    )
    school_class.grade_level, school_class.letter, school_class.head_id = level, letter, head
    session.flush()
    session.expire(school_class, ["head"])


def delete_class(session: Session, school_class: SchoolClass) -> None:
    """Only an empty class (one created by mistake): no students, no groups."""
    students = session.scalar(
        select(func.count()).where(Student.class_id == school_class.id, Student.status == "active")
    )
    if students:
        raise ServiceError(
            ngettext(
                "Class %(name)s has %(num)d student; move the student to another class first.",
                "Class %(name)s has %(num)d students; move them to another class first.",
                students,
                name=school_class.name,
            )
        )
    groups = session.scalar(select(func.count()).where(Group.class_id == school_class.id))
    if groups:
        raise ServiceError(
            ngettext(
                "Class %(name)s has %(num)d group; delete the group first.",
                "Class %(name)s has %(num)d groups; delete them first.",
                groups,
                name=school_class.name,
            )
        )
    session.delete(school_class)
    session.flush()


def class_students(session: Session, school_class: SchoolClass) -> list[Student]:
    """The class's active students in name order (``person_sort_key``; the person comes
    joined; one query)."""
    students = session.scalars(
        select(Student)
        .join(Student.person)
        .where(Student.class_id == school_class.id, Student.status == "active")
    )
    return sorted(students, key=lambda student: person_sort_key(student.person))


# --- groups ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRow:
    group: Group
    teachers: list[Person]
    students: int


def _teachers_by_group(session: Session, group_ids: Iterable[int]) -> dict[int, list[Person]]:
    by_group: dict[int, list[Person]] = {}
    rows = session.execute(
        select(GroupTeacher.group_id, Person)
        .join(Person, Person.id == GroupTeacher.teacher_id)
        .where(GroupTeacher.group_id.in_(list(group_ids)))
        .order_by(*person_order())
    )
    for group_id, person in rows:
        by_group.setdefault(group_id, []).append(person)
    return by_group


def list_groups(session: Session, year: SchoolYear, class_id: int | None = None) -> list[GroupRow]:
    """The year's groups (or one class's) by name with subject, class, teachers and number of
    students: two statements whatever the number of groups."""
    counts = (
        select(GroupStudent.group_id, func.count().label("n"))
        .group_by(GroupStudent.group_id)
        .subquery()
    )
    query = (
        select(Group, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.group_id == Group.id)
        .where(Group.year_id == year.id)
        .options(joinedload(Group.school_class))
        .order_by(func.lower(Group.name))
    )
    if class_id is not None:
        query = query.where(Group.class_id == class_id)
    rows = session.execute(query).all()
    teachers = _teachers_by_group(session, [g.id for g, _n in rows]) if rows else {}
    return [GroupRow(g, teachers.get(g.id, []), n) for g, n in rows]


def get_group(session: Session, group_id: int) -> Group:
    group = session.get(Group, group_id, options=[joinedload(Group.school_class)])
    if group is None:
        raise NotFound(_("There is no such group."))
    return group


def group_teachers(session: Session, group: Group) -> list[Person]:
    return _teachers_by_group(session, [group.id]).get(group.id, [])


def group_students(session: Session, group: Group) -> list[tuple[Student, SchoolClass | None]]:
    """The group's students with their class, by surname."""
    rows = session.execute(
        select(Student, SchoolClass)
        .join(GroupStudent, GroupStudent.student_id == Student.person_id)
        .join(Student.person)
        .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
        .where(GroupStudent.group_id == group.id)
        .order_by(*person_order())
    )
    return [(s, c) for s, c in rows]


def candidate_students(session: Session, group: Group) -> list[tuple[Student, SchoolClass | None]]:
    """Active students who may join the group and are not in it yet: the group's class for a
    whole-class or part-of-a-class group, anyone of the school for a mixed one."""
    members = select(GroupStudent.student_id).where(GroupStudent.group_id == group.id)
    query = (
        select(Student, SchoolClass)
        .join(Student.person)
        .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
        .where(Student.status == "active", Student.person_id.not_in(members))
        .order_by(
            SchoolClass.grade_level,
            func.lower(SchoolClass.letter),
            Person.last_name,
            Person.first_name,
        )
    )
    if group.kind != "mixed":
        query = query.where(Student.class_id == group.class_id)
    return [(s, c) for s, c in session.execute(query)]


def _clean_group(
    session: Session,
    school: School,
    year_id: int,
    name: str | None,
    subject_id: str | int | None,
    teacher_ids: Iterable[str | int],
    group: Group | None,
) -> tuple[str, Subject, list[Person]]:
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError(_("Enter the group's name, e.g. 5a mathematics."), field="name")
    if len(name) > GROUP_NAME_MAX:
        raise ServiceError(
            ngettext(
                "The name may be at most %(num)d character long.",
                "The name may be at most %(num)d characters long.",
                GROUP_NAME_MAX,
            ),
            field="name",
        )
    same = select(Group.id).where(Group.year_id == year_id, func.lower(Group.name) == name.lower())
    if group is not None:
        same = same.where(Group.id != group.id)
    if session.scalar(same) is not None:
        raise ServiceError(
            _("A group named “%(name)s” already exists this school year.", name=name),
            field="name",
        )
    subject = session.get(Subject, parse_id(subject_id) or 0)
    if subject is None:
        raise ServiceError(_("Choose the subject."), field="subject")
    if not subject.is_active and (group is None or group.subject_id != subject.id):
        raise ServiceError(
            _("The subject “%(name)s” is deactivated.", name=subject.name), field="subject"
        )
    wanted = {parse_id(t) for t in teacher_ids if str(t).strip()}
    if not wanted:
        raise ServiceError(_("Choose at least one teacher."), field="teachers")
    staff = {p.id: p for p in teaching_staff(session, school)}
    if None in wanted or not wanted <= staff.keys():
        raise ServiceError(_("The teachers must be the school's teachers."), field="teachers")
    return name, subject, [staff[t] for t in sorted(wanted)]


def create_group(
    session: Session,
    school: School,
    *,
    year: SchoolYear,
    name: str | None,
    subject_id: str | int | None,
    kind: str | None,
    class_id: str | int | None,
    teacher_ids: Iterable[str | int],
) -> Group:
    """A group of ``kind`` 'class' (its students are the class's active students, added now),
    'part' (chosen students of one class) or 'mixed' (students of several classes)."""
    name, subject, teachers = _clean_group(
        session, school, year.id, name, subject_id, teacher_ids, None
    )
    if kind not in GROUP_KINDS:
        raise ServiceError(_("Choose what students the group has."), field="kind")
    school_class = None
    if kind != "mixed":
        school_class = session.get(SchoolClass, parse_id(class_id) or 0)
        if school_class is None or school_class.year_id != year.id:
            raise ServiceError(_("Choose the group's class."), field="class_id")
    group = Group(
        year_id=year.id,
        subject_id=subject.id,
        name=name,
        kind=kind,
        class_id=school_class.id if school_class else None,
    )
    session.add(group)
    session.flush()
    session.add_all(GroupTeacher(group_id=group.id, teacher_id=t.id) for t in teachers)
    if kind == "class":
        members = [s.person_id for s in class_students(session, school_class)]
        session.add_all(GroupStudent(group_id=group.id, student_id=s) for s in members)
        follow_into_group(session, group, members)
    session.flush()
    return group


def update_group(
    session: Session,
    school: School,
    group: Group,
    *,
    name: str | None,
    subject_id: str | int | None,
    teacher_ids: Iterable[str | int],
) -> None:
    """New name, subject and teachers; the kind, class and students stay."""
    name, subject, teachers = _clean_group(
        session, school, group.year_id, name, subject_id, teacher_ids, group
    )
    group.name, group.subject_id = name, subject.id
    current = {t.id for t in group_teachers(session, group)}
    wanted = {t.id for t in teachers}
    for teacher_id in current - wanted:
        session.delete(session.get(GroupTeacher, (group.id, teacher_id)))
    session.add_all(GroupTeacher(group_id=group.id, teacher_id=t) for t in wanted - current)
    session.flush()
    session.expire(group, ["subject"])
    if wanted - current:  # a new teacher may already teach elsewhere at the group's times
        refuse_group_clashes(session, group, field="teachers")


def delete_group(session: Session, group: Group) -> None:
    """Only a group without lessons or grades in the gradebook (one made by mistake): the
    gradebook's records of a group that was taught are kept."""
    lessons, grades = session.execute(
        select(
            select(func.count(Lesson.id)).where(Lesson.group_id == group.id).scalar_subquery(),
            select(func.count(Grade.id)).where(Grade.group_id == group.id).scalar_subquery()
            + select(func.count(TermGrade.id))
            .where(TermGrade.group_id == group.id)
            .scalar_subquery(),
        )
    ).one()
    if lessons:
        raise ServiceError(
            ngettext(
                "The group “%(name)s” has %(num)d lesson in the gradebook and cannot be deleted.",
                "The group “%(name)s” has %(num)d lessons in the gradebook and cannot be deleted.",
                lessons,
                name=group.name,
            )
        )
    if grades:
        raise ServiceError(
            ngettext(
                "The group “%(name)s” has %(num)d grade in the gradebook and cannot be deleted.",
                "The group “%(name)s” has %(num)d grades in the gradebook and cannot be deleted.",
                grades,
                name=group.name,
            )
        )
    session.delete(group)
    session.flush()


def add_students(session: Session, group: Group, student_ids: Iterable[str | int]) -> int:
    """Add active students (of the group's class unless the group is mixed); those already in
    the group are skipped. Returns how many were added; adds none when one is refused."""
    wanted = {parse_id(s) for s in student_ids if str(s).strip()}
    if not wanted:
        raise ServiceError(_("Choose the students to add."), field="students")
    if None in wanted:
        raise ServiceError(_("There is no such student."), field="students")
    students = list(session.scalars(select(Student).where(Student.person_id.in_(wanted))))
    if len(students) != len(wanted):
        raise ServiceError(_("There is no such student."), field="students")
    for student in sorted(students, key=lambda s: (s.person.last_name, s.person.first_name)):
        if student.status != "active":
            raise ServiceError(
                _(
                    "%(name)s has left the school and cannot be added to a group.",
                    name=student.person.full_name,
                ),
                field="students",
            )
        if group.kind != "mixed" and student.class_id != group.class_id:
            raise ServiceError(
                _(
                    "%(name)s is not in class %(class_name)s: this group takes only the "
                    "students of class %(class_name)s.",
                    name=student.person.full_name,
                    class_name=group.school_class.name,
                ),
                field="students",
            )
    members = set(
        session.scalars(
            select(GroupStudent.student_id).where(
                GroupStudent.group_id == group.id, GroupStudent.student_id.in_(wanted)
            )
        )
    )
    new = sorted(wanted - members)
    session.add_all(GroupStudent(group_id=group.id, student_id=s) for s in new)
    session.flush()
    refuse_group_clashes(session, group, field="students")  # they may have a lesson then
    follow_into_group(session, group, new)
    return len(new)


def remove_student(session: Session, group: Group, student_id: int) -> Student:
    link = session.get(GroupStudent, (group.id, student_id))
    if link is None:
        raise NotFound(_("The student is not in this group."))
    student = session.get(Student, student_id)
    session.delete(link)
    session.flush()
    return student


# --- moving the classes up into the next school year ----------------------------------------

#: What a class of the finished year becomes in the next one.
PROMOTE, GRADUATE, KEEP = "promote", "graduate", "keep"
PROMOTION_CHOICES = (PROMOTE, GRADUATE, KEEP)
TOP_GRADE = 12


@dataclass(frozen=True)
class ClassMove:
    """A class of the finished year and what moving up would make of it."""

    school_class: SchoolClass
    students: int  # active students
    target_name: str | None  # the class it becomes ("6a"); None for the last grade
    target_exists: bool  # already made in the next year (a second run, or made by hand)

    @property
    def default(self) -> str:
        return PROMOTE if self.target_name else GRADUATE


@dataclass
class PromotionSummary:
    classes_created: int = 0
    groups_copied: int = 0
    students_moved: int = 0
    students_graduated: int = 0


def _target_key(level: int, letter: str) -> tuple[int, str]:
    return level, letter.lower()


def promotion_plan(session: Session, from_year: SchoolYear, to_year: SchoolYear) -> list[ClassMove]:
    """The classes of ``from_year`` in order with their active students and the class each
    becomes in ``to_year`` (two queries)."""
    existing = {
        _target_key(level, letter)
        for level, letter in session.execute(
            select(SchoolClass.grade_level, SchoolClass.letter).where(
                SchoolClass.year_id == to_year.id
            )
        )
    }
    moves = []
    for row in list_classes(session, from_year):
        level, letter = row.school_class.grade_level, row.school_class.letter
        target = f"{level + 1}{letter}" if level < TOP_GRADE else None
        moves.append(
            ClassMove(
                row.school_class,
                row.students,
                target,
                target is not None and _target_key(level + 1, letter) in existing,
            )
        )
    return moves


def promote_classes(
    session: Session,
    actor: Principal,
    school: School,
    to_year: SchoolYear,
    choices: Mapping[int, str],
    today: date,
    copy_groups: bool = True,
) -> PromotionSummary:
    """The administrator moves the finished year's classes up into ``to_year``.

    For each class of the year before, its choice (``choices`` by class id, else the plan's
    default): PROMOTE makes the next grade's class with the same letter and head (or takes the
    one made already) and moves the active students into it and its whole-class groups, keeping
    their groups of the finished year (the gradebook's history); GRADUATE lets the active
    students leave the school on the last day of studies (``people.services.remove_student``:
    roles withdrawn, records kept); KEEP leaves the class as it is. With ``copy_groups`` a
    promoted class's groups come along too (``_copy_groups``). Allowed once the finished
    year's last term has ended. A second run moves nobody twice: the moved students are no
    longer in the old classes.
    """
    require_role(actor, school, Role.ADMIN)
    from_year = year_before(list_years(session), to_year)
    if from_year is None:
        raise ServiceError(_("There is no earlier school year to move the classes up from."))
    last_day = studies_end(session, from_year)
    if today <= last_day:
        raise ServiceError(
            _("The classes of %(year)s move up after their last term ends (%(date)s).",
              year=from_year.name, date=format_day(last_day))
        )  # fmt: skip
    plan = promotion_plan(session, from_year, to_year)
    chosen = {}
    for move in plan:
        choice = choices.get(move.school_class.id) or move.default
        if choice not in PROMOTION_CHOICES:
            raise ServiceError(_("Choose what happens to each class."), field="choices")
        if choice == PROMOTE and move.target_name is None:
            raise ServiceError(
                _("Class %(name)s is in the last grade: its students can only graduate.",
                  name=move.school_class.name),
                field="choices",
            )  # fmt: skip
        chosen[move.school_class.id] = choice
    summary = PromotionSummary()
    targets = {
        _target_key(c.grade_level, c.letter): c
        for c in session.scalars(select(SchoolClass).where(SchoolClass.year_id == to_year.id))
    }
    for move in plan:
        old = move.school_class
        if chosen[old.id] == PROMOTE:
            key = _target_key(old.grade_level + 1, old.letter)
            target = targets.get(key)
            if target is None:
                target = SchoolClass(year_id=to_year.id, grade_level=old.grade_level + 1,
                                     letter=old.letter, head_id=old.head_id)  # fmt: skip
                session.add(target)
                session.flush()
                targets[key] = target
                summary.classes_created += 1
            copies = _copy_groups(session, old, target) if copy_groups and move.students else []
            summary.groups_copied += sum(made for _old, _new, made in copies)
            summary.students_moved += _move_up(session, old, target, copies)
        elif chosen[old.id] == GRADUATE:
            for student in class_students(session, old):
                left_on = max(last_day, student.enrolled_on)  # enrolled in the summer: that day
                people.remove_student(session, actor, school, student, left_on, today)
                summary.students_graduated += 1
    session.flush()
    return summary


def _copied_name(name: str, old: SchoolClass, target: SchoolClass) -> str:
    """A group's name for the new year: the old class's name in it becomes the new one's
    ("5a matematika" → "6a matematika"); otherwise the new class's name goes first."""
    if name.startswith(old.name):
        name = target.name + name[len(old.name) :]
    else:
        name = f"{target.name} {name}"
    return name[:GROUP_NAME_MAX]


def _copy_groups(
    session: Session, old: SchoolClass, target: SchoolClass
) -> list[tuple[Group, Group, bool]]:
    """The finished year's groups of ``old`` (whole-class and part groups of subjects still
    taught) made again for ``target``, with the same subject and teachers: (old group, new
    group, made now). A group of that name in the new year already is taken as it is. Groups
    of several classes (electives) are left for the administrator."""
    groups = list(
        session.scalars(
            select(Group)
            .join(Subject, Subject.id == Group.subject_id)
            .where(Group.class_id == old.id, Group.kind != "mixed", Subject.is_active)
            .order_by(Group.id)
        )
    )
    if not groups:
        return []
    existing = {
        g.name: g for g in session.scalars(select(Group).where(Group.year_id == target.year_id))
    }
    teachers = session.execute(
        select(GroupTeacher.group_id, GroupTeacher.teacher_id).where(
            GroupTeacher.group_id.in_([g.id for g in groups])
        )
    ).all()
    copies = []
    for group in groups:
        name = _copied_name(group.name, old, target)
        copy = existing.get(name)
        made = copy is None
        if made:
            copy = Group(year_id=target.year_id, subject_id=group.subject_id, name=name,
                         kind=group.kind, class_id=target.id)  # fmt: skip
            session.add(copy)
            existing[name] = copy
        copies.append((group, copy, made))
    session.flush()
    new_teachers = [
        {"group_id": copy.id, "teacher_id": teacher_id}
        for group, copy, made in copies
        if made
        for group_id, teacher_id in teachers
        if group_id == group.id
    ]
    if new_teachers:
        session.execute(pg_insert(GroupTeacher).values(new_teachers).on_conflict_do_nothing())
    return copies


def _move_up(
    session: Session,
    old: SchoolClass,
    target: SchoolClass,
    copies: list[tuple[Group, Group, bool]],
) -> int:
    """The active students of ``old`` into ``target``: into its whole-class groups, and into
    the copies of the part groups they were in; their groups of the finished year stay (the
    gradebook's history). How many moved."""
    moved = list(
        session.scalars(
            update(Student)
            .where(Student.class_id == old.id, Student.status == "active")
            .values(class_id=target.id)
            .returning(Student.person_id)
        )
    )
    if not moved:
        return 0
    groups = list(
        session.scalars(select(Group).where(Group.class_id == target.id, Group.kind == "class"))
    )
    memberships = [{"group_id": g.id, "student_id": s} for g in groups for s in moved]
    part_copies = {group.id: copy for group, copy, _made in copies if group.kind == "part"}
    if part_copies:
        for group_id, student_id in session.execute(
            select(GroupStudent.group_id, GroupStudent.student_id).where(
                GroupStudent.group_id.in_(part_copies), GroupStudent.student_id.in_(moved)
            )
        ):
            memberships.append({"group_id": part_copies[group_id].id, "student_id": student_id})
    if memberships:
        session.execute(pg_insert(GroupStudent).values(memberships).on_conflict_do_nothing())
    session.flush()
    for group in {*groups, *part_copies.values()}:
        refuse_group_clashes(session, group, field="choices")
    return len(moved)
