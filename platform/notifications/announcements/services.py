"""Announcements: the administrator or the director writes one for the whole school or for
chosen classes and/or audiences (guardians, students, staff), a class head for the guardians
and students of the classes they head, to publish now or at a chosen time. Publishing writes
an 'announcement' outbox event (the periodic job publishes the due ones, once: the row is
marked published in the same statement that picks it).

Addressing: no audience chosen means everyone. Classes narrow guardians and students to those
of the chosen classes; staff are never narrowed by class.

Files: up to ``MAX_FILES`` documents go with an announcement, checked like homework files and
message attachments (``gradebook.lessons.services.check_upload``); whoever may read the
announcement downloads them (:func:`announcement_file`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, any_, exists, false, func, or_, select, update
from sqlalchemy.orm import Session, undefer

from accounts.identity import Principal
from accounts.models import STAFF_ROLES, Account, Role
from accounts.services import roles_in_school, staff_accounts
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from gradebook.lessons.models import HomeworkFile
from gradebook.lessons.services import MAX_FILES, Upload, check_upload
from notifications.announcements.models import AUDIENCES, Announcement, AnnouncementFile
from notifications.outbox import record_event
from school.classes.models import SchoolClass
from school.people.models import Guardianship, Person, Student
from school.people.services import headed_class_ids
from tenants.models import School

TITLE_MAX = 200
BODY_MAX = 10_000
#: Who writes to any class and audience.
_SCHOOL_WRITERS = frozenset({Role.ADMIN, Role.DIRECTOR, Role.SOCIAL_PEDAGOGUE})
#: Who reads every announcement, the scheduled ones too.
_ADMINISTRATION = frozenset({Role.ADMIN, Role.DIRECTOR})
#: The audiences of a class head's announcement: the families of their classes.
FAMILY_AUDIENCES = ("guardians", "students")
AUDIENCE_LABELS = {
    "guardians": _l("Guardians"),
    "students": _l("Students"),
    "staff": _l("Staff"),
}


def create(
    session: Session,
    account: Principal,
    school: School,
    now: datetime,
    *,
    title: str | None,
    body: str | None,
    audiences: Sequence[str] = (),
    class_ids: Sequence[int] = (),
    publish_at: datetime | None = None,
    files: Sequence[Upload] = (),
) -> Announcement:
    """Write an announcement with ``files`` attached; published at once unless ``publish_at``
    is in the future. A class head who is not also the administrator or the director writes
    only to the families of the classes they head (:func:`writer_scope`). A refused file
    (:func:`gradebook.lessons.services.check_upload`) or too many: ServiceError on "files",
    nothing saved."""
    classes_of_head = writer_scope(session, account, school)
    if classes_of_head is not None:
        audiences = list(audiences) or list(FAMILY_AUDIENCES)
        if not class_ids:
            raise ServiceError(_("Choose the classes you head."), field="classes")
        if not set(class_ids) <= classes_of_head:
            raise PermissionDenied(_("A class head writes announcements only to the classes "
                                     "they head."))  # fmt: skip
        if not set(audiences) <= set(FAMILY_AUDIENCES):
            raise ServiceError(
                _("A class head writes to guardians and students: staff hear from the "
                  "administration."),
                field="audiences",
            )  # fmt: skip
    title, body = _checked_text(title, body)
    if not set(audiences) <= set(AUDIENCES):
        raise ServiceError(_("Choose the audience from the list."), field="audiences")
    if class_ids:
        found = set(session.scalars(select(SchoolClass.id).where(SchoolClass.id.in_(class_ids))))
        if found != set(class_ids):
            raise ServiceError(_("Choose the classes from the list."), field="classes")
        if audiences and not set(audiences) & {"guardians", "students"}:
            raise ServiceError(
                _("Classes narrow guardians and students: choose one of them too."),
                field="classes",
            )
    if publish_at is not None and publish_at.tzinfo is None:
        raise ValueError("publish_at must be timezone-aware")
    checked = _checked_files(files)
    announcement = Announcement(
        title=title,
        body=body,
        author_id=account.id,
        audiences=sorted(set(audiences)),
        class_ids=sorted(set(class_ids)),
        publish_at=publish_at if publish_at and publish_at > now else now,
    )
    session.add(announcement)
    session.flush()
    session.add_all(
        AnnouncementFile(
            announcement_id=announcement.id,
            file_name=file.file_name,
            content_type=file.content_type,
            size=file.size,
            content=file.content,
        )
        for file in checked
    )
    session.flush()
    if announcement.publish_at <= now:
        publish_due(session, now)
    return announcement


def _checked_text(title: str | None, body: str | None) -> tuple[str, str]:
    """The title and the text, stripped; ServiceError when one is empty or too long."""
    title = (title or "").strip()
    body = (body or "").strip()
    if not title:
        raise ServiceError(_("Write the title."), field="title")
    if len(title) > TITLE_MAX:
        raise ServiceError(
            _("The title is longer than %(max)d characters.", max=TITLE_MAX), field="title"
        )
    if not body:
        raise ServiceError(_("Write the announcement."), field="body")
    if len(body) > BODY_MAX:
        raise ServiceError(
            _("The announcement is longer than %(max)d characters.", max=BODY_MAX), field="body"
        )
    return title, body


def may_change(account: Principal, school: School, announcement: Announcement) -> bool:
    """Whether ``account`` may correct or withdraw ``announcement``: the administrator and
    the director any of the school's, a writer their own (one who no longer writes
    announcements here, e.g. a former class head, no longer changes theirs)."""
    roles = roles_in_school(account, school)
    if roles & _ADMINISTRATION:
        return True
    return announcement.author_id == account.id and bool(
        roles & (_SCHOOL_WRITERS | {Role.CLASS_HEAD})
    )


def changeable(
    session: Session, account: Principal, school: School, announcement_id: int
) -> Announcement:
    """The announcement ``account`` may change (:func:`may_change`); NotFound for one they may
    not read, PermissionDenied for one they read but may not change."""
    query = select(Announcement).where(Announcement.id == announcement_id)
    readable = _readable(account, roles_in_school(account, school))
    if readable is not None:
        query = query.where(readable)
    announcement = session.scalar(query)
    if announcement is None:
        raise NotFound(_("There is no such announcement."))
    if not may_change(account, school, announcement):
        raise PermissionDenied(
            _("Only its author and the school's administration change an announcement.")
        )
    return announcement


def edit(
    session: Session,
    account: Principal,
    school: School,
    announcement_id: int,
    now: datetime,
    *,
    title: str | None,
    body: str | None,
) -> Announcement:
    """Correct the title and the text. Readers of a published announcement see that it was
    edited, and when; notices not delivered yet carry the new text (they are written when
    sent), those sent already are not sent again. A scheduled one is simply changed."""
    announcement = changeable(session, account, school, announcement_id)
    title, body = _checked_text(title, body)
    if (title, body) == (announcement.title, announcement.body):
        return announcement
    announcement.title, announcement.body = title, body
    if announcement.published_at is not None:
        announcement.edited_at, announcement.edited_by = now, account.id
    session.flush()
    return announcement


def withdraw(session: Session, account: Principal, school: School, announcement_id: int) -> str:
    """Delete the announcement and its files; its title. Readers no longer see it and notices
    not delivered yet are not sent (a delivery finds nothing to say); e-mails sent already
    cannot be called back."""
    announcement = changeable(session, account, school, announcement_id)
    title = announcement.title
    session.delete(announcement)
    session.flush()
    return title


def _checked_files(files: Sequence[Upload]) -> list[HomeworkFile]:
    """The uploads checked as message attachments are (count, types, size), before anything
    is saved."""
    if len(files) > MAX_FILES:
        raise ServiceError(
            _("At most %(max)d files can be attached.", max=MAX_FILES), field="files"
        )
    return [check_upload(upload) for upload in files]


def writer_scope(session: Session, account: Principal, school: School) -> set[int] | None:
    """Who may write announcements: None for the administrator, the director and the social
    pedagogue (any class, any audience: seed 001, 19.2); for a class head, the classes they
    head (their families only); PermissionDenied for everyone else."""
    roles = roles_in_school(account, school)
    if roles & _SCHOOL_WRITERS:
        return None
    if Role.CLASS_HEAD in roles:
        return headed_class_ids(session, account)
    raise PermissionDenied(
        _(
            "Only the e-diary administrator, the director, the social pedagogue and the class "
            "heads write announcements."
        )
    )


def publish_due(session: Session, now: datetime) -> list[int]:
    """Publish the bound school's announcements due by ``now`` (each exactly once: two runs
    at the same time cannot both pick one) and write their outbox events. Returns their ids."""
    ids = sorted(
        session.scalars(
            update(Announcement)
            .where(Announcement.published_at.is_(None), Announcement.publish_at <= now)
            .values(published_at=now)
            .returning(Announcement.id)
        )
    )
    for announcement_id in ids:
        record_event(session, "announcement", actor_id=None, announcement_id=announcement_id)
    session.flush()
    return ids


def recipients_of_announcements(
    session: Session, school_id: int, announcement_ids: set[int]
) -> dict[int, set[int]]:
    """announcement id → the accounts it is addressed to (the dispatch's recipients)."""
    announcements = list(
        session.scalars(select(Announcement).where(Announcement.id.in_(announcement_ids)))
    )
    if not announcements:
        return {}
    students = session.execute(
        select(Student.person_id, Student.class_id, Person.account_id)
        .join(Person, Person.id == Student.person_id)
        .where(Student.status == "active")
    ).all()
    guardians = session.execute(
        select(Student.class_id, Person.account_id)
        .join(Guardianship, Guardianship.student_id == Student.person_id)
        .join(Person, Person.id == Guardianship.guardian_id)
        .where(Student.status == "active", Person.account_id.is_not(None))
    ).all()
    staff = set(session.scalars(staff_accounts(school_id)))
    result: dict[int, set[int]] = {}
    for a in announcements:
        audiences = set(a.audiences) or set(AUDIENCES)
        classes = set(a.class_ids)
        accounts: set[int] = set()
        if "students" in audiences:
            accounts |= {acc for _, c, acc in students if acc and (not classes or c in classes)}
        if "guardians" in audiences:
            accounts |= {acc for c, acc in guardians if not classes or c in classes}
        if "staff" in audiences:
            accounts |= staff
        accounts.discard(a.author_id)
        result[a.id] = accounts
    return result


def _readable(account: Principal, roles: set[Role]) -> ColumnElement[bool] | None:
    """SQL: the announcements ``account`` may read (None: all, for the administrator and the
    director). Their own; published ones addressed to them (everyone's, staff's for staff,
    their class's or their children's classes' for students and guardians); a scheduled one
    only their own."""
    if roles & _ADMINISTRATION:
        return None
    me = select(Person.id).where(Person.account_id == account.id).scalar_subquery()
    own_classes = select(Student.class_id).where(
        Student.person_id == me, Student.status == "active"
    )
    child_classes = (
        select(Student.class_id)
        .join(Guardianship, Guardianship.student_id == Student.person_id)
        .where(Guardianship.guardian_id == me, Student.status == "active")
    )
    no_audience = func.cardinality(Announcement.audiences) == 0
    no_class = func.cardinality(Announcement.class_ids) == 0

    def in_classes(classes):
        return or_(
            no_class, exists(classes.where(Student.class_id == any_(Announcement.class_ids)))
        )

    addressed: list[ColumnElement[bool]] = []
    if roles & STAFF_ROLES:
        addressed.append(or_(no_audience, Announcement.audiences.contains(["staff"])))
    for role, audience, classes in (
        (Role.STUDENT, "students", own_classes),
        (Role.GUARDIAN, "guardians", child_classes),
    ):
        if role in roles:
            addressed.append(
                and_(
                    or_(no_audience, Announcement.audiences.contains([audience])),
                    in_classes(classes),
                )
            )
    return or_(
        Announcement.author_id == account.id,
        and_(Announcement.published_at.is_not(None), or_(false(), *addressed)),
    )


def visible(session: Session, account: Principal, school: School, limit: int = 50):
    """The published announcements addressed to ``account`` (the author's own and, for the
    administrator and the director, all), newest first; one query."""
    query = (
        select(Announcement, Account.name)
        .join(Account, Account.id == Announcement.author_id)
        .where(Announcement.published_at.is_not(None))
        .order_by(Announcement.published_at.desc(), Announcement.id.desc())
        .limit(limit)
    )
    readable = _readable(account, roles_in_school(account, school))
    if readable is not None:
        query = query.where(readable)
    return session.execute(query).all()


def files_of(
    session: Session, announcement_ids: Sequence[int]
) -> dict[int, list[AnnouncementFile]]:
    """announcement id → its files (names and sizes; the content stays unread), in the order
    attached: one query for a whole list of announcements."""
    result: dict[int, list[AnnouncementFile]] = defaultdict(list)
    if announcement_ids:
        for file in session.scalars(
            select(AnnouncementFile)
            .where(AnnouncementFile.announcement_id.in_(set(announcement_ids)))
            .order_by(AnnouncementFile.id)
        ):
            result[file.announcement_id].append(file)
    return result


def announcement_file(
    session: Session,
    account: Principal,
    school: School,
    announcement_id: int,
    file_id: int,
) -> AnnouncementFile:
    """A file of the announcement, with its content, for one who may read the announcement
    (:func:`_readable`); NotFound otherwise, as for a file of another announcement: the reader
    does not learn that it exists."""
    query = (
        select(AnnouncementFile)
        .join(Announcement, Announcement.id == AnnouncementFile.announcement_id)
        .where(AnnouncementFile.id == file_id, Announcement.id == announcement_id)
        .options(undefer(AnnouncementFile.content))
    )
    readable = _readable(account, roles_in_school(account, school))
    if readable is not None:
        query = query.where(readable)
    file = session.scalar(query)
    if file is None:
        raise NotFound(_("There is no such file."))
    return file


def pending(session: Session, account: Principal, school: School) -> list[Announcement]:
    """Scheduled announcements not yet published: all for the administrator and the director,
    their own for the other writers."""
    writer_scope(session, account, school)
    query = (
        select(Announcement)
        .where(Announcement.published_at.is_(None))
        .order_by(Announcement.publish_at)
    )
    if not roles_in_school(account, school) & _ADMINISTRATION:
        query = query.where(Announcement.author_id == account.id)
    return list(session.scalars(query))
