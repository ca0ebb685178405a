"""Pages for remarks: writing one about a student, and the class head's list of the class's."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from accounts.models import Role
from dienynas import clock
from dienynas.errors import PermissionDenied, ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_date, parse_id
from gradebook.access import require_class_head
from gradebook.remarks import services
from school.calendar.models import Term
from school.calendar.services import current_year, term_for
from school.classes.models import SchoolClass
from school.classes.services import class_students, get_class
from school.menu import menu_item
from school.people.services import get_student
from school.permissions import person_of, require_reader
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("remarks", __name__)
menu_item(
    "remarks.index",
    _l("Remarks"),
    {Role.TEACHER, Role.CLASS_HEAD, Role.ADMIN, Role.DIRECTOR},
    order=46,
    section="daily",
)


@bp.get("/remarks")
def index():
    """Where remarks are written from: the classes whose remarks the account reads (all for
    the administrator and the director, else the classes it heads) and the students of the
    groups it teaches, each opening the remark form for that student and group. A class head
    who teaches no group goes straight to their class. Families are refused, as on the
    journal."""
    require_reader(current_user, g.school)
    year = current_year(db.session, clock.today())
    person = person_of(db.session, current_user)
    query = select(SchoolClass).order_by(SchoolClass.grade_level, SchoolClass.letter)
    query = query.where(SchoolClass.year_id == (year.id if year else None))
    if not g.school_roles & {Role.ADMIN, Role.DIRECTOR}:
        query = query.where(SchoolClass.head_id == (person.id if person else None))
    classes = list(db.session.scalars(query))
    groups = services.taught_groups(db.session, person, year) if person and year else []
    if len(classes) == 1 and not groups:
        return redirect(url_for("remarks.for_class", class_id=classes[0].id))
    return render_template("remarks/index.html", classes=classes, groups=groups)


def _target() -> tuple:
    """The student and (optional) group named by the query string or the form."""
    values = request.values
    student = get_student(db.session, parse_id(values.get("student")))
    group_value = values.get("group")
    group = services.get_group(db.session, parse_id(group_value)) if group_value else None
    return student, group


def _form_page(
    student, group, form, error: ServiceError | None = None, status: int = 200, blocked=False
):
    today = clock.today()
    term = term_for(db.session, today)
    rows = (
        services.remarks_for_students(db.session, [student.person_id], term.starts_on, today)
        if term
        else []
    )
    sees_all = Role.ADMIN in g.school_roles or services.heads_class_of(
        db.session, current_user, student
    )
    if not sees_all:
        rows = [r for r in rows if r.remark.written_by == current_user.id]
    return render_template(
        "remarks/form.html",
        student=student,
        group=group,
        form=form,
        kinds=services.KINDS,
        rows=rows,
        error=error,
        deletable=services.deletable(
            db.session, current_user, g.school, [r.remark for r in rows], today, [term]
        ),
        blocked=blocked,
    ), status


@bp.get("/remarks/new")
def new():
    student, group = _target()
    try:
        services.require_writer(db.session, current_user, g.school, student, group)
    except ServiceError as exc:
        return _form_page(student, None, {}, exc, 400, blocked=True)
    return _form_page(student, group, {"on_day": clock.today().isoformat(), "kind": "remark"})


@bp.post("/remarks/new")
def create():
    student, group = _target()
    try:
        remark = services.write_remark(
            db.session, current_user, g.school,
            student_id=student.person_id,
            kind=request.form.get("kind", ""),
            text=request.form.get("text", ""),
            on_day=parse_date(request.form.get("on_day"), "on_day"),
            group_id=group.id if group else None,
            today=clock.today(),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _form_page(student, group, request.form, exc, 400)
    saved = {"praise": _("The praise is saved."), "reprimand": _("The reprimand is saved.")}
    flash(saved.get(remark.kind, _("The remark is saved.")), "success")
    db.session.commit()
    return redirect(
        url_for("remarks.new", student=student.person_id, group=group.id if group else None)
    )


def _period(term_id: int | None) -> tuple[Term | None, list[Term]]:
    today = clock.today()
    year = current_year(db.session, today)
    terms = (
        list(
            db.session.scalars(select(Term).where(Term.year_id == year.id).order_by(Term.starts_on))
        )
        if year
        else []
    )
    chosen = next((t for t in terms if t.id == term_id), None)
    if chosen is None:
        chosen = next((t for t in terms if t.starts_on <= today <= t.ends_on), None)
    return chosen or (terms[-1] if terms else None), terms


@bp.get("/classes/<int:class_id>/remarks")
def for_class(class_id: int):
    school_class = get_class(db.session, class_id)
    try:
        require_class_head(db.session, current_user, g.school, school_class)
        can_write = True
    except PermissionDenied:
        if Role.DIRECTOR not in g.school_roles:
            raise
        can_write = False  # the director reads
    term, terms = _period(parse_id(request.args.get("term")))
    students = [student.person for student in class_students(db.session, school_class)]
    rows = (
        services.remarks_for_students(
            db.session, [s.id for s in students], term.starts_on, term.ends_on
        )
        if term
        else []
    )
    today = clock.today()
    return render_template(
        "remarks/class.html",
        school_class=school_class,
        students=students,
        rows=rows,
        term=term,
        terms=terms,
        kinds=services.KINDS,
        can_write=can_write,
        deletable=services.deletable(
            db.session, current_user, g.school, [r.remark for r in rows], today, terms
        ),
    )


@bp.post("/remarks/<int:remark_id>/delete")
def delete(remark_id: int):
    remark = services.get_remark(db.session, remark_id)
    student_id, group_id = remark.student_id, remark.group_id
    class_id = parse_id(request.form.get("class_id"))
    try:
        services.delete_remark(db.session, current_user, g.school, remark, today=clock.today())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("The remark is deleted."), "success")
    if class_id:
        return redirect(url_for("remarks.for_class", class_id=class_id))
    return redirect(url_for("remarks.new", student=student_id, group=group_id))
