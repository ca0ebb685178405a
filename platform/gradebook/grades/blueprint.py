"""Pages of grades: the grade history (administrator, director), a group's term and year
grades, and the endpoints that change or delete one grade (the journal's grade dialog)."""

from __future__ import annotations

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from accounts.models import Role
from dienynas import clock
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_id, parse_optional_date
from gradebook.access import require_class_head, require_group_reader, teaches_group
from gradebook.grades import services
from school.classes.models import Group, SchoolClass
from school.classes.services import get_class, get_group
from school.curriculum.services import offered_kinds
from school.menu import menu_item
from school.permissions import person_of
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("grades", __name__)
menu_item(
    "grades.history", _l("Grade history"), {Role.ADMIN, Role.DIRECTOR}, order=82, section="admin"
)


# --- grade history ------------------------------------------------------------------------------


@bp.get("/grades/history")
def history():
    error = None
    try:
        since = parse_optional_date(request.args.get("since"), "since")
    except ServiceError as exc:
        error, since = exc, None
    group_id = parse_id(request.args.get("group"))
    student_id = parse_id(request.args.get("student"))
    rows = services.grade_history(
        db.session, current_user, g.school, group_id=group_id, student_id=student_id, since=since
    )
    groups, students = services.history_choices(
        db.session, clock.today(), group_id=group_id, student_id=student_id
    )
    return render_template(
        "grades/history.html",
        rows=rows,
        groups=groups,
        students=students,
        group_id=group_id,
        student_id=student_id,
        since=since,
        error=error,
        limit=services.HISTORY_LIMIT,
    ), (400 if error else 200)


# --- term and year grades -----------------------------------------------------------------------


def _sheet_page(group: Group, term_id: int | None, can_write: bool,
                error: ServiceError | None = None, status: int = 200):  # fmt: skip
    today = clock.today()
    try:
        sheet = services.term_grade_sheet(db.session, group, term_id, today)
    except ServiceError as exc:  # the year has no terms yet
        return render_template("grades/term_grades.html", group=group, sheet=None,
                               message=exc.message), 200  # fmt: skip
    fill = request.args.get("fill") if not error else None
    return render_template(
        "grades/term_grades.html",
        group=group,
        sheet=sheet,
        can_write=can_write,
        label=lambda value: services.value_label(sheet.scale, value),
        error=error,
        posted=request.form if error else _suggestions_filled_in(sheet, fill),
        filled=fill in ("term", "year"),
        today=today,
    ), status


def _suggestions_filled_in(sheet: services.TermGradeSheet, column: str | None) -> dict[str, str]:
    """The form's values with the suggestions put where no grade is confirmed yet, in the
    ``column`` asked for ("term" or "year"; anything else: none): the teacher checks them
    and saves, instead of typing each suggested grade. Nothing is saved by filling in."""
    if column not in ("term", "year"):
        return {}
    values = {}
    for row in sheet.rows:
        for name, confirmed, suggested in (
            ("term", row.term_grade, row.term.suggested),
            ("year", row.year_grade, row.year.suggested),
        ):
            value = confirmed.value if confirmed else (suggested if name == column else None)
            values[f"{name}-{row.student.id}"] = services.value_label(sheet.scale, value) or ""
    return values


@bp.get("/groups/<int:group_id>/term-grades")
def term_grades(group_id: int):
    group = get_group(db.session, group_id)
    can_write = Role.ADMIN in g.school_roles or teaches_group(
        db.session, person_of(db.session, current_user), group
    )
    if not can_write:
        require_group_reader(db.session, current_user, g.school, group)
    return _sheet_page(group, parse_id(request.args.get("term")), can_write)


@bp.post("/groups/<int:group_id>/term-grades")
def save_term_grades(group_id: int):
    group = get_group(db.session, group_id)
    column = request.form.get("column")
    prefix = "year-" if column == "year" else "term-"
    values = {
        student_id: value
        for key, value in request.form.items()
        if key.startswith(prefix) and (student_id := parse_id(key.removeprefix(prefix)))
    }
    term_id = parse_id(request.args.get("term"))
    try:
        if column == "year":
            changed = services.confirm_year_grades(
                db.session, current_user, g.school, group, values, clock.today()
            )
        else:
            term = services.get_term_of_group(db.session, group, term_id)
            changed = services.confirm_term_grades(
                db.session, current_user, g.school, group, term, values, clock.today()
            )
    except ServiceError as exc:
        db.session.rollback()
        return _sheet_page(group, term_id, True, exc, 400)
    db.session.commit()
    flash(
        ngettext("%(num)d grade saved.", "%(num)d grades saved.", len(changed))
        if changed
        else _("Nothing changed."),
        "success",
    )
    return redirect(url_for("grades.term_grades", group_id=group.id, term=term_id))


# --- one grade (the journal's grade dialog) -----------------------------------------------------


def _field(name: str) -> str | None:
    data = request.get_json(silent=True) if request.is_json else request.form
    value = (data or {}).get(name)
    return None if value is None else str(value)


def _grade_json(grade, scale):
    return {
        "id": grade.id,
        "value": grade.value,
        "label": services.value_label(scale, grade.value),
        "kind_id": grade.kind_id,
        "comment": grade.comment,
    }


@bp.post("/grades/<int:grade_id>")
def change_grade(grade_id: int):
    grade = services.get_grade(db.session, grade_id)
    try:
        services.change_grade(
            db.session, current_user, g.school, grade,
            value=_field("value") or "", kind_id=parse_id(_field("kind")),
            comment=_field("comment"), today=clock.today(),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return jsonify(error=exc.message, field=exc.field), 400
    body = _grade_json(grade, db.session.get(Group, grade.group_id).subject.scale)
    db.session.commit()
    return jsonify(body)


@bp.post("/grades/<int:grade_id>/delete")
def delete_grade(grade_id: int):
    grade = services.get_grade(db.session, grade_id)
    try:
        services.delete_grade(db.session, current_user, g.school, grade, today=clock.today())
    except ServiceError as exc:
        db.session.rollback()
        return jsonify(error=exc.message, field=exc.field), 400
    db.session.commit()
    return jsonify(deleted=grade_id)


# --- grades from another school -------------------------------------------------------------


def _headed_class(class_id: int) -> SchoolClass:
    """The class whose grades from other schools are entered: its head or the administrator."""
    school_class = get_class(db.session, class_id)
    require_class_head(db.session, current_user, g.school, school_class)
    return school_class


def _outside_page(school_class, form, error: ServiceError | None = None, status: int = 200):
    students, groups = services.outside_grade_choices(db.session, school_class)
    return render_template(
        "grades/outside.html",
        school_class=school_class,
        students=students,
        groups=groups,
        kinds=offered_kinds(db.session),
        grades=services.outside_grades(db.session, school_class),
        form=form,
        error=error,
    ), status


@bp.get("/classes/<int:class_id>/outside-grades")
def outside_grades(class_id: int):
    """The class head enters grades a student got in another school (a hospital school)."""
    school_class = _headed_class(class_id)
    return _outside_page(school_class, {"on_day": clock.today().isoformat()})


@bp.post("/classes/<int:class_id>/outside-grades")
def add_outside_grade(class_id: int):
    school_class = _headed_class(class_id)
    form = request.form
    try:
        services.add_outside_grade(
            db.session, current_user, g.school, class_id=school_class.id,
            student_id=parse_id(form.get("student")), group_id=parse_id(form.get("group")),
            on_day=parse_optional_date(form.get("on_day"), "on_day"), value=form.get("value", ""),
            origin=form.get("origin"), kind_id=parse_id(form.get("kind")),
            comment=form.get("comment"), today=clock.today(),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _outside_page(school_class, form, exc, 400)
    db.session.commit()
    flash(_("The grade is saved."), "success")
    # the next grade of the same certificate: the same student, school and date
    return redirect(url_for("grades.outside_grades", class_id=class_id, **{
        "student": form.get("student"), "origin": form.get("origin"),
        "on_day": form.get("on_day")}))  # fmt: skip


def _outside_edit_page(
    school_class, row, form, error: ServiceError | None = None, status: int = 200
):
    return render_template(
        "grades/outside_edit.html",
        school_class=school_class,
        row=row,
        kinds=offered_kinds(db.session, row.grade.kind_id),
        form=form,
        error=error,
    ), status


@bp.get("/classes/<int:class_id>/outside-grades/<int:grade_id>")
def outside_grade(class_id: int, grade_id: int):
    """Correct a grade from another school: its value, kind and comment (the history keeps
    the old ones, as in the journal)."""
    school_class = _headed_class(class_id)
    row = services.outside_grade(db.session, school_class, grade_id)
    grade = row.grade
    form = {"value": grade.value, "kind": str(grade.kind_id or ""), "comment": grade.comment}
    return _outside_edit_page(school_class, row, form)


@bp.post("/classes/<int:class_id>/outside-grades/<int:grade_id>")
def change_outside_grade(class_id: int, grade_id: int):
    school_class = _headed_class(class_id)
    row = services.outside_grade(db.session, school_class, grade_id)
    form = request.form
    try:
        services.change_grade(
            db.session, current_user, g.school, row.grade, value=form.get("value", ""),
            kind_id=parse_id(form.get("kind")), comment=form.get("comment"), today=clock.today(),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        row = services.outside_grade(db.session, school_class, grade_id)
        return _outside_edit_page(school_class, row, form, exc, 400)
    db.session.commit()
    flash(_("The grade is saved."), "success")
    return redirect(url_for("grades.outside_grades", class_id=class_id))


@bp.post("/classes/<int:class_id>/outside-grades/<int:grade_id>/delete")
def delete_outside_grade(class_id: int, grade_id: int):
    school_class = _headed_class(class_id)
    grade = services.outside_grade(db.session, school_class, grade_id).grade
    try:
        services.delete_grade(db.session, current_user, g.school, grade, today=clock.today())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("The grade is deleted."), "success")
    return redirect(url_for("grades.outside_grades", class_id=class_id))
