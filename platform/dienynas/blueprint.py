"""App-wide pages: health check and the language switcher."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from dienynas.config import SUPPORTED_LOCALES
from dienynas.extensions import csrf, db
from dienynas.i18n import SESSION_KEY
from dienynas.jobs import redis_connection
from dienynas.urls import safe_next

bp = Blueprint("core", __name__)


@bp.get("/healthz")
@csrf.exempt
def healthz():
    """Database and Redis status for load balancers and monitoring (200 when both answer)."""
    status = {}
    try:
        db.session.execute(text("SELECT 1"))
        status["database"] = "ok"
    except Exception as exc:  # reported, not raised: this page must always answer
        status["database"] = f"error: {type(exc).__name__}"
    finally:
        db.session.rollback()
    try:
        redis_connection().ping()
        status["redis"] = "ok"
    except Exception as exc:  # reported, not raised
        status["redis"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in status.values())
    return jsonify(status=("ok" if healthy else "degraded"), **status), (200 if healthy else 503)


@bp.post("/language")
def set_language():
    """Remember the chosen language for this session and, when logged in, on the account."""
    locale = request.form.get("locale", "")
    if locale in SUPPORTED_LOCALES:
        session[SESSION_KEY] = locale
        if current_user.is_authenticated:
            from accounts.services import account_by_id, set_preferred_locale

            set_preferred_locale(db.session, account_by_id(db.session, current_user.id), locale)
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("accounts.home"))
