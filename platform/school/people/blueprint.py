"""Pages for the school's people: class lists with guardians, student and guardian forms, the
staff list and form, the person page, reports, credentials slips and password resets.

Thin views: read the form, call ``school.people.services``, commit once on success; on a
refused rule roll back and show the form again with the message and the submitted values.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.models import FAMILY_ROLES, ROLE_LABELS, Account, Role
from accounts.services import LINK_CODE_DAYS
from dienynas import clock
from dienynas.config import SUPPORTED_LOCALES
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_id, parse_optional_date
from dienynas.i18n import joined
from dienynas.urls import safe_next
from school import permissions
from school.classes.models import SchoolClass
from school.classes.services import get_class
from school.curriculum.services import active_subjects
from school.health import services as health
from school.menu import menu_item
from school.people import services
from school.people.services import RELATIONS, RIGHTS, STAFF_ROLE_ORDER, PersonDetails
from school.people.slips import slips_pdf
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("people", __name__)

_MANAGERS = {Role.ADMIN, Role.DIRECTOR, Role.CLASS_HEAD}
menu_item("people.students", _l("Students"), permissions.READERS, 50, section="people")
menu_item("people.staff", _l("Staff"), permissions.READERS, 51, section="people")
menu_item("people.index", _l("People"), _MANAGERS, 52, section="people")
menu_item("people.reports", _l("Reports"), _MANAGERS, 53, section="people")
menu_item(
    "people.credentials", _l("Credentials"), {Role.ADMIN, Role.CLASS_HEAD}, 54, section="people"
)

_PERSON_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "document_kind",
    "personal_code",
    "document_number",
    "email",
    "phone",
    "locale",
)


def _actor() -> Account:
    return current_user._get_current_object()


def _submitted(*extra: str) -> dict[str, str]:
    return {name: request.form.get(name, "").strip() for name in (*_PERSON_FIELDS, *extra)}


def _details_form(details: PersonDetails, **extra: Any) -> dict[str, Any]:
    form = {name: getattr(details, name) or "" for name in _PERSON_FIELDS}
    form["birth_date"] = details.birth_date.isoformat() if details.birth_date else ""
    return form | extra


def _refused(exc: ServiceError, template: str, **context: Any) -> tuple[str, int]:
    """Roll back and show the form again with the message (HTTP 400)."""
    db.session.rollback()
    return render_template(template, error=exc, **context), 400


def _common() -> dict[str, Any]:
    return {
        "relations": RELATIONS,
        "locales": SUPPORTED_LOCALES,
        "role_labels": ROLE_LABELS,
        "rights": RIGHTS,
        "link_code_days": LINK_CODE_DAYS,
    }


# --- people search and the person page -------------------------------------------------------


@bp.get("/people/")
def index():
    actor = _actor()
    permissions.require_reader(actor, g.school)
    query = request.args.get("q", "").strip()
    # personal codes are for those who manage people (a teacher may not test a code)
    by_document = bool(g.school_roles & {Role.ADMIN, Role.DIRECTOR, Role.CLASS_HEAD})
    hits = services.search_people(db.session, g.school, query, by_document) if query else []
    return render_template(
        "people/index.html", query=query, hits=hits, limit=services.SEARCH_LIMIT, **_common()
    )


@bp.get("/people/<int:person_id>")
def person(person_id: int):
    actor = _actor()
    found = services.get_person(db.session, person_id)
    managed = services.managed_class_ids(db.session, actor, g.school)  # None: the administrator
    services.require_person_viewer(db.session, actor, g.school, found, headed=managed)
    card = services.person_card(db.session, g.school, found)

    def manages(class_id: int | None) -> bool:
        return managed is None or class_id in managed

    mine = (card.student is not None and manages(card.student.class_id)) or any(
        manages(student.class_id) for _link, student, _class in card.children
    )
    return render_template(
        "people/person.html",
        card=card,
        health=health.of_student(db.session, found.id, clock.today()) if card.student else [],
        is_admin=managed is None,
        manages=manages,
        is_staff=bool(set(card.roles) & services.STAFF_ROLES),
        can_reset=card.account is not None
        and (managed is None or (mine and set(card.roles) <= FAMILY_ROLES)),
        **_common(),
    )


# --- class lists ------------------------------------------------------------------------------


@bp.get("/people/students")
def students():
    actor = _actor()
    permissions.require_reader(actor, g.school)
    labels = _class_labels(None)
    classes = list(labels)
    managed = services.managed_class_ids(db.session, actor, g.school)
    wanted = parse_id(request.args.get("class"))
    selected = next((c for c in classes if c.id == wanted), None)
    if wanted is not None and selected is None:
        raise NotFound(_("There is no such class this school year."))
    if selected is None and managed:
        selected = next((c for c in classes if c.id in managed), None)
    can_manage = selected is not None and (managed is None or selected.id in managed)
    show_contacts = can_manage or Role.DIRECTOR in g.school_roles
    return render_template(
        "people/students.html",
        classes=classes,
        labels=labels,
        counts=services.class_counts(db.session, [c.id for c in classes]),
        selected=selected,
        roster=services.class_roster(db.session, selected.id) if selected else [],
        can_manage=can_manage,
        can_add=managed is None or bool(managed),
        show_contacts=show_contacts,
        **_common(),
    )


def _class_labels(managed: set[int] | None) -> dict[SchoolClass, str]:
    """The classes students can be placed in now (``services.open_classes``; ``managed``:
    only those), each with its label: its name, with the school year's for a year to come
    ("6a (2027–2028)", in the summer)."""
    return {
        school_class: school_class.name if n == 0 else f"{school_class.name} ({year.name})"
        for n, (year, classes) in enumerate(services.open_classes(db.session, clock.today()))
        for school_class in classes
        if managed is None or school_class.id in managed
    }


def _class_context(managed: set[int] | None) -> dict[str, Any]:
    labels = _class_labels(managed)
    return {"classes": list(labels), "class_options": [(c.id, labels[c]) for c in labels]}


@bp.route("/people/students/new", methods=["GET", "POST"])
def student_new():
    actor = _actor()
    managed = services.managed_class_ids(db.session, actor, g.school)
    if managed is not None and not managed:
        raise PermissionDenied(_("Only the e-diary administrator and class heads add students."))
    context = {"student": None, **_class_context(managed), **_common()}
    if request.method == "GET":
        form = {"document_kind": "personal_code", "class_id": request.args.get("class", "")}
        return render_template("people/student_form.html", form=form, error=None, **context)
    form = _submitted("class_id")
    try:
        details = services.read_details(form)
        student = services.add_student(
            db.session, actor, g.school, details, parse_id(form["class_id"])
        )
    except ServiceError as exc:
        return _refused(exc, "people/student_form.html", form=form, **context)
    name, class_id = student.person.full_name, student.class_id
    db.session.commit()
    flash(_("%(name)s has been added to the class.", name=name), "success")
    return redirect(url_for("people.students", **{"class": class_id}))


@bp.route("/people/students/<int:person_id>/edit", methods=["GET", "POST"])
def student_edit(person_id: int):
    actor = _actor()
    student = services.get_student(db.session, person_id)
    services.require_class_manager(db.session, actor, g.school, student.class_id)
    managed = services.managed_class_ids(db.session, actor, g.school)
    context = {"student": student, **_class_context(managed), **_common()}
    if request.method == "GET":
        person = student.person
        account = db.session.get(Account, person.account_id) if person.account_id else None
        form = _details_form(PersonDetails.of(person, account), class_id=student.class_id or "")
        return render_template("people/student_form.html", form=form, error=None, **context)
    form = _submitted("class_id")
    try:
        details = services.read_details(form)
        services.update_student(
            db.session, actor, g.school, student, details, parse_id(form["class_id"])
        )
    except ServiceError as exc:
        return _refused(exc, "people/student_form.html", form=form, **context)
    db.session.commit()
    flash(_("The student's details have been saved."), "success")
    return redirect(url_for("people.person", person_id=person_id))


@bp.route("/people/students/<int:person_id>/leave", methods=["GET", "POST"])
def student_leave(person_id: int):
    actor = _actor()
    student = services.get_student(db.session, person_id)
    services.require_class_manager(db.session, actor, g.school, student.class_id)
    if request.method == "GET":
        form = {"left_on": clock.today().isoformat()}
        return render_template("people/student_leave.html", student=student, form=form, error=None)
    form = {"left_on": request.form.get("left_on", "").strip()}
    try:
        left_on = parse_optional_date(form["left_on"], "left_on")
        services.remove_student(db.session, actor, g.school, student, left_on)
    except ServiceError as exc:
        return _refused(exc, "people/student_leave.html", student=student, form=form)
    class_id = student.class_id
    db.session.commit()
    flash(_("The student is marked as having left; their records are kept."), "success")
    return redirect(url_for("people.students", **{"class": class_id}))


@bp.post("/people/students/<int:person_id>/return")
def student_return(person_id: int):
    actor = _actor()
    student = services.get_student(db.session, person_id)
    try:
        services.return_student(db.session, actor, g.school, student)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("The student is back in the class list."), "success")
    return redirect(url_for("people.person", person_id=person_id))


# --- guardians --------------------------------------------------------------------------------


@bp.route("/people/students/<int:person_id>/guardians/new", methods=["GET", "POST"])
def guardian_new(person_id: int):
    actor = _actor()
    student = services.get_student(db.session, person_id)
    services.require_class_manager(db.session, actor, g.school, student.class_id)
    context = {"student": student, "link": None, **_common()}
    if request.method == "GET":
        form = {"mode": "new", "relation": "mother"}
        return render_template("people/guardian_form.html", form=form, error=None, **context)
    form = _submitted("relation", "login", "mode")
    try:
        login = services.login_to_link(form)
        details = services.read_details(form)
        link, linked = services.add_guardian(
            db.session,
            actor,
            g.school,
            student,
            details,
            form["relation"],
            login=login,
            link_code=request.form.get("link_code", ""),
        )
    except ServiceError as exc:
        return _refused(exc, "people/guardian_form.html", form=form, **context)
    guardian = db.session.get(services.Person, link.guardian_id).full_name
    student_name = student.person.full_name
    db.session.commit()
    if linked:
        message = _(
            "%(guardian)s was already known here and is now linked to %(student)s.",
            guardian=guardian,
            student=student_name,
        )
    else:
        message = _(
            "%(guardian)s has been added as a guardian of %(student)s.",
            guardian=guardian,
            student=student_name,
        )
    flash(message, "success")
    return redirect(url_for("people.person", person_id=person_id))


@bp.route(
    "/people/students/<int:person_id>/guardians/<int:guardian_id>/edit", methods=["GET", "POST"]
)
def guardian_edit(person_id: int, guardian_id: int):
    actor = _actor()
    student = services.get_student(db.session, person_id)
    services.require_class_manager(db.session, actor, g.school, student.class_id)
    link = services.get_guardianship(db.session, student, guardian_id)
    guardian = services.get_person(db.session, guardian_id)
    context = {"student": student, "link": link, "guardian": guardian, **_common()}
    if request.method == "GET":
        account = db.session.get(Account, guardian.account_id) if guardian.account_id else None
        form = _details_form(PersonDetails.of(guardian, account), relation=link.relation)
        return render_template("people/guardian_form.html", form=form, error=None, **context)
    form = _submitted("relation")
    try:
        details = services.read_details(form)
        services.update_guardian(
            db.session, actor, g.school, student, link, details, form["relation"]
        )
    except ServiceError as exc:
        return _refused(exc, "people/guardian_form.html", form=form, **context)
    db.session.commit()
    flash(_("The guardian's details have been saved."), "success")
    return redirect(url_for("people.person", person_id=person_id))


@bp.route(
    "/people/students/<int:person_id>/guardians/<int:guardian_id>/unlink", methods=["GET", "POST"]
)
def guardian_unlink(person_id: int, guardian_id: int):
    actor = _actor()
    student = services.get_student(db.session, person_id)
    services.require_class_manager(db.session, actor, g.school, student.class_id)
    link = services.get_guardianship(db.session, student, guardian_id)
    guardian = services.get_person(db.session, guardian_id)
    if request.method == "GET":
        return render_template(
            "people/guardian_unlink.html", student=student, guardian=guardian, error=None
        )
    try:
        services.unlink_guardian(db.session, actor, g.school, student, link)
    except ServiceError as exc:
        return _refused(exc, "people/guardian_unlink.html", student=student, guardian=guardian)
    names = {"guardian": guardian.full_name, "student": student.person.full_name}
    db.session.commit()
    flash(_("%(guardian)s is no longer linked to %(student)s.", **names), "success")
    return redirect(url_for("people.person", person_id=person_id))


# --- staff ------------------------------------------------------------------------------------


@bp.get("/people/staff")
def staff():
    actor = _actor()
    permissions.require_reader(actor, g.school)
    return render_template(
        "people/staff.html",
        staff=services.list_staff(db.session, g.school),
        is_admin=services.is_admin(actor, g.school),
        **_common(),
    )


def _staff_context(member: services.StaffMember | None) -> dict[str, Any]:
    return {
        "member": member,
        "staff_roles": STAFF_ROLE_ORDER,
        "subjects": active_subjects(db.session),
        **_common(),
    }


def _submitted_staff() -> dict[str, Any]:
    form: dict[str, Any] = _submitted("login", "mode")
    form["roles"] = request.form.getlist("roles")
    form["rights"] = request.form.getlist("rights")
    form["subjects"] = request.form.getlist("subjects")
    return form


@bp.route("/people/staff/new", methods=["GET", "POST"])
def staff_new():
    actor = _actor()
    permissions.require_admin(actor, g.school)
    if request.method == "GET":
        form = {"mode": "new", "roles": [Role.TEACHER.value], "rights": []}
        return render_template(
            "people/staff_form.html", form=form, error=None, **_staff_context(None)
        )
    form = _submitted_staff()
    try:
        login = services.login_to_link(form)
        details = services.read_details(form)
        person, linked = services.add_staff(
            db.session,
            actor,
            g.school,
            details,
            form["roles"],
            form["rights"],
            login=login,
            link_code=request.form.get("link_code", ""),
            subject_ids=form["subjects"],
        )
    except ServiceError as exc:
        return _refused(exc, "people/staff_form.html", form=form, **_staff_context(None))
    name, person_id = person.full_name, person.id
    db.session.commit()
    if linked:
        flash(_("%(name)s was already known here and is now on the staff.", name=name), "success")
    else:
        flash(_("%(name)s has been added to the staff.", name=name), "success")
    return redirect(url_for("people.person", person_id=person_id))


@bp.route("/people/staff/<int:account_id>/edit", methods=["GET", "POST"])
def staff_edit(account_id: int):
    actor = _actor()
    permissions.require_admin(actor, g.school)
    member = services.get_staff_member(db.session, g.school, account_id)
    context = _staff_context(member)
    if request.method == "GET":
        if member.person is not None:
            details = PersonDetails.of(member.person, db.session.get(Account, account_id))
        else:  # an account given a role from the command line: no person record yet
            first, _sep, last = member.name.rpartition(" ")
            details = PersonDetails(first_name=first, last_name=last, email=member.email or "",
                                    phone=member.phone or "", document_kind="other")  # fmt: skip
        form = _details_form(
            details,
            roles=[r.value for r in member.roles],
            rights=member.rights,
            subjects=[str(s.id) for s in member.subjects],
        )
        return render_template("people/staff_form.html", form=form, error=None, **context)
    form = _submitted_staff()
    try:
        details = services.read_details(form)
        person = services.update_staff(
            db.session, actor, g.school, member, details, form["roles"], form["rights"],
            subject_ids=form["subjects"],
        )  # fmt: skip
    except ServiceError as exc:
        return _refused(exc, "people/staff_form.html", form=form, **context)
    person_id = person.id
    db.session.commit()
    flash(_("The staff member's details have been saved."), "success")
    return redirect(url_for("people.person", person_id=person_id))


@bp.route("/people/staff/<int:account_id>/remove", methods=["GET", "POST"])
def staff_remove(account_id: int):
    actor = _actor()
    permissions.require_admin(actor, g.school)
    member = services.get_staff_member(db.session, g.school, account_id)
    context = {"member": member, "role_names": joined(ROLE_LABELS[r] for r in member.roles)}
    if request.method == "GET":
        return render_template("people/staff_remove.html", error=None, **context)
    try:
        services.remove_staff(db.session, actor, g.school, member)
    except ServiceError as exc:
        return _refused(exc, "people/staff_remove.html", **context)
    name = member.name
    db.session.commit()
    flash(_("%(name)s is no longer on the staff; the account is kept.", name=name), "success")
    return redirect(url_for("people.staff"))


# --- reports ----------------------------------------------------------------------------------


@bp.get("/people/reports")
def reports():
    actor = _actor()
    return render_template(
        "people/reports.html",
        no_login=services.students_without_guardian_login(db.session, actor, g.school),
        contacts=services.missing_contacts(db.session, actor, g.school),
        can_see_activity=bool(g.school_roles & {Role.ADMIN, Role.DIRECTOR}),
        **_common(),
    )


@bp.get("/people/activity")
def activity():
    """Who used the diary in a period (default: this quarter so far); the previous quarter is
    one link away (the quarterly report administrators hand in)."""
    actor = _actor()
    today = clock.today()
    quarter_start, _quarter_end = services.quarter_of(today)
    error = None
    try:
        start = parse_optional_date(request.args.get("from"), "from") or quarter_start
        end = parse_optional_date(request.args.get("to"), "to") or today
        report = services.activity_report(db.session, actor, g.school, start, end)
    except ServiceError as exc:  # a bad date: this quarter, with the message
        error = exc
        start, end = quarter_start, today
        report = services.activity_report(db.session, actor, g.school, start, end)
    previous = services.quarter_of(quarter_start - timedelta(days=1))
    return render_template(
        "people/activity.html", report=report, error=error, previous=previous,
        this_quarter=(quarter_start, today),
    ), (400 if error else 200)  # fmt: skip


# --- credentials ------------------------------------------------------------------------------


def _pdf(content: bytes, filename: str) -> Response:
    """A PDF download that no cache keeps (it holds one-time passwords)."""
    return Response(
        content,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/people/credentials", methods=["GET", "POST"])
def credentials():
    actor = _actor()
    managed = services.managed_class_ids(db.session, actor, g.school)
    if managed is not None and not managed and Role.CLASS_HEAD not in g.school_roles:
        raise PermissionDenied(_("Only the e-diary administrator and class heads issue these."))
    classes = list(_class_labels(managed))
    source = request.form if request.method == "POST" else request.args
    class_id = parse_id(source.get("class"))
    include_in_use = source.get("include_in_use") == "1"
    selected = None
    if class_id is not None:
        selected = get_class(db.session, class_id)
        services.require_class_manager(db.session, actor, g.school, selected.id)
    context = {"classes": classes, "selected": selected, "include_in_use": include_in_use}
    if request.method == "GET":
        recipients = (
            services.class_recipients(db.session, actor, g.school, selected, include_in_use)
            if selected
            else []
        )
        return render_template(
            "people/credentials.html", recipients=recipients, error=None, **context
        )
    if selected is None:
        error = ServiceError(_("Choose a class."), field="class")
        return render_template(
            "people/credentials.html", recipients=[], error=error, **context
        ), 400
    try:
        slips = services.issue_class_credentials(
            db.session, actor, g.school, selected, include_in_use
        )
        content = slips_pdf(slips, g.school)
    except ServiceError as exc:
        db.session.rollback()
        recipients = services.class_recipients(
            db.session, actor, g.school, selected, include_in_use
        )
        return render_template(
            "people/credentials.html", recipients=recipients, error=exc, **context
        ), 400
    filename = f"credentials-{selected.name}.pdf"
    db.session.commit()
    return _pdf(content, filename)


@bp.post("/people/accounts/<int:account_id>/password")
def reset_password(account_id: int):
    """A new one-time password, shown once on the page or printed on a one-slip PDF."""
    actor = _actor()
    back = safe_next(request.form.get("back")) or url_for("people.index")
    try:
        slip = services.reset_password(db.session, actor, g.school, account_id)
        content = slips_pdf([slip], g.school) if request.form.get("format") == "pdf" else None
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    if content is not None:
        return _pdf(content, f"password-{slip.login}.pdf")
    return render_template(
        "one_time_password.html",
        name=slip.name,
        login=slip.login,
        password=slip.password,
        back=back,
    )
