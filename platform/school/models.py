"""Every table of a school's schema, imported in one place so that ``SchoolModel.metadata`` is
complete wherever a schema is built (provisioning, migrations, tests)."""

from gradebook.attendance.models import Attendance, Excuse
from gradebook.briefings.models import Briefing
from gradebook.diary.models import DiaryRevision
from gradebook.erasure.models import Erasure
from gradebook.grades.models import Grade, GradeChange, TermGrade
from gradebook.lessons.models import Homework, HomeworkFile, Lesson
from gradebook.planning.models import PlannedTest
from gradebook.remarks.models import Remark
from gradebook.settings.models import GradebookSettings
from notifications.announcements.models import Announcement, AnnouncementFile
from notifications.messages.models import (
    Message,
    MessageFile,
    MessageReceipt,
    MessageThread,
    ThreadParticipant,
)
from notifications.models import NotificationEvent
from school.calendar.models import BellPeriod, BellSchedule, Holiday, Room, SchoolYear, Term
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.curriculum.models import AssessmentKind, GradeScale, Subject
from school.health.models import HealthRecommendation
from school.imports.models import ImportBatch
from school.locks.models import LockWindow, TermLock
from school.people.models import Guardianship, Person, StaffRight, Student, TeacherSubject
from school.timetable.models import TimetableEntry
from transfers.models import CarriedRecord

__all__ = [
    "Announcement",
    "AnnouncementFile",
    "AssessmentKind",
    "Attendance",
    "BellPeriod",
    "BellSchedule",
    "Briefing",
    "CarriedRecord",
    "DiaryRevision",
    "Erasure",
    "Excuse",
    "Grade",
    "GradeChange",
    "GradeScale",
    "GradebookSettings",
    "Group",
    "GroupStudent",
    "GroupTeacher",
    "Guardianship",
    "HealthRecommendation",
    "Holiday",
    "Homework",
    "HomeworkFile",
    "ImportBatch",
    "Lesson",
    "LockWindow",
    "Message",
    "MessageFile",
    "MessageReceipt",
    "MessageThread",
    "NotificationEvent",
    "Person",
    "PlannedTest",
    "Remark",
    "Room",
    "SchoolClass",
    "SchoolYear",
    "StaffRight",
    "Student",
    "Subject",
    "TeacherSubject",
    "Term",
    "TermGrade",
    "TermLock",
    "ThreadParticipant",
    "TimetableEntry",
]
