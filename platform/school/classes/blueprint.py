"""Pages of classes and subject groups.

Staff read everything; the administrator keeps the classes; the administrator and staff
granted the ``form_groups`` right form groups and assign students to them.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from accounts.models import Role
from dienynas import clock
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_id
from school import permissions
from school.calendar.models import SchoolYear
from school.calendar.services import list_years, pick_year, studies_end, year_before
from school.classes import services
from school.curriculum.services import active_subjects
from school.menu import menu_item
from school.people.services import headed_class_ids
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("classes", __name__)

menu_item("classes.classes", _l("Classes"), permissions.READERS, 20, section="people")
menu_item("classes.groups", _l("Subject groups"), permissions.READERS, 21, section="people")

FORM_GROUPS = "form_groups"


def _years(asked: str | None) -> tuple[list[SchoolYear], SchoolYear | None]:
    """The school's years (for the page's choice) and the one asked for, else this one."""
    years = list_years(db.session)
    return years, pick_year(years, asked, clock.today())


def _can_form_groups() -> bool:
    return permissions.has_right(db.session, current_user, g.school, FORM_GROUPS)


def _require_form_groups() -> None:
    permissions.require_right(db.session, current_user, g.school, FORM_GROUPS)


# --- classes --------------------------------------------------------------------------------


def _classes_page(
    years: list[SchoolYear],
    year: SchoolYear | None,
    form: dict,
    error: ServiceError | None = None,
    status: int = 200,
):
    is_admin = Role.ADMIN in g.school_roles
    return render_template(
        "classes/classes.html",
        year=year,
        years=years,
        year_before=year_before(years, year) if is_admin and year else None,
        rows=services.list_classes(db.session, year) if year else [],
        my_classes=headed_class_ids(db.session, current_user),
        staff=services.teaching_staff(db.session, g.school) if is_admin else [],
        can_edit=is_admin,
        form=form,
        error=error,
    ), status


@bp.get("/classes")
def classes():
    permissions.require_reader(current_user, g.school)
    return _classes_page(*_years(request.args.get("year")), {})


@bp.post("/classes")
def create_class():
    permissions.require_admin(current_user, g.school)
    form = {k: request.form.get(k, "") for k in ("year", "grade_level", "letter", "head")}
    years, year = _years(form["year"])
    try:
        if year is None:
            raise ServiceError(_("Set up the school year first."))
        school_class = services.create_class(
            db.session,
            g.school,
            year=year,
            grade_level=form["grade_level"],
            letter=form["letter"],
            head_id=form["head"],
        )
    except ServiceError as exc:
        db.session.rollback()
        return _classes_page(years, year, form, exc, 400)
    db.session.commit()
    flash(_("Class %(name)s is added.", name=school_class.name), "success")
    return redirect(url_for("classes.classes", year=year.id))


def _next_year_page(
    years: list[SchoolYear],
    year: SchoolYear,
    choices: dict[int, str],
    error: ServiceError | None = None,
    status: int = 200,
    copy_groups: bool = True,
):
    from_year = year_before(years, year)
    return render_template(
        "classes/next_year.html",
        year=year,
        from_year=from_year,
        last_day=studies_end(db.session, from_year) if from_year else None,
        plan=services.promotion_plan(db.session, from_year, year) if from_year else [],
        choices=choices,
        copy_groups=copy_groups,
        error=error,
    ), status


@bp.get("/classes/next-year")
def next_year():
    """The finished year's classes and what moving them up into ``year`` makes of each."""
    permissions.require_admin(current_user, g.school)
    years, year = _years(request.args.get("year"))
    if year is None:
        return redirect(url_for("classes.classes"))
    return _next_year_page(years, year, {})


@bp.post("/classes/next-year")
def move_classes_up():
    permissions.require_admin(current_user, g.school)
    years, year = _years(request.form.get("year"))
    if year is None:
        return redirect(url_for("classes.classes"))
    choices = {
        class_id: request.form.get(f"class-{class_id}", "")
        for class_id in (parse_id(key.removeprefix("class-")) for key in request.form
                         if key.startswith("class-"))
        if class_id is not None
    }  # fmt: skip
    copy_groups = bool(request.form.get("copy_groups"))
    try:
        summary = services.promote_classes(
            db.session, current_user, g.school, year, choices, clock.today(),
            copy_groups=copy_groups,
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _next_year_page(years, year, choices, exc, 400, copy_groups)
    db.session.commit()
    flash(
        _("Classes made: %(made)d. Groups copied: %(groups)d. Students moved up: %(moved)d. "
          "Students graduated: %(graduated)d.", made=summary.classes_created,
          groups=summary.groups_copied, moved=summary.students_moved,
          graduated=summary.students_graduated),
        "success",
    )  # fmt: skip
    return redirect(url_for("classes.classes", year=year.id))


@bp.get("/classes/<int:class_id>")
def class_page(class_id: int):
    permissions.require_reader(current_user, g.school)
    school_class = services.get_class(db.session, class_id)
    year = db.session.get(SchoolYear, school_class.year_id)
    return render_template(
        "classes/class.html",
        school_class=school_class,
        year=year,
        students=services.class_students(db.session, school_class),
        groups=services.list_groups(db.session, year, class_id=school_class.id),
        can_edit=Role.ADMIN in g.school_roles,
        can_form=_can_form_groups(),
        kinds=services.GROUP_KINDS,
    )


def _class_form(school_class, form: dict, error: ServiceError | None = None, status: int = 200):
    return render_template(
        "classes/class_form.html",
        school_class=school_class,
        staff=services.teaching_staff(db.session, g.school),
        form=form,
        error=error,
    ), status


@bp.get("/classes/<int:class_id>/edit")
def edit_class(class_id: int):
    permissions.require_admin(current_user, g.school)
    school_class = services.get_class(db.session, class_id)
    form = {
        "grade_level": str(school_class.grade_level),
        "letter": school_class.letter,
        "head": str(school_class.head_id or ""),
    }
    return _class_form(school_class, form)


@bp.post("/classes/<int:class_id>/edit")
def update_class(class_id: int):
    permissions.require_admin(current_user, g.school)
    school_class = services.get_class(db.session, class_id)
    form = {k: request.form.get(k, "") for k in ("grade_level", "letter", "head")}
    try:
        services.update_class(
            db.session,
            g.school,
            school_class,
            grade_level=form["grade_level"],
            letter=form["letter"],
            head_id=form["head"],
        )
    except ServiceError as exc:
        db.session.rollback()
        return _class_form(school_class, form, exc, 400)
    db.session.commit()
    flash(_("Class %(name)s is saved.", name=school_class.name), "success")
    return redirect(url_for("classes.classes", year=school_class.year_id))


@bp.get("/classes/<int:class_id>/delete")
def confirm_delete_class(class_id: int):
    permissions.require_admin(current_user, g.school)
    school_class = services.get_class(db.session, class_id)
    return render_template("classes/class_delete.html", school_class=school_class, error=None)


@bp.post("/classes/<int:class_id>/delete")
def delete_class(class_id: int):
    permissions.require_admin(current_user, g.school)
    school_class = services.get_class(db.session, class_id)
    name, year_id = school_class.name, school_class.year_id
    try:
        services.delete_class(db.session, school_class)
    except ServiceError as exc:
        db.session.rollback()
        return render_template(
            "classes/class_delete.html", school_class=school_class, error=exc
        ), 400
    db.session.commit()
    flash(_("Class %(name)s is deleted.", name=name), "success")
    return redirect(url_for("classes.classes", year=year_id))


# --- groups ---------------------------------------------------------------------------------


@bp.get("/groups")
def groups():
    permissions.require_reader(current_user, g.school)
    years, year = _years(request.args.get("year"))
    return render_template(
        "classes/groups.html",
        year=year,
        years=years,
        rows=services.list_groups(db.session, year) if year else [],
        kinds=services.GROUP_KINDS,
        can_form=_can_form_groups(),
    )


def _group_form(group, year, form: dict, error: ServiceError | None = None, status: int = 200):
    return render_template(
        "classes/group_form.html",
        group=group,
        year=year,
        subjects=active_subjects(db.session),
        classes=[row.school_class for row in services.list_classes(db.session, year)],
        staff=services.teaching_staff(db.session, g.school),
        kinds=services.GROUP_KINDS,
        form=form,
        error=error,
    ), status


def _group_form_data() -> dict:
    form = {k: request.form.get(k, "") for k in ("year", "name", "subject", "kind", "class_id")}
    form["teachers"] = request.form.getlist("teachers")
    return form


@bp.get("/groups/new")
def new_group():
    _require_form_groups()
    year = _years(request.args.get("year"))[1]
    if year is None:
        flash(_("Set up the school year first."), "error")
        return redirect(url_for("classes.groups"))
    form = {"kind": "class", "class_id": request.args.get("class_id", ""), "teachers": []}
    return _group_form(None, year, form)


@bp.post("/groups/new")
def create_group():
    _require_form_groups()
    form = _group_form_data()
    year = _years(form["year"])[1]
    if year is None:
        flash(_("Set up the school year first."), "error")
        return redirect(url_for("classes.groups"))
    try:
        group = services.create_group(
            db.session,
            g.school,
            year=year,
            name=form["name"],
            subject_id=form["subject"],
            kind=form["kind"],
            class_id=form["class_id"],
            teacher_ids=form["teachers"],
        )
    except ServiceError as exc:
        db.session.rollback()
        return _group_form(None, year, form, exc, 400)
    db.session.commit()
    flash(_("The group “%(name)s” is formed.", name=group.name), "success")
    return redirect(url_for("classes.group_page", group_id=group.id))


def _group_page(group, error: ServiceError | None = None, chosen=(), status: int = 200):
    can_form = _can_form_groups()
    return render_template(
        "classes/group.html",
        group=group,
        year=db.session.get(SchoolYear, group.year_id),
        teachers=services.group_teachers(db.session, group),
        students=services.group_students(db.session, group),
        candidates=services.candidate_students(db.session, group) if can_form else [],
        kinds=services.GROUP_KINDS,
        can_form=can_form,
        chosen=set(chosen),
        error=error,
    ), status


@bp.get("/groups/<int:group_id>")
def group_page(group_id: int):
    permissions.require_reader(current_user, g.school)
    return _group_page(services.get_group(db.session, group_id))


@bp.post("/groups/<int:group_id>/students")
def add_students(group_id: int):
    _require_form_groups()
    group = services.get_group(db.session, group_id)
    chosen = request.form.getlist("students")
    try:
        added = services.add_students(db.session, group, chosen)
    except ServiceError as exc:
        db.session.rollback()
        return _group_page(group, exc, chosen, 400)
    db.session.commit()
    flash(
        ngettext(
            "%(num)d student is added to the group.",
            "%(num)d students are added to the group.",
            added,
        ),
        "success",
    )
    return redirect(url_for("classes.group_page", group_id=group.id))


@bp.post("/groups/<int:group_id>/students/<int:student_id>/remove")
def remove_student(group_id: int, student_id: int):
    _require_form_groups()
    group = services.get_group(db.session, group_id)
    student = services.remove_student(db.session, group, student_id)
    db.session.commit()
    flash(
        _(
            "%(name)s is removed from the group “%(group)s”.",
            name=student.person.full_name,
            group=group.name,
        ),
        "success",
    )
    return redirect(url_for("classes.group_page", group_id=group.id))


@bp.get("/groups/<int:group_id>/edit")
def edit_group(group_id: int):
    _require_form_groups()
    group = services.get_group(db.session, group_id)
    form = {
        "name": group.name,
        "subject": str(group.subject_id),
        "teachers": [str(t.id) for t in services.group_teachers(db.session, group)],
    }
    return _group_form(group, db.session.get(SchoolYear, group.year_id), form)


@bp.post("/groups/<int:group_id>/edit")
def update_group(group_id: int):
    _require_form_groups()
    group = services.get_group(db.session, group_id)
    form = _group_form_data()
    try:
        services.update_group(
            db.session,
            g.school,
            group,
            name=form["name"],
            subject_id=form["subject"],
            teacher_ids=form["teachers"],
        )
    except ServiceError as exc:
        db.session.rollback()
        return _group_form(group, db.session.get(SchoolYear, group.year_id), form, exc, 400)
    db.session.commit()
    flash(_("The group “%(name)s” is saved.", name=group.name), "success")
    return redirect(url_for("classes.group_page", group_id=group.id))


@bp.get("/groups/<int:group_id>/delete")
def confirm_delete_group(group_id: int):
    _require_form_groups()
    group = services.get_group(db.session, group_id)
    return render_template("classes/group_delete.html", group=group)


@bp.post("/groups/<int:group_id>/delete")
def delete_group(group_id: int):
    _require_form_groups()
    group = services.get_group(db.session, group_id)
    name, year_id = group.name, group.year_id
    try:
        services.delete_group(db.session, group)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("classes.group_page", group_id=group_id))
    db.session.commit()
    flash(_("The group “%(name)s” is deleted.", name=name), "success")
    return redirect(url_for("classes.groups", year=year_id))
