"""Pages for transfers: a student leaving for another school, the municipality's pool of
unassigned students (search, claim, return a mistaken claim), a transfer's page with the
leaving-student extract, and the municipality's oversight (``/municipality/transfers``).

Thin views: read the form, call ``transfers.services`` (the rules, the permissions), record the
transfer's notifications in the same transaction (``notifications.transfers``), commit once;
after the commit enqueue the extract job. A refused rule rolls back and shows the page again
with the message.
"""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts.models import Account, Role
from accounts.services import require_operator
from dienynas import clock
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_date, parse_id, parse_optional_date, parse_optional_int
from gradebook.attendance.services import MARK_LABELS
from gradebook.remarks.services import KINDS as REMARK_KINDS
from school.calendar.models import term_label
from school.menu import menu_item
from school.people import services as people
from tenants.models import School, SchoolStatus
from tenants.routing import SchoolBlueprint
from transfers import services
from transfers.models import DESTINATION_KINDS, PoolEntry
from transfers.tasks import enqueue_extract

bp = SchoolBlueprint("transfers", __name__)
#: The municipality's oversight lives beside the console (operators only), not under a school.
oversight = Blueprint(
    "transfers_oversight", __name__, url_prefix="/municipality", template_folder="templates"
)
bp.record_once(lambda state: state.app.register_blueprint(oversight))

menu_item(
    "transfers.pool",
    _l("Pool of unassigned students"),
    {Role.ADMIN, Role.DIRECTOR},
    56,
    section="people",
)

#: The pool page's filter fields (query string).
_FILTERS = ("q", "birth_date", "personal_code", "grade_level", "from_school", "min_days")


def _actor() -> Account:
    return current_user._get_current_object()


def _other_schools() -> list[School]:
    """The municipality's open schools other than this one (destinations, filters)."""
    return list(
        db.session.scalars(
            select(School)
            .where(School.status == SchoolStatus.ACTIVE, School.id != g.school.id)
            .order_by(School.name)
        )
    )


def _entry_for_reader(pool_id: int) -> PoolEntry:
    entry = services.get_entry(db.session, pool_id)
    if not services.may_read_record(_actor(), g.school, entry):
        raise PermissionDenied(_("Only the schools involved in this transfer may see it."))
    return entry


# --- leaving ----------------------------------------------------------------------------------


def _leave_page(student, form: dict, error: ServiceError | None = None, status: int = 200):
    return render_template(
        "transfers/leave.html",
        student=student,
        form=form,
        error=error,
        schools=_other_schools(),
        destinations=[(k, services.DESTINATION_LABELS[k]) for k in DESTINATION_KINDS],
    ), status


@bp.get("/transfers/leave/<int:student_id>")
def leave(student_id: int):
    student = people.get_student(db.session, student_id)
    people.require_class_manager(db.session, _actor(), g.school, student.class_id)
    form = {"left_on": clock.today().isoformat(), "destination_kind": "municipality"}
    return _leave_page(student, form)


@bp.post("/transfers/leave/<int:student_id>")
def leave_post(student_id: int):
    student = people.get_student(db.session, student_id)
    people.require_class_manager(db.session, _actor(), g.school, student.class_id)
    form = {k: request.form.get(k, "").strip() for k in
            ("left_on", "reason", "destination_kind", "to_school_id")}  # fmt: skip
    try:
        entry = services.leave_student(
            db.session, _actor(), g.school,
            student_id=student.person_id,
            left_on=parse_date(form["left_on"], "left_on"),
            reason=form["reason"] or None,
            destination_kind=form["destination_kind"],
            to_school_id=(parse_id(form["to_school_id"])
                          if form["destination_kind"] == "municipality" else None),
            today=clock.today(),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _leave_page(student, form, exc, 400)
    pool_id = entry.id
    db.session.commit()
    enqueue_extract(pool_id)
    flash(
        _("%(name)s has left the school and is in the pool of unassigned students; the extract "
          "is being prepared.", name=student.person.full_name),
        "success",
    )  # fmt: skip
    return redirect(url_for("transfers.entry", pool_id=pool_id))


# --- the pool ---------------------------------------------------------------------------------


def _pool_page(error: ServiceError | None = None, status: int = 200):
    actor = _actor()
    if not services.may_see_pool(actor, g.school):
        raise PermissionDenied(_("Only the school's director and administrator see the pool."))
    today = clock.today()
    args = {k: request.args.get(k, "").strip() for k in _FILTERS}
    rows: list[services.PoolRow] = []
    try:
        rows = services.search_pool(
            db.session,
            school=g.school,
            text=args["q"] or None,
            birth_date=parse_optional_date(args["birth_date"], "birth_date"),
            personal_code=args["personal_code"] or None,
            grade_level=parse_optional_int(args["grade_level"], "grade_level", 1, 12),
            from_school_id=parse_id(args["from_school"]),
            min_days=parse_optional_int(args["min_days"], "min_days", 0, 3650),
            today=today,
        )
    except ServiceError as exc:
        error, status = error or exc, 400
    schools = list(
        db.session.scalars(
            select(School).where(School.status == SchoolStatus.ACTIVE).order_by(School.name)
        )
    )
    can_claim = services.may_claim(actor, g.school)
    return render_template(
        "transfers/pool.html",
        rows=rows,
        args=args,
        error=error,
        schools=schools,
        class_years=people.open_classes(db.session, today) if can_claim else [],
        can_claim=can_claim,
        ours=services.entries_of_school(db.session, g.school),
        school_names={s.id: s.name for s in schools},
        destination_labels=services.DESTINATION_LABELS,
    ), status


@bp.get("/transfers/pool")
def pool():
    return _pool_page()


@bp.post("/transfers/pool/<int:pool_id>/claim")
def claim(pool_id: int):
    class_id = parse_id(request.form.get("class_id"))
    try:
        if class_id is None:
            raise ServiceError(_("Choose the class the student joins."), field="class_id")
        services.claim_student(
            db.session, _actor(), g.school, pool_id=pool_id, class_id=class_id,
            today=clock.today(),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _pool_page(exc, 409)
    db.session.commit()
    # the answer is a page of its own: reloading it does not send the claim again
    return redirect(url_for("transfers.claimed", pool_id=pool_id))


@bp.get("/transfers/<int:pool_id>/claimed")
def claimed(pool_id: int):
    """What the claim carried over, for the school that claimed the student."""
    found = _entry_for_reader(pool_id)
    summary = services.claim_summary(db.session, found)
    if found.status != "claimed" or found.claimed_school_id != g.school.id or summary is None:
        return redirect(url_for("transfers.entry", pool_id=pool_id))
    return render_template("transfers/claimed.html", summary=summary, entry=found)


@bp.get("/transfers/<int:pool_id>/return")
def confirm_return(pool_id: int):
    found = _entry_for_reader(pool_id)
    if not _returnable(found):
        return redirect(url_for("transfers.entry", pool_id=pool_id))
    return render_template(
        "transfers/return.html", entry=found, summary=services.claim_summary(db.session, found)
    )


@bp.post("/transfers/<int:pool_id>/return")
def return_to_pool(pool_id: int):
    try:
        services.return_to_pool(
            db.session, _actor(), g.school, pool_id=pool_id, today=clock.today()
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("transfers.entry", pool_id=pool_id))
    db.session.commit()
    flash(_("The student is back in the pool of unassigned students."), "success")
    return redirect(url_for("transfers.pool"))


# --- one transfer -----------------------------------------------------------------------------


def _returnable(found: PoolEntry) -> bool:
    """Whether this school's user may return the claim to the pool now (the service decides
    again on the request, with the rules that need the database)."""
    return (
        found.status == "claimed"
        and found.claimed_school_id == g.school.id
        and services.may_claim(_actor(), g.school)
        and found.claimed_at is not None
        and clock.today()
        <= clock.local_date(found.claimed_at) + timedelta(days=services.RETURN_DAYS)
    )


@bp.get("/transfers/<int:pool_id>")
def entry(pool_id: int):
    found = _entry_for_reader(pool_id)
    claimed_here = found.status == "claimed" and found.claimed_school_id == g.school.id
    return render_template(
        "transfers/entry.html",
        entry=found,
        claimed_here=claimed_here,
        returnable=_returnable(found),
        return_days=services.RETURN_DAYS,
        destination=services.destination_text(db.session, found),
        log=services.transfer_log_rows(db.session, pool_id=found.id),
    )


@bp.get("/transfers/<int:pool_id>/extract.pdf")
def extract(pool_id: int):
    found = _entry_for_reader(pool_id)
    if found.extract_pdf is None:
        raise NotFound(_("The extract is still being prepared; try again in a minute."))
    return Response(
        found.extract_pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="extract-{found.id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/transfers/students/<int:student_id>/carried")
def carried(student_id: int):
    """What came with the student from other schools and has no place in this school's
    journals: grades of subjects or terms without a match, attendance, remarks."""
    student, history = services.carried_history(db.session, _actor(), g.school, student_id)
    return render_template(
        "transfers/carried.html",
        student=student,
        history=history,
        marks=MARK_LABELS,
        remark_kinds=REMARK_KINDS,
        term_label=term_label,
    )


# --- the municipality's oversight -------------------------------------------------------------


@oversight.before_request
@login_required
def operators_only():
    require_operator(current_user)


@oversight.get("/transfers")
def overview():
    today = clock.today()
    return render_template(
        "transfers/municipality.html",
        overview=services.pool_overview(db.session, today),
        log=services.transfer_log_rows(db.session),
        stale_days=services.STALE_DAYS,
    )
