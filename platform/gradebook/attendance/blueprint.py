"""Pages: a lesson's attendance form, guardians' excuses, the class head's excuses and the
monthly attendance summary of a class (also as CSV)."""

from __future__ import annotations

import io
from datetime import date, timedelta

from flask import flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from accounts.models import Role
from dienynas import clock
from dienynas.errors import PermissionDenied, ServiceError
from dienynas.extensions import db
from dienynas.files import Upload, attachment_response, request_uploads
from dienynas.forms import parse_date, parse_id, parse_month
from gradebook.access import require_class_head, require_group_reader, require_lesson_writer
from gradebook.attendance import services
from gradebook.attendance.models import Excuse
from gradebook.lessons.services import MAX_FILE_BYTES, get_lesson
from school.classes.models import SchoolClass
from school.classes.services import class_students, get_class
from school.menu import menu_item
from school.people.services import classes_of_current_year, get_student, headed_class_ids
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("attendance", __name__)
menu_item("attendance.excuses", _l("Excusing absences"), {Role.GUARDIAN}, order=61, section="daily")
menu_item(
    "attendance.classes",
    _l("Class attendance and excuses"),
    {Role.CLASS_HEAD, Role.ADMIN, Role.DIRECTOR},
    order=62,
    section="daily",
)

_LABELS = {
    "marks": services.MARK_LABELS,
    "reasons": services.REASON_LABELS,
    "statuses": services.STATUS_LABELS,
    "sources": services.SOURCE_LABELS,
}


# --- a lesson's attendance ----------------------------------------------------------------------


def _may_write(lesson) -> bool:
    try:
        require_lesson_writer(db.session, current_user, g.school, lesson)
    except PermissionDenied:
        return False
    return True


def _lesson_page(lesson, error: ServiceError | None = None, status: int = 200):
    today = clock.today()
    return render_template(
        "attendance/lesson.html",
        lesson=lesson,
        sheet=services.lesson_sheet(db.session, lesson),
        can_edit=_may_write(lesson),
        held=lesson.on_day <= today,
        form=request.form if error else {},
        error=error,
        **_LABELS,
    ), status


@bp.get("/lessons/<int:lesson_id>/attendance")
def lesson(lesson_id: int):
    lesson = get_lesson(db.session, lesson_id)
    if not _may_write(lesson):
        require_group_reader(db.session, current_user, g.school, lesson.group)
    return _lesson_page(lesson)


@bp.post("/lessons/<int:lesson_id>/attendance")
def mark_lesson(lesson_id: int):
    lesson = get_lesson(db.session, lesson_id)
    marks = {
        parse_id(key.removeprefix("mark-")) or 0: value
        for key, value in request.form.items()
        if key.startswith("mark-")
    }
    try:
        services.mark_lesson(db.session, current_user, g.school, lesson, marks, today=clock.today())
    except ServiceError as exc:
        db.session.rollback()
        return _lesson_page(lesson, exc, 400)
    db.session.commit()
    flash(_("The attendance is saved."), "success")
    return redirect(url_for("attendance.lesson", lesson_id=lesson.id))


# --- guardians ----------------------------------------------------------------------------------


def _read_span(form) -> tuple[date, date]:
    return parse_date(form.get("from_day"), "from_day"), parse_date(form.get("to_day"), "to_day")


def _document() -> Upload | None:
    """The file of the excuse form's document field, if one was chosen."""
    return next(iter(request_uploads(MAX_FILE_BYTES, field="document")), None)


def _guardian_page(error: ServiceError | None = None, status: int = 200):
    children = services.guardian_children(db.session, current_user)
    rows = services.excuses_of(db.session, [c.id for c in children])
    return render_template(
        "attendance/excuses.html",
        children=children,
        excuses=rows,
        # a guardian downloads the documents of the requests they sent
        downloadable={row.excuse.id for row in rows if services.sent_by(current_user, row.excuse)},
        form=request.form if error else {},
        error=error,
        today=clock.today(),
        quota=(services.ILLNESS_DAYS_A_MONTH, services.OTHER_DAYS_A_TERM),
        max_mb=MAX_FILE_BYTES // 2**20,
        **_LABELS,
    ), status


@bp.get("/excuses")
def excuses():
    return _guardian_page()


@bp.post("/excuses")
def request_excuse():
    form = request.form
    try:
        from_day, to_day = _read_span(form)
        result = services.request_excuse_by_guardian(
            db.session, current_user, g.school,
            student_id=parse_id(form.get("student_id")), from_day=from_day, to_day=to_day,
            reason=form.get("reason", ""), note=form.get("note"), today=clock.today(),
            document=_document(),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _guardian_page(exc, 400)
    db.session.commit()
    if result.over_quota:
        flash(
            _("The request is sent to the class head, because it is beyond what a guardian may "
              "excuse:"),
            "error",
        )  # fmt: skip
        for message in result.over_quota:
            flash(message, "error")
    else:
        flash(_("The absences are excused."), "success")
    return redirect(url_for("attendance.excuses"))


# --- class heads --------------------------------------------------------------------------------


@bp.get("/class-attendance")
def classes():
    """The classes whose attendance the account sees; the head of one class goes straight to
    its excuses."""
    headed = headed_class_ids(db.session, current_user)
    is_admin = Role.ADMIN in g.school_roles
    if g.school_roles & {Role.ADMIN, Role.DIRECTOR}:
        shown = classes_of_current_year(db.session, clock.today())
    else:
        shown = db.session.scalars(
            select(SchoolClass)
            .where(SchoolClass.id.in_(headed))
            .order_by(SchoolClass.grade_level, SchoolClass.letter)
        ).all()
        if len(shown) == 1:
            return redirect(url_for("attendance.class_excuses", class_id=shown[0].id))
    return render_template(
        "attendance/classes.html",
        classes=shown,
        excusable={c.id for c in shown if is_admin or c.id in headed},
    )


def _class_page(school_class: SchoolClass, error: ServiceError | None = None, status: int = 200):
    students = [student.person for student in class_students(db.session, school_class)]
    rows = services.excuses_of(db.session, [s.id for s in students])
    return render_template(
        "attendance/class_excuses.html",
        school_class=school_class,
        students=students,
        pending=[row for row in rows if row.excuse.status == "pending"],
        decided=[row for row in rows if row.excuse.status != "pending"],
        form=request.form if error else {},
        error=error,
        max_mb=MAX_FILE_BYTES // 2**20,
        **_LABELS,
    ), status


@bp.get("/classes/<int:class_id>/excuses")
def class_excuses(class_id: int):
    school_class = get_class(db.session, class_id)
    require_class_head(db.session, current_user, g.school, school_class)
    return _class_page(school_class)


@bp.post("/classes/<int:class_id>/excuses")
def excuse_by_class_head(class_id: int):
    school_class = get_class(db.session, class_id)
    require_class_head(db.session, current_user, g.school, school_class)
    form = request.form
    document = _document()
    try:
        from_day, to_day = _read_span(form)
        excuse = services.excuse_by_class_head(
            db.session, current_user, g.school,
            student_id=parse_id(form.get("student_id")), from_day=from_day, to_day=to_day,
            reason=form.get("reason", ""), note=form.get("note"), document=document,
        )  # fmt: skip
        excused = services.marks_excused(db.session, excuse)
    except ServiceError as exc:
        db.session.rollback()
        return _class_page(school_class, exc, 400)
    db.session.commit()
    flash(
        ngettext("%(num)d absence is excused.", "%(num)d absences are excused.", excused)
        if excused
        else _("The excuse is saved. No absence is marked on those days yet: those marked later "
               "are excused by it."),
        "success",
    )  # fmt: skip
    return redirect(url_for("attendance.class_excuses", class_id=school_class.id))


def _back_to_class(excuse: Excuse):
    student = get_student(db.session, excuse.student_id)
    if student.class_id is None:
        return redirect(url_for("attendance.classes"))
    return redirect(url_for("attendance.class_excuses", class_id=student.class_id))


@bp.post("/excuses/<int:excuse_id>/decision")
def decide(excuse_id: int):
    excuse = services.get_excuse(db.session, excuse_id)
    decision = request.form.get("decision")
    try:
        if decision not in ("approve", "reject"):
            raise ServiceError(_("Choose whether to excuse the absences or not."))
        services.decide_excuse(
            db.session, current_user, g.school, excuse,
            approve=decision == "approve", note=request.form.get("decision_note"),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back_to_class(excuse)
    db.session.commit()
    flash(
        _("The absences are excused.") if decision == "approve" else _("The request is refused."),
        "success",
    )
    return _back_to_class(excuse)


@bp.get("/excuses/<int:excuse_id>/document")
def document(excuse_id: int):
    excuse = services.get_excuse(db.session, excuse_id)
    return attachment_response(services.excuse_document(db.session, current_user, g.school, excuse))


# --- the monthly summary ------------------------------------------------------------------------


def _summary(class_id: int) -> tuple[services.MonthSummary, bool]:
    """The month's summary, and whether the account may excuse the class's absences."""
    school_class = get_class(db.session, class_id)
    may_excuse = services.require_summary_reader(db.session, current_user, g.school, school_class)
    month = parse_month(request.args.get("month"), clock.today())
    return services.month_summary(db.session, school_class, month), may_excuse


def _bad_month(exc: ServiceError):
    title = _("Something went wrong")
    return render_template("error.html", code=400, title=title, message=exc.message), 400


@bp.get("/classes/<int:class_id>/attendance")
def summary(class_id: int):
    try:
        summary, may_excuse = _summary(class_id)
    except ServiceError as exc:
        return _bad_month(exc)
    month = summary.month
    return render_template(
        "attendance/summary.html",
        summary=summary,
        previous=(month - timedelta(days=1)).strftime("%Y-%m"),
        next=(month + timedelta(days=31)).strftime("%Y-%m"),
        can_excuse=may_excuse,
    )


@bp.get("/classes/<int:class_id>/attendance.csv")
def summary_csv(class_id: int):
    try:
        summary, _may_excuse = _summary(class_id)
    except ServiceError as exc:
        return _bad_month(exc)
    name = f"{summary.school_class.name}-attendance-{summary.month:%Y-%m}.csv"
    return send_file(
        io.BytesIO(services.summary_csv(summary)),
        mimetype="text/csv",
        as_attachment=True,
        download_name=name,
    )
