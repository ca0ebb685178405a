"""Every table of a school's schema, imported in one place so that ``SchoolModel.metadata`` is
complete wherever a schema is built (provisioning, migrations, tests)."""

from school.calendar.models import BellPeriod, BellSchedule, Holiday, Room, SchoolYear, Term
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.curriculum.models import AssessmentKind, GradeScale, Subject
from school.imports.models import ImportBatch
from school.locks.models import LockWindow, TermLock
from school.people.models import Guardianship, Person, StaffRight, Student, TeacherSubject
from school.timetable.models import TimetableEntry

__all__ = [
    "AssessmentKind",
    "BellPeriod",
    "BellSchedule",
    "GradeScale",
    "Group",
    "GroupStudent",
    "GroupTeacher",
    "Guardianship",
    "Holiday",
    "ImportBatch",
    "LockWindow",
    "Person",
    "Room",
    "SchoolClass",
    "SchoolYear",
    "StaffRight",
    "Student",
    "Subject",
    "TeacherSubject",
    "Term",
    "TermLock",
    "TimetableEntry",
]
