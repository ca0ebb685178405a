"""The teacher's journal: the list of groups, the group × month grid, and the endpoint the
grid's keyboard entry posts each cell to (JSON, with the ``X-CSRFToken`` header)."""

from __future__ import annotations

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.models import Role
from dienynas import clock
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_id
from gradebook.attendance.services import MARK_LABELS
from gradebook.grades.services import change_grade, delete_grade
from gradebook.journal import services
from school.curriculum.services import offered_kinds
from school.menu import menu_item
from school.people.models import Person
from school.permissions import require_reader
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("journal", __name__, static_folder="static", static_url_path="/journal/static")
menu_item(
    "journal.index",
    _l("Journal"),
    {Role.TEACHER, Role.CLASS_HEAD, Role.ADMIN, Role.DIRECTOR},
    order=6,
    section="daily",
)


def _locale() -> str:
    return str(get_locale())


def _mark_labels() -> dict[str, str]:
    """The marks' names translated once for the page (a grid shows them in every marked cell;
    each lazy string would look its translation up again)."""
    return {mark: str(label) for mark, label in MARK_LABELS.items()}


@bp.get("/journal")
def index():
    require_reader(current_user, g.school)
    year, sections = services.journal_groups(db.session, current_user, g.school, clock.today())
    return render_template("journal/index.html", year=year, sections=sections)


def _grid_page(
    group_id: int, month: str | None, error: ServiceError | None = None, status: int = 200
):
    try:
        journal = services.load_grid(
            db.session, current_user, g.school, group_id, month,
            today=clock.today(), locale=_locale(),
        )  # fmt: skip
    except ServiceError as exc:
        return render_template(
            "error.html", code=400, title=_("Something went wrong"), message=exc.message
        ), 400
    response = render_template(
        "journal/grid.html",
        journal=journal,
        codes=services.attendance_codes(),
        mark_labels=_mark_labels(),
        month_param=services.month_param,
        error=error,
        posted=request.form if error else {},
    )
    db.session.commit()  # the lessons ensure_lessons made
    return response, status


@bp.get("/journal/<int:group_id>")
def grid(group_id: int):
    return _grid_page(group_id, request.args.get("month"))


@bp.post("/journal/<int:group_id>/day-grades")
def add_day_grade(group_id: int):
    form = request.form
    try:
        grade = services.add_day_grade(
            db.session, current_user, g.school, group_id,
            student_id=form.get("student"), on_day=form.get("on_day"), value=form.get("value"),
            kind_id=form.get("kind"), comment=form.get("comment"), today=clock.today(),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _grid_page(group_id, request.args.get("month"), exc, 400)
    month = services.month_param(grade.on_day)
    db.session.commit()
    flash(_("The grade is saved."), "success")
    return redirect(url_for("journal.grid", group_id=group_id, month=month))


@bp.route("/journal/<int:group_id>/day-grades/<int:grade_id>", methods=["GET", "POST"])
def day_grade(group_id: int, grade_id: int):
    """Change a grade on a date: its value, kind and comment (a lesson's grades are changed in
    the grid's cells)."""
    group, grade = services.get_day_grade(db.session, current_user, g.school, group_id, grade_id)
    error = None
    if request.method == "POST":
        form = request.form
        try:
            change_grade(
                db.session, current_user, g.school, grade,
                value=form.get("value") or "", kind_id=parse_id(form.get("kind")),
                comment=form.get("comment"), today=clock.today(),
            )  # fmt: skip
        except ServiceError as exc:
            db.session.rollback()
            error = exc
        else:
            month = services.month_param(grade.on_day)
            db.session.commit()
            flash(_("The grade is saved."), "success")
            return redirect(url_for("journal.grid", group_id=group_id, month=month))
    return render_template(
        "journal/day_grade.html",
        group=group,
        grade=grade,
        student=db.session.get(Person, grade.student_id),
        kinds=offered_kinds(db.session, grade.kind_id),
        locale=_locale(),
        month=services.month_param(grade.on_day),
        error=error,
        posted=request.form if error else {},
    ), 400 if error else 200


@bp.post("/journal/<int:group_id>/day-grades/<int:grade_id>/delete")
def delete_day_grade(group_id: int, grade_id: int):
    group, grade = services.get_day_grade(db.session, current_user, g.school, group_id, grade_id)
    month = services.month_param(grade.on_day)
    try:
        delete_grade(db.session, current_user, g.school, grade, today=clock.today())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("journal.day_grade", group_id=group.id, grade_id=grade_id))
    db.session.commit()
    flash(_("The grade is deleted."), "success")
    return redirect(url_for("journal.grid", group_id=group_id, month=month))


@bp.post("/journal/<int:group_id>/cells")
def save_cell(group_id: int):
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error=_("The request could not be understood. Reload the page.")), 400
    try:
        row = services.save_cell(
            db.session, current_user, g.school, group_id,
            lesson_id=parse_id(data.get("lesson_id")),
            student_id=parse_id(data.get("student_id")),
            value=str(data.get("value") or ""), keep_mark=data.get("keep_mark") is True,
            today=clock.today(), locale=_locale(),
        )  # fmt: skip
    except (ServiceError, PermissionDenied, NotFound) as exc:
        db.session.rollback()
        status = {PermissionDenied: 403, NotFound: 404}.get(type(exc), 400)
        return jsonify(error=exc.message, field=exc.field), status
    html = render_template(
        "journal/_cell.html",
        cell=row.cells[0],
        can_write=True,
        codes=services.attendance_codes(),
        mark_labels=_mark_labels(),
    )
    average = "" if row.average is None else format_decimal(row.average, "#,##0.00")
    body = {"html": html, "value": row.cells[0].text, "average": average}
    db.session.commit()
    return jsonify(body)
