"""Delivering outbox events (DESIGN.md 5): dispatch (who gets what, on which channel) and send
(render in the recipient's language and hand over to the channel), plus the pages' queries.

Dispatch locks undispatched events with ``FOR UPDATE SKIP LOCKED`` and writes delivery rows with
``INSERT … ON CONFLICT DO NOTHING`` on (event, recipient, channel); send locks one pending
delivery at a time and commits right after handing it over, so two jobs never send the same
delivery and a job that runs twice delivers once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from sqlalchemy import BigInteger, Date, cast, func, literal, null, select, union, union_all, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from accounts.identity import Principal
from accounts.models import FAMILY_ROLES, Account, Role, SchoolGrant
from accounts.services import require_role
from dienynas.errors import NotFound, ServiceError
from dienynas.i18n import in_locale, joined
from gradebook.access import SCHOOL_READERS
from gradebook.attendance.models import Excuse
from gradebook.diary.services import week_of
from gradebook.grades.models import Grade, TermGrade
from gradebook.lessons.models import Homework, Lesson
from gradebook.planning.models import PlannedTest
from gradebook.remarks.models import Remark
from notifications import settings as school_settings
from notifications.announcements.services import recipients_of_announcements
from notifications.channels import DeliveryError, SmsProvider, mailer, sms_provider
from notifications.messages.models import Message
from notifications.messages.services import recipients_of_messages
from notifications.models import (
    CHANNELS,
    DEFAULT_MODES,
    NotificationDelivery,
    NotificationEvent,
    NotificationPreference,
    NotificationSettings,
)
from notifications.outbox import EVENT_KINDS
from notifications.rendering import Facts, Rendered, load_facts, render
from school.calendar.models import Term
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.people.models import Guardianship, Person, Student
from school.permissions import READERS
from tenants.binding import session_binding
from tenants.models import School

log = logging.getLogger(__name__)

#: Events with one student (the student and their guardians are told).
STUDENT_KINDS = frozenset(
    {"grade", "grade_changed", "absence", "remark", "term_grade", "excuse_decision"}
)
#: Events for a whole group (every student of the group and their guardians are told).
GROUP_KINDS = frozenset({"homework", "test"})
#: Transfer notices for the school's directors and administrators (notifications/transfers.py).
HEADS_KINDS = frozenset({"transfer_incoming", "transfer_claimed"})
#: Events for a student's guardians only (not the student's own account).
GUARDIAN_KINDS = frozenset({"transfer_new_school"})
#: Events whose recipients their record keeps (a message's receipts, an announcement's audience).
OWN_RECIPIENTS_KINDS = frozenset({"message", "announcement"})
#: Events for the teachers of a student's groups and the head of their class.
TEACHERS_KINDS = frozenset({"student_joined", "health_recommendation"})
#: A send attempt per RQ try: the first run and ``DEFAULT_RETRY.max`` retries.
MAX_ATTEMPTS = 4
#: Events one dispatch transaction takes.
DISPATCH_BATCH = 500

KIND_LABELS = {
    "grade": _l("New grades"),
    "grade_changed": _l("Changed or removed grades"),
    "absence": _l("Absences and lateness"),
    "remark": _l("Remarks and praise"),
    "homework": _l("Homework"),
    "test": _l("Announced tests"),
    "term_grade": _l("Term grades"),
    "excuse_decision": _l("Decisions on excuses"),
    "transfer_incoming": _l("Students heading to the school"),
    "transfer_claimed": _l("Former students claimed by another school"),
    "transfer_new_school": _l("A child's new school"),
    "message": _l("Messages"),
    "announcement": _l("Announcements"),
    "student_joined": _l("New students in your classes and groups"),
    "health_recommendation": _l("Health recommendations for your students"),
}
#: Who each kind of notification reaches (as ``_recipients`` works them out): the settings page
#: offers an account only the kinds its roles in the school get.
KIND_READERS = {
    **{kind: FAMILY_ROLES for kind in STUDENT_KINDS | GROUP_KINDS},
    **{kind: frozenset({Role.GUARDIAN}) for kind in GUARDIAN_KINDS},
    **{kind: frozenset({Role.ADMIN, Role.DIRECTOR}) for kind in HEADS_KINDS},
    **{kind: frozenset({Role.TEACHER, Role.CLASS_HEAD}) for kind in TEACHERS_KINDS},
    **{kind: frozenset(Role) for kind in OWN_RECIPIENTS_KINDS},
}


def kinds_for(roles: Iterable[Role]) -> list[str]:
    """The kinds of notification accounts with ``roles`` get, in the settings page's order."""
    held = set(roles)
    return [kind for kind in KIND_LABELS if KIND_READERS[kind] & held]


CHANNEL_LABELS = {"in_app": _l("In the e-diary"), "email": _l("E-mail"), "sms": _l("SMS")}
MODE_LABELS = {"instant": _l("At once"), "digest": _l("Daily digest"), "off": _l("Off")}
#: The modes each channel offers (the daily digest is one e-mail a day).
OFFERED_MODES = {
    "in_app": ("instant", "off"),
    "email": ("instant", "digest", "off"),
    "sms": ("instant", "off"),
}


#: Why a delivery was skipped (stored as the code; failures store the channel's own message).
SKIP_REASONS = {
    "gone": _l("What the notification reported no longer exists."),
    "disabled": _l("The recipient's account is disabled."),
    "no_email": _l("No e-mail address."),
    "no_smtp": _l("No SMTP server is configured (SMTP_URL): shown in the e-diary only."),
    "no_phone": _l("No phone number."),
}


def state_labels() -> dict[str, str]:
    return {
        "pending": pgettext("delivery", "Pending"),
        "sent": pgettext("delivery", "Sent"),
        "failed": pgettext("delivery", "Failed"),
        "skipped": pgettext("delivery", "Skipped"),
        "digest": pgettext("delivery", "Waiting for the daily digest"),
    }


# --- preferences ------------------------------------------------------------------------------


def preferences_of(session: Session, account_id: int) -> dict[tuple[str, str], str]:
    """(kind, channel) → mode for every kind and channel (defaults where nothing is saved)."""
    modes = {(k, c): DEFAULT_MODES[c] for k in sorted(EVENT_KINDS) for c in CHANNELS}
    rows = session.execute(
        select(
            NotificationPreference.kind, NotificationPreference.channel, NotificationPreference.mode
        ).where(NotificationPreference.account_id == account_id)
    )
    for kind, channel, mode in rows:
        modes[(kind, channel)] = mode
    return modes


def save_preferences(
    session: Session, account: Principal, form: Mapping[str, str], kinds: Iterable[str]
) -> None:
    """Save the settings form of ``kinds`` (those the page offered): a field
    ``<kind>.<channel>`` per pair, one of the channel's ``OFFERED_MODES``. Every field must be
    given and valid, else nothing is saved; the other kinds keep what they had."""
    chosen: dict[tuple[str, str], str] = {}
    for kind in kinds:
        for channel in CHANNELS:
            mode = form.get(f"{kind}.{channel}", "")
            if mode not in OFFERED_MODES[channel]:
                raise ServiceError(
                    _(
                        "Choose one of these for every kind of notification: %(choices)s.",
                        choices=joined(
                            (MODE_LABELS[m] for m in OFFERED_MODES[channel]), style="or"
                        ),
                    ),
                    field=f"{kind}.{channel}",
                )
            chosen[(kind, channel)] = mode
    rows = [
        {"account_id": account.id, "kind": kind, "channel": channel, "mode": mode}
        for (kind, channel), mode in chosen.items()
    ]
    statement = insert(NotificationPreference).values(rows)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["account_id", "kind", "channel"], set_={"mode": statement.excluded.mode}
        )
    )
    session.flush()


# --- dispatch ---------------------------------------------------------------------------------


def _recipients(session: Session, events: list[NotificationEvent]) -> dict[int, set[int]]:
    """event id → recipient account ids: the student (own account) and their guardians; for
    group events every active student of the group and their guardians; for the transfer
    notices of ``HEADS_KINDS`` the school's directors and administrators; for
    ``GUARDIAN_KINDS`` the student's guardians only; for ``TEACHERS_KINDS`` the teachers of the
    student's groups and the class head; never the actor."""
    group_ids = {e.payload["group_id"] for e in events if e.kind in GROUP_KINDS}
    members: dict[int, set[int]] = defaultdict(set)
    if group_ids:
        rows = session.execute(
            select(GroupStudent.group_id, GroupStudent.student_id)
            .join(Student, Student.person_id == GroupStudent.student_id)
            .where(GroupStudent.group_id.in_(group_ids), Student.status == "active")
        )
        for group_id, student_id in rows:
            members[group_id].add(student_id)
    students_of: dict[int, set[int]] = {}
    for e in events:
        if e.kind in GROUP_KINDS:
            students_of[e.id] = members[e.payload["group_id"]]
        elif e.kind in HEADS_KINDS or e.kind in OWN_RECIPIENTS_KINDS or e.kind in TEACHERS_KINDS:
            students_of[e.id] = set()
        else:
            students_of[e.id] = {e.payload["student_id"]}
    all_students = set().union(*students_of.values())
    accounts_of: dict[int, set[int]] = defaultdict(set)
    guardians_of: dict[int, set[int]] = defaultdict(set)
    if all_students:
        own = session.execute(
            select(Person.id, Person.account_id).where(
                Person.id.in_(all_students), Person.account_id.is_not(None)
            )
        )
        for student_id, account_id in own:
            accounts_of[student_id].add(account_id)
        guardians = session.execute(
            select(Guardianship.student_id, Person.account_id)
            .join(Person, Person.id == Guardianship.guardian_id)
            .where(Guardianship.student_id.in_(all_students), Person.account_id.is_not(None))
        )
        for student_id, account_id in guardians:
            accounts_of[student_id].add(account_id)
            guardians_of[student_id].add(account_id)
    heads: set[int] = set()
    binding = session_binding(session)
    if binding is not None and any(e.kind in HEADS_KINDS for e in events):
        heads = set(
            session.scalars(
                select(SchoolGrant.account_id).where(
                    SchoolGrant.school_id == binding.school_id,
                    SchoolGrant.role.in_((Role.ADMIN.value, Role.DIRECTOR.value)),
                )
            )
        )
    by_message = recipients_of_messages(
        session, {e.payload["message_id"] for e in events if e.kind == "message"}
    )
    announcement_ids = {e.payload["announcement_id"] for e in events if e.kind == "announcement"}
    by_announcement = (
        recipients_of_announcements(session, binding.school_id, announcement_ids)
        if announcement_ids and binding is not None
        else {}
    )
    teachers = _teachers_of_arrivals(session, [e for e in events if e.kind in TEACHERS_KINDS])
    result: dict[int, set[int]] = {}
    for e in events:
        if e.kind in TEACHERS_KINDS:
            recipients = set(teachers.get(e.id, ()))
        elif e.kind == "message":
            recipients = set(by_message.get(e.payload["message_id"], ()))
        elif e.kind == "announcement":
            recipients = set(by_announcement.get(e.payload["announcement_id"], ()))
        elif e.kind in HEADS_KINDS:
            recipients = set(heads)
        else:
            found = guardians_of if e.kind in GUARDIAN_KINDS else accounts_of
            recipients = set().union(*(found[s] for s in students_of[e.id]))
        recipients.discard(e.actor_id)
        result[e.id] = recipients
    return result


def _teachers_of_arrivals(session: Session, events: list[NotificationEvent]) -> dict[int, set[int]]:
    """event id → the accounts of the teachers of the student's groups in the class's year and
    of the class's head (two queries for any number of events)."""
    if not events:
        return {}
    student_ids = {e.payload["student_id"] for e in events}
    class_ids = {e.payload["class_id"] for e in events}
    of_pair: dict[tuple[int, int], set[int]] = defaultdict(set)
    for student_id, class_id, account_id in session.execute(
        select(GroupStudent.student_id, SchoolClass.id, Person.account_id)
        .join(Group, Group.id == GroupStudent.group_id)
        .join(SchoolClass, SchoolClass.year_id == Group.year_id)
        .join(GroupTeacher, GroupTeacher.group_id == Group.id)
        .join(Person, Person.id == GroupTeacher.teacher_id)
        .where(
            GroupStudent.student_id.in_(student_ids),
            SchoolClass.id.in_(class_ids),
            Person.account_id.is_not(None),
        )
    ):
        of_pair[(student_id, class_id)].add(account_id)
    heads = dict(
        session.execute(
            select(SchoolClass.id, Person.account_id)
            .join(Person, Person.id == SchoolClass.head_id)
            .where(SchoolClass.id.in_(class_ids), Person.account_id.is_not(None))
        ).all()
    )
    result = {}
    for e in events:
        student_id, class_id = e.payload["student_id"], e.payload["class_id"]
        found = set(of_pair[(student_id, class_id)])
        if class_id in heads:
            found.add(heads[class_id])
        result[e.id] = found
    return result


def _modes_for(session: Session, account_ids: Iterable[int]) -> dict[tuple[int, str, str], str]:
    ids = list(account_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(
            NotificationPreference.account_id,
            NotificationPreference.kind,
            NotificationPreference.channel,
            NotificationPreference.mode,
        ).where(NotificationPreference.account_id.in_(ids))
    )
    return {(a, k, c): m for a, k, c, m in rows}


def dispatch(session: Session, limit: int = DISPATCH_BATCH) -> tuple[int, list[int]]:
    """Turn up to ``limit`` undispatched events of the bound school into delivery rows (instant
    channels; e-mails set to the daily digest wait in state 'digest', see notifications.digests)
    and mark them dispatched. Returns how many events were taken and the ids of
    the deliveries written now (a second run writes none). Events another job holds are
    skipped, not waited for."""
    events = list(
        session.scalars(
            select(NotificationEvent)
            .where(NotificationEvent.dispatched_at.is_(None))
            .order_by(NotificationEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not events:
        return 0, []
    recipients = _recipients(session, events)
    saved = _modes_for(session, set().union(*recipients.values()))
    rows = []
    for e in events:
        for account_id in sorted(recipients[e.id]):
            for channel in CHANNELS:
                mode = saved.get((account_id, e.kind, channel), DEFAULT_MODES[channel])
                if mode == "instant" or (mode == "digest" and channel == "email"):
                    rows.append(
                        {
                            "event_id": e.id,
                            "account_id": account_id,
                            "channel": channel,
                            "state": "pending" if mode == "instant" else "digest",
                        }
                    )
    delivery_ids: list[int] = []
    if rows:
        written = session.execute(
            insert(NotificationDelivery)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["event_id", "account_id", "channel"])
            .returning(NotificationDelivery.id, NotificationDelivery.state)
        )
        delivery_ids = [i for i, state in written if state == "pending"]
    session.execute(
        update(NotificationEvent)
        .where(NotificationEvent.id.in_([e.id for e in events]))
        .values(dispatched_at=func.now())
    )
    session.flush()
    return len(events), sorted(delivery_ids)


def has_stale_events(session: Session, older_than: timedelta) -> bool:
    """Undispatched events older than ``older_than`` in the bound school (a lost dispatch)."""
    return (
        session.scalar(
            select(NotificationEvent.id)
            .where(
                NotificationEvent.dispatched_at.is_(None),
                NotificationEvent.created_at < func.now() - older_than,
            )
            .limit(1)
        )
        is not None
    )


def stale_pending_deliveries(session: Session, older_than: timedelta) -> list[int]:
    """Pending deliveries nobody has tried for ``older_than`` (their send job was lost), and
    SMS held for the quiet hours once these are over."""
    tried = func.coalesce(NotificationDelivery.last_attempt_at, NotificationDelivery.created_at)
    return list(
        session.scalars(
            select(NotificationDelivery.id)
            .where(
                NotificationDelivery.state == "pending",
                func.coalesce(NotificationDelivery.hold_until, tried + older_than) < func.now(),
            )
            .order_by(NotificationDelivery.id)
        )
    )


# --- send -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    account_id: int
    locale: str
    email: str | None
    phone: str | None
    enabled: bool


def recipients_by_id(
    session: Session, school: School, account_ids: set[int]
) -> dict[int, Recipient]:
    """Language and addresses: the account's, else what the school knows of the person."""
    rows = session.execute(
        select(
            Account.id,
            Account.locale,
            Account.email,
            Account.phone,
            Account.is_enabled,
            Person.locale,
            Person.email,
            Person.phone,
        )
        .outerjoin(Person, Person.account_id == Account.id)
        .where(Account.id.in_(account_ids))
    )
    return {
        row[0]: Recipient(
            account_id=row[0],
            locale=row[1] or row[5] or school.default_locale,
            email=row[2] or row[6],
            phone=row[3] or row[7],
            enabled=row[4],
        )
        for row in rows
    }


def email_template(extension: str):
    """The e-mail template, rendered without the page layout's context (a job has no request
    and no logged-in user)."""
    return current_app.jinja_env.get_template(f"notifications/email.{extension}")


class SendBatch:
    """One send job's deliveries and what they share: the recipients (one query), each event's
    facts (read once), its texts per language (rendered once), one SMTP connection.

    The job calls :meth:`send_one` for each id and commits after each one that left the
    system (e-mail, SMS), so such a delivery is recorded as sent at once and a crash re-sends at
    most the one in hand; in-app deliveries only write rows and ride along with the next commit.
    """

    def __init__(self, session: Session, school: School, delivery_ids: list[int]) -> None:
        self.session = session
        self.school = school
        rows = session.execute(
            select(
                NotificationDelivery.id,
                NotificationDelivery.account_id,
                NotificationDelivery.channel,
                NotificationEvent.id,
                NotificationEvent.kind,
                NotificationEvent.payload,
            )
            .join(NotificationEvent, NotificationEvent.id == NotificationDelivery.event_id)
            .where(
                NotificationDelivery.id.in_(delivery_ids), NotificationDelivery.state == "pending"
            )
            .order_by(NotificationDelivery.id)
        ).all()
        #: delivery id → (recipient account id, event id)
        self.pending = {d: (a, e) for d, a, _, e, _, _ in rows}
        #: the deliveries that leave the system (commit right after each)
        self.external = {d for d, _, channel, _, _, _ in rows if channel != "in_app"}
        self.events = {e: (kind, payload) for _, _, _, e, kind, payload in rows}
        self.recipients = (
            recipients_by_id(session, school, {a for a, _ in self.pending.values()}) if rows else {}
        )
        self.facts: dict[int, Facts | None] = {}
        self.texts: dict[tuple[int, str], Rendered] = {}
        self.mailer = mailer()
        self._sms: SmsProvider | None = None
        self._settings: NotificationSettings | None = None

    def rendered(self, event_id: int, locale: str) -> Rendered | None:
        if event_id not in self.facts:
            kind, payload = self.events[event_id]
            self.facts[event_id] = load_facts(self.session, kind, payload)
        facts = self.facts[event_id]
        if facts is None:
            return None
        key = (event_id, locale)
        if key not in self.texts:
            with in_locale(locale):
                self.texts[key] = render(facts, locale)
        return self.texts[key]

    def send_one(self, delivery_id: int) -> str | None:
        """Send one delivery if it is still pending and no other job holds it. Returns its new
        state ('sent', 'skipped', 'failed', or 'pending' when it failed and will be retried),
        None when there was nothing to do (or an SMS is held for the quiet hours)."""
        account_id, event_id = self.pending[delivery_id]
        delivery = self.session.scalar(
            select(NotificationDelivery)
            .where(NotificationDelivery.id == delivery_id, NotificationDelivery.state == "pending")
            .with_for_update(skip_locked=True)
        )
        if delivery is None:  # sent meanwhile, or another job holds it
            return None
        if delivery.channel == "sms":
            held = self._quiet_end()
            if held is not None:  # the school's quiet hours: the sweeper sends it at their end
                delivery.hold_until = held
                self.session.flush()
                return None
            delivery.hold_until = None
        recipient = self.recipients.get(account_id)
        delivery.locale = recipient.locale if recipient else self.school.default_locale
        delivery.attempts += 1
        delivery.last_attempt_at = func.now()
        text = self.rendered(event_id, delivery.locale)
        try:
            if text is None:
                skipped: str | None = "gone"
            else:
                delivery.subject, delivery.body = text.subject[:300], text.body
                skipped = self._hand_over(delivery.channel, recipient, text)
        except DeliveryError as exc:
            delivery.error = str(exc)[:500]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.state = "failed"
                log.warning("delivery %s failed for good: %s", delivery_id, exc)
            else:
                log.info("delivery %s failed, will retry: %s", delivery_id, exc)
        else:
            delivery.state = "skipped" if skipped else "sent"
            delivery.error = skipped
            if not skipped:
                delivery.sent_at = func.now()
        self.session.flush()
        return delivery.state

    def _quiet_end(self) -> datetime | None:
        if self._settings is None:
            self._settings = school_settings.settings_of(self.session)
        return school_settings.quiet_end(self._settings, school_settings.utc_now())

    def _hand_over(self, channel: str, recipient: Recipient | None, text: Rendered) -> str | None:
        """Deliver on the channel. Returns None when sent, else why nothing was sent (a key of
        ``SKIP_REASONS``); raises DeliveryError when the channel failed (retried)."""
        if recipient is None or not recipient.enabled:
            return "disabled"
        if channel == "in_app":
            return None
        if channel == "email":
            if not recipient.email:
                return "no_email"
            if self.mailer is None:
                return "no_smtp"
            with in_locale(recipient.locale):
                html = email_template("html").render(
                    text=text, school=self.school, locale=recipient.locale
                )
                plain = email_template("txt").render(text=text, school=self.school)
            self.mailer.send(recipient.email, text.subject, plain, html, recipient.locale)
            return None
        if not recipient.phone:
            return "no_phone"
        if self._sms is None:
            self._sms = sms_provider()
        self._sms.send(recipient.phone, text.subject)
        return None

    def close(self) -> None:
        if self.mailer is not None:
            self.mailer.close()


# --- pages ------------------------------------------------------------------------------------


def unread_count(session: Session, account: Principal) -> int:
    return session.scalar(
        select(func.count())
        .select_from(NotificationDelivery)
        .where(
            NotificationDelivery.account_id == account.id,
            NotificationDelivery.channel == "in_app",
            NotificationDelivery.state == "sent",
            NotificationDelivery.read_at.is_(None),
        )
    )


@dataclass(frozen=True)
class InboxItem:
    delivery: NotificationDelivery
    #: The page the notification is about (an endpoint and its arguments), when the reader may
    #: open one; None: plain text.
    link: tuple[str, dict[str, Any]] | None = None


def inbox(
    session: Session,
    account: Principal,
    roles: set[Role],
    today: date,
    *,
    include_email: bool,
    limit: int = 100,
) -> list[InboxItem]:
    """The account's notifications, newest first (with ``include_email``, also the e-mails:
    in development, where no SMTP server is configured, that is where they can be read), each
    with a link to what it is about (``_link``; two queries for any number of them)."""
    channels = ["in_app", "email"] if include_email else ["in_app"]
    rows = session.execute(
        select(NotificationDelivery, NotificationEvent.kind, NotificationEvent.payload)
        .join(NotificationEvent, NotificationEvent.id == NotificationDelivery.event_id)
        .where(
            NotificationDelivery.account_id == account.id,
            NotificationDelivery.channel.in_(channels),
            NotificationDelivery.subject.is_not(None),
        )
        .order_by(NotificationDelivery.id.desc())
        .limit(limit)
    ).all()
    found = _link_facts(session, account, [(kind, payload) for _, kind, payload in rows])
    return [
        InboxItem(delivery, _link(kind, payload, found, roles, today))
        for delivery, kind, payload in rows
    ]


#: The record whose day (or thread) a link needs, per event kind: (what, the payload's id).
_LOOKED_UP = {
    "grade": ("grade", "grade_id"),
    "grade_changed": ("grade", "grade_id"),
    "absence": ("lesson", "lesson_id"),
    "remark": ("remark", "remark_id"),
    "homework": ("homework", "homework_id"),
    "test": ("test", "planned_test_id"),
    "term_grade": ("term_grade", "term_grade_id"),
    "excuse_decision": ("excuse", "excuse_id"),
    "message": ("message", "message_id"),
}

#: (what, id) → (a day, a reference): see :func:`_link_facts`.
_LinkFacts = dict[tuple[str, int], tuple[date | None, int | None]]


def _link_facts(
    session: Session, account: Principal, events: list[tuple[str, dict[str, Any]]]
) -> _LinkFacts:
    """What the links of ``events`` (kind, payload) need, in one query: the day of each grade,
    lesson, remark, test, excuse, homework (its lesson's) and term grade (its term's last);
    each message's thread; for a group's event the reader's own student (themselves or a
    child) in the group ("member"); the classes of new students the reader heads ("headed")."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for kind, payload in events:
        if kind in _LOOKED_UP:
            what, key = _LOOKED_UP[kind]
            wanted[what].add(payload[key])
        if kind in GROUP_KINDS:
            wanted["member"].add(payload["group_id"])
        if kind in TEACHERS_KINDS:
            wanted["headed"].add(payload["class_id"])
    if not wanted:
        return {}
    me = select(Person.id).where(Person.account_id == account.id).scalar_subquery()
    own = union(
        select(Student.person_id).where(Student.person_id == me),
        select(Guardianship.student_id).where(Guardianship.guardian_id == me),
    )
    no_day, no_ref = cast(null(), Date), cast(null(), BigInteger)
    lookups = {
        "grade": select(Grade.id, Grade.on_day, no_ref),
        "lesson": select(Lesson.id, Lesson.on_day, no_ref),
        "remark": select(Remark.id, Remark.on_day, no_ref),
        "homework": select(Homework.id, Lesson.on_day, no_ref).join(
            Lesson, Lesson.id == Homework.lesson_id
        ),
        "test": select(PlannedTest.id, PlannedTest.on_day, no_ref),
        "term_grade": select(TermGrade.id, Term.ends_on, no_ref).outerjoin(
            Term, Term.id == TermGrade.term_id
        ),
        "excuse": select(Excuse.id, Excuse.from_day, no_ref),
        "message": select(Message.id, no_day, Message.thread_id),
        "member": select(GroupStudent.group_id, no_day, GroupStudent.student_id).where(
            GroupStudent.student_id.in_(own)
        ),
        "headed": select(SchoolClass.id, no_day, no_ref).where(SchoolClass.head_id == me),
    }
    parts = []
    for what, ids in wanted.items():
        query = lookups[what]
        record_id = query.selected_columns[0]
        parts.append(query.add_columns(literal(what)).where(record_id.in_(ids)))
    found: _LinkFacts = {}
    for record_id, day, ref, what in session.execute(union_all(*parts)):
        key = (what, record_id)
        if what == "member" and key in found:
            ref = min(ref, found[key][1])  # several children in the group: the first
        found[key] = (day, ref)
    return found


def _link(
    kind: str, payload: dict[str, Any], found: _LinkFacts, roles: set[Role], today: date
) -> tuple[str, dict[str, Any]] | None:
    """The page a notification is about, when the reader's roles open it: a message's thread,
    the announcements, the excuses list (a guardian's excuse decision), the transfer pool or
    record (the heads of the school), a new student's page (the heads, the class head; other
    teachers their class list), else for a family the student's diary at the week of the day
    it is about. None where the reader's roles would be refused the page."""
    day, ref = None, None
    if kind in _LOOKED_UP:
        what, key = _LOOKED_UP[kind]
        day, ref = found.get((what, payload[key]), (None, None))
    if kind == "message":
        return ("messages.thread", {"thread_id": ref}) if ref is not None else None
    if kind == "announcement":
        return "announcements.index", {}
    if kind in HEADS_KINDS:
        if not roles & SCHOOL_READERS:
            return None
        if kind == "transfer_incoming":
            return "transfers.pool", {}
        return "transfers.entry", {"pool_id": payload["pool_id"]}
    if kind in TEACHERS_KINDS:
        if roles & SCHOOL_READERS or ("headed", payload["class_id"]) in found:
            return "people.person", {"person_id": payload["student_id"]}
        if roles & READERS:
            return "people.students", {"class": payload["class_id"]}
        return None
    if kind == "excuse_decision" and Role.GUARDIAN in roles:
        return "attendance.excuses", {}
    if not roles & FAMILY_ROLES:
        return None
    if kind in GROUP_KINDS:
        student = found.get(("member", payload["group_id"]), (None, None))[1]
        if student is None:
            return None
    else:
        student = payload["student_id"]
    if kind == "term_grade" and day is not None:
        day = min(day, today)  # the diary's summary shows the term of the week
    if day is None:  # a year grade, or the record is gone: the diary's current week
        return "diary.week", {"student": student}
    return "diary.week", {"student": student, "week": week_of(day).isoformat()}


def mark_read(session: Session, account: Principal, delivery_id: int | None = None) -> int:
    """Mark one of the account's notifications read (or all of them). Returns how many."""
    statement = (
        update(NotificationDelivery)
        .where(
            NotificationDelivery.account_id == account.id,
            NotificationDelivery.channel == "in_app",
            NotificationDelivery.read_at.is_(None),
        )
        .values(read_at=func.now())
    )
    if delivery_id is not None:
        statement = statement.where(NotificationDelivery.id == delivery_id)
    count = session.execute(statement).rowcount
    session.flush()
    return count


@dataclass(frozen=True)
class DeliveryRow:
    delivery: NotificationDelivery
    kind: str
    recipient: str | None


def deliveries(
    session: Session, account: Principal, school: School, *, state: str | None, limit: int = 200
) -> list[DeliveryRow]:
    """The administrator's view: the latest deliveries (optionally of one state) with the
    event kind and the recipient's name, in one query."""
    require_role(account, school, Role.ADMIN)
    query = (
        select(NotificationDelivery, NotificationEvent.kind, Person.first_name, Person.last_name)
        .join(NotificationEvent, NotificationEvent.id == NotificationDelivery.event_id)
        .outerjoin(Person, Person.account_id == NotificationDelivery.account_id)
        .order_by(NotificationDelivery.id.desc())
        .limit(limit)
    )
    if state:
        query = query.where(NotificationDelivery.state == state)
    return [
        DeliveryRow(d, kind, f"{first} {last}" if first else None)
        for d, kind, first, last in session.execute(query)
    ]


def retry_failed(
    session: Session, account: Principal, school: School, delivery_id: int | None = None
) -> list[int]:
    """Put failed deliveries (one, or all) back to pending with fresh attempts. Returns their
    ids; the view enqueues the send after the commit."""
    require_role(account, school, Role.ADMIN)
    statement = (
        update(NotificationDelivery)
        .where(NotificationDelivery.state == "failed")
        .values(state="pending", attempts=0, error=None)
        .returning(NotificationDelivery.id)
    )
    if delivery_id is not None:
        if session.get(NotificationDelivery, delivery_id) is None:
            raise NotFound(_("There is no such notification."))
        statement = statement.where(NotificationDelivery.id == delivery_id)
    ids = sorted(session.scalars(statement))
    if delivery_id is not None and not ids:
        raise ServiceError(_("Only a failed notification can be sent again."))
    session.flush()
    return ids
