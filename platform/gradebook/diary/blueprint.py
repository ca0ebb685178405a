"""The diary pages: a student's week in one school, and a guardian's children in every school.

``/s/<slug>/diary`` (``diary.week``) is a school page; ``/diary`` (``diaries.index``) is a
municipality-level page that visits each of the account's schools in its own bound transaction.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, g, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from accounts.models import FAMILY_ROLES
from dienynas import clock
from dienynas.errors import NotFound, ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_id
from gradebook.attendance.services import MARK_LABELS
from gradebook.diary import cache, services
from gradebook.remarks.services import KINDS as REMARK_KINDS
from school.menu import menu_item
from tenants.binding import unbind_session
from tenants.routing import SchoolBlueprint
from tenants.services import bind_to_school

bp = SchoolBlueprint("diary", __name__)
menu_item("diary.week", _l("Diary"), FAMILY_ROLES, order=5, section="daily")

#: The municipality-level page (not under /s/<slug>/), registered with ``bp``.
all_schools = Blueprint("diaries", __name__, template_folder="templates")
bp.record_once(lambda state: state.app.register_blueprint(all_schools))


def _error(message: str, status: int):
    return render_template("error.html", code=status, title=_("Diary"), message=message), status


@bp.get("/diary")
def week():
    try:
        monday = services.parse_week(request.args.get("week"), clock.today())
    except ServiceError as exc:
        return _error(exc.message, 400)
    asked = request.args.get("student")
    student_id = parse_id(asked)
    if asked is not None and student_id is None:
        raise NotFound(_("This school has no such student."))
    readers = services.diary_students(db.session, current_user, g.school, student_id)
    student, today, locale = readers.chosen, clock.today(), str(get_locale())

    def render_page(**keeping: object) -> str:
        week_html = None
        if student is not None:
            diary = services.diary_week(db.session, [student.id], monday, locale)
            week_html = Markup(
                render_template(
                    "diary/_week.html",
                    student=student,
                    week=diary,
                    sw=diary.students[0] if diary.students else None,
                    previous_week=monday - timedelta(days=7),
                    next_week=monday + timedelta(days=7),
                    today=today,
                    marks=MARK_LABELS,
                    remark_kinds=REMARK_KINDS,
                )
            )
        return render_template(
            "diary/week.html",
            own=readers.own,
            student=student,
            monday=monday,
            week_html=week_html,
            other_schools=len(services.diary_schools(current_user)) > 1,
            **keeping,
        )

    if student is None:
        return render_page()
    return cache.kept_page(
        school=g.school,
        revision=readers.revision,
        student_id=student.id,
        monday=monday,
        locale=locale,
        today=today,
        render=render_page,
    )


@all_schools.get("/diary")
@login_required
def index():
    """Every child (or the student's own record) in every school, one school at a time."""
    locale = str(get_locale())
    monday = services.week_of(clock.today())
    schools = []
    for school in services.diary_schools(current_user):
        # Each school in a transaction of its own. Closing (not rolling back) the session ends
        # the transaction without expiring the account and its grants, already loaded.
        db.session.close()
        bind_to_school(db.session, school)
        own = services.diary_students(db.session, current_user, school).own
        diary = services.diary_week(db.session, [s.id for s in own], monday, locale)
        schools.append((school, diary))
    db.session.close()
    unbind_session(db.session)
    return render_template(
        "diary/all_schools.html", schools=schools, monday=monday, marks=MARK_LABELS
    )
