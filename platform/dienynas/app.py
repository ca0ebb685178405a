"""The application factory."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from flask import Flask, g, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from dienynas import config
from dienynas.database import configure_engine
from dienynas.errors import NotFound, PermissionDenied
from dienynas.extensions import babel, csrf, db, login_manager
from dienynas.forms import UnsavableCharacter, apply_body_limit, refuse_nul_characters
from dienynas.i18n import (
    LANGUAGE_NAMES,
    format_day,
    format_file_size,
    format_timestamp,
    select_locale,
    template_translations,
)
from dienynas.names import namesake_marks
from dienynas.urls import DatabaseIdConverter

#: Feature packages; each may have blueprint.py (``bp``), tasks.py and cli.py.
FEATURES = (
    "dienynas",
    "tenants",
    "accounts",
    "school",
    "school.calendar",
    "school.curriculum",
    "school.classes",
    "school.timetable",
    "school.people",
    "school.locks",
    "school.health",
    "school.imports",
    "gradebook.settings",
    "gradebook.lessons",
    "gradebook.attendance",
    "gradebook.grades",
    "gradebook.planning",
    "gradebook.remarks",
    "gradebook.journal",
    "gradebook.diary",
    "gradebook.overview",
    "gradebook.archive",
    "gradebook.erasure",
    "gradebook.briefings",
    "notifications",
    "notifications.messages",
    "notifications.announcements",
    "api",
    "transfers",
)

#: Endpoints a user who must change the password may still reach.
_OPEN_WHEN_PASSWORD_EXPIRED = {
    "accounts.change_password",
    "accounts.logout",
    "core.set_language",
    "core.healthz",
    "static",
}


def create_app(overrides: dict[str, Any] | None = None, *, check_services: bool = True) -> Flask:
    app = Flask("dienynas", static_folder=None)
    app.config.update(config.load(overrides, check_services=check_services))
    if proxies := app.config["PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.url_map.converters["int"] = DatabaseIdConverter
    app.static_folder = "static"
    app.add_url_rule("/static/<path:filename>", "static", app.send_static_file)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for chatty in ("weasyprint", "fontTools", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    app.before_request(apply_body_limit)  # before the CSRF check reads the form
    app.before_request(refuse_nul_characters)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    for feature in FEATURES:
        for module_name in ("blueprint", "tasks"):
            try:
                module = importlib.import_module(f"{feature}.{module_name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{feature}.{module_name}":
                    raise
                continue
            if module_name == "blueprint":
                app.register_blueprint(module.bp)

    _register_request_hooks(app)
    _register_error_pages(app)
    _register_template_helpers(app)
    return app


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def force_password_change():
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in _OPEN_WHEN_PASSWORD_EXPIRED
        ):
            return redirect(url_for("accounts.change_password", next=request.full_path))
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _register_error_pages(app: Flask) -> None:
    def page(code: int, title: str, message: str):
        return render_template("error.html", code=code, title=title, message=message), code

    @app.errorhandler(400)
    def bad_request(exc):
        return page(
            400,
            _("Something went wrong"),
            _("The request could not be understood. Go back, reload the page and try again."),
        )

    @app.errorhandler(CSRFError)
    def form_expired(exc):
        return page(
            400,
            _("Something went wrong"),
            _(
                "The form has expired (or you were logged out meanwhile). Go back: what you "
                "typed is still there; copy it, reload the page, paste it and send again."
            ),
        )

    @app.errorhandler(UnsavableCharacter)
    def unsavable_character(exc):
        return page(
            400,
            _("Something went wrong"),
            _(
                "The text holds an invisible character that cannot be saved (copying from some "
                "documents leaves one). Go back, type the text or paste it as plain text, and "
                "send again."
            ),
        )

    @app.errorhandler(413)
    def too_large(exc):
        return page(413, _("Something went wrong"), _("The file or the form is too large."))

    @app.errorhandler(403)
    def forbidden(exc):
        return page(403, _("Access denied"), _("You do not have access to this page."))

    @app.errorhandler(PermissionDenied)
    def permission_denied(exc: PermissionDenied):
        return page(403, _("Access denied"), exc.message)

    @app.errorhandler(404)
    def not_found(exc):
        return page(404, _("Page not found"), _("There is no such page here."))

    @app.errorhandler(NotFound)
    def service_not_found(exc: NotFound):
        return page(404, _("Not found"), exc.message)

    @app.errorhandler(500)
    def server_error(exc):
        db.session.rollback()
        return page(
            500,
            _("Something went wrong"),
            _("Nothing was saved. Please try again; if it happens again, tell your administrator."),
        )


def _register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["date"] = format_day
    app.jinja_env.filters["datetime"] = format_timestamp
    app.jinja_env.filters["decimal"] = format_decimal
    app.jinja_env.filters["file_size"] = format_file_size
    app.jinja_env.globals["namesake_marks"] = namesake_marks

    @app.context_processor
    def layout_context():
        from accounts.services import schools_of

        schools = schools_of(current_user) if current_user.is_authenticated else []
        return {
            "languages": LANGUAGE_NAMES,
            "current_locale": str(select_locale()),
            "current_school": g.get("school"),
            "my_schools": schools,
            **template_translations(),
        }
