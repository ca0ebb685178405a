"""The demo municipality is built through the services and obeys their rules."""

from sqlalchemy import func, select

from accounts.models import Account
from accounts.services import verify_password
from dienynas.demo import DEMO_PASSWORD, seed_demo
from school.classes.models import Group, SchoolClass
from school.people.models import Guardianship, Student, TeacherSubject
from school.timetable.models import TimetableEntry
from tenants.models import School
from tenants.services import bind_to_school


def test_demo_seed_builds_a_usable_school(app, db_session):
    seed_demo(school_count=2, students_per_school=8)
    school = db_session.scalar(select(School).where(School.slug == "raduga"))
    assert school.default_locale == "ru"
    bind_to_school(db_session, school)
    count = lambda model: db_session.scalar(select(func.count()).select_from(model))  # noqa: E731
    assert count(SchoolClass) == 2
    assert count(Student) == 8 and count(Guardianship) >= 8
    assert count(Group) == 2 * 9  # 7 whole-class subjects + English in two halves, per class
    # every class gets its 21 weekly lessons (parallel English halves count once)
    lessons = db_session.scalar(select(func.count(func.distinct(
        func.concat(TimetableEntry.weekday, "-", TimetableEntry.lesson_no, "-", Group.class_id)
    ))).join(Group))  # fmt: skip
    assert lessons == 2 * 21
    assert count(TeacherSubject) == 10  # eight subjects, English taught by two more teachers
    subject_names = set(db_session.scalars(select(Group.name)))
    assert "5a Математика" in subject_names
    admin = db_session.scalar(select(Account).where(Account.login == "admin.raduga"))
    assert verify_password(admin, DEMO_PASSWORD) and not admin.must_change_password
