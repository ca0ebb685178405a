"""Message threads: who may write to whom, sending (recipients expanded at send time), replies,
read receipts and attachments.

Who may address whom (``addressable``):
- the administrator, the director and the social pedagogue: every class, group and person
  (with an account) of the school;
- staff: the classes they head and the groups they teach (their students' guardians and/or the
  students), each of those students and guardians on their own, and every member of staff
  (a class head writing to the class's teachers, colleagues among themselves);
- guardians and students: the class head of the child's (own) class, the teachers of the
  child's (own) groups, and the school's social pedagogues and health specialists.

A thread's participants are staff or family (guardians, students). Staff messages reach every
participant; a guardian's or student's reply reaches the thread's staff only, so a class head's
message to thirty families never shows one family's answer to another.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from accounts.identity import Principal
from accounts.models import ROLE_LABELS, STAFF_ROLES, Account, Role, SchoolGrant
from accounts.services import roles_in_school, staff_accounts
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.i18n import joined
from dienynas.names import name_order, name_sort_key
from gradebook.lessons.services import MAX_FILES, Upload, check_upload
from notifications.messages.models import (
    Message,
    MessageFile,
    MessageReceipt,
    MessageThread,
    ThreadParticipant,
)
from notifications.outbox import record_event
from school.calendar.services import current_year
from school.classes.models import Group, GroupStudent, GroupTeacher, SchoolClass
from school.curriculum.models import Subject, translated_name
from school.people.models import Guardianship, Person, Student
from school.people.names import person_order
from school.permissions import person_of
from tenants.models import School

SUBJECT_MAX = 200
BODY_MAX = 10_000
#: Whom a class or group stands for.
AUDIENCES = {
    "guardians": _l("Guardians"),
    "students": _l("Students"),
    "both": _l("Guardians and students"),
}
#: Roles that write to every class, group and person: the administration, and the social
#: pedagogue, who informs students, families and staff (seed 001, 19.2).
_MANAGERS = frozenset({Role.ADMIN, Role.DIRECTOR, Role.SOCIAL_PEDAGOGUE})
#: Staff every family may write to, besides the child's class head and teachers.
_PUPIL_SUPPORT = (Role.SOCIAL_PEDAGOGUE, Role.HEALTH_SPECIALIST)
#: A class's name ("5a") in SQL; empty when an outer join found no class.
_CLASS_NAME = func.concat(SchoolClass.grade_level, SchoolClass.letter)


@dataclass
class Addressable:
    """What an account may choose as recipients: id → label."""

    classes: dict[int, str] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)
    persons: dict[int, str] = field(default_factory=dict)


def _active_students(session: Session, class_ids: Iterable[int], group_ids: Iterable[int]):
    """Ids of the active students of the classes and groups."""
    class_ids, group_ids = list(class_ids), list(group_ids)
    if not class_ids and not group_ids:
        return set()
    in_group = select(GroupStudent.student_id).where(GroupStudent.group_id.in_(group_ids))
    return set(
        session.scalars(
            select(Student.person_id).where(
                Student.status == "active",
                or_(Student.class_id.in_(class_ids), Student.person_id.in_(in_group)),
            )
        )
    )


def _guardians_of(session: Session, student_ids: set[int]) -> set[int]:
    if not student_ids:
        return set()
    return set(
        session.scalars(
            select(Guardianship.guardian_id).where(Guardianship.student_id.in_(student_ids))
        )
    )


#: The order a member of staff's roles are named in a recipient's label.
_STAFF_ORDER = (
    Role.ADMIN,
    Role.DIRECTOR,
    Role.CLASS_HEAD,
    Role.TEACHER,
    Role.SOCIAL_PEDAGOGUE,
    Role.HEALTH_SPECIALIST,
)


def _person_labels(
    session: Session,
    school: School,
    person_ids: set[int] | None,
    exclude: int | None,
    *,
    year_id: int | None,
    children: set[int] | None = None,
) -> dict[int, str]:
    """Labels of the persons that have an account (one can only write to an account), sorted
    by name, each saying who the person is to the writer: a student's class ("Nojus Butkus
    (5a)"); a guardian's children with their classes; a member of staff's roles, the classes
    they head and the subjects they teach (``children``: only those taught to these students,
    the writer's children or the student writing). Five queries for any number of persons."""
    chosen = select(Person.id).where(Person.account_id.is_not(None))
    if person_ids is not None:
        chosen = chosen.where(Person.id.in_(person_ids))
    if exclude is not None:
        chosen = chosen.where(Person.id != exclude)
    rows = session.execute(
        select(Person.id, Person.first_name, Person.last_name, _CLASS_NAME)
        .outerjoin(Student, Student.person_id == Person.id)
        .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
        .where(Person.id.in_(chosen))
        .order_by(*person_order())
    ).all()
    if not rows:
        return {}
    roles: dict[int, set[Role]] = defaultdict(set)
    for person_id, role in session.execute(
        select(Person.id, SchoolGrant.role)
        .join(SchoolGrant, SchoolGrant.account_id == Person.account_id)
        .where(
            Person.id.in_(chosen),
            SchoolGrant.school_id == school.id,
            SchoolGrant.role.in_(STAFF_ROLES),
        )
    ):
        roles[person_id].add(Role(role))
    headed: dict[int, list[str]] = defaultdict(list)
    for head_id, name in session.execute(
        select(SchoolClass.head_id, _CLASS_NAME)
        .where(SchoolClass.head_id.in_(chosen), SchoolClass.year_id == year_id)
        .order_by(SchoolClass.grade_level, SchoolClass.letter)
    ):
        headed[head_id].append(name)
    taught = (
        select(GroupTeacher.teacher_id, Subject.name, Subject.name_translations)
        .join(Group, Group.id == GroupTeacher.group_id)
        .join(Subject, Subject.id == Group.subject_id)
        .where(GroupTeacher.teacher_id.in_(chosen), Group.year_id == year_id)
    )
    if children is not None:
        taught = taught.where(
            Group.id.in_(select(GroupStudent.group_id).where(GroupStudent.student_id.in_(children)))
        )
    locale = str(get_locale())
    subjects: dict[int, set[str]] = defaultdict(set)
    for teacher_id, name, translations in session.execute(taught):
        subjects[teacher_id].add(translated_name(name, translations, locale))
    child = aliased(Person)
    of_guardian: dict[int, list[str]] = defaultdict(list)
    for guardian_id, first_name, class_name in session.execute(
        select(Guardianship.guardian_id, child.first_name, _CLASS_NAME)
        .join(Student, Student.person_id == Guardianship.student_id)
        .join(child, child.id == Guardianship.student_id)
        .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
        .where(Guardianship.guardian_id.in_(chosen), Student.status == "active")
        .order_by(*person_order(child))
    ):
        child_label = f"{first_name} ({class_name})" if class_name else first_name
        of_guardian[guardian_id].append(child_label)
    labels = {}
    for person_id, first, last, class_name in rows:
        name = f"{first} {last}"
        if class_name and not roles[person_id]:
            labels[person_id] = f"{name} ({class_name})"
            continue
        who = _staff_words(roles[person_id], headed[person_id], subjects[person_id])
        if of_guardian[person_id]:
            who.append(_("guardian of %(names)s", names=joined(of_guardian[person_id])))
        labels[person_id] = f"{name} — {', '.join(who)}" if who else name
    return labels


def _staff_words(roles: set[Role], headed: list[str], subjects: set[str]) -> list[str]:
    """What a member of staff is: "class head of 5a", the subjects they teach, their other
    roles; a bare "teacher" only when nothing else says it."""
    words: list[str] = []
    if headed:
        roles = roles | {Role.CLASS_HEAD}
    for role in _STAFF_ORDER:
        if role not in roles:
            continue
        if role == Role.CLASS_HEAD and headed:
            words.append(_("class head of %(classes)s", classes=joined(headed)))
        elif role == Role.TEACHER:
            words.extend(sorted(subjects, key=name_sort_key))
        else:
            words.append(str(ROLE_LABELS[role]))
    if Role.TEACHER in roles and not words:
        words.append(str(ROLE_LABELS[Role.TEACHER]))
    return words


def _staff_persons(session: Session, school: School) -> set[int]:
    """The persons of the school's members of staff (one query)."""
    return set(
        session.scalars(select(Person.id).where(Person.account_id.in_(staff_accounts(school.id))))
    )


def addressable(session: Session, account: Principal, school: School, today: date) -> Addressable:
    """The classes, groups and persons ``account`` may write to (see the module's docstring)."""
    roles = roles_in_school(account, school)
    year = current_year(session, today)
    year_id = year.id if year else None
    me = person_of(session, account)
    me_id = me.id if me else None
    result = Addressable()
    if roles & _MANAGERS:
        classes = session.scalars(
            select(SchoolClass)
            .where(SchoolClass.year_id == year_id)
            .order_by(SchoolClass.grade_level, SchoolClass.letter)
        )
        result.classes = {c.id: c.name for c in classes}
        groups = session.execute(
            select(Group.id, Group.name).where(Group.year_id == year_id).order_by(Group.name)
        )
        result.groups = dict(groups.all())
        result.persons = _person_labels(session, school, None, me_id, year_id=year_id)
        return result
    if me is None:
        return result
    persons: set[int] = set()
    if roles & STAFF_ROLES:
        classes = session.scalars(
            select(SchoolClass)
            .where(SchoolClass.year_id == year_id, SchoolClass.head_id == me.id)
            .order_by(SchoolClass.grade_level, SchoolClass.letter)
        )
        result.classes = {c.id: c.name for c in classes}
        groups = session.execute(
            select(Group.id, Group.name)
            .join(GroupTeacher, GroupTeacher.group_id == Group.id)
            .where(Group.year_id == year_id, GroupTeacher.teacher_id == me.id)
            .order_by(Group.name)
        )
        result.groups = dict(groups.all())
        students = _active_students(session, result.classes, result.groups)
        persons |= students | _guardians_of(session, students) | _staff_persons(session, school)
    children: set[int] = set()
    if Role.GUARDIAN in roles:
        children |= set(
            session.scalars(
                select(Guardianship.student_id)
                .join(Student, Student.person_id == Guardianship.student_id)
                .where(Guardianship.guardian_id == me.id, Student.status == "active")
            )
        )
    if Role.STUDENT in roles:
        children.add(me.id)
    if children:
        heads = select(SchoolClass.head_id).join(Student, Student.class_id == SchoolClass.id)
        heads = heads.where(Student.person_id.in_(children), SchoolClass.head_id.is_not(None))
        teachers = (
            select(GroupTeacher.teacher_id)
            .join(GroupStudent, GroupStudent.group_id == GroupTeacher.group_id)
            .join(Group, Group.id == GroupTeacher.group_id)
            .where(GroupStudent.student_id.in_(children), Group.year_id == year_id)
        )
        support = select(Person.id).where(
            Person.account_id.in_(
                select(SchoolGrant.account_id).where(
                    SchoolGrant.school_id == school.id, SchoolGrant.role.in_(_PUPIL_SUPPORT)
                )
            )
        )
        persons |= set(session.scalars(heads.union(teachers, support)))
    # a family is told what each teacher teaches its children; staff, what a colleague teaches
    taught_to = children if children and not roles & STAFF_ROLES else None
    result.persons = _person_labels(
        session, school, persons, me_id, year_id=year_id, children=taught_to
    )
    return result


@dataclass(frozen=True)
class Recipients:
    """Accounts a new thread reaches, each marked staff or family."""

    staff: set[int]
    family: set[int]


def _recipient_accounts(
    session: Session,
    school: School,
    *,
    class_ids: Sequence[int],
    group_ids: Sequence[int],
    person_ids: Sequence[int],
    audience: str,
) -> set[int]:
    students = _active_students(session, class_ids, group_ids)
    persons = set(person_ids)
    if audience in ("students", "both"):
        persons |= students
    if audience in ("guardians", "both"):
        persons |= _guardians_of(session, students)
    if not persons:
        return set()
    return set(
        session.scalars(
            select(Person.account_id).where(Person.id.in_(persons), Person.account_id.is_not(None))
        )
    )


def _staff_among(session: Session, school: School, account_ids: set[int]) -> set[int]:
    if not account_ids:
        return set()
    return set(
        session.scalars(staff_accounts(school.id).where(SchoolGrant.account_id.in_(account_ids)))
    )


def _clean(value: str | None, field: str, limit: int, empty: str, long: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ServiceError(empty, field=field)
    if len(text) > limit:
        raise ServiceError(long, field=field)
    return text


def _clean_body(body: str | None) -> str:
    return _clean(
        body,
        "body",
        BODY_MAX,
        _("Write the message."),
        _("The message is longer than %(max)d characters.", max=BODY_MAX),
    )


def _files(uploads: Sequence[Upload]) -> list[MessageFile]:
    """The attachments, checked as homework files are (types, size, count)."""
    if len(uploads) > MAX_FILES:
        raise ServiceError(
            _("At most %(max)d files can be attached.", max=MAX_FILES), field="files"
        )
    files = []
    for upload in uploads:
        checked = check_upload(upload)
        files.append(
            MessageFile(
                file_name=checked.file_name,
                content_type=checked.content_type,
                size=checked.size,
                content=checked.content,
            )
        )
    return files


def _post(
    session: Session, thread: MessageThread, sender: Account, body: str, files, to: set[int]
) -> Message:
    message = Message(thread_id=thread.id, sender_id=sender.id, body=body)
    session.add(message)
    session.flush()
    for file in files:
        file.message_id = message.id
    session.add_all(files)
    session.add_all(MessageReceipt(message_id=message.id, account_id=a) for a in sorted(to))
    thread.last_message_at = func.now()
    session.flush()
    session.execute(  # a new message brings the thread back to the inbox of whoever put it away
        update(ThreadParticipant)
        .where(
            ThreadParticipant.thread_id == thread.id,
            ThreadParticipant.account_id.in_(to | {sender.id}),
            ThreadParticipant.archived_at.is_not(None),
        )
        .values(archived_at=None)
    )
    record_event(session, "message", actor_id=sender.id, message_id=message.id)
    return message


def start_thread(
    session: Session,
    account: Principal,
    school: School,
    today: date,
    *,
    subject: str | None,
    body: str | None,
    class_ids: Sequence[int] = (),
    group_ids: Sequence[int] = (),
    person_ids: Sequence[int] = (),
    audience: str = "guardians",
    uploads: Sequence[Upload] = (),
) -> MessageThread:
    """Start a thread to the chosen classes, groups and persons (each must be one ``account``
    may address, else PermissionDenied); they are expanded to accounts now."""
    subject = _clean(
        subject,
        "subject",
        SUBJECT_MAX,
        _("Write the subject."),
        _("The subject is longer than %(max)d characters.", max=SUBJECT_MAX),
    )
    body = _clean_body(body)
    if audience not in AUDIENCES:
        raise ServiceError(_("Choose whom the classes and groups stand for."), field="audience")
    if not (class_ids or group_ids or person_ids):
        raise ServiceError(_("Choose at least one recipient."), field="recipients")
    allowed = addressable(session, account, school, today)
    if (
        not set(class_ids) <= allowed.classes.keys()
        or not set(group_ids) <= allowed.groups.keys()
        or not set(person_ids) <= allowed.persons.keys()
    ):
        raise PermissionDenied(_("You may not write to some of the chosen recipients."))
    files = _files(uploads)
    to = _recipient_accounts(
        session,
        school,
        class_ids=class_ids,
        group_ids=group_ids,
        person_ids=person_ids,
        audience=audience,
    )
    to.discard(account.id)
    if not to:
        raise ServiceError(
            _("None of the chosen people has an e-diary account."), field="recipients"
        )
    staff = _staff_among(session, school, to | {account.id})
    thread = MessageThread(subject=subject, started_by=account.id)
    session.add(thread)
    session.flush()
    session.add_all(
        ThreadParticipant(thread_id=thread.id, account_id=a, is_staff=a in staff)
        for a in sorted(to | {account.id})
    )
    _post(session, thread, account, body, files, to)
    return thread


def _participant(session: Session, account: Principal, thread_id: int | None) -> ThreadParticipant:
    participant = (
        session.get(ThreadParticipant, (thread_id, account.id)) if thread_id is not None else None
    )
    if participant is None:
        raise NotFound(_("There is no such conversation."))
    return participant


def reply(
    session: Session,
    account: Principal,
    thread_id: int | None,
    *,
    body: str | None,
    uploads: Sequence[Upload] = (),
) -> Message:
    """Reply in a thread the account is in: staff reach every participant, a guardian or
    student the thread's staff."""
    me = _participant(session, account, thread_id)
    body = _clean_body(body)
    files = _files(uploads)
    query = select(ThreadParticipant.account_id).where(
        ThreadParticipant.thread_id == thread_id, ThreadParticipant.account_id != account.id
    )
    if not me.is_staff:
        query = query.where(ThreadParticipant.is_staff)
    to = set(session.scalars(query))
    thread = session.get(MessageThread, thread_id)
    return _post(session, thread, account, body, files, to)


# --- pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    thread: MessageThread
    started_by: str
    messages: int
    unread: int


def archive_thread(
    session: Session, account: Principal, thread_id: int | None, *, archived: bool
) -> None:
    """Put a thread away (out of the account's inbox until its next message) or back."""
    me = _participant(session, account, thread_id)
    me.archived_at = datetime.now(UTC) if archived else None
    session.flush()


def inbox(
    session: Session, account: Principal, limit: int = 100, *, archived: bool = False
) -> list[InboxRow]:
    """The account's threads (``archived``: those put away instead), latest activity first,
    with the number of messages it can read and how many of them are unread (one query)."""
    mine = or_(Message.sender_id == account.id, MessageReceipt.account_id == account.id)
    rows = session.execute(
        select(
            MessageThread,
            Account.name,
            func.count(func.distinct(Message.id)).filter(mine),
            func.count(func.distinct(Message.id)).filter(
                MessageReceipt.account_id == account.id, MessageReceipt.read_at.is_(None)
            ),
        )
        .join(
            ThreadParticipant,
            and_(
                ThreadParticipant.thread_id == MessageThread.id,
                ThreadParticipant.account_id == account.id,
                ThreadParticipant.archived_at.is_not(None)
                if archived
                else ThreadParticipant.archived_at.is_(None),
            ),
        )
        .join(Account, Account.id == MessageThread.started_by)
        .join(Message, Message.thread_id == MessageThread.id)
        .outerjoin(
            MessageReceipt,
            and_(
                MessageReceipt.message_id == Message.id,
                MessageReceipt.account_id == account.id,
            ),
        )
        .group_by(MessageThread.id, Account.name)
        .order_by(MessageThread.last_message_at.desc(), MessageThread.id.desc())
        .limit(limit)
    )
    return [InboxRow(t, name, total, unread) for t, name, total, unread in rows]


def unread_count(session: Session, account: Principal) -> int:
    return session.scalar(
        select(func.count())
        .select_from(MessageReceipt)
        .where(MessageReceipt.account_id == account.id, MessageReceipt.read_at.is_(None))
    )


@dataclass(frozen=True)
class Receipt:
    name: str
    read_at: datetime | None


@dataclass
class ShownMessage:
    message: Message
    sender: str
    files: list[MessageFile] = field(default_factory=list)
    #: for the reader's own messages: every recipient and when they read it
    receipts: list[Receipt] = field(default_factory=list)


@dataclass(frozen=True)
class ThreadPage:
    thread: MessageThread
    messages: list[ShownMessage]
    participants: list[str]
    archived: bool  # put away by the reader


def thread_page(session: Session, account: Principal, thread_id: int | None) -> ThreadPage:
    """The messages of a thread the account can read (sent or received), the files, who read
    the account's own messages; marks the received ones read. A constant number of queries."""
    me = _participant(session, account, thread_id)
    thread = session.get(MessageThread, thread_id)
    received = select(MessageReceipt.message_id).where(MessageReceipt.account_id == account.id)
    rows = session.execute(
        select(Message, Account.name)
        .join(Account, Account.id == Message.sender_id)
        .where(
            Message.thread_id == thread_id,
            or_(Message.sender_id == account.id, Message.id.in_(received)),
        )
        .order_by(Message.id)
    ).all()
    shown = {m.id: ShownMessage(m, name) for m, name in rows}
    if shown:
        for file in session.scalars(
            select(MessageFile).where(MessageFile.message_id.in_(shown)).order_by(MessageFile.id)
        ):
            shown[file.message_id].files.append(file)
        own = [i for i, s in shown.items() if s.message.sender_id == account.id]
        receipts = session.execute(
            select(MessageReceipt.message_id, Account.name, MessageReceipt.read_at)
            .join(Account, Account.id == MessageReceipt.account_id)
            .where(MessageReceipt.message_id.in_(own))
            .order_by(name_order(Account.name))
        )
        for message_id, name, read_at in receipts:
            shown[message_id].receipts.append(Receipt(name, read_at))
    participants = list(
        session.scalars(
            select(Account.name)
            .join(ThreadParticipant, ThreadParticipant.account_id == Account.id)
            .where(ThreadParticipant.thread_id == thread_id)
            .order_by(name_order(Account.name))
        )
    )
    session.execute(
        update(MessageReceipt)
        .where(
            MessageReceipt.account_id == account.id,
            MessageReceipt.read_at.is_(None),
            MessageReceipt.message_id.in_(list(shown)),
        )
        .values(read_at=func.now())
    )
    session.flush()
    return ThreadPage(thread, list(shown.values()), participants, me.archived_at is not None)


def message_file(session: Session, account: Principal, file_id: int | None) -> MessageFile:
    """An attachment of a message the account sent or received."""
    file = session.get(MessageFile, file_id) if file_id is not None else None
    if file is not None:
        message = session.get(Message, file.message_id)
        if message.sender_id == account.id or session.get(MessageReceipt, (message.id, account.id)):
            return file
    raise NotFound(_("There is no such file."))


def recipients_of_messages(session: Session, message_ids: set[int]) -> dict[int, set[int]]:
    """message id → the accounts it was sent to (the dispatch's recipients of 'message')."""
    result: dict[int, set[int]] = defaultdict(set)
    if message_ids:
        rows = session.execute(
            select(MessageReceipt.message_id, MessageReceipt.account_id).where(
                MessageReceipt.message_id.in_(message_ids)
            )
        )
        for message_id, account_id in rows:
            result[message_id].add(account_id)
    return result
