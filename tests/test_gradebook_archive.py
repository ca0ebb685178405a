"""The school year's archive: one ZIP of the year's gradebook, made by a job, for the
administrator."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
import zipfile
from datetime import UTC, date, datetime

import pytest
from flask_babel import gettext, pgettext
from pypdf import PdfReader
from sqlalchemy import delete, func, select

from accounts.models import SchoolGrant
from classroom import _student
from conftest import login, post_form
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.extensions import db
from dienynas.i18n import format_day, in_locale
from gradebook.archive import services
from gradebook.archive.models import YearArchive
from gradebook.archive.tasks import build_year_archive
from gradebook.grades.models import Grade, GradeChange
from gradebook.remarks.models import Remark
from school.calendar.services import create_year
from school.classes.models import GroupStudent
from school.classes.services import promote_classes
from tenants.services import bind_to_school
from test_gradebook_overview import Journal

BASE = "/s/school-a"
FOLDER = "dienynas-school-a-2026-2027"


@pytest.fixture
def journal(classroom) -> Journal:
    """A few grades, marks and a term grade for class 5a (as the overview tests write them)."""
    j = Journal(classroom)
    c = classroom
    s0, s1 = c.students[:2]
    maths1 = j.lesson(c.maths, date(2026, 9, 7), 1)
    j.grade(s0, c.maths, "10", date(2026, 9, 7), lesson_id=maths1.id)
    j.grade(s1, c.maths, "6", date(2026, 9, 7), comment="Kontrolinis")
    j.term_grade(s0, c.maths, "9")
    j.mark(maths1, s1)
    return j


def made(classroom) -> YearArchive:
    """An archive of the classroom's year, asked for by the administrator and made by the job."""
    archive, _new = services.request_archive(
        classroom.session, classroom.account("admin"), classroom.school, classroom.year.id
    )
    archive_id = archive.id
    assert build_year_archive(classroom.school.id, archive_id) is True
    bind_to_school(db.session, classroom.school)
    return db.session.get(YearArchive, archive_id)


def rows(zip_file: zipfile.ZipFile, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(zip_file.read(f"{FOLDER}/{name}").decode("utf-8-sig"))))


def test_the_archive_holds_the_years_records_with_checksums(classroom, journal):
    c = classroom
    c.session.add(GradeChange(grade_id=1, student_id=c.students[1].id, group_id=c.maths.id,
                              on_day=date(2026, 9, 7), action="update", old_value="5",
                              new_value="6", changed_by=journal.by))  # fmt: skip
    c.session.flush()
    archive = made(classroom)
    assert archive.status == "done" and archive.size == len(archive.content)
    assert archive.sha256 == hashlib.sha256(archive.content).hexdigest()
    zip_file = zipfile.ZipFile(io.BytesIO(archive.content))
    names = {n.removeprefix(f"{FOLDER}/") for n in zip_file.namelist()}
    assert {"students.csv", "lessons.csv", "grades.csv", "term_grades.csv", "attendance.csv",
            "remarks.csv", "grade_changes.csv", "README.txt", "manifest.csv",
            "classes/5a-achievement-summary.pdf",
            "classes/6b-achievement-summary.pdf"} == names  # fmt: skip
    grades = rows(zip_file, "grades.csv")
    assert grades[0][4] == "Mokinys"  # school A's language
    total = db.session.scalar(select(func.count()).select_from(Grade))
    assert len(grades) - 1 == total == 2
    assert any("Kontrolinis" in row for row in grades)
    assert [row[7] for row in rows(zip_file, "term_grades.csv")[1:]] == ["9"]
    assert len(rows(zip_file, "attendance.csv")) == 2
    [change] = rows(zip_file, "grade_changes.csv")[1:]
    assert change[8:11] == ["pakeistas", "5", "6"]  # Lithuanian: the school's language
    manifest = {row[0]: row for row in rows(zip_file, "manifest.csv")[1:]}
    assert set(manifest) == names - {"manifest.csv"}
    for name, (_name, size, digest) in manifest.items():
        data = zip_file.read(f"{FOLDER}/{name}")
        assert (int(size), digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert zip_file.read(f"{FOLDER}/classes/5a-achievement-summary.pdf").startswith(b"%PDF")


def test_the_job_twice_and_asking_twice_make_one_archive(classroom, journal):
    first, new = services.request_archive(
        classroom.session, classroom.account("admin"), classroom.school, classroom.year.id
    )
    again, new_again = services.request_archive(
        classroom.session, classroom.account("admin"), classroom.school, classroom.year.id
    )
    assert new and not new_again and again.id == first.id
    archive_id = first.id
    assert build_year_archive(classroom.school.id, archive_id) is True
    assert build_year_archive(classroom.school.id, archive_id) is False
    bind_to_school(db.session, classroom.school)
    assert db.session.scalar(select(func.count()).select_from(YearArchive)) == 1


def test_a_failed_archive_says_why_and_keeps_nothing(classroom, journal):
    """The administrator who asked lost the role before the job ran: the class summaries may
    not be made for them; the archive is marked failed, with no file."""
    admin = classroom.account("admin")
    archive, _new = services.request_archive(
        classroom.session, admin, classroom.school, classroom.year.id
    )
    archive_id = archive.id
    classroom.session.execute(delete(SchoolGrant).where(SchoolGrant.account_id == admin.id))
    classroom.session.expire(admin, ["grants"])
    assert build_year_archive(classroom.school.id, archive_id) is False
    bind_to_school(db.session, classroom.school)
    failed = db.session.get(YearArchive, archive_id)
    assert failed.status == "failed" and "PermissionDenied" in failed.error
    assert failed.content is None and failed.sha256 is None


@pytest.mark.parametrize("who", ["teacher", "director", "head"])
def test_only_the_administrator_makes_archives(classroom, who):
    with pytest.raises(PermissionDenied):
        services.request_archive(
            classroom.session, classroom.account(who), classroom.school, classroom.year.id
        )


def test_an_unknown_year_is_refused(classroom):
    with pytest.raises(ServiceError) as excinfo:
        services.request_archive(
            classroom.session, classroom.account("admin"), classroom.school, 10**9
        )
    assert excinfo.value.field == "year"


def test_archive_pages(client, classroom, journal):
    school_id, year_id = classroom.school.id, classroom.year.id
    classroom.session.commit()
    login(client, "teacher.a")
    assert client.get(f"{BASE}/archive").status_code == 403
    client = client.application.test_client()
    login(client, "admin.a")
    page = client.get(f"{BASE}/archive")
    assert page.status_code == 200 and "Make the archive" in page.get_data(as_text=True)
    token = page.get_data(as_text=True).split('name="csrf_token" value="', 1)[1].split('"')[0]
    asked = client.post(f"{BASE}/archive", data={"csrf_token": token, "year": year_id})
    assert asked.status_code == 302
    bind_to_school(db.session, classroom.school)
    archive_id = db.session.scalar(select(YearArchive.id))
    pending = client.get(f"{BASE}/archive/{archive_id}/download")
    assert pending.status_code == 404  # not ready yet
    assert build_year_archive(school_id, archive_id) is True
    listing = client.get(f"{BASE}/archive").get_data(as_text=True)
    assert re.search(r'ready <span class="muted">\(\d[\d,]*(\.\d)? kB\)', listing)  # not 0.0 MB
    download = client.get(f"{BASE}/archive/{archive_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert f'filename="{FOLDER}.zip"' in download.headers["Content-Disposition"]
    assert zipfile.ZipFile(io.BytesIO(download.data)).testzip() is None
    assert client.get(f"{BASE}/archive/{10**9}/download").status_code == 404


# --- deleting an archive's file (seed 000, 5.23) ----------------------------------------------


def test_a_deleted_archive_keeps_its_trace_without_the_file(classroom, journal):
    archive = made(classroom)
    checksum, admin = archive.sha256, db.session.merge(classroom.account("admin"))
    with pytest.raises(ServiceError) as unconfirmed:
        services.delete_archive(db.session, admin, classroom.school, archive.id, confirmed=False)
    assert unconfirmed.value.field == "confirm"
    assert db.session.get(YearArchive, archive.id).status == "done"

    services.delete_archive(db.session, admin, classroom.school, archive.id, confirmed=True)
    db.session.expire_all()
    deleted = db.session.get(YearArchive, archive.id)
    assert deleted.status == "deleted" and deleted.content is None
    assert deleted.sha256 == checksum and deleted.deleted_by == admin.id
    assert deleted.deleted_at is not None
    [(listed, deleted_by)] = services.list_archives(db.session, classroom.school, admin)
    assert listed.id == archive.id and deleted_by == "Aldona Administratorė"
    with pytest.raises(NotFound):  # only once
        services.delete_archive(db.session, admin, classroom.school, archive.id, confirmed=True)


def test_an_archive_being_made_is_not_deleted(classroom):
    admin = classroom.account("admin")
    archive, _new = services.request_archive(
        classroom.session, admin, classroom.school, classroom.year.id
    )
    with pytest.raises(ServiceError, match="still being made"):
        services.delete_archive(
            classroom.session, admin, classroom.school, archive.id, confirmed=True
        )
    assert archive.status == "pending"


@pytest.mark.parametrize("who", ["teacher", "director", "head"])
def test_only_the_administrator_deletes_archives(classroom, journal, who):
    archive = made(classroom)  # the job's session is closed: the accounts are merged back
    with pytest.raises(PermissionDenied):
        services.delete_archive(
            db.session, db.session.merge(classroom.account(who)), classroom.school, archive.id,
            confirmed=True,
        )  # fmt: skip
    assert db.session.get(YearArchive, archive.id).status == "done"


def test_deleting_from_the_archive_page(client, classroom, journal):
    archive_id = made(classroom).id
    db.session.commit()
    login(client, "admin.a")
    path = f"{BASE}/archive/{archive_id}/delete"
    page = client.get(f"{BASE}/archive").get_data(as_text=True)
    assert path in page
    refused = post_form(client, path, {}, form_page=f"{BASE}/archive")
    assert refused.status_code == 400
    assert "Tick the box to confirm" in refused.get_data(as_text=True)
    done = post_form(client, path, {"confirm": "yes"}, form_page=f"{BASE}/archive")
    assert done.status_code == 302
    page = client.get(f"{BASE}/archive").get_data(as_text=True)
    assert "deleted on" in page and "Aldona Administratorė" in page
    assert path not in page and f"/archive/{archive_id}/download" not in page
    gone = client.get(f"{BASE}/archive/{archive_id}/download")
    assert gone.status_code == 404 and "was deleted" in html.unescape(gone.get_data(as_text=True))


# --- telling the students apart; times, headers and classes as an archivist reads them --------


def test_namesakes_are_told_apart_in_every_file(classroom, journal):
    """Two Benas Butkus in 5a: each file gives the student's ID, students.csv their birth
    dates and class, the achievement summary their birth dates after the name."""
    c = classroom
    first = c.students[1]  # Benas Butkus, graded 6 in maths
    first.birth_date = date(2015, 3, 4)
    second = _student(c.session, "Benas", "Butkus", c.c5a)
    second.birth_date = date(2015, 11, 20)
    c.session.add(GroupStudent(group_id=c.maths.id, student_id=second.id))
    c.session.flush()
    journal.grade(second, c.maths, "9", date(2026, 9, 8))
    first_id, second_id = str(first.id), str(second.id)
    everyone = {str(s.id) for s in [*c.students, second, c.outsider]}
    zip_file = zipfile.ZipFile(io.BytesIO(made(classroom).content))
    grades = rows(zip_file, "grades.csv")
    assert grades[0][3:5] == ["Mokinio ID", "Mokinys"]
    assert {(row[3], row[4], row[7]) for row in grades[1:] if row[4] == "Butkus Benas"} == {
        (first_id, "Butkus Benas", "6"), (second_id, "Butkus Benas", "9"),
    }  # fmt: skip
    students = {row[0]: row for row in rows(zip_file, "students.csv")[1:]}
    assert set(students) == everyone
    assert students[first_id][1:5] == ["Butkus", "Benas", "2015-03-04", "5a"]
    assert students[second_id][1:5] == ["Butkus", "Benas", "2015-11-20", "5a"]
    for name in ("term_grades.csv", "attendance.csv", "grade_changes.csv"):
        assert "Mokinio ID" in rows(zip_file, name)[0], name
    pdf = zip_file.read(f"{FOLDER}/classes/5a-achievement-summary.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    with in_locale("lt"):  # the school's language
        born = [format_day(day, "short") for day in (date(2015, 3, 4), date(2015, 11, 20))]
    assert all(f"({day})" in text for day in born), text


def test_change_times_headers_and_the_class_of_remarks_for_archivists(classroom, journal):
    """grade_changes.csv: the school's time to the second, the column a noun (not the verb
    "Pakeisti"); remarks.csv: the student's class that year, even after the move up."""
    c = classroom
    s0, s1 = c.students[:2]
    c.session.add(GradeChange(grade_id=1, student_id=s1.id, group_id=c.maths.id,
                              on_day=date(2026, 9, 7), action="update", old_value="5",
                              new_value="6", changed_by=journal.by,
                              changed_at=datetime(2026, 12, 8, 0, 3, 35, 130627,
                                                  tzinfo=UTC)))  # fmt: skip
    c.session.add(Remark(student_id=s0.id, kind="praise", text="Puikus projektas",
                         on_day=date(2026, 10, 1), written_by=journal.by))  # fmt: skip
    following = create_year(
        c.session, name="2027–2028 A", starts_on=date(2027, 9, 1), ends_on=date(2028, 8, 31)
    )
    promote_classes(c.session, c.account("admin"), c.school, following, {}, date(2027, 8, 25))
    c.session.flush()
    s0_id, s0_name = str(s0.id), f"{s0.last_name} {s0.first_name}"
    zip_file = zipfile.ZipFile(io.BytesIO(made(classroom).content))
    header, change = rows(zip_file, "grade_changes.csv")
    assert change[0] == "2026-12-08 02:03:35"  # 00:03:35 UTC is 02:03:35 in Vilnius
    with in_locale("lt"):
        assert header[8] == pgettext("grade history", "Change") != gettext("Change")
    [term_grade] = rows(zip_file, "term_grades.csv")[1:]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", term_grade[-1])
    header, remark = rows(zip_file, "remarks.csv")
    assert header[:3] == ["Klasė", "Mokinio ID", "Mokinys"]
    assert remark[:3] == ["5a", s0_id, s0_name]
    students = {row[0]: row for row in rows(zip_file, "students.csv")[1:]}
    assert students[s0_id][4] == "5a"  # not the 6a they moved up to
