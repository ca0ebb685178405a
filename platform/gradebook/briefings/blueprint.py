"""Pages for safety instructions: the class's list with the form to record one, deleting, and
the sign-off sheet (PDF) the students sign."""

from __future__ import annotations

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.models import Role
from dienynas import clock
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_date, parse_id
from gradebook.briefings import services
from gradebook.briefings.models import TOPIC_MAX
from gradebook.briefings.sheets import sheet_pdf
from school.classes.services import get_class
from school.menu import menu_item
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("briefings", __name__)
menu_item(
    "briefings.index",
    _l("Safety instructions"),
    {Role.CLASS_HEAD, Role.TEACHER, Role.ADMIN, Role.DIRECTOR},
    order=47,
    section="daily",
)

#: The form's fields (an error naming another field is shown above the form).
FIELDS = ("on_day", "group_id", "given_by", "topic")


@bp.get("/briefings")
def index():
    """The classes whose instructions the account reads (one: straight to its list)."""
    classes = services.classes_for(db.session, current_user, g.school, clock.today())
    if len(classes) == 1:
        return redirect(url_for("briefings.for_class", class_id=classes[0].id))
    return render_template("briefings/index.html", classes=classes)


def _page(class_id: int, form: dict, error: ServiceError | None = None, status: int = 200):
    found = services.class_briefings(db.session, current_user, g.school, class_id)
    staff = services.staff_people(db.session, g.school) if found.access.records else []
    if not form:
        own = next((p for p in staff if p.account_id == current_user.id), None)
        first_group = found.groups[0].id if found.groups and not found.access.manages else ""
        form = {
            "on_day": clock.today().isoformat(),
            "group_id": first_group,
            "given_by": own.id if own else "",
            "topic": "",
        }
    whole_class = [("", _("The whole class"))] if found.access.manages else []
    return render_template(
        "briefings/class.html",
        found=found,
        group_options=whole_class + [(group.id, group.name) for group in found.groups],
        staff_options=[("", "–")]
        + [(person.id, f"{person.last_name} {person.first_name}") for person in staff],
        form=form,
        error=error,
        fields=FIELDS,
        topic_max=TOPIC_MAX,
    ), status


@bp.get("/classes/<int:class_id>/briefings")
def for_class(class_id: int):
    return _page(class_id, {})


@bp.post("/classes/<int:class_id>/briefings")
def record(class_id: int):
    form = {name: request.form.get(name, "").strip() for name in FIELDS}
    try:
        services.record_briefing(
            db.session, current_user, g.school,
            class_id=class_id,
            group_id=parse_id(form["group_id"]) if form["group_id"] else None,
            on_day=parse_date(form["on_day"], "on_day"),
            topic=form["topic"],
            given_by=parse_id(form["given_by"]),
            today=clock.today(),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _page(class_id, form, exc, 400)
    db.session.commit()
    flash(_("The safety instruction is recorded. Print its sheet for the students to sign."),
          "success")  # fmt: skip
    return redirect(url_for("briefings.for_class", class_id=class_id))


@bp.post("/classes/<int:class_id>/briefings/<int:briefing_id>/delete")
def delete(class_id: int, briefing_id: int):
    briefing = services.get_briefing(db.session, get_class(db.session, class_id), briefing_id)
    services.delete_briefing(db.session, current_user, g.school, briefing)
    db.session.commit()
    flash(_("The safety instruction is deleted."), "success")
    return redirect(url_for("briefings.for_class", class_id=class_id))


@bp.get("/classes/<int:class_id>/briefings/<int:briefing_id>/sheet.pdf")
def sheet(class_id: int, briefing_id: int):
    """The sheet the students sign, in the school's language."""
    pdf = sheet_pdf(db.session, current_user, g.school, class_id, briefing_id, clock.today())
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="safety-instruction-{briefing_id}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )
