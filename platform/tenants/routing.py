"""School-scoped routing: every school page lives under ``/s/<slug>/``.

A feature's school pages use ``SchoolBlueprint`` instead of ``Blueprint``. Before the view runs,
the school is resolved from the URL (unknown: 404; suspended or being set up: a clear page),
the database session is bound to the school (tenants.binding), and the user must be logged in
and hold a role in that school (403 otherwise). ``g.school`` and ``g.school_roles`` are set.
"""

from __future__ import annotations

from typing import Any

import flask_babel
from flask import Blueprint, abort, g, render_template, session
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from accounts import identity
from dienynas.errors import PermissionDenied
from dienynas.extensions import db, login_manager
from tenants.models import School, SchoolStatus
from tenants.services import find_and_bind_school, find_and_bind_statement


class SchoolUnavailable(HTTPException):
    """The school exists but its pages are closed (suspended, archived, being set up)."""

    def __init__(self, school: School) -> None:
        self.school = school
        self.code = 503 if school.status == SchoolStatus.PROVISIONING else 403
        super().__init__()

    def get_response(self, environ=None, scope=None):
        from flask import make_response

        body = render_template("tenants/unavailable.html", school=self.school)
        return make_response(body, self.code)


#: The school, its binding, and the signed-in account (accounts.identity): one round trip.
_SCHOOL_AND_ACCOUNT = find_and_bind_statement(identity.SIGNED_IN)


def _resolve_school(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values is None or "slug" not in values:
        abort(404)
    slug = values.pop("slug")
    # the account id Flask-Login's session carries; the user loader still checks the rest
    account_id = identity.account_id_of(session.get("_user_id"))
    row = find_and_bind_school(db.session, slug, _SCHOOL_AND_ACCOUNT, signed_in_id=account_id)
    if row is None:
        abort(404)
    school, signed_in = row[0], row[-1]
    identity.preload(identity.from_json(signed_in))
    g.school = school
    if school.status != SchoolStatus.ACTIVE:
        raise SchoolUnavailable(school)


def _require_member():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    from accounts.services import require_member

    try:
        g.school_roles = require_member(current_user, g.school)
    except PermissionDenied:
        # An outsider's error page shows nothing of the school, its language included: the
        # language is chosen again without it, and the refusal said in that language.
        g.pop("school")
        flask_babel.refresh()
        raise PermissionDenied(_("You have no role in this school.")) from None
    return None


def _add_slug(endpoint: str, values: dict[str, Any]) -> None:
    if "slug" not in values and g.get("school") is not None:
        values["slug"] = g.school.slug


class SchoolBlueprint(Blueprint):
    def __init__(self, name: str, import_name: str, **kwargs: Any) -> None:
        kwargs.setdefault("url_prefix", "/s/<slug>")
        kwargs.setdefault("template_folder", "templates")
        super().__init__(name, import_name, **kwargs)
        self.url_value_preprocessor(_resolve_school)
        self.url_defaults(_add_slug)
        self.before_request(_require_member)
