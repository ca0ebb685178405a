"""The school's own pages (under /s/<slug>/)."""

from __future__ import annotations

from flask import g, render_template

from accounts.models import ROLE_LABELS, Role
from dienynas import clock
from dienynas.extensions import db
from school.calendar.services import current_year
from school.menu import sections_for
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("school", __name__)


@bp.get("/")
def home():
    """The school's home: the school and what the user is here."""
    roles = sorted(g.school_roles, key=list(Role).index)
    return render_template(
        "school/home.html",
        school=g.school,
        roles=[ROLE_LABELS[r] for r in roles],
        year=current_year(db.session, clock.today()),
        menu=sections_for(g.school_roles),
    )
