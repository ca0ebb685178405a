"""Subjects, grade scales and assessment kinds: the rules (services) and the pages."""

from __future__ import annotations

import html
import re

import pytest
from flask_babel import gettext
from sqlalchemy import func, select

from accounts.models import Account
from conftest import login, post_form
from dienynas.errors import ServiceError
from dienynas.i18n import in_locale
from school.classes.models import Group
from school.curriculum import services
from school.curriculum.models import AssessmentKind, GradeScale, Subject
from tenants.services import bind_to_school

SUBJECTS = "/s/school-a/subjects"
SCALES = "/s/school-a/grade-scales"
KINDS = "/s/school-a/assessment-kinds"
NAMES = {"lt": "Matematika", "ru": "Математика", "pl": "Matematyka", "en": "Mathematics"}


@pytest.fixture(autouse=True)
def english(app):
    """Service messages in English (the pages follow admin.a's and teacher.a's English)."""
    with in_locale("en"):
        yield


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def scale(session, code: str) -> GradeScale:
    return session.scalar(select(GradeScale).where(GradeScale.code == code))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def add_subject(session, code: str = "MAT", names=None, scale_code: str = "ten_point") -> Subject:
    return services.create_subject(
        session,
        school_locale="lt",
        code=code,
        names=names or NAMES,
        scale_id=scale(session, scale_code).id,
    )


def rebind(session, world) -> None:
    """Requests to school pages bind the shared test connection; bind it back to school A."""
    bind_to_school(session, world.school_a)


# --- defaults -----------------------------------------------------------------------------------


def test_a_new_school_has_the_three_standard_scales_and_kinds_in_its_language(in_school_a, world):
    scales = {s.code: s for s in in_school_a.scalars(select(GradeScale))}
    assert set(scales) == {"ten_point", "pass_fail", "five_point"}
    assert (scales["ten_point"].min_value, scales["ten_point"].max_value) == (1, 10)
    assert (scales["five_point"].min_value, scales["five_point"].max_value) == (2, 5)
    assert scales["pass_fail"].kind == "pass_fail"
    test_kind = in_school_a.scalar(select(AssessmentKind).where(AssessmentKind.code == "test"))
    assert test_kind.name == "Kontrolinis darbas"
    assert test_kind.name_in("ru") == "Контрольная работа"


# --- validate_grade -----------------------------------------------------------------------------


def test_validate_grade_on_numeric_scales(in_school_a):
    ten, five = scale(in_school_a, "ten_point"), scale(in_school_a, "five_point")
    assert services.validate_grade(ten, " 7 ") == "7"
    assert services.validate_grade(ten, 10) == "10"
    assert services.validate_grade(ten, "1") == "1"
    assert services.validate_grade(five, "2") == "2"
    for bad in ("0", "11", "7.5", "seven", "", "passed"):
        with pytest.raises(ServiceError) as excinfo:
            services.validate_grade(ten, bad)
        assert excinfo.value.field == "value"
        assert excinfo.value.message == "The grade must be a whole number from 1 to 10."
    with pytest.raises(ServiceError, match="from 2 to 5"):
        services.validate_grade(five, "1")


def test_validate_grade_on_pass_fail_takes_codes_and_labels(in_school_a):
    pass_fail = scale(in_school_a, "pass_fail")
    assert services.validate_grade(pass_fail, "passed") == "passed"
    assert services.validate_grade(pass_fail, " FAILED ") == "failed"
    assert services.grade_label(pass_fail, "passed") == "passed"
    # the words a teacher types and a family reads: the scale's own, never "it did not work"
    for locale, passed, failed in (
        ("lt", "įskaityta", "neįskaityta"),
        ("ru", "зачёт", "незачёт"),
        ("pl", "zaliczone", "niezaliczone"),
    ):
        with in_locale(locale):
            assert services.grade_label(pass_fail, "passed") == passed
            assert services.grade_label(pass_fail, "failed") == failed
            assert services.validate_grade(pass_fail, passed) == "passed"
            assert services.validate_grade(pass_fail, failed.upper()) == "failed"
            # typed in short, with or without accents
            assert services.validate_grade(pass_fail, passed[:3]) == "passed"
            assert services.validate_grade(pass_fail, failed[:2] + ".") == "failed"
    with in_locale("lt"):
        assert services.validate_grade(pass_fail, "isk") == "passed"
        assert services.validate_grade(pass_fail, "neisk.") == "failed"
    with in_locale("ru"):
        assert services.validate_grade(pass_fail, "зачет") == "passed"
    with pytest.raises(ServiceError) as excinfo:
        services.validate_grade(pass_fail, "8")
    assert excinfo.value.message == "On the pass/fail scale the grade is “passed” or “failed”."
    assert services.grade_label(scale(in_school_a, "ten_point"), "8") == "8"


# --- subjects (services) ------------------------------------------------------------------------


def test_create_subject_with_names_in_four_languages(in_school_a):
    subject = add_subject(in_school_a, code="mat")
    assert subject.code == "MAT"  # codes are capitals
    assert subject.name == "Matematika"
    assert subject.name_translations == {k: v for k, v in NAMES.items() if k != "lt"}
    assert subject.name_in("pl") == "Matematyka" and subject.name_in("lt") == "Matematika"
    assert services.names_of(subject, "lt") == NAMES


def test_optional_translations_may_be_left_empty(in_school_a):
    subject = add_subject(in_school_a, code="IT", names={"lt": "Informatika", "ru": " "})
    assert subject.name_translations == {}
    assert subject.name_in("ru") == "Informatika"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("MA T", "no spaces"),
        ("MAT!", "no spaces"),
        ("MATEMATIKA-IR-INFORMATIKA", "at most 20"),
        ("", "Enter the subject's code"),
        ("MAT", "The code “MAT” is already used by the subject “Matematika”."),
        (" mat ", "The code “MAT” is already used by the subject “Matematika”."),
    ],
)
def test_bad_subject_code_is_refused_and_nothing_is_saved(in_school_a, code, message):
    add_subject(in_school_a)
    before = count(in_school_a, Subject)
    with pytest.raises(ServiceError) as excinfo:
        add_subject(in_school_a, code=code, names={"lt": "Kita"})
    assert excinfo.value.field == "code"
    assert message in excinfo.value.message
    assert count(in_school_a, Subject) == before


def test_subject_needs_its_name_in_the_schools_language(in_school_a):
    with pytest.raises(ServiceError) as excinfo:
        add_subject(in_school_a, names={"en": "Mathematics"})
    assert excinfo.value.field == "name_lt"
    assert excinfo.value.message == "Enter the name in the school's language."
    with pytest.raises(ServiceError) as excinfo:
        add_subject(in_school_a, names={"lt": "M" * 121})
    assert excinfo.value.field == "name_lt" and "120 characters" in excinfo.value.message
    assert count(in_school_a, Subject) == 0


@pytest.mark.parametrize("name", ["Matematika", " matematika ", "MATEMATIKA"])
def test_a_second_subject_of_the_same_name_is_refused(in_school_a, name):
    add_subject(in_school_a)
    with pytest.raises(ServiceError) as excinfo:
        add_subject(in_school_a, code="MAT2", names={"lt": name})
    assert excinfo.value.field == "name_lt"
    assert excinfo.value.message == "The school already has a subject named “Matematika”."
    assert count(in_school_a, Subject) == 1


def test_renaming_a_subject_to_another_ones_name_is_refused(in_school_a):
    math = add_subject(in_school_a)
    physics = add_subject(in_school_a, code="FIZ", names={"lt": "Fizika"})
    with pytest.raises(ServiceError) as excinfo:
        services.update_subject(
            in_school_a, physics, school_locale="lt", code="FIZ", names={"lt": "matematika"},
            scale_id=physics.scale_id,
        )  # fmt: skip
    assert excinfo.value.field == "name_lt" and "“Matematika”" in excinfo.value.message
    # its own name in another case is no duplicate
    services.update_subject(
        in_school_a, math, school_locale="lt", code="MAT", names={"lt": "MATEMATIKA"},
        scale_id=math.scale_id,
    )  # fmt: skip
    assert math.name == "MATEMATIKA"


def test_subject_scale_must_be_an_enabled_scale(in_school_a):
    five = scale(in_school_a, "five_point")
    services.set_scale_active(in_school_a, five, False)
    with pytest.raises(ServiceError) as excinfo:
        add_subject(in_school_a, scale_code="five_point")
    assert excinfo.value.field == "scale"
    assert "is disabled in this school" in excinfo.value.message
    with pytest.raises(ServiceError, match="Choose the grade scale"):
        services.create_subject(
            in_school_a, school_locale="lt", code="X", names={"lt": "X"}, scale_id="nope"
        )
    assert count(in_school_a, Subject) == 0


def test_update_subject_renames_without_a_stale_copy(in_school_a):
    subject = add_subject(in_school_a)
    services.update_subject(
        in_school_a,
        subject,
        school_locale="lt",
        code="MAT-1",
        names={"lt": "Matematika (A kursas)", "en": "Mathematics"},
        scale_id=scale(in_school_a, "pass_fail").id,
    )
    assert subject.code == "MAT-1"
    assert subject.name_in("lt") == "Matematika (A kursas)"
    assert subject.name_in("ru") == "Matematika (A kursas)"
    assert subject.scale.code == "pass_fail"
    # keeping its own code is no duplicate
    services.update_subject(
        in_school_a,
        subject,
        school_locale="lt",
        code="mat-1",
        names={"lt": "M"},
        scale_id=subject.scale_id,
    )
    assert subject.code == "MAT-1"


def test_deactivated_subject_stays_but_a_used_one_cannot_be_deleted(in_school_a, world):
    from school.calendar.models import SchoolYear

    subject = add_subject(in_school_a)
    services.set_subject_active(in_school_a, subject, False)
    assert services.active_subjects(in_school_a) == []
    year = in_school_a.scalar(select(SchoolYear))
    in_school_a.add(Group(year_id=year.id, subject_id=subject.id, name="Grupė", kind="mixed"))
    in_school_a.flush()
    with pytest.raises(ServiceError, match="is taught in 1 group; deactivate it instead"):
        services.delete_subject(in_school_a, subject)
    assert count(in_school_a, Subject) == 1


# --- grade scales (services) --------------------------------------------------------------------


def test_a_scale_in_use_cannot_be_disabled(in_school_a):
    add_subject(in_school_a)
    add_subject(in_school_a, code="FIZ", names={"lt": "Fizika"})
    ten = scale(in_school_a, "ten_point")
    with pytest.raises(ServiceError) as excinfo:
        services.set_scale_active(in_school_a, ten, False)
    assert excinfo.value.message == (
        "The scale “10-point scale, 1 to 10” cannot be disabled: 2 subjects are graded on it "
        "(Fizika, Matematika). Give them another scale first."
    )
    in_school_a.expire_all()
    assert scale(in_school_a, "ten_point").is_active


def test_an_unused_scale_is_disabled_and_enabled_again(in_school_a):
    five = scale(in_school_a, "five_point")
    services.set_scale_active(in_school_a, five, False)
    assert [s.code for s in services.active_scales(in_school_a)] == ["ten_point", "pass_fail"]
    services.set_scale_active(in_school_a, five, True)
    assert len(services.active_scales(in_school_a)) == 3


# --- assessment kinds (services) ----------------------------------------------------------------


def test_add_rename_and_deactivate_an_assessment_kind(in_school_a):
    kind = services.create_kind(
        in_school_a,
        school_locale="lt",
        code=" Lab_Work ",
        names={"lt": "Laboratorinis darbas", "en": "Lab work"},
    )
    assert kind.code == "lab_work" and kind.name_in("en") == "Lab work"
    services.rename_kind(in_school_a, kind, school_locale="lt", names={"lt": "Laboratorinis"})
    assert kind.name == "Laboratorinis" and kind.name_translations == {}
    services.set_kind_active(in_school_a, kind, False)
    assert not kind.is_active


def test_renaming_a_default_kind_leaves_no_stale_name(in_school_a):
    kind = in_school_a.scalar(select(AssessmentKind).where(AssessmentKind.code == "test"))
    names = services.names_of(kind, "lt") | {"lt": "Kontrolinis"}
    services.rename_kind(in_school_a, kind, school_locale="lt", names=names)
    assert kind.name_in("lt") == "Kontrolinis"
    assert kind.name_in("ru") == "Контрольная работа"


@pytest.mark.parametrize(
    ("code", "names", "field", "message"),
    [
        ("test", {"lt": "Testas"}, "code", "The code “test” is already used by"),
        ("lab work", {"lt": "Lab"}, "code", "no spaces"),
        ("lab", {"en": "Lab"}, "name_lt", "Enter the name in the school's language."),
    ],
)
def test_bad_assessment_kind_is_refused(in_school_a, code, names, field, message):
    before = count(in_school_a, AssessmentKind)
    with pytest.raises(ServiceError) as excinfo:
        services.create_kind(in_school_a, school_locale="lt", code=code, names=names)
    assert excinfo.value.field == field and message in excinfo.value.message
    assert count(in_school_a, AssessmentKind) == before


def test_an_assessment_kind_of_another_kinds_name_is_refused(in_school_a):
    before = count(in_school_a, AssessmentKind)
    with pytest.raises(ServiceError) as excinfo:
        services.create_kind(
            in_school_a, school_locale="lt", code="test2", names={"lt": "kontrolinis DARBAS"}
        )
    assert excinfo.value.field == "name_lt"
    assert excinfo.value.message == (
        "The school already has an assessment kind named “Kontrolinis darbas”."
    )
    assert count(in_school_a, AssessmentKind) == before
    quiz = in_school_a.scalar(select(AssessmentKind).where(AssessmentKind.code == "quiz"))
    with pytest.raises(ServiceError, match="“Kontrolinis darbas”"):
        services.rename_kind(
            in_school_a, quiz, school_locale="lt", names={"lt": "Kontrolinis darbas"}
        )
    in_school_a.expire_all()
    assert in_school_a.get(AssessmentKind, quiz.id).name == "Apklausa raštu"
    services.rename_kind(in_school_a, quiz, school_locale="lt", names={"lt": "apklausa raštu"})
    assert quiz.name == "apklausa raštu"  # its own name in another case


# --- pages --------------------------------------------------------------------------------------


def test_subjects_page_is_empty_at_first_and_the_admin_adds_one(client, db_session, world):
    login(client, "admin.a")
    page = text_of(client.get(SUBJECTS))
    assert "No subjects yet." in page and "Add a subject" in page
    form = client.get(SUBJECTS + "/new")
    assert form.status_code == 200
    assert 'name="name_lt"' in form.get_data(as_text=True)
    scale_id = _option_value(form.get_data(as_text=True), "10-point scale, 1 to 10")
    response = post_form(
        client,
        SUBJECTS + "/new",
        {"code": "mat", "scale": scale_id} | {f"name_{k}": v for k, v in NAMES.items()},
    )
    assert response.status_code == 302
    page = text_of(client.get(SUBJECTS))
    assert "The subject “Matematika” is added." in page
    assert "MAT" in page and "Mathematics" in page  # shown in the reader's language


def _option_value(page: str, label: str) -> str:
    match = re.search(r'<option value="(\d+)"[^>]*>' + re.escape(label) + "<", page)
    assert match, label
    return match.group(1)


def test_duplicate_subject_code_on_the_page_shows_the_error_and_saves_nothing(
    client, in_school_a, world
):
    add_subject(in_school_a)
    scale_id = scale(in_school_a, "ten_point").id
    login(client, "admin.a")
    response = post_form(
        client,
        SUBJECTS + "/new",
        {"code": "MAT", "name_lt": "Matematika 2", "name_en": "Maths", "scale": scale_id},
    )
    assert response.status_code == 400
    page = text_of(response)
    assert "The code “MAT” is already used by the subject “Matematika”." in page
    assert 'value="Matematika 2"' in page and 'value="Maths"' in page  # the input is kept
    rebind(in_school_a, world)
    assert count(in_school_a, Subject) == 1


def test_duplicate_subject_name_on_the_page_shows_the_error_and_saves_nothing(
    client, in_school_a, world
):
    add_subject(in_school_a)
    scale_id = scale(in_school_a, "ten_point").id
    login(client, "admin.a")
    response = post_form(
        client, SUBJECTS + "/new", {"code": "MAT2", "name_lt": "matematika", "scale": scale_id}
    )
    assert response.status_code == 400
    page = text_of(response)
    assert (
        '<p class="field-error" id="name_lt-error" role="alert">'
        "The school already has a subject named “Matematika”.</p>"
    ) in page
    rebind(in_school_a, world)
    assert count(in_school_a, Subject) == 1


def test_duplicate_kind_name_on_the_page_shows_the_error_and_saves_nothing(
    client, in_school_a, world
):
    before = count(in_school_a, AssessmentKind)
    login(client, "admin.a")
    response = post_form(client, KINDS, {"code": "test2", "name_lt": "Kontrolinis darbas"})
    assert response.status_code == 400
    assert "The school already has an assessment kind named “Kontrolinis darbas”." in text_of(
        response
    )
    rebind(in_school_a, world)
    assert count(in_school_a, AssessmentKind) == before


def test_subject_code_with_spaces_on_the_page_is_refused_in_the_schools_language(
    client, in_school_a, world
):
    """Without a language of their own, admin.a reads school A's pages in Lithuanian."""
    in_school_a.get(Account, world.admin_a.id).locale = None
    in_school_a.flush()
    scale_id = scale(in_school_a, "ten_point").id
    login(client, "admin.a")
    response = post_form(
        client, SUBJECTS + "/new", {"code": "MA T", "name_lt": "Matematika", "scale": scale_id}
    )
    assert response.status_code == 400
    with in_locale("lt"):
        expected = gettext(
            "The subject's code may hold only Latin letters, digits and hyphens, no spaces, "
            "at most 20 characters, e.g. MAT or LT-K."
        )
    page = text_of(response)
    assert 'lang="lt"' in page
    assert expected in page
    rebind(in_school_a, world)
    assert count(in_school_a, Subject) == 0


def test_admin_edits_deactivates_and_deletes_a_subject(client, in_school_a, world):
    subject = add_subject(in_school_a)
    subject_id, scale_id = subject.id, subject.scale_id
    login(client, "admin.a")
    edit = client.get(f"{SUBJECTS}/{subject_id}/edit")
    assert 'value="Mathematics"' in edit.get_data(as_text=True)
    response = post_form(
        client,
        f"{SUBJECTS}/{subject_id}/edit",
        {"code": "MAT", "name_lt": "Matematika A", "name_en": "Maths A", "scale": scale_id},
    )
    assert response.status_code == 302
    post_form(client, f"{SUBJECTS}/{subject_id}/active", {"active": "0"}, form_page=SUBJECTS)
    page = text_of(client.get(SUBJECTS))
    assert "The subject “Matematika A” is deactivated." in page and "Activate" in page
    confirm = client.get(f"{SUBJECTS}/{subject_id}/delete")
    assert "Delete the subject “Matematika A”?" in text_of(confirm)
    response = post_form(client, f"{SUBJECTS}/{subject_id}/delete", {})
    assert response.status_code == 302
    rebind(in_school_a, world)
    assert count(in_school_a, Subject) == 0


def test_disabling_a_scale_in_use_on_the_page_shows_the_error(client, in_school_a, world):
    add_subject(in_school_a)
    ten_id = scale(in_school_a, "ten_point").id
    login(client, "admin.a")
    response = post_form(client, f"{SCALES}/{ten_id}/active", {"active": "0"}, form_page=SCALES)
    assert response.status_code == 400
    assert (
        "The scale “10-point scale, 1 to 10” cannot be disabled: 1 subject is graded on it "
        "(Matematika). Give it another scale first." in text_of(response)
    )
    rebind(in_school_a, world)
    in_school_a.expire_all()
    assert scale(in_school_a, "ten_point").is_active


def test_admin_disables_an_unused_scale_on_the_page(client, in_school_a, world):
    five_id = scale(in_school_a, "five_point").id
    login(client, "admin.a")
    page = text_of(client.get(SCALES))
    assert "5-point scale, 2 to 5" in page and "pass/fail" in page
    response = post_form(client, f"{SCALES}/{five_id}/active", {"active": "0"}, form_page=SCALES)
    assert response.status_code == 302
    assert "The scale “5-point scale, 2 to 5” is disabled." in text_of(client.get(SCALES))
    new_subject = client.get(SUBJECTS + "/new").get_data(as_text=True)
    assert "5-point scale" not in new_subject


def test_assessment_kinds_page_adds_renames_and_refuses_a_duplicate(client, in_school_a, world):
    login(client, "admin.a")
    page = text_of(client.get(KINDS))
    # the English reader sees the English name, and the school's own in brackets
    assert "Test (Kontrolinis darbas)" in " ".join(re.sub(r"<[^>]+>", " ", page).split())
    response = post_form(client, KINDS, {"code": "test", "name_lt": "Testas"})
    assert response.status_code == 400
    assert "The code “test” is already used by “Kontrolinis darbas”." in text_of(response)
    response = post_form(client, KINDS, {"code": "lab", "name_lt": "Laboratorinis darbas"})
    assert response.status_code == 302
    rebind(in_school_a, world)
    kind = in_school_a.scalar(select(AssessmentKind).where(AssessmentKind.code == "lab"))
    response = post_form(client, f"{KINDS}/{kind.id}/edit", {"name_lt": ""})
    assert response.status_code == 400
    assert "Enter the name in the school's language." in text_of(response)
    response = post_form(client, f"{KINDS}/{kind.id}/edit", {"name_lt": "Lab. darbas"})
    assert response.status_code == 302
    post_form(client, f"{KINDS}/{kind.id}/active", {"active": "0"}, form_page=KINDS)
    rebind(in_school_a, world)
    in_school_a.expire_all()
    kind = in_school_a.get(AssessmentKind, kind.id)
    assert (kind.name, kind.is_active) == ("Lab. darbas", False)


def test_staff_read_but_only_the_admin_edits(client, in_school_a, world):
    subject_id = add_subject(in_school_a).id
    ten_id = scale(in_school_a, "ten_point").id
    login(client, "teacher.a")
    page = text_of(client.get(SUBJECTS))
    assert "Mathematics" in page and "Edit" not in page
    assert client.get(SCALES).status_code == 200
    assert client.get(KINDS).status_code == 200
    assert client.get(SUBJECTS + "/new").status_code == 403
    response = post_form(
        client,
        SUBJECTS + "/new",
        {"code": "FIZ", "name_lt": "Fizika", "scale": ten_id},
        form_page=SUBJECTS,
    )
    assert response.status_code == 403
    response = post_form(client, f"{SUBJECTS}/{subject_id}/delete", {}, form_page=SUBJECTS)
    assert response.status_code == 403
    rebind(in_school_a, world)
    assert count(in_school_a, Subject) == 1


def test_guardians_see_no_curriculum_pages(client, world):
    login(client, "guardian.both")
    for path in (SUBJECTS, SCALES, KINDS):
        assert client.get(path).status_code == 403


def test_another_schools_subjects_are_never_shown(client, db_session, world):
    bind_to_school(db_session, world.school_b)
    b_scale = scale(db_session, "ten_point")
    b_subject = Subject(
        id=987654, code="RUS", name="Русский язык", name_translations={}, scale_id=b_scale.id
    )
    db_session.add(b_subject)
    db_session.flush()
    login(client, "admin.a")
    assert "RUS" not in text_of(client.get(SUBJECTS))
    assert client.get(f"{SUBJECTS}/987654/edit").status_code == 404
    assert client.get("/s/school-b/subjects").status_code == 403
