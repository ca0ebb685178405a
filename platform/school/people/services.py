"""Rules for the school's people: staff, students, guardians, their accounts and credentials.

Run inside a transaction bound to the school. Services validate, raise ``ServiceError`` naming
the field at fault and only flush; the request commits once.

One person has one account across the municipality (``public.accounts``); a ``Person`` row is
what this school knows about them. Adding someone whose personal code is already on a person
here, or naming an existing login, links that person or account instead of making a second one.

Who may change what:

- the e-diary administrator: everyone;
- the class head (the person who is ``SchoolClass.head_id``): the students of their class and
  those students' guardians (add, edit, remove, link, reset passwords);
- anyone else: nothing (``PermissionDenied``, HTTP 403).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, delete, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased, contains_eager, object_session

from accounts.identity import Principal
from accounts.models import FAMILY_ROLES, STAFF_ROLES, Account, LoginEvent, Role, SchoolGrant
from accounts.services import (
    create_account,
    grant_role,
    issue_one_time_password,
    normalized_link_code,
    require_role,
    revoke_role,
    roles_in_school,
    staff_accounts,
    use_link_code,
)
from dienynas import clock
from dienynas.config import SUPPORTED_LOCALES
from dienynas.database import contains_pattern, prefix_pattern, take_turns
from dienynas.errors import NotFound, PermissionDenied, ServiceError
from dienynas.forms import check_email, check_phone, parse_id, parse_optional_date
from dienynas.names import name_order, name_sort_key
from gradebook.grades.following import follow_into_group
from gradebook.lessons.models import Lesson
from notifications.outbox import record_event
from school.calendar.models import SchoolYear
from school.calendar.services import current_year, studies_end
from school.classes.models import Group, GroupStudent, SchoolClass
from school.curriculum.models import Subject
from school.people.models import Guardianship, Person, StaffRight, Student, TeacherSubject
from school.people.names import person_order, person_sort_key
from school.timetable.services import refuse_group_clashes
from tenants.models import School

NAME_MAX = 100
#: The oldest birth date accepted is this many years before today.
MAX_AGE_YEARS = 100
DOCUMENT_MAX = 40
RELATIONS = {
    "mother": _l("mother"),
    "father": _l("father"),
    "guardian": _l("guardian (custodian)"),
    "other": _l("other"),
}
RIGHTS = {
    "form_groups": _l("may form subject groups"),
    "edit_timetable": _l("may edit the timetable"),
}
#: Staff roles in the order a form and a list show them.
STAFF_ROLE_ORDER = [r for r in Role if r in STAFF_ROLES]


# --- personal codes and logins ---------------------------------------------------------------

_CODE_WEIGHTS = ((1, 2, 3, 4, 5, 6, 7, 8, 9, 1), (3, 4, 5, 6, 7, 8, 9, 1, 2, 3))


def personal_code_check_digit(first_ten: str) -> int:
    """The check digit of a Lithuanian personal code: the weighted sum mod 11 with weights
    1–9,1; when that is 10, again with weights 3–9,1,2,3; when that is 10 too, 0."""
    digits = [int(c) for c in first_ten]
    for weights in _CODE_WEIGHTS:
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if remainder != 10:
            return remainder
    return 0


def check_personal_code(code: str, today: date | None = None) -> date:
    """The birth date a Lithuanian personal code (GYYMMDDNNNK) holds; ServiceError naming
    ``personal_code`` when it is not a valid code."""
    if not re.fullmatch(r"\d{11}", code):
        raise ServiceError(
            _("A Lithuanian personal code is 11 digits, e.g. 38703181745."), field="personal_code"
        )
    century_and_sex = int(code[0])
    if not 1 <= century_and_sex <= 6:
        raise ServiceError(
            _("The personal code must start with 1 to 6 (the century of birth and sex)."),
            field="personal_code",
        )
    century = 1800 + (century_and_sex - 1) // 2 * 100
    try:
        born = date(century + int(code[1:3]), int(code[3:5]), int(code[5:7]))
    except ValueError:
        raise ServiceError(
            _("The personal code does not hold a real date of birth."), field="personal_code"
        ) from None
    if born > (today or clock.today()):
        raise ServiceError(
            _("The personal code holds a date of birth in the future."), field="personal_code"
        )
    if personal_code_check_digit(code[:10]) != int(code[10]):
        raise ServiceError(
            _("The personal code's last (check) digit does not match; look for a typo."),
            field="personal_code",
        )
    return born


#: Letters that Unicode decomposition does not fold to ASCII (Cyrillic: ICAO transliteration).
_TRANSLITERATION = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iu",
        "я": "ia", "і": "i", "ї": "i", "є": "ie", "ґ": "g", "ў": "u", "ł": "l", "ß": "ss",
        "æ": "ae", "ø": "o", "œ": "oe", "đ": "d", "þ": "th",
    }
)  # fmt: skip


def ascii_fold(text: str) -> str:
    """``Žukauskaitė`` → ``zukauskaite``, ``Артём`` → ``artem``, ``Łukasz`` → ``lukasz``."""
    lowered = text.lower().translate(_TRANSLITERATION)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def _login_part(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", ascii_fold(name)).strip("-")


def generate_login(session: Session, first_name: str, last_name: str) -> str:
    """A free login made of the names: ``jonas.jonaitis``, then ``jonas.jonaitis2``, …

    Two administrators adding people of the same name at the same moment take turns: the
    second waits here until the first's transaction ends, then sees its login as taken
    (before, the unique index refused the second with an error page)."""
    base = ".".join(p for p in (_login_part(first_name), _login_part(last_name)) if p)[:56]
    base = base.strip(".-") or "user"
    if len(base) < 3:
        base = f"{base}.user"
    take_turns(session, f"login:{base}", in_school=False)
    same_start = Account.login.like(prefix_pattern(base))  # served by ix_accounts_login_prefix
    taken = set(session.scalars(select(Account.login).where(same_start)))
    if base not in taken:
        return base
    number = 2
    while f"{base}{number}" in taken:
        number += 1
    return f"{base}{number}"


# --- personal details --------------------------------------------------------------------------


@dataclass
class PersonDetails:
    """What a form says about a person (strings stripped; the date parsed)."""

    first_name: str = ""
    last_name: str = ""
    birth_date: date | None = None
    #: "personal_code": a Lithuanian personal code; "other": a foreign or other document
    document_kind: str = "personal_code"
    personal_code: str = ""
    document_number: str = ""
    email: str = ""
    phone: str = ""
    locale: str = ""

    @classmethod
    def of(cls, person: Person, account: Account | None = None) -> PersonDetails:
        no_document = person.document_kind == "other" and not person.document_number
        return cls(
            first_name=person.first_name,
            last_name=person.last_name,
            birth_date=person.birth_date,
            # nothing recorded: the form offers the personal code first
            document_kind="personal_code" if no_document else person.document_kind,
            personal_code=person.personal_code or "",
            document_number=person.document_number or "",
            # the contacts in use, as notifications choose: the account's first
            email=(account.email if account else None) or person.email or "",
            phone=(account.phone if account else None) or person.phone or "",
            locale=person.locale or (account.locale if account else None) or "",
        )


def read_details(form: Mapping[str, str]) -> PersonDetails:
    """A form's person fields; ServiceError when the birth date cannot be read."""
    return PersonDetails(
        first_name=(form.get("first_name") or "").strip(),
        last_name=(form.get("last_name") or "").strip(),
        birth_date=parse_optional_date(form.get("birth_date"), "birth_date"),
        document_kind=form.get("document_kind") or "personal_code",
        personal_code=re.sub(r"\s+", "", form.get("personal_code") or ""),
        document_number=(form.get("document_number") or "").strip(),
        email=(form.get("email") or "").strip(),
        phone=(form.get("phone") or "").strip(),
        locale=(form.get("locale") or "").strip(),
    )


def login_to_link(form: Mapping[str, str]) -> str:
    """The login a form's "link an existing login" part names ("" when the form adds a new
    person: ``mode`` other than "link"). That part has no name fields, so a missing login must
    be said on the login field, not found later as a missing first name."""
    if form.get("mode") != "link":
        return ""
    login = (form.get("login") or "").strip()
    if not login:
        raise ServiceError(_("Enter the login of the account to link."), field="login")
    return login


def _check_name(value: str, field_name: str, missing: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ServiceError(missing, field=field_name)
    if len(value) > NAME_MAX:
        raise ServiceError(
            ngettext(
                "A name may be at most %(num)d character long.",
                "A name may be at most %(num)d characters long.",
                NAME_MAX,
            ),
            field=field_name,
        )
    return value


def _check_birth_date(birth: date, today: date, field_name: str) -> None:
    """Not in the future, and not more than ``MAX_AGE_YEARS`` ago (1900-01-01 is what a date
    field left at its earliest, or a code typed a century off, gives)."""
    if birth > today:
        raise ServiceError(_("The birth date must be a past date."), field=field_name)
    try:
        earliest = today.replace(year=today.year - MAX_AGE_YEARS)
    except ValueError:  # 29 February
        earliest = today.replace(year=today.year - MAX_AGE_YEARS, day=28)
    if birth < earliest:
        raise ServiceError(
            ngettext(
                "The birth date cannot be more than %(num)d year ago; check the year.",
                "The birth date cannot be more than %(num)d years ago; check the year.",
                MAX_AGE_YEARS,
            ),
            field=field_name,
        )


def _validate(details: PersonDetails, *, student: bool, today: date) -> PersonDetails:
    """Normalise and check ``details``; a student needs a personal code or another document
    (with a birth date); staff and guardians may have neither (kind "other", no number)."""
    first = _check_name(details.first_name, "first_name", _("Enter the first name."))
    last = _check_name(details.last_name, "last_name", _("Enter the last name."))
    kind = details.document_kind
    if kind not in ("personal_code", "other"):
        raise ServiceError(_("Choose the kind of document."), field="document_kind")
    code = details.personal_code if kind == "personal_code" else ""
    number = details.document_number if kind == "other" else ""
    birth = details.birth_date
    if birth is not None:
        _check_birth_date(birth, today, "birth_date")
    if kind == "personal_code" and code:
        from_code = check_personal_code(code, today)
        if birth is not None and birth != from_code:
            raise ServiceError(
                _(
                    "The birth date does not match the personal code, which says %(date)s.",
                    date=from_code.isoformat(),
                ),
                field="birth_date",
            )
        _check_birth_date(from_code, today, "personal_code")
        birth = from_code
    elif kind == "personal_code":
        if student:
            raise ServiceError(
                _("Enter the personal code, or choose “foreign or other document”."),
                field="personal_code",
            )
        kind = "other"  # staff and guardians: no document recorded
    elif student and not number:
        raise ServiceError(
            _("Enter the number of the passport, identity card or birth certificate."),
            field="document_number",
        )
    if len(number) > DOCUMENT_MAX:
        raise ServiceError(
            ngettext(
                "A document number may be at most %(num)d character long.",
                "A document number may be at most %(num)d characters long.",
                DOCUMENT_MAX,
            ),
            field="document_number",
        )
    if student and birth is None:
        raise ServiceError(_("Enter the student's birth date."), field="birth_date")
    check_email(details.email)
    check_phone(details.phone)
    if details.locale and details.locale not in SUPPORTED_LOCALES:
        raise ServiceError(_("Unknown language."), field="locale")
    return PersonDetails(
        first_name=first,
        last_name=last,
        birth_date=birth,
        document_kind=kind,
        personal_code=code,
        document_number=number,
        email=details.email,
        phone=details.phone,
        locale=details.locale,
    )


def _person_with_code(session: Session, code: str, other_than: Person | None) -> Person | None:
    if not code:
        return None
    query = select(Person).where(Person.personal_code == code)
    if other_than is not None and other_than.id is not None:
        query = query.where(Person.id != other_than.id)
    return session.scalar(query)


def _code_taken(existing: Person) -> ServiceError:
    return ServiceError(
        _(
            "This personal code is already recorded for %(name)s in this school.",
            name=existing.full_name,
        ),
        field="personal_code",
    )


def _person_with_document(
    session: Session, number: str, other_than: Person | None
) -> Person | None:
    """The person of the school whose document number is ``number``, spaces and case aside
    (“ab 123456” is the passport AB123456)."""
    if not number:
        return None
    wanted = re.sub(r"\s+", "", number).upper()
    query = select(Person).where(
        func.upper(func.regexp_replace(Person.document_number, r"\s+", "", "g")) == wanted
    )
    if other_than is not None and other_than.id is not None:
        query = query.where(Person.id != other_than.id)
    return session.scalar(query.limit(1))


def _apply(person: Person, details: PersonDetails, session: Session | None = None) -> None:
    """Record checked ``details`` on ``person``. Every path that records a person's details
    (adding or editing a student, a guardian, staff) comes here, so a document number another
    person of the school has is refused here, as a personal code is; ``session`` is needed
    only for a person not added to one yet."""
    session = session or object_session(person)
    if existing := _person_with_document(session, details.document_number, person):
        raise ServiceError(
            _(
                "This document number is already recorded for %(name)s in this school.",
                name=existing.full_name,
            ),
            field="document_number",
        )
    person.first_name = details.first_name
    person.last_name = details.last_name
    person.birth_date = details.birth_date
    person.document_kind = details.document_kind
    person.personal_code = details.personal_code or None
    person.document_number = details.document_number or None
    person.email = details.email or None
    person.phone = details.phone or None
    person.locale = details.locale or None


def _account(session: Session, person: Person) -> Account | None:
    return session.get(Account, person.account_id) if person.account_id else None


def _in_other_schools(account: Account, school: School) -> bool:
    return any(g.school_id != school.id for g in account.grants)


def _sync_account(session: Session, school: School, person: Person) -> None:
    """Copy the name, contacts and language to the person's account. An account also used in
    another school keeps its own name and gets only the contacts it lacks (the other school
    knows the person too)."""
    account = _account(session, person)
    if account is None:
        return
    if _in_other_schools(account, school):
        account.email = account.email or person.email
        account.phone = account.phone or person.phone
    else:
        account.name = person.full_name
        account.email = person.email
        account.phone = person.phone
        account.locale = person.locale
    session.flush()


def _ensure_account(session: Session, person: Person) -> Account:
    """The person's account; a new one (login from the names) when they have none. The new
    account's one-time password is not shown: credentials are issued on slips."""
    account = _account(session, person)
    if account is None:
        account, _one_time = create_account(
            session,
            login=generate_login(session, person.first_name, person.last_name),
            name=person.full_name,
            email=person.email,
            phone=person.phone,
            locale=person.locale,
            issue_password=False,
        )
        person.account_id = account.id
        session.flush()
    return account


def _new_person(session: Session, details: PersonDetails, account: Account | None = None) -> Person:
    person = Person(account_id=account.id if account else None)
    _apply(person, details, session)
    session.add(person)
    session.flush()
    return person


def names_of_account(name: str) -> tuple[str, str]:
    """An account's name as first and last name: the last word is the surname (a one-word
    name is both)."""
    first, _sep, last = " ".join(name.split()).rpartition(" ")
    return (first, last) if first else (last, last)


def _details_from_account(details: PersonDetails, account: Account) -> PersonDetails:
    """Names left blank when linking an existing login are taken from the account's name."""
    if details.first_name or details.last_name:
        return details
    details.first_name, details.last_name = names_of_account(account.name)
    return details


def _person_for_login(
    session: Session,
    school: School,
    login: str,
    link_code: str,
    details: PersonDetails,
    today: date,
) -> tuple[Person, bool]:
    """The person of an existing account (True), or a new person linked to it (False).

    An account this school does not know yet (no person and no role of it here) is linked only
    with the link code its holder made on their account page: their consent, and a mistyped
    login then links nobody. Without a right code the school learns nothing about the account,
    not even whether the login exists (accounts.services.use_link_code)."""
    account = session.scalar(select(Account).where(Account.login == login.strip().lower()))
    person = (
        session.scalar(select(Person).where(Person.account_id == account.id)) if account else None
    )
    if person is not None:
        return person, True
    if account is None or not roles_in_school(account, school):
        if not normalized_link_code(link_code):
            raise ServiceError(
                _("Enter the link code the person made on their own account page (“Link code” "
                  "at the top of the page): a login used outside this school is linked only "
                  "with it."),
                field="link_code",
            )  # fmt: skip
        account = use_link_code(account, link_code, datetime.now(UTC))
    clean = _validate(_details_from_account(details, account), student=False, today=today)
    if existing := _person_with_code(session, clean.personal_code, None):
        raise _code_taken(existing)
    return _new_person(session, clean, account), False


# --- who may do what --------------------------------------------------------------------------


def is_admin(account: Principal, school: School) -> bool:
    return Role.ADMIN in roles_in_school(account, school)


def headed_class_ids(session: Session, account: Principal) -> set[int]:
    """The classes whose head is the account's person in this school (one query)."""
    return set(
        session.scalars(
            select(SchoolClass.id)
            .join(Person, Person.id == SchoolClass.head_id)
            .where(Person.account_id == account.id)
        )
    )


def managed_class_ids(session: Session, account: Principal, school: School) -> set[int] | None:
    """The classes whose students the account manages: None means every class (the
    administrator)."""
    return None if is_admin(account, school) else headed_class_ids(session, account)


def _deny() -> PermissionDenied:
    return PermissionDenied(_("Only the e-diary administrator and the class's head may do this."))


def require_class_manager(
    session: Session, account: Principal, school: School, class_id: int | None
) -> None:
    managed = managed_class_ids(session, account, school)
    if managed is not None and class_id not in managed:
        raise _deny()


def _guardian_class_ids(session: Session, guardian: Person) -> set[int]:
    return set(
        session.scalars(
            select(Student.class_id)
            .join(Guardianship, Guardianship.student_id == Student.person_id)
            .where(Guardianship.guardian_id == guardian.id, Student.class_id.is_not(None))
        )
    )


def require_person_viewer(
    session: Session,
    account: Principal,
    school: School,
    person: Person,
    headed: set[int] | None = None,
) -> None:
    """The administrator and the director see everyone; a class head their class's students
    and those students' guardians (``headed``: the classes the account heads, when the caller
    has them already)."""
    if roles_in_school(account, school) & {Role.ADMIN, Role.DIRECTOR}:
        return
    if headed is None:
        headed = headed_class_ids(session, account)
    student = session.get(Student, person.id)
    if student is not None and student.class_id in headed:
        return
    if headed & _guardian_class_ids(session, person):
        return
    raise PermissionDenied(_("You do not have access to this person's record."))


# --- classes ----------------------------------------------------------------------------------


def classes_of_current_year(session: Session, today: date) -> list[SchoolClass]:
    year = current_year(session, today)
    if year is None:
        return []
    return list(
        session.scalars(
            select(SchoolClass)
            .where(SchoolClass.year_id == year.id)
            .order_by(SchoolClass.grade_level, SchoolClass.letter)
        )
    )


def open_classes(session: Session, today: date) -> list[tuple[SchoolYear, list[SchoolClass]]]:
    """The classes a student can be placed in now, by school year: this school year's and
    those of the years to come already set up (in the summer, the classes moved up for
    September: a student enrolled or claimed then joins the class they start in). One query."""
    rows = session.execute(
        select(SchoolYear, SchoolClass)
        .join(SchoolClass, SchoolClass.year_id == SchoolYear.id)
        .where(SchoolYear.ends_on >= today)
        .order_by(SchoolYear.starts_on, SchoolClass.grade_level, SchoolClass.letter)
    ).all()
    by_year: dict[SchoolYear, list[SchoolClass]] = {}
    for year, school_class in rows:
        by_year.setdefault(year, []).append(school_class)
    return list(by_year.items())


def _class_for_student(session: Session, class_id: int | None, today: date) -> SchoolClass:
    if class_id is None:
        raise ServiceError(_("Choose the student's class."), field="class_id")
    school_class = session.get(SchoolClass, class_id)
    year = session.get(SchoolYear, school_class.year_id) if school_class is not None else None
    if year is None or year.ends_on < today:
        raise ServiceError(
            _("Choose a class of this school year or of the next one."), field="class_id"
        )
    return school_class


def _refuse_moving_ahead(
    session: Session, student: Student, school_class: SchoolClass, today: date
) -> None:
    """A student of a class whose year's lessons still go on is not moved into a class of a
    later year: they would leave every journal of this year at once (a list for September
    imported in December). Next year's class is chosen once this year's last term has ended,
    or by moving the classes up (``classes.services``)."""
    current = session.get(SchoolClass, student.class_id) if student.class_id else None
    if current is None or current.year_id == school_class.year_id:
        return
    year = session.get(SchoolYear, current.year_id)
    target = session.get(SchoolYear, school_class.year_id)
    if target.starts_on <= year.starts_on:
        return
    last_day = studies_end(session, year)
    if today <= last_day:
        raise ServiceError(
            _(
                "%(name)s learns in %(class_name)s until %(day)s: a class of %(year)s is chosen "
                "after that, or when the classes are moved up.",
                name=student.person.full_name,
                class_name=current.name,
                day=format_date(last_day, "long"),
                year=target.name,
            ),
            field="class_id",
        )


# --- students ---------------------------------------------------------------------------------


def get_person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(_("There is no such person in this school."))
    return person


def get_student(session: Session, person_id: int | None) -> Student:
    """The student (NotFound also for a missing id, e.g. an unparsable form value)."""
    student = session.get(Student, person_id) if person_id else None
    if student is None:
        raise NotFound(_("There is no such student in this school."))
    return student


def add_student(
    session: Session,
    actor: Principal,
    school: School,
    details: PersonDetails,
    class_id: int | None,
    today: date | None = None,
    *,
    announce: bool = True,
) -> Student:
    """Enrol a student in a class of the current year: a person, an account (login from the
    names) and the ``student`` role; they join the class's whole-class groups (a student who
    arrives once the groups exist is in every journal of the class at once; part groups are
    for the class head or the group's teacher to choose), and the class's teachers are told
    (``announce_arrival``; an import, which builds lists, passes ``announce=False``). A
    personal code already recorded here for someone who is not a student (a member of staff)
    makes that person a student too."""
    today = today or clock.today()
    school_class = _class_for_student(session, class_id, today)
    require_class_manager(session, actor, school, school_class.id)
    clean = _validate(details, student=True, today=today)
    person = _person_with_code(session, clean.personal_code, None)
    if person is not None:
        if session.get(Student, person.id) is not None:
            raise _code_taken(person)
    else:
        person = _new_person(session, clean)
    account = _ensure_account(session, person)
    grant_role(session, account, school, Role.STUDENT)
    student = Student(person=person, class_id=school_class.id, status="active", enrolled_on=today)
    session.add(student)
    session.flush()
    _move_groups(session, person.id, None, school_class.id)
    if announce:
        announce_arrival(session, actor, person.id, school_class.id, today)
    return student


def update_student(
    session: Session,
    actor: Principal,
    school: School,
    student: Student,
    details: PersonDetails,
    class_id: int | None,
    today: date | None = None,
    *,
    announce: bool = True,
) -> None:
    """Edit a student. A class head may not move a student to a class they do not head.

    Moving to another class also moves the student's groups: out of the old class's groups
    (whole-class and part groups), into the new class's whole-class groups, taking the year's
    grades along (``gradebook.grades.following``); groups of several classes (languages,
    electives) are kept. A move that makes lessons clash is refused.
    """
    today = today or clock.today()
    require_class_manager(session, actor, school, student.class_id)
    if class_id != student.class_id:
        school_class = _class_for_student(session, class_id, today)
        require_class_manager(session, actor, school, school_class.id)
        _refuse_moving_ahead(session, student, school_class, today)
        old_class_id = student.class_id
        student.class_id = school_class.id
        _move_groups(session, student.person_id, old_class_id, school_class.id)
        if announce:
            announce_arrival(session, actor, student.person_id, school_class.id, today)
    clean = _validate(details, student=True, today=today)
    if existing := _person_with_code(session, clean.personal_code, student.person):
        raise _code_taken(existing)
    _apply(student.person, clean)
    session.flush()
    _sync_account(session, school, student.person)


def announce_arrival(
    session: Session, actor: Principal, student_id: int, class_id: int, today: date
) -> None:
    """Tell the class's teachers and head that a student joined it (seed 002: the class head
    enters new students and tells the teachers), once the class is under way: some lesson of
    its groups was held before ``today``. Lists made before the lessons begin tell no one."""
    under_way = session.scalar(
        select(
            exists().where(
                Lesson.group_id.in_(select(Group.id).where(Group.class_id == class_id)),
                Lesson.on_day < today,
            )
        )
    )
    if under_way:
        record_event(
            session, "student_joined", actor_id=actor.id, student_id=student_id, class_id=class_id
        )


def _move_groups(
    session: Session, student_id: int, old_class_id: int | None, new_class_id: int
) -> None:
    if old_class_id is not None:
        session.execute(
            delete(GroupStudent).where(
                GroupStudent.student_id == student_id,
                GroupStudent.group_id.in_(
                    select(Group.id).where(Group.class_id == old_class_id, Group.kind != "mixed")
                ),
            )
        )
    joined = session.scalars(
        select(Group).where(
            Group.class_id == new_class_id,
            Group.kind == "class",
            Group.id.not_in(
                select(GroupStudent.group_id).where(GroupStudent.student_id == student_id)
            ),
        )
    ).all()
    session.add_all(GroupStudent(group_id=group.id, student_id=student_id) for group in joined)
    session.flush()
    for group in joined:
        refuse_group_clashes(session, group, field="class_id")
        follow_into_group(session, group, [student_id])


def _release_guardians(session: Session, school: School, student_id: int) -> None:
    """Guardians left with no active student here lose the ``guardian`` role (accounts stay)."""
    guardians = session.scalars(
        select(Person)
        .join(Guardianship, Guardianship.guardian_id == Person.id)
        .where(Guardianship.student_id == student_id)
    ).all()
    for guardian in guardians:
        still = session.scalar(
            select(func.count())
            .select_from(Guardianship)
            .join(Student, Student.person_id == Guardianship.student_id)
            .where(Guardianship.guardian_id == guardian.id, Student.status == "active")
        )
        account = _account(session, guardian)
        if not still and account is not None:
            revoke_role(session, account, school, Role.GUARDIAN)


def remove_student(
    session: Session,
    actor: Principal,
    school: School,
    student: Student,
    left_on: date | None,
    today: date | None = None,
) -> None:
    """The student leaves: status "left" and the date; the records stay (archive duty). The
    student's account loses the ``student`` role here, and so do guardians who have no other
    student here. All of it takes effect at once, so the date may not be after ``today``: the
    leaving is marked on the day the student leaves."""
    today = today or clock.today()
    require_class_manager(session, actor, school, student.class_id)
    if student.status == "left":
        raise ServiceError(_("This student has already left the school."))
    if left_on is None:
        raise ServiceError(_("Enter the date the student leaves."), field="left_on")
    if left_on > today:
        raise ServiceError(
            _("The leaving date cannot be in the future: mark the student on the day they leave."),
            field="left_on",
        )
    if left_on < student.enrolled_on:
        raise ServiceError(
            _("The student cannot leave before they were enrolled (%(date)s).",
              date=student.enrolled_on.isoformat()),
            field="left_on",
        )  # fmt: skip
    student.status = "left"
    student.left_on = left_on
    session.flush()
    account = _account(session, student.person)
    if account is not None:
        revoke_role(session, account, school, Role.STUDENT)
    _release_guardians(session, school, student.person_id)


def return_student(session: Session, actor: Principal, school: School, student: Student) -> None:
    """Undo a leaving (a mistake, or the student came back to the same class)."""
    require_class_manager(session, actor, school, student.class_id)
    if student.status != "left":
        raise ServiceError(_("This student has not left the school."))
    student.status = "active"
    student.left_on = None
    account = _ensure_account(session, student.person)
    grant_role(session, account, school, Role.STUDENT)
    for guardian in session.scalars(
        select(Person)
        .join(Guardianship, Guardianship.guardian_id == Person.id)
        .where(Guardianship.student_id == student.person_id)
    ):
        grant_role(session, _ensure_account(session, guardian), school, Role.GUARDIAN)
    session.flush()


# --- guardians --------------------------------------------------------------------------------


def _check_relation(relation: str) -> str:
    if relation not in RELATIONS:
        raise ServiceError(_("Choose who the guardian is to the student."), field="relation")
    return relation


def add_guardian(
    session: Session,
    actor: Principal,
    school: School,
    student: Student,
    details: PersonDetails,
    relation: str,
    login: str = "",
    today: date | None = None,
    link_code: str = "",
) -> tuple[Guardianship, bool]:
    """Link a guardian to a student; True when an existing person or account was linked.

    With ``login`` the existing account is linked (its person here, or a new person for it;
    an account not known here needs its holder's ``link_code``, see ``_person_for_login``).
    Otherwise a personal code already recorded here links that person; a guardian of the
    student with the same names is refused (``same_named_guardian``: a form sent twice); else a
    new person and account are made. The guardian gets the ``guardian`` role.
    """
    today = today or clock.today()
    require_class_manager(session, actor, school, student.class_id)
    relation = _check_relation(relation)
    if login.strip():
        person, linked = _person_for_login(session, school, login, link_code, details, today)
    else:
        clean = _validate(details, student=False, today=today)
        person = _person_with_code(session, clean.personal_code, None)
        linked = person is not None
        if person is None:
            if (same := same_named_guardian(session, student, clean)) is not None:
                raise ServiceError(
                    _(
                        "%(student)s already has a guardian named %(guardian)s. To change "
                        "their details, edit that guardian.",
                        student=student.person.full_name,
                        guardian=same.full_name,
                    ),
                    field="first_name",
                )
            person = _new_person(session, clean)
    if person.id == student.person_id:
        raise ServiceError(_("A student cannot be their own guardian."), field="login")
    exists = session.scalar(
        select(Guardianship.id).where(
            Guardianship.guardian_id == person.id, Guardianship.student_id == student.person_id
        )
    )
    if exists is not None:
        raise ServiceError(
            _(
                "%(guardian)s is already a guardian of %(student)s.",
                guardian=person.full_name,
                student=student.person.full_name,
            ),
            field="login" if login.strip() else "personal_code",
        )
    account = _ensure_account(session, person)
    if student.status == "active":
        grant_role(session, account, school, Role.GUARDIAN)
    link = Guardianship(guardian_id=person.id, student_id=student.person_id, relation=relation)
    session.add(link)
    session.flush()
    return link, linked


def same_named_guardian(
    session: Session, student: Student, details: PersonDetails
) -> Person | None:
    """A guardian of ``student`` with the first and last name of ``details`` (case and spaces
    aside) who may be the same person: one of them has no personal code (two codes that
    differ are two people; the same code is found by the code itself). A form sent twice, or
    the same parent typed in again, would otherwise make a second person and account."""
    first, last = (" ".join(n.split()).lower() for n in (details.first_name, details.last_name))
    query = (
        select(Person)
        .join(Guardianship, Guardianship.guardian_id == Person.id)
        .where(
            Guardianship.student_id == student.person_id,
            func.lower(Person.first_name) == first,
            func.lower(Person.last_name) == last,
        )
    )
    if details.personal_code:
        query = query.where(Person.personal_code.is_(None))
    return session.scalar(query.order_by(Person.id).limit(1))


def get_guardianship(session: Session, student: Student, guardian_id: int) -> Guardianship:
    link = session.scalar(
        select(Guardianship).where(
            Guardianship.student_id == student.person_id, Guardianship.guardian_id == guardian_id
        )
    )
    if link is None:
        raise NotFound(_("This person is not a guardian of the student."))
    return link


def update_guardian(
    session: Session,
    actor: Principal,
    school: School,
    student: Student,
    link: Guardianship,
    details: PersonDetails,
    relation: str,
    today: date | None = None,
) -> None:
    """Edit a guardian's details and their relation to this student."""
    today = today or clock.today()
    require_class_manager(session, actor, school, student.class_id)
    relation = _check_relation(relation)
    guardian = session.get(Person, link.guardian_id)
    clean = _validate(details, student=False, today=today)
    if existing := _person_with_code(session, clean.personal_code, guardian):
        raise _code_taken(existing)
    _apply(guardian, clean)
    link.relation = relation
    session.flush()
    _sync_account(session, school, guardian)


def unlink_guardian(
    session: Session, actor: Principal, school: School, student: Student, link: Guardianship
) -> None:
    """Remove the link; the guardian's account stays (they lose the ``guardian`` role here
    when they guard no other active student)."""
    require_class_manager(session, actor, school, student.class_id)
    guardian = session.get(Person, link.guardian_id)
    session.delete(link)
    session.flush()
    remaining = session.scalar(
        select(func.count())
        .select_from(Guardianship)
        .join(Student, Student.person_id == Guardianship.student_id)
        .where(Guardianship.guardian_id == guardian.id, Student.status == "active")
    )
    account = _account(session, guardian)
    if not remaining and account is not None:
        revoke_role(session, account, school, Role.GUARDIAN)


# --- class lists ------------------------------------------------------------------------------


@dataclass
class GuardianRow:
    person: Person
    relation: str
    login: str | None
    has_logged_in: bool
    #: the language they read in: their account's, else the person's (as notifications choose)
    locale: str | None = None
    #: the contacts in use: their account's, else the person's (as notifications choose)
    email: str | None = None
    phone: str | None = None


@dataclass
class StudentRow:
    student: Student
    login: str | None
    guardians: list[GuardianRow] = field(default_factory=list)

    @property
    def person(self) -> Person:
        return self.student.person


def class_counts(session: Session, class_ids: Iterable[int]) -> dict[int, int]:
    """Active students per class."""
    ids = list(class_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Student.class_id, func.count())
        .where(Student.class_id.in_(ids), Student.status == "active")
        .group_by(Student.class_id)
    )
    return {class_id: number for class_id, number in rows}


def _can_log_in(account=Account):
    """A guardian "can log in" when their account is enabled and has logged in at least once
    (``last_login_at`` is set): an account that never logged in may hold a lost or never
    delivered one-time password."""
    return and_(account.is_enabled, account.last_login_at.is_not(None))


def class_roster(session: Session, class_id: int) -> list[StudentRow]:
    """A class's students (active first, then those who left) with their guardians, in two
    queries."""
    return student_roster(session, Student.class_id == class_id)


def student_roster(session: Session, which: ColumnElement[bool]) -> list[StudentRow]:
    """The students ``which`` (a condition on ``Student``) chooses, with their guardians, as
    :func:`class_roster` lists them."""
    rows = [
        StudentRow(student, login)
        for student, login in session.execute(
            select(Student, Account.login)
            .join(Person, Person.id == Student.person_id)
            .outerjoin(Account, Account.id == Person.account_id)
            .where(which)
            .options(contains_eager(Student.person))
        )
    ]
    by_id = {row.student.person_id: row for row in rows}
    if by_id:
        links = session.execute(
            select(Guardianship.student_id, Guardianship.relation, Person, Account.login,
                   _can_log_in(), func.coalesce(Account.locale, Person.locale),
                   func.coalesce(Account.email, Person.email),
                   func.coalesce(Account.phone, Person.phone))
            .join(Person, Person.id == Guardianship.guardian_id)
            .outerjoin(Account, Account.id == Person.account_id)
            .where(Guardianship.student_id.in_(by_id))
        )  # fmt: skip
        for student_id, relation, guardian, login, logged_in, locale, email, phone in links:
            by_id[student_id].guardians.append(
                GuardianRow(
                    guardian, relation or "other", login, bool(logged_in), locale, email, phone
                )
            )
    for row in rows:
        row.guardians.sort(key=lambda g: person_sort_key(g.person))
    rows.sort(key=lambda r: (r.student.status != "active", person_sort_key(r.person)))
    return rows


@dataclass
class PersonCard:
    """Everything the person page shows."""

    person: Person
    account: Account | None
    roles: list[Role]
    student: Student | None
    school_class: SchoolClass | None
    guardians: list[tuple[Guardianship, Person]]
    children: list[tuple[Guardianship, Student, SchoolClass | None]]
    rights: list[str]

    @property
    def email(self) -> str | None:
        """The address in use: the account's (the holder's own, or one this school gave it),
        else what the school recorded (as notifications choose)."""
        return (self.account.email if self.account else None) or self.person.email

    @property
    def phone(self) -> str | None:
        return (self.account.phone if self.account else None) or self.person.phone


def person_card(session: Session, school: School, person: Person) -> PersonCard:
    account = _account(session, person)
    roles = sorted(roles_in_school(account, school), key=list(Role).index) if account else []
    student = session.get(Student, person.id)
    guardians = session.execute(
        select(Guardianship, Person)
        .join(Person, Person.id == Guardianship.guardian_id)
        .where(Guardianship.student_id == person.id)
    )
    children = session.execute(
        select(Guardianship, Student, SchoolClass)
        .join(Student, Student.person_id == Guardianship.student_id)
        .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
        .where(Guardianship.guardian_id == person.id)
    )
    rights = session.scalars(
        select(StaffRight.right_code).where(StaffRight.person_id == person.id)
    ).all()
    return PersonCard(
        person=person,
        account=account,
        roles=roles,
        student=student,
        school_class=session.get(SchoolClass, student.class_id)
        if student and student.class_id
        else None,
        guardians=sorted(guardians, key=lambda gp: person_sort_key(gp[1])),
        children=sorted(children, key=lambda c: person_sort_key(c[1].person)),
        rights=sorted(rights),
    )


@dataclass
class SearchHit:
    person: Person
    login: str | None
    student: Student | None
    school_class: SchoolClass | None
    roles: list[Role]


SEARCH_LIMIT = 50


def search_people(
    session: Session, school: School, query: str, by_document: bool = False
) -> list[SearchHit]:
    """People whose name or login (or, with ``by_document``, exact personal code or document
    number: for those who may see them) matches ``query``; every word must match; two
    queries."""
    words = query.split()
    if not words:
        return []
    statement = (
        select(Person, Account.login, Student, SchoolClass)
        .outerjoin(Account, Account.id == Person.account_id)
        .outerjoin(Student, Student.person_id == Person.id)
        .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
        .options(contains_eager(Student.person))
    )
    for word in words:
        pattern = contains_pattern(word)
        matches = [
            Person.first_name.ilike(pattern),
            Person.last_name.ilike(pattern),
            Account.login.ilike(pattern),
        ]
        if by_document:
            matches += [Person.personal_code == word, Person.document_number == word]
        statement = statement.where(or_(*matches))
    rows = session.execute(statement.order_by(*person_order()).limit(SEARCH_LIMIT)).all()
    account_ids = [p.account_id for p, *_rest in rows if p.account_id]
    roles: dict[int, list[Role]] = defaultdict(list)
    if account_ids:
        for account_id, role in session.execute(
            select(SchoolGrant.account_id, SchoolGrant.role).where(
                SchoolGrant.school_id == school.id, SchoolGrant.account_id.in_(account_ids)
            )
        ):
            roles[account_id].append(Role(role))
    hits = [
        SearchHit(p, login, student, school_class,
                  sorted(roles.get(p.account_id, []), key=list(Role).index))
        for p, login, student, school_class in rows
    ]  # fmt: skip
    hits.sort(key=lambda h: person_sort_key(h.person))
    return hits


# --- staff ------------------------------------------------------------------------------------


@dataclass
class StaffMember:
    account_id: int
    login: str
    name: str
    email: str | None
    phone: str | None
    last_login_at: object
    person: Person | None
    roles: list[Role] = field(default_factory=list)
    rights: list[str] = field(default_factory=list)
    #: the subjects they teach, ordered by code
    subjects: list[Subject] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        """ "Last First", as lists show people."""
        if self.person is not None:
            return f"{self.person.last_name} {self.person.first_name}"
        first, _sep, last = self.name.rpartition(" ")
        return f"{last} {first}".strip()

    @property
    def sort_key(self) -> tuple:
        if self.person is not None:
            return person_sort_key(self.person)
        first, _sep, last = self.name.rpartition(" ")
        return (name_sort_key(last), name_sort_key(first), 0)


def list_staff(
    session: Session,
    school: School,
    account_id: int | None = None,
    *,
    matching: ColumnElement[bool] | None = None,
) -> list[StaffMember]:
    """Accounts holding a staff role here (with their person record when there is one), their
    roles, extra rights and subjects, in three queries; only ``account_id``'s, or those the
    condition ``matching`` (on ``Account`` and ``Person``) selects, when given."""
    statement = (
        select(Account.id, Account.login, Account.name, Account.email, Account.phone,
               Account.last_login_at, SchoolGrant.role, Person)
        .join(SchoolGrant, SchoolGrant.account_id == Account.id)
        .outerjoin(Person, Person.account_id == Account.id)
        .where(SchoolGrant.school_id == school.id,
               SchoolGrant.role.in_([r.value for r in STAFF_ROLES]))
    )  # fmt: skip
    if account_id is not None:
        statement = statement.where(Account.id == account_id)
    if matching is not None:
        statement = statement.where(matching)
    members: dict[int, StaffMember] = {}
    for acc_id, login, name, email, phone, last_login, role, person in session.execute(statement):
        member = members.get(acc_id)
        if member is None:
            member = members[acc_id] = StaffMember(
                acc_id, login, name, email, phone, last_login, person
            )
        member.roles.append(Role(role))
    person_ids = {m.person.id: m for m in members.values() if m.person is not None}
    if person_ids:
        for person_id, right in session.execute(
            select(StaffRight.person_id, StaffRight.right_code).where(
                StaffRight.person_id.in_(person_ids)
            )
        ):
            person_ids[person_id].rights.append(right)
        for person_id, subject in session.execute(
            select(TeacherSubject.person_id, Subject)
            .join(Subject, Subject.id == TeacherSubject.subject_id)
            .where(TeacherSubject.person_id.in_(person_ids))
            .order_by(Subject.code)
        ):
            person_ids[person_id].subjects.append(subject)
    for member in members.values():
        member.roles.sort(key=list(Role).index)
        member.rights.sort()
    return sorted(members.values(), key=lambda m: m.sort_key)


def get_staff_member(session: Session, school: School, account_id: int) -> StaffMember:
    found = list_staff(session, school, account_id)
    if not found:
        raise NotFound(_("This person is not on the school's staff."))
    return found[0]


def _check_roles_and_rights(
    roles: Iterable[str], rights: Iterable[str]
) -> tuple[set[Role], set[str]]:
    chosen: set[Role] = set()
    for value in roles:
        try:
            role = Role(value)
        except ValueError:
            role = None
        if role not in STAFF_ROLES:
            raise ServiceError(_("Unknown role."), field="roles")
        chosen.add(role)
    if not chosen:
        raise ServiceError(_("Choose at least one role."), field="roles")
    chosen_rights = set(rights)
    if not chosen_rights <= set(RIGHTS):
        raise ServiceError(_("Unknown right."), field="rights")
    return chosen, chosen_rights


def _set_roles_and_rights(
    session: Session,
    actor: Principal,
    school: School,
    person: Person,
    account: Account,
    roles: set[Role],
    rights: set[str],
) -> None:
    held = roles_in_school(account, school)
    if account.id == actor.id and Role.ADMIN in held and Role.ADMIN not in roles:
        raise ServiceError(
            _("You cannot take away your own administrator role; ask another administrator."),
            field="roles",
        )
    for role in roles - held:
        grant_role(session, account, school, role)
    for role in (held & STAFF_ROLES) - roles:
        revoke_role(session, account, school, role)
    current = {r.right_code: r for r in session.scalars(
        select(StaffRight).where(StaffRight.person_id == person.id))}  # fmt: skip
    for code in rights - set(current):
        session.add(StaffRight(person_id=person.id, right_code=code))
    for code in set(current) - rights:
        session.delete(current[code])
    session.flush()


def set_teacher_subjects(
    session: Session, person: Person, subject_ids: Iterable[str | int]
) -> None:
    """The subjects ``person`` teaches become exactly ``subject_ids`` (active subjects)."""
    chosen = [str(v).strip() for v in subject_ids if str(v).strip()]
    wanted = {parse_id(v) for v in chosen}
    if None in wanted:
        raise ServiceError(_("There is no such subject."), field="subjects")
    found = set(
        session.scalars(select(Subject.id).where(Subject.id.in_(wanted), Subject.is_active))
    )
    if found != wanted:
        raise ServiceError(_("There is no such subject."), field="subjects")
    current = set(
        session.scalars(
            select(TeacherSubject.subject_id).where(TeacherSubject.person_id == person.id)
        )
    )
    for subject_id in current - wanted:
        session.delete(session.get(TeacherSubject, (person.id, subject_id)))
    session.add_all(TeacherSubject(person_id=person.id, subject_id=s) for s in wanted - current)
    session.flush()


def add_staff(
    session: Session,
    actor: Principal,
    school: School,
    details: PersonDetails,
    roles: Iterable[str],
    rights: Iterable[str],
    login: str = "",
    today: date | None = None,
    subject_ids: Iterable[str | int] = (),
    link_code: str = "",
) -> tuple[Person, bool]:
    """Add a member of staff with their roles and extra rights; True when an existing person
    or account (``login`` with its holder's ``link_code`` when not known here, or a personal
    code recorded here) was linked."""
    today = today or clock.today()
    _require_admin(actor, school)
    chosen_roles, chosen_rights = _check_roles_and_rights(roles, rights)
    if login.strip():
        person, linked = _person_for_login(session, school, login, link_code, details, today)
    else:
        clean = _validate(details, student=False, today=today)
        person = _person_with_code(session, clean.personal_code, None)
        linked = person is not None
        if person is None:
            person = _new_person(session, clean)
    account = _ensure_account(session, person)
    if roles_in_school(account, school) & STAFF_ROLES:
        raise ServiceError(
            _("%(name)s is already on the staff list; edit them there.", name=person.full_name),
            field="login" if login.strip() else "personal_code",
        )
    _set_roles_and_rights(session, actor, school, person, account, chosen_roles, chosen_rights)
    set_teacher_subjects(session, person, subject_ids)
    return person, linked


def update_staff(
    session: Session,
    actor: Principal,
    school: School,
    member: StaffMember,
    details: PersonDetails,
    roles: Iterable[str],
    rights: Iterable[str],
    today: date | None = None,
    subject_ids: Iterable[str | int] | None = None,
) -> Person:
    """Edit a member of staff (their person record is made when the account had none).
    ``subject_ids`` None leaves the subjects they teach as they are."""
    today = today or clock.today()
    _require_admin(actor, school)
    chosen_roles, chosen_rights = _check_roles_and_rights(roles, rights)
    clean = _validate(details, student=False, today=today)
    person = member.person
    if existing := _person_with_code(session, clean.personal_code, person):
        raise _code_taken(existing)
    account = session.get(Account, member.account_id)
    if person is None:
        person = _new_person(session, clean, account)
    else:
        _apply(person, clean)
        session.flush()
    _sync_account(session, school, person)
    _set_roles_and_rights(session, actor, school, person, account, chosen_roles, chosen_rights)
    if subject_ids is not None:
        set_teacher_subjects(session, person, subject_ids)
    return person


def remove_staff(session: Session, actor: Principal, school: School, member: StaffMember) -> None:
    """Take away every staff role and extra right here; the person and account stay."""
    _require_admin(actor, school)
    if member.account_id == actor.id:
        raise ServiceError(_("You cannot remove yourself from the staff."))
    account = session.get(Account, member.account_id)
    for role in member.roles:
        revoke_role(session, account, school, role)
    if member.person is not None:
        for right in session.scalars(
            select(StaffRight).where(StaffRight.person_id == member.person.id)
        ):
            session.delete(right)
    session.flush()


def _require_admin(actor: Principal, school: School) -> None:
    if not is_admin(actor, school):
        raise PermissionDenied(_("Only the e-diary administrator may do this."))


# --- reports ----------------------------------------------------------------------------------


def _report_classes(
    session: Session, actor: Principal, school: School, today: date
) -> list[SchoolClass]:
    """The classes a report covers: all for the administrator and the director, the headed
    ones for a class head; PermissionDenied for others."""
    classes = classes_of_current_year(session, today)
    if roles_in_school(actor, school) & {Role.ADMIN, Role.DIRECTOR}:
        return classes
    headed = headed_class_ids(session, actor)
    if not headed and Role.CLASS_HEAD not in roles_in_school(actor, school):
        raise PermissionDenied(_("Only the administration and class heads see these reports."))
    return [c for c in classes if c.id in headed]


@dataclass
class ClassReport:
    school_class: SchoolClass
    #: (student, how many guardians are linked)
    students: list[tuple[Person, int]] = field(default_factory=list)


def students_without_guardian_login(
    session: Session, actor: Principal, school: School, today: date | None = None
) -> list[ClassReport]:
    """Per class, the active students none of whose guardians can log in (see
    :func:`_can_log_in`), students with no guardian linked included; classes without such
    students are left out. Two queries."""
    classes = _report_classes(session, actor, school, today or clock.today())
    if not classes:
        return []
    by_class = {c.id: ClassReport(c) for c in classes}
    guardian, guardian_account = aliased(Person), aliased(Account)
    can_log_in = func.coalesce(func.bool_or(_can_log_in(guardian_account)), false())
    rows = session.execute(
        select(Person, Student.class_id, func.count(Guardianship.id))
        .join(Student, Student.person_id == Person.id)
        .outerjoin(Guardianship, Guardianship.student_id == Student.person_id)
        .outerjoin(guardian, guardian.id == Guardianship.guardian_id)
        .outerjoin(guardian_account, guardian_account.id == guardian.account_id)
        .where(Student.class_id.in_(by_class), Student.status == "active")
        .group_by(Person.id, Student.class_id)
        .having(~can_log_in)
    )
    for person, class_id, count in rows:
        by_class[class_id].students.append((person, count))
    reports = [r for r in by_class.values() if r.students]
    for report in reports:
        report.students.sort(key=lambda s: person_sort_key(s[0]))
    return reports


@dataclass
class ContactGap:
    person: Person
    #: "student" or "guardian"
    kind: str
    missing_email: bool
    missing_phone: bool
    #: for a guardian: the students of this class they guard
    children: list[Person] = field(default_factory=list)
    student_id: int | None = None


@dataclass
class ClassContacts:
    school_class: SchoolClass
    gaps: list[ContactGap] = field(default_factory=list)


def missing_contacts(
    session: Session, actor: Principal, school: School, today: date | None = None
) -> list[ClassContacts]:
    """Per class, active students and their guardians with no e-mail or no phone (the
    person's or, failing that, their account's). Three queries."""
    classes = _report_classes(session, actor, school, today or clock.today())
    if not classes:
        return []
    by_class = {c.id: ClassContacts(c) for c in classes}
    email = func.coalesce(Person.email, Account.email)
    phone = func.coalesce(Person.phone, Account.phone)
    missing = or_(email.is_(None), phone.is_(None))
    students = session.execute(
        select(Person, Student.class_id, email.is_(None), phone.is_(None))
        .join(Student, Student.person_id == Person.id)
        .outerjoin(Account, Account.id == Person.account_id)
        .where(Student.class_id.in_(by_class), Student.status == "active", missing)
    )
    for person, class_id, no_email, no_phone in students:
        by_class[class_id].gaps.append(
            ContactGap(person, "student", no_email, no_phone, student_id=person.id)
        )
    child = aliased(Person)
    guardians = session.execute(
        select(Person, Student.class_id, email.is_(None), phone.is_(None), child)
        .join(Guardianship, Guardianship.guardian_id == Person.id)
        .join(Student, Student.person_id == Guardianship.student_id)
        .join(child, child.id == Student.person_id)
        .outerjoin(Account, Account.id == Person.account_id)
        .where(Student.class_id.in_(by_class), Student.status == "active", missing)
    )
    seen: dict[tuple[int, int], ContactGap] = {}
    for person, class_id, no_email, no_phone, student in guardians:
        gap = seen.get((class_id, person.id))
        if gap is None:
            gap = seen[(class_id, person.id)] = ContactGap(
                person, "guardian", no_email, no_phone, student_id=student.id
            )
            by_class[class_id].gaps.append(gap)
        gap.children.append(student)
    reports = [r for r in by_class.values() if r.gaps]
    for report in reports:
        report.gaps.sort(key=lambda g: (g.kind != "student", person_sort_key(g.person)))
        for gap in report.gaps:
            gap.children.sort(key=person_sort_key)
    return reports


# --- credentials ------------------------------------------------------------------------------


@dataclass
class Recipient:
    """Someone a class's credentials would go to, and whether they get a slip."""

    account: Account
    name: str
    kind: str  # "student", "guardian" or "staff"
    locale: str
    school_class: SchoolClass | None = None
    children: list[str] = field(default_factory=list)
    #: why no slip is printed for them (None: a slip is printed)
    skipped: str | None = None

    @property
    def in_use(self) -> bool:
        """The person has logged in and chosen their own password."""
        return self.account.last_login_at is not None and not self.account.must_change_password


@dataclass
class Slip:
    """One printed slip. ``password`` exists only in memory, for the PDF being made."""

    name: str
    login: str
    password: str
    locale: str
    kind: str
    class_name: str | None = None
    children: list[str] = field(default_factory=list)


def _refusal(account: Account, school: School) -> str | None:
    """Why this school may not set the account's password, or None.

    A school must not be able to take over an account used elsewhere: an operator's, or one
    with a role in another school (any school may link an existing account by its login, so
    a school's own reset could otherwise reach another school's student or parent). Those are
    reset by the municipality (``dienynas accounts reset-password``)."""
    if account.is_operator:
        return _("a municipality operator's account: the municipality resets it")
    if _in_other_schools(account, school):
        return _("the account is also used in another school: the municipality resets it")
    if not account.is_enabled:
        return _("the account is disabled")
    return None


def _locale_of(account: Account, person: Person | None, school: School) -> str:
    return account.locale or (person.locale if person else None) or school.default_locale


def class_recipients(
    session: Session,
    actor: Principal,
    school: School,
    school_class: SchoolClass,
    include_in_use: bool,
) -> list[Recipient]:
    """The active students of a class and their guardians, each student followed by their
    guardians (a guardian of two students of the class comes once, after the first)."""
    require_class_manager(session, actor, school, school_class.id)
    roster = [r for r in class_roster(session, school_class.id) if r.student.status == "active"]
    people = [row.person for row in roster] + [g.person for row in roster for g in row.guardians]
    account_ids = {p.account_id for p in people if p.account_id}
    accounts = {
        a.id: a
        for a in session.scalars(select(Account).where(Account.id.in_(account_ids)))
    } if account_ids else {}  # fmt: skip
    recipients: list[Recipient] = []
    guardians: dict[int, Recipient] = {}

    def recipient(person: Person, kind: str) -> Recipient | None:
        account = accounts.get(person.account_id)
        if account is None:
            return None
        found = Recipient(account, person.full_name, kind, _locale_of(account, person, school))
        found.skipped = _refusal(account, school)
        if found.skipped is None and found.in_use and not include_in_use:
            found.skipped = _("already uses the account (has chosen a password)")
        return found

    for row in roster:
        student = recipient(row.person, "student")
        if student is not None:
            student.school_class = school_class
            recipients.append(student)
        for guardian_row in row.guardians:
            if guardian_row.person.id in guardians:
                guardians[guardian_row.person.id].children.append(row.person.full_name)
                continue
            guardian = recipient(guardian_row.person, "guardian")
            if guardian is not None:
                guardian.children.append(row.person.full_name)
                guardians[guardian_row.person.id] = guardian
                recipients.append(guardian)
    return recipients


def issue_class_credentials(
    session: Session,
    actor: Principal,
    school: School,
    school_class: SchoolClass,
    include_in_use: bool = False,
) -> list[Slip]:
    """New one-time passwords for a class's students and guardians (those already using their
    account only with ``include_in_use``); the slips to print. Argon2 takes ~0.15 s a person."""
    slips = []
    for r in class_recipients(session, actor, school, school_class, include_in_use):
        if r.skipped is None:
            slips.append(
                Slip(r.name, r.account.login, issue_one_time_password(r.account), r.locale, r.kind,
                     school_class.name, r.children)
            )  # fmt: skip
    if not slips:
        raise ServiceError(_("No one in this class needs new credentials."))
    session.flush()
    return slips


def reset_password(session: Session, actor: Principal, school: School, account_id: int) -> Slip:
    """A new one-time password for one person of the school: the administrator for anyone, a
    class head for the students of their class and those students' guardians (who hold no
    other role here)."""
    account = session.get(Account, account_id)
    roles = roles_in_school(account, school) if account is not None else set()
    if not roles:
        raise NotFound(_("There is no such person in this school."))
    person = session.scalar(select(Person).where(Person.account_id == account.id))
    if not is_admin(actor, school):
        headed = headed_class_ids(session, actor)
        student = session.get(Student, person.id) if person is not None else None
        mine = person is not None and (
            (student is not None and student.class_id in headed)
            or bool(headed & _guardian_class_ids(session, person))
        )
        if not mine or not roles <= FAMILY_ROLES:
            raise _deny()
    if reason := _refusal(account, school):
        raise PermissionDenied(_("This password cannot be reset here: %(reason)s.", reason=reason))
    slip = Slip(
        person.full_name if person else account.name,
        account.login,
        issue_one_time_password(account),
        _locale_of(account, person, school),
        _slip_kind(roles),
    )
    if person is not None:
        card = person_card(session, school, person)
        slip.class_name = card.school_class.name if card.school_class else None
        slip.children = [s.person.full_name for _link, s, _c in card.children]
    session.flush()
    return slip


def _slip_kind(roles: set[Role]) -> str:
    if roles & STAFF_ROLES:
        return "staff"
    return "student" if Role.STUDENT in roles else "guardian"


# --- the activity report ----------------------------------------------------------------------


@dataclass(frozen=True)
class RoleActivity:
    role: Role
    accounts: int  # holding the role here
    active: int  # of them, logged in at least once in the period
    logins: int


@dataclass(frozen=True)
class IdleStaff:
    name: str
    login: str
    last_login_at: datetime | None


@dataclass(frozen=True)
class ActivityReport:
    start: date
    end: date
    roles: list[RoleActivity]
    idle_staff: list[IdleStaff]  # staff who did not log in in the period


def quarter_of(day: date) -> tuple[date, date]:
    """The first and last day of the calendar quarter holding ``day``."""
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    following = date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)
    return first, following - timedelta(days=1)


def activity_report(
    session: Session, actor: Principal, school: School, start: date, end: date
) -> ActivityReport:
    """Per role of this school, how many accounts hold it, how many of them logged in from
    ``start`` to ``end`` (whole days of the municipality's time zone) and how often; and the
    members of staff who did not log in then. For the administrator and the director; two
    queries (the login events are kept ``accounts.tasks.LOGIN_EVENT_DAYS`` days)."""
    require_role(actor, school, Role.ADMIN, Role.DIRECTOR)
    if end < start:
        raise ServiceError(_("The last day must not be before the first day."), field="to")
    zone = clock.zone()
    since = datetime.combine(start, time.min, zone)
    until = datetime.combine(end + timedelta(days=1), time.min, zone)
    here = select(SchoolGrant.account_id).where(SchoolGrant.school_id == school.id)
    logins = (
        select(LoginEvent.account_id, func.count().label("n"))
        .where(
            LoginEvent.account_id.in_(here),
            LoginEvent.logged_in_at >= since,
            LoginEvent.logged_in_at < until,
        )
        .group_by(LoginEvent.account_id)
        .subquery()
    )
    by_role = {
        role: (accounts, active, total)
        for role, accounts, active, total in session.execute(
            select(
                SchoolGrant.role,
                func.count(),
                func.count(logins.c.n),
                func.coalesce(func.sum(logins.c.n), 0),
            )
            .outerjoin(logins, logins.c.account_id == SchoolGrant.account_id)
            .where(SchoolGrant.school_id == school.id)
            .group_by(SchoolGrant.role)
        )
    }
    roles = [RoleActivity(role, *by_role[role.value]) for role in Role if role.value in by_role]
    idle = [
        IdleStaff(name, login, last)
        for name, login, last in session.execute(
            select(Account.name, Account.login, Account.last_login_at)
            .where(
                Account.id.in_(staff_accounts(school.id)),
                Account.id.not_in(select(logins.c.account_id)),
                Account.is_enabled,
            )
            .order_by(name_order(Account.name), Account.login)
        )
    ]
    return ActivityReport(start, end, roles, idle)
