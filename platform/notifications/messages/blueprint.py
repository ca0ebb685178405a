"""Message pages: the inbox, a thread (reply, attachments, who read), a new message with a
recipient picker limited to what the writer may address."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from accounts.models import Role
from dienynas import clock
from dienynas.errors import ServiceError
from dienynas.extensions import db
from dienynas.files import attachment_response, request_uploads
from dienynas.forms import accepts_files, parse_id
from gradebook.lessons.services import MAX_FILE_BYTES, MAX_FILES
from notifications.messages import services
from school.menu import menu_item
from tenants.routing import SchoolBlueprint

bp = SchoolBlueprint("messages", __name__)
menu_item("messages.inbox", _l("Messages"), set(Role), order=14, section="daily")


def _ids(name: str) -> list[int]:
    """The ids chosen in a multiple select; anything that is no id is refused."""
    values = [v for v in request.form.getlist(name) if v.strip()]
    ids = [parse_id(v) for v in values]
    if None in ids:
        raise ServiceError(_("Choose the recipients from the lists."), field="recipients")
    return [i for i in ids if i is not None]


@bp.get("/messages")
def inbox():
    archived = bool(request.args.get("archived"))
    rows = services.inbox(db.session, current_user, archived=archived)
    return render_template("messages/inbox.html", rows=rows, archived=archived)


@bp.post("/messages/<int:thread_id>/archive")
def archive(thread_id: int):
    """Put the thread away, or (``archived=0``) back into the inbox."""
    archived = request.form.get("archived", "1") == "1"
    services.archive_thread(db.session, current_user, thread_id, archived=archived)
    db.session.commit()
    if archived:
        flash(_("The conversation is archived; a new message brings it back."), "success")
        return redirect(url_for("messages.inbox"))
    flash(_("The conversation is back in the inbox."), "success")
    return redirect(url_for("messages.thread", thread_id=thread_id))


def _new_page(form: MultiDict, error: ServiceError | None = None, status: int = 200):
    allowed = services.addressable(db.session, current_user, g.school, clock.today())
    return render_template(
        "messages/new.html",
        allowed=allowed,
        audiences=services.AUDIENCES,
        form=form,
        chosen={name: set(form.getlist(name)) for name in ("classes", "groups", "persons")},
        error=error,
    ), status


@bp.get("/messages/new")
def new():
    return _new_page(request.args)


@bp.post("/messages/new")
@accepts_files(MAX_FILES, MAX_FILE_BYTES)
def create():
    try:
        thread = services.start_thread(
            db.session, current_user, g.school, clock.today(),
            subject=request.form.get("subject"),
            body=request.form.get("body"),
            class_ids=_ids("classes"),
            group_ids=_ids("groups"),
            person_ids=_ids("persons"),
            audience=request.form.get("audience", "guardians"),
            uploads=request_uploads(MAX_FILE_BYTES),
        )  # fmt: skip
    except ServiceError as exc:
        db.session.rollback()
        return _new_page(request.form, exc, 400)
    db.session.commit()
    flash(_("The message is sent."), "success")
    return redirect(url_for("messages.thread", thread_id=thread.id))


def _thread_page(thread_id: int, form, error: ServiceError | None = None, status: int = 200):
    page = services.thread_page(db.session, current_user, thread_id)
    html = render_template("messages/thread.html", page=page, form=form, error=error)
    db.session.commit()  # the received messages are read now (after rendering: nothing expires)
    return html, status


@bp.get("/messages/<int:thread_id>")
def thread(thread_id: int):
    return _thread_page(thread_id, {})


@bp.post("/messages/<int:thread_id>")
@accepts_files(MAX_FILES, MAX_FILE_BYTES)
def reply(thread_id: int):
    try:
        services.reply(
            db.session,
            current_user,
            thread_id,
            body=request.form.get("body"),
            uploads=request_uploads(MAX_FILE_BYTES),
        )
    except ServiceError as exc:
        db.session.rollback()
        return _thread_page(thread_id, request.form, exc, 400)
    db.session.commit()
    flash(_("The message is sent."), "success")
    return redirect(url_for("messages.thread", thread_id=thread_id))


@bp.get("/messages/files/<int:file_id>")
def download(file_id: int):
    return attachment_response(services.message_file(db.session, current_user, file_id))
