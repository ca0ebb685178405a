"""The gradebook tests' school (tests/classroom.py) is what they assume it is."""

from __future__ import annotations

from conftest import login


def test_classroom_accounts_log_in_and_reach_the_school(classroom, app):
    classroom.session.commit()
    for key in ("teacher", "head", "director", "guardian", "student"):
        client = app.test_client()
        login(client, classroom.account(key).login)
        assert client.get("/s/school-a/").status_code == 200, key


def test_classroom_has_two_groups_of_five_students(classroom):
    assert len(classroom.students) == 5
    assert classroom.maths.class_id == classroom.english.class_id == classroom.c5a.id
    assert [t.kind for t in classroom.terms] == ["semester", "semester"]
