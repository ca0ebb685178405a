"""Remarks: who writes them about whom, bad input, deleting, the one-query reading helper and
the pages (writing, the class head's list)."""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlalchemy import func, select

from conftest import login, marked_invalid, post_form
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.i18n import in_locale
from gradebook.remarks import services
from gradebook.remarks.models import Remark
from notifications.models import NotificationEvent
from tenants.services import bind_to_school

TODAY = date(2026, 9, 9)
BASE = "/s/school-a"


@pytest.fixture(autouse=True)
def english(app):
    with in_locale("en"):
        yield


@pytest.fixture(autouse=True)
def fixed_today(school_day):
    """The pages' "today" (``dienynas.clock.today``) is ``TODAY``."""
    school_day(TODAY)


def write(classroom, who: str = "teacher", **kwargs) -> Remark:
    values = {
        "student_id": classroom.students[1].id,
        "kind": "praise",
        "text": "Puikiai išsprendė uždavinį.",
        "on_day": TODAY,
        "group_id": classroom.maths.id,
        "today": TODAY,
    } | kwargs
    return services.write_remark(
        classroom.session, classroom.account(who), classroom.school, **values
    )


def counts(session) -> tuple[int, int]:
    remarks = session.scalar(select(func.count()).select_from(Remark))
    events = session.scalar(
        select(func.count())
        .select_from(NotificationEvent)
        .where(NotificationEvent.kind == "remark")
    )
    return remarks, events


def logged_in(app, who: str):
    client = app.test_client()
    login(client, who)
    return client


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- services -------------------------------------------------------------------------------


def test_a_teacher_writes_a_remark_and_an_event_is_written(classroom):
    remark = write(classroom)
    assert (remark.kind, remark.on_day, remark.group_id, remark.written_by) == (
        "praise", TODAY, classroom.maths.id, classroom.account("teacher").id,
    )  # fmt: skip
    event = classroom.session.scalar(select(NotificationEvent))
    assert (event.kind, event.payload) == (
        "remark", {"remark_id": remark.id, "student_id": classroom.students[1].id},
    )  # fmt: skip


def test_the_class_head_and_the_administrator_write_without_a_group(classroom):
    assert write(classroom, "head", group_id=None, kind="reprimand").group_id is None
    assert write(classroom, "admin", group_id=None, kind="remark").kind == "remark"
    assert counts(classroom.session) == (2, 2)


def test_a_teacher_needs_a_group_they_teach(classroom):
    with pytest.raises(PermissionDenied):
        write(classroom, group_id=None)
    with pytest.raises(PermissionDenied):
        write(classroom, group_id=classroom.english.id)
    with pytest.raises(PermissionDenied):
        write(classroom, "director", group_id=None)
    assert counts(classroom.session) == (0, 0)


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        ({"text": "   "}, "text", "Write the text of the remark."),
        ({"text": "x" * 2001}, "text", "The text may be at most 2000 characters long."),
        ({"kind": "warning"}, "kind", "Choose praise, remark or reprimand."),
        ({"on_day": date(2026, 9, 10)}, "on_day", "Sep 10, 2026 is in the future."),
        ({"on_day": date(2026, 8, 31)}, "on_day", "Aug 31, 2026 is outside the school's terms."),
    ],
)
def test_bad_input_is_refused(classroom, values, field, expected):
    with pytest.raises(ServiceError) as caught:
        write(classroom, **values)
    assert (caught.value.field, caught.value.message) == (field, expected)
    assert counts(classroom.session) == (0, 0)


def test_a_student_not_in_the_group_is_refused(classroom):
    with pytest.raises(ServiceError) as caught:
        write(classroom, student_id=classroom.outsider.id)
    assert caught.value.message == "The student is not in the group 5a matematika."
    with pytest.raises(ServiceError):
        write(classroom, "admin", student_id=classroom.outsider.id)
    assert counts(classroom.session) == (0, 0)


def test_unknown_student_or_group_is_not_found(classroom):
    with pytest.raises(NotFound):
        write(classroom, student_id=999999)
    with pytest.raises(NotFound):
        write(classroom, group_id=999999)


def test_a_day_of_the_holidays_inside_the_term_is_allowed(classroom):
    """A remark may be about a trip on a holiday; only the term matters."""
    remark = write(classroom, on_day=date(2026, 10, 27), today=date(2026, 11, 2))
    assert remark.on_day == date(2026, 10, 27)


def test_deleting(classroom):
    remark = write(classroom)
    session, school = classroom.session, classroom.school
    with pytest.raises(PermissionDenied):
        services.delete_remark(session, classroom.account("head"), school, remark, today=TODAY)
    with pytest.raises(ServiceError) as caught:
        services.delete_remark(session, classroom.account("teacher"), school, remark,
                               today=date(2027, 2, 1))  # fmt: skip
    assert caught.value.message == (
        "The remark's term has ended; only the e-diary administrator may delete it now."
    )
    assert counts(session)[0] == 1
    services.delete_remark(session, classroom.account("teacher"), school, remark,
                           today=date(2027, 1, 31))  # fmt: skip
    other = write(classroom, "head", group_id=None)
    services.delete_remark(session, classroom.account("admin"), school, other,
                           today=date(2027, 6, 1))  # fmt: skip
    assert counts(session)[0] == 0


def test_remarks_for_students_is_one_query(classroom, count_queries):
    first = write(classroom, student_id=classroom.students[0].id, on_day=date(2026, 9, 8))
    write(classroom, "head", student_id=classroom.students[0].id, group_id=None, kind="remark")
    write(classroom, student_id=classroom.students[2].id)
    write(classroom, student_id=classroom.students[0].id, on_day=date(2026, 9, 1))
    ids = [classroom.students[0].id, classroom.students[1].id]
    classroom.session.flush()
    with count_queries() as queries:
        rows = services.remarks_for_students(
            classroom.session, ids, date(2026, 9, 7), date(2026, 9, 13)
        )
        labels = [(r.remark.kind, r.student.last_name, r.author.last_name,
                   r.subject.name_in("en") if r.subject else None) for r in rows]  # fmt: skip
    assert len(queries) == 1
    assert labels == [
        ("remark", "Ambrazaitė", "Vadovė", None),
        ("praise", "Ambrazaitė", "Mokytojas", "Mathematics"),
    ]
    assert rows[1].remark.id == first.id and rows[1].group_name == "5a matematika"
    assert services.remarks_for_students(classroom.session, [], TODAY, TODAY) == []


# --- pages ----------------------------------------------------------------------------------


def test_teacher_writes_a_remark_on_the_page(app, classroom):
    classroom.session.commit()
    client = logged_in(app, "teacher.a")
    student = classroom.students[1]
    url = f"{BASE}/remarks/new?student={student.id}&group={classroom.maths.id}"
    page = text_of(client.get(url))
    assert "Student: Benas Butkus" in page
    response = post_form(client, url, {"kind": "praise", "on_day": "2026-09-09",
                                       "text": "Padėjo draugui."})  # fmt: skip
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "The praise is saved." in page and "Padėjo draugui." in page
    bind_to_school(classroom.session, classroom.school)
    assert counts(classroom.session) == (1, 1)


def test_the_page_shows_bad_input(app, classroom):
    classroom.session.commit()
    client = logged_in(app, "teacher.a")
    url = f"{BASE}/remarks/new?student={classroom.students[1].id}&group={classroom.maths.id}"
    response = post_form(client, url, {"kind": "praise", "on_day": "2026-09-09", "text": ""})
    assert response.status_code == 400 and "Write the text of the remark." in text_of(response)
    assert marked_invalid(text_of(response), "remark-text", "text")
    assert not marked_invalid(text_of(response), "remark-kind", "kind")
    response = post_form(client, url, {"kind": "x", "on_day": "2026-09-09", "text": "Gerai"})
    assert response.status_code == 400
    assert "Choose praise, remark or reprimand." in text_of(response)
    assert marked_invalid(text_of(response), "remark-kind", "kind")
    response = post_form(client, url, {"kind": "praise", "on_day": "2026-09-10", "text": "Gerai"})
    assert response.status_code == 400 and "Sep 10, 2026 is in the future." in text_of(response)
    outsider = f"{BASE}/remarks/new?student={classroom.outsider.id}&group={classroom.maths.id}"
    response = client.get(outsider)
    assert response.status_code == 400
    assert "The student is not in the group 5a matematika." in text_of(response)
    response = post_form(client, outsider, {"kind": "praise", "on_day": "2026-09-09",
                                            "text": "Gerai"}, form_page=url)  # fmt: skip
    assert response.status_code == 400
    bind_to_school(classroom.session, classroom.school)
    assert counts(classroom.session) == (0, 0)


def test_refusals_on_the_pages(app, classroom, world):
    classroom.session.commit()
    teacher = logged_in(app, "teacher.a")
    student = classroom.students[1].id
    form = f"{BASE}/remarks/new?student={student}&group={classroom.maths.id}"
    english = f"{BASE}/remarks/new?student={student}&group={classroom.english.id}"
    assert teacher.get(english).status_code == 403
    data = {"kind": "praise", "on_day": "2026-09-09", "text": "Gerai"}
    assert post_form(teacher, english, data, form_page=form).status_code == 403
    assert teacher.get(f"{BASE}/remarks/new?student={student}").status_code == 403
    assert teacher.get(f"{BASE}/classes/{classroom.c5a.id}/remarks").status_code == 403
    assert teacher.get(f"{BASE}/remarks/new?student=999999").status_code == 404
    guardian = logged_in(app, "guardian.both")
    assert guardian.get(f"/s/school-b/remarks/new?student={student}").status_code == 404
    assert guardian.get(f"/s/school-b/classes/{classroom.c5a.id}/remarks").status_code == 404
    bind_to_school(classroom.session, classroom.school)
    remark = write(classroom)
    classroom.session.commit()
    response = post_form(guardian, f"/s/school-b/remarks/{remark.id}/delete", {},
                         form_page="/s/school-b/tests")  # fmt: skip
    assert response.status_code == 404
    bind_to_school(classroom.session, classroom.school)
    assert counts(classroom.session) == (1, 1)


def test_class_heads_list_and_delete(app, classroom, count_queries):
    write(classroom, text="Pirmoji pastaba")
    classroom.session.commit()
    head = logged_in(app, "head.a")
    url = f"{BASE}/classes/{classroom.c5a.id}/remarks"
    with count_queries() as queries:
        page = text_of(head.get(url))
    assert "Pirmoji pastaba" in page and "Benas Butkus" in page and "Tomas Mokytojas" in page
    few = len(queries)
    bind_to_school(classroom.session, classroom.school)
    for n, student in enumerate(classroom.students):
        write(classroom, "head", student_id=student.id, group_id=None, text=f"Pastaba {n}")
    classroom.session.commit()
    with count_queries() as queries:
        page = text_of(head.get(url))
    assert "Pastaba 4" in page
    assert len(queries) == few, queries
    director = logged_in(app, "director.a")
    assert "Pastaba 4" in text_of(director.get(url))
    bind_to_school(classroom.session, classroom.school)
    own = classroom.session.scalar(select(Remark).where(Remark.text == "Pastaba 0"))
    classroom.session.commit()
    response = post_form(head, f"{BASE}/remarks/{own.id}/delete",
                         {"class_id": classroom.c5a.id}, form_page=url)  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    bind_to_school(classroom.session, classroom.school)
    teachers = classroom.session.scalar(select(Remark).where(Remark.text == "Pirmoji pastaba"))
    classroom.session.commit()
    response = post_form(head, f"{BASE}/remarks/{teachers.id}/delete", {}, form_page=url)
    assert response.status_code == 403
    bind_to_school(classroom.session, classroom.school)
    assert counts(classroom.session)[0] == 5


def test_the_menu_leads_class_heads_to_their_class(app, classroom):
    classroom.session.commit()
    head = logged_in(app, "head.a")
    assert f"{BASE}/remarks" in head.get(f"{BASE}/").get_data(as_text=True)
    response = head.get(f"{BASE}/remarks")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/classes/{classroom.c5a.id}/remarks")
    page = text_of(logged_in(app, "director.a").get(f"{BASE}/remarks"))
    assert "5a" in page and "6b" in page
    # a subject teacher finds the remarks in the menu too (seed 002, 4.1.4)
    assert f'{BASE}/remarks"' in logged_in(app, "teacher.a").get(f"{BASE}/").get_data(as_text=True)


def test_families_are_refused_the_remarks_list(app, classroom):
    classroom.session.commit()
    for who in ("guardian.both", "student.a"):
        response = logged_in(app, who).get(f"{BASE}/remarks")
        assert response.status_code == 403, who
        assert "You head no class" not in text_of(response)
    assert logged_in(app, "teacher.a").get(f"{BASE}/remarks").status_code == 200


def test_a_subject_teacher_reaches_the_form_from_their_groups(app, classroom):
    """The teacher heads no class: the list offers the students of the groups they teach,
    each opening the remark form for that student and group."""
    student = classroom.students[1]
    maths = classroom.maths.id
    classroom.session.commit()
    teacher = logged_in(app, "teacher.a")
    page = text_of(teacher.get(f"{BASE}/remarks"))
    assert "5a matematika" in page and "5a anglų" not in page  # English is not theirs
    form = f"{BASE}/remarks/new?student={student.id}&amp;group={maths}"
    assert form in teacher.get(f"{BASE}/remarks").get_data(as_text=True)
    assert "Student: Benas Butkus" in text_of(teacher.get(html.unescape(form)))
