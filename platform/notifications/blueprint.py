"""Notification pages: the inbox and the bell's count, the recipient's settings, and the
administrator's delivery list with retry."""

from __future__ import annotations

import logging

import redis
from flask import (
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from accounts.models import FAMILY_ROLES, Role
from accounts.services import require_role
from dienynas import clock
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.forms import parse_id, parse_time
from notifications import services
from notifications import settings as school_settings_service
from notifications.models import CHANNELS, STATES
from notifications.tasks import enqueue_sends
from school.menu import menu_item
from tenants.routing import SchoolBlueprint

log = logging.getLogger(__name__)

bp = SchoolBlueprint("notifications", __name__)
menu_item(
    "notifications.inbox",
    _l("Notifications"),
    FAMILY_ROLES,
    order=15,
    section="daily",
)
menu_item(
    "notifications.deliveries",
    _l("Notification deliveries"),
    {Role.ADMIN},
    order=85,
    section="admin",
)
menu_item(
    "notifications.school_settings",
    _l("Digest time and quiet hours"),
    {Role.ADMIN},
    order=86,
    section="setup",
)


@bp.get("/notifications")
def inbox():
    items = services.inbox(
        db.session, current_user, g.school_roles, clock.today(),
        include_email=not current_app.config.get("SMTP_URL"),
    )  # fmt: skip
    return render_template("notifications/inbox.html", items=items)


#: Session counter of the reader's "mark as read" actions: part of the bell's address, so that
#: reading notifications fetches a fresh count instead of the browser's kept one.
READ_COUNTER = "notifications_read"
#: How long a browser may reuse the bell's count while the reader moves from page to page.
BELL_MAX_AGE = 60


@bp.get("/notifications/unread.json")
def unread():
    """The bell's count, loaded by the browser so that no page pays a query for it, and kept
    by the browser for a minute so that the evening's page-to-page reading does not ask again
    each time (a new notification shows within a minute; reading one, at once)."""
    response = jsonify(unread=services.unread_count(db.session, current_user))
    response.cache_control.private = True
    response.cache_control.max_age = BELL_MAX_AGE
    return response


@bp.post("/notifications/read")
def mark_read():
    delivery_id = parse_id(request.form.get("id"))
    services.mark_read(db.session, current_user, delivery_id)
    db.session.commit()
    session[READ_COUNTER] = session.get(READ_COUNTER, 0) + 1
    return redirect(url_for("notifications.inbox"))


def _settings_page(modes: dict, error: ServiceError | None = None, status: int = 200):
    return render_template(
        "notifications/settings.html",
        modes=modes,
        kinds={k: services.KIND_LABELS[k] for k in services.kinds_for(g.school_roles)},
        channels={c: services.CHANNEL_LABELS[c] for c in CHANNELS},
        offered={
            c: {m: services.MODE_LABELS[m] for m in modes}
            for c, modes in services.OFFERED_MODES.items()
        },
        error=error,
    ), status


@bp.get("/notifications/settings")
def settings():
    return _settings_page(services.preferences_of(db.session, current_user.id))


@bp.post("/notifications/settings")
def save_settings():
    kinds = services.kinds_for(g.school_roles)
    try:
        services.save_preferences(db.session, current_user, request.form, kinds)
    except ServiceError as exc:
        db.session.rollback()
        submitted = {(k, c): request.form.get(f"{k}.{c}", "") for k in kinds for c in CHANNELS}
        return _settings_page(submitted, exc, 400)
    db.session.commit()
    flash(_("Your notification settings are saved."), "success")
    return redirect(url_for("notifications.settings"))


@bp.get("/notifications/deliveries")
def deliveries():
    state = request.args.get("state") or None
    if state not in STATES:
        state = None
    rows = services.deliveries(db.session, current_user, g.school, state=state)
    return render_template(
        "notifications/deliveries.html",
        rows=rows,
        state=state,
        states=services.state_labels(),
        kinds=services.KIND_LABELS,
        channels=services.CHANNEL_LABELS,
        reasons=services.SKIP_REASONS,
    )


@bp.post("/notifications/deliveries/retry")
def retry():
    delivery_id = parse_id(request.form.get("id"))
    try:
        ids = services.retry_failed(db.session, current_user, g.school, delivery_id)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("notifications.deliveries", state="failed"))
    db.session.commit()
    try:
        enqueue_sends(g.school.id, ids)
    except (redis.RedisError, OSError):
        log.exception("could not enqueue the retried deliveries (the sweeper will send them)")
    flash(
        ngettext(
            "%(num)d notification will be sent again.",
            "%(num)d notifications will be sent again.",
            len(ids),
        ),
        "success",
    )
    return redirect(url_for("notifications.deliveries"))


def _school_settings_page(form, error: ServiceError | None = None, status: int = 200):
    return render_template("notifications/school_settings.html", form=form, error=error), status


@bp.get("/notifications/school-settings")
def school_settings():
    require_role(current_user, g.school, Role.ADMIN)
    saved = school_settings_service.settings_of(db.session)
    return _school_settings_page(
        {
            "digest_at": saved.digest_at.strftime("%H:%M"),
            "quiet_from": saved.quiet_from.strftime("%H:%M"),
            "quiet_until": saved.quiet_until.strftime("%H:%M"),
        }
    )


@bp.post("/notifications/school-settings")
def save_school_settings():
    form = request.form
    try:
        school_settings_service.save_settings(
            db.session, current_user, g.school,
            digest_at=parse_time(form.get("digest_at"), "digest_at"),
            quiet_from=parse_time(form.get("quiet_from"), "quiet_from"),
            quiet_until=parse_time(form.get("quiet_until"), "quiet_until"),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _school_settings_page(form, exc, 400)
    db.session.commit()
    flash(_("The school's notification settings are saved."), "success")
    return redirect(url_for("notifications.school_settings"))
