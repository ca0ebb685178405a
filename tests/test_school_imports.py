"""Import and export of the school's lists: preview, all-or-nothing, idempotent, jobs."""

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from rq import SimpleWorker
from sqlalchemy import func, select

from accounts.models import Account, Role
from accounts.services import create_account, grant_role, issue_link_code
from conftest import login
from dienynas.cli import cli
from dienynas.errors import DienynasError
from dienynas.jobs import queue
from school.classes.models import SchoolClass
from school.curriculum.models import Subject
from school.imports import services
from school.imports.models import ImportBatch
from school.people.models import Person
from tenants.services import bind_to_school

SUBJECTS_CSV = (
    "Kodas;Pavadinimas;Skalė;Pavadinimas ru\n"
    "MAT;Matematika;10;Математика\n"
    "LT;Lietuvių kalba ir literatūra;ten_point;\n"
    "KK;Kūno kultūra;įskaita;Физкультура\n"
).encode()


def admin(session) -> Account:
    return session.scalar(select(Account).where(Account.login == "admin.a"))


def subject_count(session) -> int:
    return session.scalar(select(func.count(Subject.id)))


def test_preview_checks_every_row_and_saves_nothing(in_school_a, world):
    report = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "subjects", "dalykai.csv", SUBJECTS_CSV
    )
    assert (report.rows, report.valid, report.errors, report.created) == (3, 3, [], 3)
    in_school_a.rollback()  # what a preview does
    assert subject_count(in_school_a) == 0


def test_import_then_same_file_again_changes_nothing(in_school_a, world):
    services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "subjects", "dalykai.csv", SUBJECTS_CSV
    )
    math = in_school_a.scalar(select(Subject).where(Subject.code == "MAT"))
    assert math.name == "Matematika" and math.name_in("ru") == "Математика"
    again = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "subjects", "dalykai.csv", SUBJECTS_CSV
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert subject_count(in_school_a) == 3


def test_bad_rows_are_listed_with_row_field_and_reason(app, in_school_a, world):
    bad = (
        b"code,name,scale\n"
        b"MAT,Matematika,10\n"
        b"BAD CODE,Fizika,10\n"
        b"CHEM,,10\n"
        b"BIO,Biologija,100-point\n"
    )
    with app.test_request_context(headers={"Accept-Language": "en"}):
        report = services.run_import(
            in_school_a, world.school_a, admin(in_school_a), "subjects", "s.csv", bad
        )
    assert report.rows == 4 and report.valid == 1
    by_row = {e.row: e for e in report.errors}
    assert set(by_row) == {3, 4, 5}
    assert by_row[3].field == "code"
    assert by_row[4].field == "name" and "name" in by_row[4].message.lower()
    assert by_row[5].field == "scale" and "100-point" in by_row[5].message


def test_a_subject_name_used_by_another_subject_is_refused_on_its_row(app, in_school_a, world):
    services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "subjects", "dalykai.csv", SUBJECTS_CSV
    )
    in_school_a.commit()
    again = b"code,name,scale\nMAT2,MATEMATIKA,10\nFIZ,Fizika,10\nFIZ2,fizika,10\n"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        report = services.run_import(
            in_school_a, world.school_a, admin(in_school_a), "subjects", "s.csv", again
        )
    assert [(e.row, e.field, e.message) for e in report.errors] == [
        (2, "name", "The school already has a subject named “Matematika”."),
        (4, "name", "The school already has a subject named “Fizika”."),
    ]
    in_school_a.rollback()  # a file with errors is not saved
    assert subject_count(in_school_a) == 3


def test_a_file_without_the_required_columns_is_refused(app, in_school_a, world):
    with (
        app.test_request_context(headers={"Accept-Language": "en"}),
        pytest.raises(DienynasError, match="no column code"),
    ):
        services.run_import(
            in_school_a, world.school_a, admin(in_school_a), "subjects", "s.csv", b"title\nx\n"
        )


def test_xlsx_export_reimports_unchanged(in_school_a, world):
    services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "subjects", "dalykai.csv", SUBJECTS_CSV
    )
    content = services.export_table(in_school_a, world.school_a, "subjects", "subjects.xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:3] == ["code", "name", "scale"]
    report = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "subjects", "subjects.xlsx", content
    )
    assert (report.valid, report.unchanged, report.errors) == (3, 3, [])


def test_classes_import(app, in_school_a, world):
    csv = "Klasė,Klasės vadovas\n5a,\n5 B,\n13a,\n6a,nobody.here\n".encode()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        report = services.run_import(
            in_school_a, world.school_a, admin(in_school_a), "classes", "k.csv", csv
        )
    assert report.valid == 2
    assert {(e.row, e.field) for e in report.errors} == {(4, "class"), (5, "head_login")}
    names = {c.name for c in in_school_a.scalars(select(SchoolClass))}
    assert names == {"5a", "5b"}


@pytest.fixture
def cli_run(app, db_session):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(cli, list(args), env={"LANG": "en_US.UTF-8"})


def test_cli_import_prints_a_json_summary_and_commits(cli_run, db_session, tmp_path, world):
    file = tmp_path / "dalykai.csv"
    file.write_bytes(SUBJECTS_CSV)
    checked = cli_run("import", "subjects", "--school", "school-a", str(file))
    assert checked.exit_code == 0, checked.output
    summary = json.loads(checked.output)
    assert {k: summary[k] for k in ("rows", "valid", "errors", "committed")} == {
        "rows": 3, "valid": 3, "errors": [], "committed": False,
    }  # fmt: skip
    result = cli_run("import", "subjects", "--school", "school-a", str(file), "--commit")
    assert json.loads(result.output)["committed"] is True
    out = tmp_path / "out.csv"
    assert cli_run("export", "subjects", "--school", "school-a", str(out)).exit_code == 0
    assert "Matematika" in out.read_text(encoding="utf-8-sig")


def test_cli_import_with_errors_exits_non_zero_and_saves_nothing(cli_run, in_school_a, tmp_path):
    file = tmp_path / "dalykai.csv"
    file.write_bytes(SUBJECTS_CSV + b"X Y;Blogas;10\n")
    result = cli_run("import", "subjects", "--school", "school-a", str(file), "--commit")
    assert result.exit_code == 1
    summary = json.loads(result.output)
    assert summary["committed"] is False and summary["errors"][0]["row"] == 5
    assert subject_count(in_school_a) == 0


def test_import_page_for_administrators_only(client, world):
    login(client, "teacher.a")
    assert client.get("/s/school-a/imports").status_code == 403
    assert client.get("/s/school-a/exports/subjects.csv").status_code == 403


def _upload(client, data: bytes, filename: str, mode: str):
    from conftest import csrf_token

    token = csrf_token(client, "/s/school-a/imports")
    return client.post(
        "/s/school-a/imports",
        data={"csrf_token": token, "kind": "subjects", "mode": mode,
              "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )  # fmt: skip


def test_upload_check_then_import(client, in_school_a, world):
    in_school_a.commit()
    login(client, "admin.a")
    checked = _upload(client, SUBJECTS_CSV, "dalykai.csv", "check")
    assert checked.status_code == 200
    assert "Every row is valid" in checked.get_data(as_text=True)
    assert subject_count(in_school_a) == 0
    imported = _upload(client, SUBJECTS_CSV, "dalykai.csv", "commit")
    assert "Saved: 3 new" in imported.get_data(as_text=True)
    assert subject_count(in_school_a) == 3


def test_upload_with_bad_rows_saves_nothing(client, in_school_a, world):
    in_school_a.commit()
    login(client, "admin.a")
    response = _upload(client, SUBJECTS_CSV + b"X Y;Blogas;10\n", "dalykai.csv", "commit")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page and "<td>5</td>" in page
    assert subject_count(in_school_a) == 0


def test_large_file_runs_as_a_job_with_progress(client, in_school_a, world, monkeypatch):
    monkeypatch.setattr(services, "JOB_THRESHOLD", 2)
    in_school_a.commit()
    login(client, "admin.a")
    response = _upload(client, SUBJECTS_CSV, "dalykai.csv", "commit")
    assert response.status_code == 302
    batch_url = response.headers["Location"]
    assert client.get(batch_url + "/progress").json["status"] == "pending"
    SimpleWorker([queue()], connection=queue().connection).work(burst=True)
    progress = client.get(batch_url + "/progress").json
    assert progress == {"status": "done", "done": 3, "total": 3}
    assert "Saved: 3 new" in client.get(batch_url).get_data(as_text=True)
    bind_to_school(in_school_a, world.school_a)  # the job, run in the test's context, closed it
    assert subject_count(in_school_a) == 3
    batch = in_school_a.scalar(select(ImportBatch))
    assert batch.report["committed"] is True


# --- people ----------------------------------------------------------------------------------


def personal_code(first_ten: str) -> str:
    from school.people.services import personal_code_check_digit

    return first_ten + str(personal_code_check_digit(first_ten))


@pytest.fixture
def class_5a(in_school_a):
    from school.calendar.models import SchoolYear

    year = in_school_a.scalar(select(SchoolYear))
    school_class = SchoolClass(year_id=year.id, grade_level=5, letter="a")
    in_school_a.add(school_class)
    in_school_a.flush()
    return school_class


def students_csv(code_1: str, code_2: str) -> bytes:
    return (
        "Vardas,Pavardė,Asmens kodas,Dokumento numeris,Gimimo data,Klasė,Kalba\n"
        f"Ugnė,Kazlauskaitė,{code_1},,,5a,lt\n"
        f"Matas,Jankauskas,{code_2},,,5a,\n"
        "Anna,Smith,,P1234567,2015-06-01,5a,en\n"
    ).encode()


def test_students_import_creates_accounts_and_is_idempotent(in_school_a, world, class_5a):
    from school.people.models import Student

    codes = personal_code("6150314123"), personal_code("5150702456")
    data = students_csv(*codes)
    report = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "students", "m.csv", data
    )
    assert (report.valid, report.created, report.errors) == (3, 3, [])
    assert in_school_a.scalar(select(func.count()).select_from(Student)) == 3
    logins = set(
        in_school_a.scalars(select(Account.login).where(Account.login.like("%kazlauskaite%")))
    )
    assert logins == {"ugne.kazlauskaite"}
    again = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "students", "m.csv", data
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    exported = services.export_table(in_school_a, world.school_a, "students", "m.csv").decode(
        "utf-8-sig"
    )
    header = exported.splitlines()[0].split(",")
    assert header[0] == "id" and "Kazlauskaitė" in exported


def test_students_import_reports_a_bad_personal_code_and_saves_nothing(
    app, in_school_a, world, class_5a
):
    good = personal_code("6150314123")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        report = services.run_import(
            in_school_a,
            world.school_a,
            admin(in_school_a),
            "students",
            "m.csv",
            students_csv(good, bad),
        )
    assert [(e.row, e.field) for e in report.errors] == [(3, "personal_code")]


def test_guardians_import_links_to_students(in_school_a, world, class_5a):
    from school.people.models import Guardianship

    code = personal_code("6150314123")
    services.run_import(in_school_a, world.school_a, admin(in_school_a), "students", "m.csv",
                        students_csv(code, personal_code("5150702456")))  # fmt: skip
    guardians = (
        "first_name,last_name,email,locale,relation,student_personal_code,login\n"
        f"Rasa,Kazlauskienė,rasa@example.lt,lt,mother,{code},\n"
        f"Irena,Globėja,,pl,guardian,{code},guardian.both\n"
        "Nėra,Vaiko,,lt,mother,39999999999,\n"
    ).encode()
    report = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "guardians", "g.csv", guardians
    )
    assert report.created == 2
    assert [(e.row, e.field) for e in report.errors] == [(4, "student_personal_code")]
    assert in_school_a.scalar(select(func.count()).select_from(Guardianship)) == 2
    # the existing municipality account was linked, not duplicated
    assert (
        in_school_a.scalar(select(func.count(Account.id)).where(Account.name == "Irena Globėja"))
        == 1
    )


def test_a_guardians_list_without_codes_imported_again_adds_no_second_guardian(
    in_school_a, world, class_5a
):
    from school.people.models import Guardianship

    code = personal_code("6150314123")
    services.run_import(in_school_a, world.school_a, admin(in_school_a), "students", "m.csv",
                        students_csv(code, personal_code("5150702456")))  # fmt: skip
    guardians = (
        "first_name,last_name,phone,relation,student_personal_code\n"
        f"Rasa,Kazlauskienė,,mother,{code}\n"
    ).encode()
    first = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "guardians", "g.csv", guardians
    )
    assert (first.created, first.errors) == (1, [])
    people_before = in_school_a.scalar(select(func.count(Person.id)))
    with_phone = (
        "first_name,last_name,phone,relation,student_personal_code\n"
        f"Rasa,Kazlauskienė,+37060000001,mother,{code}\n"
    ).encode()
    again = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "guardians", "g.csv", with_phone
    )
    assert (again.created, again.updated, again.errors) == (0, 1, [])
    assert in_school_a.scalar(select(func.count(Person.id))) == people_before
    assert in_school_a.scalar(select(func.count()).select_from(Guardianship)) == 1


def test_staff_import(in_school_a, world):
    services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "subjects", "d.csv", SUBJECTS_CSV
    )
    staff = (
        "first_name,last_name,login,email,roles,rights,subjects\n"
        "Rūta,Vaitkienė,,ruta@example.lt,teacher;class_head,form_groups,MAT;kk\n"
        "Tomas,Mokytojas,teacher.a,,teacher,edit_timetable,\n"
    ).encode()
    report = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "staff", "s.csv", staff
    )
    assert report.errors == [] and report.created == 1 and report.updated == 1
    again = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "staff", "s.csv", staff
    )
    assert again.unchanged == 2
    # the export imports again, the e-diary administrator (an account without a person
    # record here) named by the account's name; it gets one then, and nothing changes after
    exported = services.export_table(in_school_a, world.school_a, "staff", "s.csv")
    rows = {r["login"]: r for r in csv.DictReader(io.StringIO(exported.decode("utf-8-sig")))}
    assert (rows["admin.a"]["first_name"], rows["admin.a"]["last_name"]) == (
        "Aldona", "Administratorė"
    )  # fmt: skip
    report = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "staff", "s.csv", exported
    )
    assert (report.errors, report.created) == ([], 0)
    again = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "staff", "s.csv", exported
    )
    assert (again.errors, again.created, again.updated) == ([], 0, 0)


def test_staff_import_finds_members_by_e_mail_or_name_reading_only_them(
    in_school_a, world, monkeypatch
):
    from school.people import services as people

    services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "subjects", "d.csv", SUBJECTS_CSV
    )
    first = (
        "first_name,last_name,login,email,roles,rights,subjects\n"
        "Rūta,Vaitkienė,,ruta@example.lt,teacher,,MAT\n"
        "Tomas,Mokytojas,teacher.a,,teacher,,\n"
    ).encode()
    services.run_import(in_school_a, world.school_a, admin(in_school_a), "staff", "s.csv", first)
    read: list[int] = []
    list_staff = people.list_staff

    def counting(*args, **kwargs):
        found = list_staff(*args, **kwargs)
        read.append(len(found))
        return found

    monkeypatch.setattr(people, "list_staff", counting)
    # the same people without logins: by e-mail (any case), and by the only such name
    again = (
        "first_name,last_name,login,email,roles,rights,subjects\n"
        "Rūta,Vaitkienė,,RUTA@Example.lt,teacher,,MAT\n"
        "Tomas,Mokytojas,,,teacher,,\n"
    ).encode()
    report = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "staff", "s.csv", again
    )
    # no one new: Rūta found by her e-mail in another case (which the import then takes)
    assert report.errors == [] and (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert read == [1, 1]  # each row read the one member it means, not the whole staff


def test_staff_import_links_a_login_of_another_school_only_with_its_link_code(in_school_a, world):
    """A teacher of school B on school A's list: the row needs the code she made on her
    account page (the column "Susiejimo kodas"); without it nothing is saved."""
    teacher_b, _ = create_account(in_school_a, login="teacher.b", name="Olga Petrova")
    grant_role(in_school_a, teacher_b, world.school_b, Role.TEACHER)
    code = issue_link_code(teacher_b, datetime.now(UTC))

    def staff(link_code: str) -> bytes:
        return (
            "Vardas,Pavardė,Prisijungimo vardas,Susiejimo kodas,Pareigos\n"
            f"Olga,Petrova,teacher.b,{link_code},teacher\n"
        ).encode()

    refused = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "staff", "s.csv", staff("")
    )
    assert [(e.row, e.field) for e in refused.errors] == [(2, "link_code")]
    assert Role.TEACHER.value not in {g.role for g in teacher_b.grants
                                      if g.school_id == world.school_a.id}  # fmt: skip
    report = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "staff", "s.csv", staff(code)
    )
    assert (report.errors, report.created) == ([], 1)
    in_school_a.refresh(teacher_b)
    assert {g.school_id for g in teacher_b.grants} == {world.school_a.id, world.school_b.id}
    assert teacher_b.link_code_hash is None


def test_students_import_names_the_school_year_of_the_class(app, in_school_a, world, class_5a):
    """In the summer a list for September goes into next year's classes (the column “Mokslo
    metai”); without it, into this year's; a year that has ended or does not exist is refused."""
    from school.calendar.services import create_year
    from school.people.models import Student

    next_year = create_year(
        in_school_a, name="2027–2028 A", starts_on=date(2027, 9, 1), ends_on=date(2028, 8, 31)
    )
    last_year = create_year(
        in_school_a, name="2025–2026 A", starts_on=date(2025, 9, 1), ends_on=date(2026, 8, 31)
    )
    coming_5a = SchoolClass(year_id=next_year.id, grade_level=5, letter="a")
    in_school_a.add_all([coming_5a, SchoolClass(year_id=last_year.id, grade_level=6, letter="b")])
    in_school_a.flush()
    codes = personal_code("6150314123"), personal_code("5150702456")
    data = (
        "Vardas,Pavardė,Asmens kodas,Klasė,Mokslo metai\n"
        f"Ugnė,Kazlauskaitė,{codes[0]},5a,2027–2028 A\n"
        f"Matas,Jankauskas,{codes[1]},5a,\n"
    ).encode()
    report = services.run_import(
        in_school_a, world.school_a, admin(in_school_a), "students", "m.csv", data
    )
    assert (report.created, report.errors) == (2, [])
    placed = dict(
        in_school_a.execute(select(Person.last_name, Student.class_id).join(Student)).all()
    )
    assert placed == {"Kazlauskaitė": coming_5a.id, "Jankauskas": class_5a.id}
    exported = services.export_table(in_school_a, world.school_a, "students", "m.csv").decode(
        "utf-8-sig"
    )
    assert "5a,2027–2028 A" in exported and "5a,2026–2027 A" in exported
    # a student of this year's 5a is not moved into next year's class while this year goes on
    # (they would leave every journal now); the year's name may be typed with a hyphen
    with app.test_request_context(headers={"Accept-Language": "en"}):
        moved = services.run_import(
            in_school_a, world.school_a, admin(in_school_a), "students", "m.csv",
            f"Vardas,Pavardė,Asmens kodas,Klasė,Mokslo metai\n"
            f"Matas,Jankauskas,{codes[1]},5a,2027-2028 A\n".encode(),
        )  # fmt: skip
    assert [(e.row, e.field) for e in moved.errors] == [(2, "class")]
    assert "Matas Jankauskas learns in 5a until" in moved.errors[0].message
    placed = dict(
        in_school_a.execute(select(Person.last_name, Student.class_id).join(Student)).all()
    )
    assert placed["Jankauskas"] == class_5a.id

    with app.test_request_context(headers={"Accept-Language": "en"}):
        refused = services.run_import(
            in_school_a, world.school_a, admin(in_school_a), "students", "m.csv",
            "Vardas,Pavardė,Klasė,Mokslo metai\nAna,Petraitė,6a,2027–2028 A\n"
            "Jonas,Petraitis,5a,1999–2000\nIeva,Petraitytė,6b,2025–2026 A\n".encode(),
        )  # fmt: skip
    assert [(e.row, e.field, e.message) for e in refused.errors] == [
        (2, "class", "There is no class 6a in the school year 2027–2028 A."),
        (3, "year", "There is no school year “1999–2000”."),
        (4, "class", "Choose a class of this school year or of the next one."),
    ]
    assert in_school_a.scalar(select(func.count()).select_from(Student)) == 2


def test_guardians_relation_by_its_name_in_any_language_and_errors_name_the_files_columns(
    app, in_school_a, world, class_5a
):
    from school.people.models import Guardianship

    code = personal_code("6150314123")
    services.run_import(in_school_a, world.school_a, admin(in_school_a), "students", "m.csv",
                        students_csv(code, personal_code("5150702456")))  # fmt: skip
    guardians = (
        "Imię;Nazwisko;Pokrewieństwo;Kod osobisty ucznia;Telefon\n"
        f"Anna;Nowak;MATKA;{code};\n"
        f"Jan;Nowak;ojciec;{code};\n"
        f"Petras;Petraitis;Tevas;{code};\n"
        f"Олег;Иванов;отец;{code};\n"
        f"Rūta;Rūtienė;globėjas;{code};\n"
        f"Ona;Onaitienė;other;{code};\n"
        f"Piotr;Wujek;wujek;{code};\n"
        "Ewa;Kowalska;matka;39999999999;\n"
    ).encode()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        report = services.run_import(
            in_school_a, world.school_a, admin(in_school_a), "guardians", "g.csv", guardians
        )
    assert report.valid == 6
    assert [(e.row, e.field, e.column, e.message) for e in report.errors] == [
        (8, "relation", "Pokrewieństwo",
         "Unknown relation “wujek”; write mother, father, guardian (custodian), or other."),
        (9, "student_personal_code", "Kod osobisty ucznia",
         "There is no such student in this school."),
    ]  # fmt: skip
    relations = in_school_a.scalars(select(Guardianship.relation).order_by(Guardianship.id))
    assert list(relations) == ["mother", "father", "father", "father", "guardian", "other"]


def test_an_error_of_a_column_the_file_lacks_names_the_column_by_its_key(app, in_school_a, world):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        report = services.run_import(
            in_school_a, world.school_a, admin(in_school_a), "classes", "k.csv",
            "Klasė;Mokslo metai\n5a;1999–2000\n".encode(),
        )  # fmt: skip
        missing = services.run_import(
            in_school_a, world.school_a, admin(in_school_a), "guardians", "g.csv",
            "Vardas;Pavardė\nJonas;Jonaitis\n".encode(),
        )  # fmt: skip
    assert [(e.field, e.column) for e in report.errors] == [("year", "Mokslo metai")]
    assert [(e.field, e.column) for e in missing.errors] == [
        ("student_personal_code", "student_personal_code")
    ]


def test_the_report_page_names_the_column_as_the_file_does(client, in_school_a, world):
    in_school_a.commit()
    login(client, "admin.a")
    bad = "Kodas;Pavadinimas;Skalė\nMAT;Matematika;100-balė\n".encode()
    page = _upload(client, bad, "dalykai.csv", "check").get_data(as_text=True)
    report = page.split('class="import-report"')[1].split("</table>")[0]
    assert "<td>2</td><td><code>Skalė</code></td>" in report
    assert "<code>scale</code>" not in report


def test_the_import_page_lists_each_lists_columns_and_allowed_values(client, world):
    login(client, "admin.a")
    page = client.get("/s/school-a/imports").get_data(as_text=True)
    guardians = page.split('id="columns-guardians"')[1].split("</details>")[0]
    assert "<summary>Guardians</summary>" in guardians
    # the school's language (Lithuanian) and English, required columns marked
    assert "<td>vardas</td><td><code>first_name</code></td><td>required</td>" in (
        " ".join(guardians.split()).replace("> <", "><")
    )
    assert "ryšys" in guardians and "pokrewieństwo" not in guardians
    for value in ("<code>mother</code> (mother)", "<code>guardian</code> (guardian (custodian))",
                  "<code>lt</code> (Lietuvių)"):  # fmt: skip
        assert value in guardians
    staff = page.split('id="columns-staff"')[1].split("</details>")[0]
    assert "<code>teacher</code> (teacher)" in staff and "<code>form_groups</code>" in staff
    subjects = page.split('id="columns-subjects"')[1].split("</details>")[0]
    assert "<code>ten_point</code>" in subjects and "dešimtbalė" in subjects
