"""``/api/v1``: read endpoints of the diary for students and guardians, with personal tokens
(``Authorization: Bearer <token>``), and the page where an account manages its tokens.

The API uses no session or cookie: every request carries its token, and answers are JSON,
errors too (``{"error", "message"}``, the message in the account's language). It is GET only,
so CSRF protection (for forms) does not apply to it.

Its endpoints are a blueprint of their own (``v1``, nested in ``bp``) so that every error of
theirs is JSON while the token page keeps the application's error pages; an address under
``/api/v1`` that no endpoint matches fails before any blueprint is known and is answered by
:func:`_unrouted`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from accounts.identity import Principal
from accounts.models import Account
from accounts.services import roles_in_school, schools_of
from api import schemas, services
from dienynas import clock
from dienynas.config import DEFAULT_LOCALE, SUPPORTED_LOCALES
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_optional_date
from dienynas.i18n import in_locale
from gradebook.diary.services import diary_students, diary_week, parse_week
from tenants.binding import unbind_session
from tenants.models import School, SchoolStatus
from tenants.services import bind_to_school

bp = Blueprint("api", __name__, template_folder="templates")
PREFIX = "/api/v1"
v1 = Blueprint("v1", __name__, url_prefix=PREFIX)
bp.register_blueprint(v1)

#: The ``error`` of an HTTP status (``server_error`` for any 5xx, else ``bad_request``).
_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
}


def _locale(account: Account | None = None) -> str:
    if account is not None and account.locale in SUPPORTED_LOCALES:
        return account.locale
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or DEFAULT_LOCALE


def _error(status: int, code: str, message: str):
    response = jsonify(error=code, message=message)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="dienynas"'
    return response


def _reader_locale() -> str:
    """The language of an error answered outside :func:`api_view`: the account's when the
    request carries a valid token, else the Accept-Language."""
    try:
        account = services.authenticate(
            db.session, request.headers.get("Authorization"), clock.today(), _locale()
        )
    except services.TokenRefused:
        return _locale()
    return _locale(account)


@v1.errorhandler(HTTPException)
@v1.errorhandler(400)
@v1.errorhandler(403)
@v1.errorhandler(404)
@v1.errorhandler(413)
@v1.errorhandler(500)
def _http_error(exc: HTTPException):
    """Any other error of the API as JSON in the reader's language: an unknown address (an id
    that is not a number a database holds too), a method the API has not, a server error. The
    codes the application answers with its pages are named, as Flask looks handlers up by
    code before it looks them up by class."""
    db.session.rollback()  # a failed statement's transaction; the token is read anew
    unbind_session(db.session)
    status = exc.code or 500
    with in_locale(_reader_locale()):
        if status == 404:
            message = _(
                "There is no such address in the API; its addresses are listed in %(document)s.",
                document=f"{PREFIX}/openapi.json",
            )
        elif status == 405:
            message = _("The API only reads: send GET requests.")
        elif status >= 500:
            message = _("Something went wrong on the server. Please try again later.")
        else:
            message = _("The request could not be understood.")
    code = _ERROR_CODES.get(status, "server_error" if status >= 500 else "bad_request")
    response = _error(status, code, message)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


@bp.before_app_request
def _unrouted():
    """An address under ``/api/v1`` that no endpoint matches, or a method it does not answer:
    the JSON error instead of the application's page (routing fails before a blueprint, and
    so its error handlers, is known)."""
    exc = request.routing_exception
    in_api = request.path == PREFIX or request.path.startswith(f"{PREFIX}/")
    if in_api and isinstance(exc, HTTPException) and exc.code and exc.code >= 400:
        return _http_error(exc)
    return None


def api_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """Authenticate the token, answer in the account's language, turn refusals into JSON."""

    @wraps(view)
    def wrapper(**kwargs: Any):
        try:
            account = services.authenticate(
                db.session, request.headers.get("Authorization"), clock.today(), _locale()
            )
        except services.TokenRefused as exc:
            return _error(401, "unauthorized", exc.message)
        with in_locale(_locale(account)):
            try:
                return jsonify(view(account, **kwargs))
            except PermissionDenied as exc:
                return _error(403, "forbidden", exc.message)
            except NotFound as exc:
                return _error(404, "not_found", exc.message)
            except ServiceError as exc:
                return _error(400, "bad_request", exc.message)

    return wrapper


def _bind_school(account: Principal, slug: str) -> School:
    """The school of the URL, bound; 404 unknown (or closed), 403 without a role there."""
    school = next((gr.school for gr in account.grants if gr.school.slug == slug.lower()), None)
    if school is None:
        school = db.session.scalar(select(School).where(School.slug == slug.lower()))
        if school is not None and school.status == SchoolStatus.ACTIVE:
            raise PermissionDenied(_("You have no role in this school."))
    if school is None or school.status != SchoolStatus.ACTIVE:
        raise NotFound(_("There is no such school."))
    bind_to_school(db.session, school)
    return school


@v1.get("/me")
@api_view
def me(account: Principal) -> dict[str, Any]:
    """The account, its schools and in each the students whose diary it reads (each school
    read in a transaction of its own)."""
    schools = []
    for school in schools_of(account):
        db.session.close()  # ends the transaction; the account and its grants stay loaded
        bind_to_school(db.session, school)
        own = diary_students(db.session, account, school).own
        schools.append(
            {
                "slug": school.slug,
                "name": school.name,
                "roles": sorted(str(r) for r in roles_in_school(account, school)),
                "students": own,
            }
        )
    db.session.close()
    unbind_session(db.session)
    return schemas.MeSchema().dump({"account": account, "schools": schools})


@v1.get("/schools/<slug>/students/<int:student_id>/diary")
@api_view
def student_diary(account: Principal, slug: str, student_id: int) -> dict[str, Any]:
    monday = parse_week(request.args.get("week"), clock.today())
    school = _bind_school(account, slug)
    student = diary_students(db.session, account, school, student_id).chosen
    week = diary_week(db.session, [student.id], monday, _locale(account))
    return schemas.DiaryWeekSchema().dump(week)


@v1.get("/schools/<slug>/students/<int:student_id>/grades")
@api_view
def student_grades(account: Principal, slug: str, student_id: int) -> dict[str, Any]:
    first = parse_optional_date(request.args.get("from"), "from")
    last = parse_optional_date(request.args.get("to"), "to")
    if first is not None and last is not None and first > last:
        raise ServiceError(_("“from” must not be after “to”."), field="from")
    school = _bind_school(account, slug)
    student = diary_students(db.session, account, school, student_id).chosen
    grades = services.student_grades(db.session, student.id, first, last, _locale(account))
    return schemas.GradesSchema().dump(
        {"student_id": student.id, "date_from": first, "date_to": last, "grades": grades}
    )


@v1.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "401": _json("Error", "No token, or an unknown, revoked or expired one."),
    "403": _json("Error", "The account may not read this (not its school, not its child)."),
    "404": _json("Error", "No such school, or no such student in the school."),
}
_SCHOOL_STUDENT = [
    {"in": "path", "name": "slug", "required": True, "schema": {"type": "string"}},
    {"in": "path", "name": "student_id", "required": True, "schema": {"type": "integer"}},
]


def _date_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "in": "query",
        "name": name,
        "required": False,
        "description": description,
        "schema": {"type": "string", "format": "date"},
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3 document of ``/api/v1``, built from the marshmallow schemas."""
    spec = APISpec(
        title="Dienynas API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Read a student's or a guardian's diary. Create a token on the page "
            "/account/api-tokens and send it as 'Authorization: Bearer <token>'. Every error, "
            "an unknown address or method too, is an Error in the account's language (without "
            "a valid token: the Accept-Language's)."
        },
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name, schema in (
        ("Error", schemas.ErrorSchema),
        ("Me", schemas.MeSchema),
        ("DiaryWeek", schemas.DiaryWeekSchema),
        ("Grades", schemas.GradesSchema),
    ):
        spec.components.schema(name, schema=schema)
    secured = {"security": [{"bearer": []}]}
    spec.path(
        path=f"{PREFIX}/me",
        operations={
            "get": {
                **secured,
                "summary": "The account, its schools and the students it reads in each.",
                "responses": {"200": _json("Me", "The account."), "401": _ERRORS["401"]},
            }
        },
    )
    spec.path(
        path=f"{PREFIX}/schools/{{slug}}/students/{{student_id}}/diary",
        operations={
            "get": {
                **secured,
                "summary": "A week of the student's diary.",
                "parameters": [
                    *_SCHOOL_STUDENT,
                    _date_parameter("week", "Any day of the week (default: this week)."),
                ],
                "responses": {
                    "200": _json("DiaryWeek", "The week."),
                    "400": _json("Error", "The week is not a date (YYYY-MM-DD)."),
                    **_ERRORS,
                },
            }
        },
    )
    spec.path(
        path=f"{PREFIX}/schools/{{slug}}/students/{{student_id}}/grades",
        operations={
            "get": {
                **secured,
                "summary": "The student's grades from one day to another (both optional).",
                "parameters": [
                    *_SCHOOL_STUDENT,
                    _date_parameter("from", "The first day (inclusive)."),
                    _date_parameter("to", "The last day (inclusive)."),
                ],
                "responses": {
                    "200": _json("Grades", "The grades, oldest first."),
                    "400": _json("Error", "A date is wrong, or 'from' is after 'to'."),
                    **_ERRORS,
                },
            }
        },
    )
    return spec.to_dict()


# --- the account's tokens (a page of the web application) -------------------------------------


def _tokens_page(error: ServiceError | None = None, secret: str | None = None, status: int = 200):
    today = clock.today()
    tokens = services.list_tokens(db.session, current_user)
    return render_template(
        "api/tokens.html",
        tokens=[(t, services.is_active(t, today)) for t in tokens],
        error=error,
        secret=secret,
        today=today,
    ), status


@bp.get("/account/api-tokens")
@login_required
def tokens():
    return _tokens_page()


@bp.post("/account/api-tokens")
@login_required
def create_token():
    try:
        _token, secret = services.create_token(
            db.session,
            current_user,
            name=request.form.get("name", ""),
            expires_on=request.form.get("expires_on"),
            today=clock.today(),
        )
    except ServiceError as exc:
        db.session.rollback()
        return _tokens_page(exc, status=400)
    db.session.commit()
    # Shown on this answer only: the token is not stored, so it cannot be shown again.
    return _tokens_page(secret=secret)


@bp.post("/account/api-tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    token = services.revoke_token(db.session, current_user, token_id)
    db.session.commit()
    flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(url_for("api.tokens"))
