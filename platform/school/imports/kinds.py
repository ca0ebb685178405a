"""The lists that can be imported and exported, each built on its feature's services."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import fields, replace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from accounts.identity import Principal
from accounts.models import ROLE_LABELS, Account
from dienynas import clock
from dienynas.errors import DienynasError
from dienynas.forms import parse_id
from dienynas.i18n import LANGUAGE_NAMES, in_locale, joined
from dienynas.names import name_order, name_sort_key
from school.calendar.models import SchoolYear
from school.calendar.services import current_year
from school.classes import services as classes
from school.classes.models import SchoolClass
from school.curriculum import services as curriculum
from school.curriculum.models import GradeScale, Subject
from school.imports.services import Importer, RowProblem, register
from school.people import services as people
from school.people.models import Guardianship, Person, Student
from school.people.names import person_order
from tenants.models import School

LOCALES = ("lt", "ru", "pl", "en")

# --- subjects --------------------------------------------------------------------------------

SCALE_ALIASES = {
    "ten_point": ("ten_point", "10", "1-10", "1–10", "dešimtbalė", "десятибалльная",
                  "dziesięciostopniowa"),
    "pass_fail": ("pass_fail", "įskaita", "įskaityta/neįskaityta", "зачёт", "зачет",
                  "zaliczenie"),
    "five_point": ("five_point", "5", "2-5", "2–5", "penkiabalė", "пятибалльная",
                   "pięciostopniowa"),
}  # fmt: skip


def _scale_id(session: Session, value: str) -> int | None:
    value = value.strip().lower()
    if not value:
        return None
    code = next((c for c, names in SCALE_ALIASES.items() if value in names), None)
    scale = session.scalar(select(GradeScale).where(GradeScale.code == code)) if code else None
    if scale is None:
        raise RowProblem(
            "scale",
            _(
                "Unknown grade scale “%(value)s”; use ten_point, pass_fail or five_point.",
                value=value,
            ),
        )
    return scale.id


def _apply_subject(session: Session, school: School, actor: Principal, row: dict[str, str]) -> str:
    try:
        return _create_or_update_subject(session, school, row)
    except DienynasError as exc:
        if exc.field == f"name_{school.default_locale}":
            raise RowProblem("name", exc.message) from None  # the school's own name column
        raise


def _create_or_update_subject(session: Session, school: School, row: dict[str, str]) -> str:
    code = row.get("code", "").strip().upper()
    names = {school.default_locale: row.get("name", "")}
    for locale in LOCALES:
        if row.get(f"name_{locale}") and locale != school.default_locale:
            names[locale] = row[f"name_{locale}"]
    scale_id = _scale_id(session, row.get("scale", ""))
    existing = session.scalar(select(Subject).where(func.upper(Subject.code) == code))
    if existing is None:
        curriculum.create_subject(
            session, school_locale=school.default_locale, code=code, names=names, scale_id=scale_id
        )
        return "created"
    before = (existing.name, dict(existing.name_translations), existing.scale_id)
    curriculum.update_subject(
        session,
        existing,
        school_locale=school.default_locale,
        code=code,
        names={**curriculum.names_of(existing, school.default_locale), **names},
        scale_id=scale_id or existing.scale_id,
    )
    after = (existing.name, dict(existing.name_translations), existing.scale_id)
    return "unchanged" if before == after else "updated"


def _export_subjects(session: Session, school: School) -> Iterable[dict[str, Any]]:
    scales = dict(session.execute(select(GradeScale.id, GradeScale.code)).all())
    for subject in curriculum.list_subjects(session):
        row = {"code": subject.code, "name": subject.name, "scale": scales[subject.scale_id]}
        row.update({f"name_{loc}": subject.name_translations.get(loc, "") for loc in LOCALES})
        yield row


register(
    Importer(
        kind="subjects",
        columns={
            "code": {"lt": ("kodas",), "ru": ("код",), "pl": ("kod",)},
            "name": {
                "lt": ("pavadinimas", "dalykas"),
                "ru": ("название", "предмет"),
                "pl": ("nazwa", "przedmiot"),
            },
            "scale": {"lt": ("skalė", "vertinimo skalė"), "ru": ("шкала",), "pl": ("skala",)},
            **{
                f"name_{loc}": {
                    "lt": (f"pavadinimas {loc}",),
                    "ru": (f"название {loc}",),
                    "pl": (f"nazwa {loc}",),
                }
                for loc in LOCALES
            },
        },
        required=("code", "name"),
        apply_row=_apply_subject,
        export_rows=_export_subjects,
        field_columns={"scale_id": "scale"},
        values={"scale": {code: ", ".join(names[1:]) for code, names in SCALE_ALIASES.items()}},
    )
)


# --- classes ---------------------------------------------------------------------------------

#: The school year's column (its name, as on the calendar page; empty: the current year).
YEAR_COLUMN = {"lt": ("mokslo metai",), "ru": ("учебный год",), "pl": ("rok szkolny",)}
CLASS_COLUMN = {"lt": ("klasė",), "ru": ("класс",), "pl": ("klasa",)}

CLASS_RE = re.compile(r"^\s*(\d{1,2})\s*([^\d\s]{0,4})\s*$")


def _year_key(name: str) -> str:
    """A year's name as people type it: "2027-2028" with a hyphen is the “2027–2028” of the
    calendar page, whatever the dash, spaces or case."""
    return re.sub(r"\s+", "", re.sub(r"[-‐‑‒—―]", "–", name)).casefold()


def _year(session: Session, name: str) -> SchoolYear:
    if name:
        wanted = _year_key(name)
        year = next(
            (y for y in session.scalars(select(SchoolYear)) if _year_key(y.name) == wanted), None
        )
        if year is None:
            raise RowProblem("year", _("There is no school year “%(name)s”.", name=name))
        return year
    year = current_year(session, clock.today())
    if year is None:
        raise RowProblem("year", _("Set up the school year first."))
    return year


def parse_class_name(value: str) -> tuple[int, str]:
    """ "5a" → (5, "a"); "10 B" → (10, "b"); "12" → (12, "")."""
    match = CLASS_RE.match(value or "")
    if not match:
        raise RowProblem("class", _("“%(value)s” is not a class name like 5a.", value=value))
    return int(match.group(1)), match.group(2).lower()


def person_id_by_login(session: Session, login: str, column: str) -> int | None:
    login = (login or "").strip().lower()
    if not login:
        return None
    person_id = session.scalar(
        select(Person.id)
        .join(Account, Account.id == Person.account_id)
        .where(Account.login == login)
    )
    if person_id is None:
        raise RowProblem(column, _("Nobody in this school has the login “%(login)s”.", login=login))
    return person_id


def _apply_class(session: Session, school: School, actor: Principal, row: dict[str, str]) -> str:
    year = _year(session, row.get("year", ""))
    level, letter = parse_class_name(row.get("class", ""))
    head_id = person_id_by_login(session, row.get("head_login", ""), "head_login")
    existing = session.scalar(
        select(SchoolClass).where(
            SchoolClass.year_id == year.id,
            SchoolClass.grade_level == level,
            func.lower(SchoolClass.letter) == letter,
        )
    )
    if existing is None:
        classes.create_class(
            session, school, year=year, grade_level=level, letter=letter, head_id=head_id
        )
        return "created"
    if head_id is None or existing.head_id == head_id:
        return "unchanged"
    classes.update_class(
        session, school, existing, grade_level=level, letter=existing.letter, head_id=head_id
    )
    return "updated"


def _export_classes(session: Session, school: School) -> Iterable[dict[str, Any]]:
    rows = session.execute(
        select(SchoolYear.name, SchoolClass.grade_level, SchoolClass.letter, Account.login)
        .join(SchoolYear, SchoolYear.id == SchoolClass.year_id)
        .outerjoin(Person, Person.id == SchoolClass.head_id)
        .outerjoin(Account, Account.id == Person.account_id)
        .order_by(SchoolYear.starts_on, SchoolClass.grade_level, SchoolClass.letter)
    )
    for year, level, letter, head_login in rows:
        yield {"year": year, "class": f"{level}{letter}", "head_login": head_login or ""}


register(
    Importer(
        kind="classes",
        columns={
            "class": CLASS_COLUMN,
            "year": YEAR_COLUMN,
            "head_login": {
                "lt": ("klasės vadovas",),
                "ru": ("классный руководитель",),
                "pl": ("wychowawca",),
            },
        },
        required=("class",),
        apply_row=_apply_class,
        export_rows=_export_classes,
        field_columns={"grade_level": "class", "letter": "class", "head": "head_login"},
    )
)


# --- people ----------------------------------------------------------------------------------

PERSON_COLUMNS = {
    "first_name": {"lt": ("vardas",), "ru": ("имя",), "pl": ("imię", "imie")},
    "last_name": {"lt": ("pavardė", "pavarde"), "ru": ("фамилия",), "pl": ("nazwisko",)},
    "personal_code": {
        "lt": ("asmens kodas",),
        "ru": ("личный код", "персональный код"),
        "pl": ("kod osobisty",),
    },
    "document_number": {
        "lt": ("dokumento numeris",),
        "ru": ("номер документа",),
        "pl": ("numer dokumentu",),
    },
    "birth_date": {"lt": ("gimimo data",), "ru": ("дата рождения",), "pl": ("data urodzenia",)},
    "email": {
        "en": ("e-mail",),
        "lt": ("el. paštas", "el. pastas"),
        "ru": ("электронная почта",),
        "pl": ("adres e-mail",),
    },
    "phone": {"lt": ("telefonas",), "ru": ("телефон",), "pl": ("telefon",)},
    "locale": {"lt": ("kalba",), "ru": ("язык",), "pl": ("język", "jezyk")},
}
LOGIN_COLUMN = {"lt": ("prisijungimo vardas",), "ru": ("логин",)}
LINK_CODE_COLUMN = {"lt": ("susiejimo kodas",), "ru": ("код привязки",), "pl": ("kod powiązania",)}
#: The languages a person's ``locale`` may name.
PERSON_VALUES = {"locale": LANGUAGE_NAMES}


def _details(row: dict[str, str]) -> people.PersonDetails:
    kind = "other" if row.get("document_number") else "personal_code"
    return people.read_details({**row, "document_kind": kind})


def _same_details(person: Person, account: Account | None, details: people.PersonDetails) -> bool:
    """True when the row says nothing new (an empty cell keeps what is recorded)."""
    current = people.PersonDetails.of(person, account)
    kept = {
        f.name: getattr(current, f.name) for f in fields(current) if not getattr(details, f.name)
    }
    return current == replace(details, **kept)


def _class_id(session: Session, value: str, year_name: str) -> int:
    """The class named ``value`` of the school year named ``year_name`` (empty: the current
    one). In the summer a list for September names the coming year: the classes moved up
    for it are already set up beside the finished year's."""
    level, letter = parse_class_name(value)
    year = _year(session, year_name)
    class_id = session.scalar(
        select(SchoolClass.id).where(
            SchoolClass.year_id == year.id,
            SchoolClass.grade_level == level,
            func.lower(SchoolClass.letter) == letter,
        )
    )
    if class_id is None:
        raise RowProblem(
            "class",
            _("There is no class %(name)s in the school year %(year)s.", name=value,
              year=year.name),
        )  # fmt: skip
    return class_id


def _student_by_document(session: Session, details: people.PersonDetails) -> Student | None:
    if details.personal_code:
        where = Person.personal_code == details.personal_code
    elif details.document_number:
        where = Person.document_number == details.document_number
    else:
        return None
    return session.scalar(select(Student).join(Person).where(where))


def _apply_student(session: Session, school: School, actor: Principal, row: dict[str, str]) -> str:
    details = _details(row)
    class_id = _class_id(session, row.get("class", ""), row.get("year", ""))
    student = _student_by_document(session, details)
    # an import builds lists: its students are not announced one by one to the teachers
    if student is None:
        people.add_student(session, actor, school, details, class_id, announce=False)
        return "created"
    account = session.get(Account, student.person.account_id) if student.person.account_id else None
    if student.class_id == class_id and _same_details(student.person, account, details):
        return "unchanged"
    people.update_student(session, actor, school, student, details, class_id, announce=False)
    return "updated"


def _export_students(session: Session, school: School) -> Iterable[dict[str, Any]]:
    rows = session.execute(
        select(Person, SchoolClass, SchoolYear.name, Account.login)
        .join(Student, Student.person_id == Person.id)
        .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
        .outerjoin(SchoolYear, SchoolYear.id == SchoolClass.year_id)
        .outerjoin(Account, Account.id == Person.account_id)
        .where(Student.status == "active")
        .order_by(SchoolClass.grade_level, SchoolClass.letter, *person_order())
    )
    for person, school_class, year, login in rows:
        yield {
            "id": person.id,
            **_person_columns(person),
            "class": school_class.name if school_class else "",
            "year": year or "",
            "login": login or "",
        }


def _person_columns(person: Person) -> dict[str, Any]:
    return {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "personal_code": person.personal_code or "",
        "document_number": person.document_number or "",
        "birth_date": person.birth_date.isoformat() if person.birth_date else "",
        "email": person.email or "",
        "phone": person.phone or "",
        "locale": person.locale or "",
    }


register(
    Importer(
        kind="students",
        columns={
            "id": {"lt": ("nr.",)},
            **PERSON_COLUMNS,
            "class": CLASS_COLUMN,
            "year": YEAR_COLUMN,
            "login": LOGIN_COLUMN,
        },
        required=("first_name", "last_name", "class"),
        apply_row=_apply_student,
        export_rows=_export_students,
        field_columns={"class_id": "class"},
        values=PERSON_VALUES,
    )
)


def _student_of_row(session: Session, row: dict[str, str]) -> Student:
    code = row.get("student_personal_code", "").replace(" ", "")
    student_id = row.get("student_id", "").strip()
    student = None
    if code:
        student = session.scalar(select(Student).join(Person).where(Person.personal_code == code))
    elif parse_id(student_id):
        student = session.get(Student, parse_id(student_id))
    if student is None:
        column = "student_personal_code" if code or not student_id else "student_id"
        raise RowProblem(column, _("There is no such student in this school."))
    return student


def _relation(value: str) -> str:
    """The relation's code for the code or its label in any language ("Matka", "tėvas",
    "globėjas" without its bracket), case and accents aside; empty: a guardian."""
    wanted = name_sort_key(value.strip())
    if not wanted:
        return "guardian"
    for locale in LOCALES:
        with in_locale(locale):
            for code, label in people.RELATIONS.items():
                label = str(label)
                if wanted in {code, name_sort_key(label), name_sort_key(label.split(" (")[0])}:
                    return code
    raise RowProblem(
        "relation",
        _(
            "Unknown relation “%(value)s”; write %(relations)s.",
            value=value.strip(),
            relations=joined(people.RELATIONS.values(), style="or"),
        ),
    )


def _apply_guardian(session: Session, school: School, actor: Principal, row: dict[str, str]) -> str:
    student = _student_of_row(session, row)
    details = _details(row)
    login = row.get("login", "").strip().lower()
    relation = _relation(row.get("relation", ""))
    guardian_id = None
    if login:
        guardian_id = session.scalar(
            select(Person.id)
            .join(Account, Account.id == Person.account_id)
            .where(Account.login == login)
        )
    elif details.personal_code:
        guardian_id = session.scalar(
            select(Person.id).where(Person.personal_code == details.personal_code)
        )
    if guardian_id is None and not login:
        # a list imported again: the student's guardian of that name, not a second one
        same = people.same_named_guardian(session, student, details)
        guardian_id = same.id if same is not None else None
    link = (
        session.scalar(
            select(Guardianship).where(
                Guardianship.guardian_id == guardian_id,
                Guardianship.student_id == student.person_id,
            )
        )
        if guardian_id
        else None
    )
    if link is None:
        people.add_guardian(
            session, actor, school, student, details, relation, login=login,
            link_code=row.get("link_code", ""),
        )  # fmt: skip
        return "created"
    guardian = session.get(Person, link.guardian_id)
    account = session.get(Account, guardian.account_id) if guardian.account_id else None
    if link.relation == relation and _same_details(guardian, account, details):
        return "unchanged"
    people.update_guardian(session, actor, school, student, link, details, relation)
    return "updated"


def _export_guardians(session: Session, school: School) -> Iterable[dict[str, Any]]:
    child = aliased(Person)
    rows = session.execute(
        select(Person, Guardianship.relation, Account.login, child)
        .join(Guardianship, Guardianship.guardian_id == Person.id)
        .join(Student, Student.person_id == Guardianship.student_id)
        .join(child, child.id == Student.person_id)
        .outerjoin(Account, Account.id == Person.account_id)
        .where(Student.status == "active")
        .order_by(*person_order(), name_order(child.last_name))
    )
    for person, relation, login, student in rows:
        yield {
            **_person_columns(person),
            "login": login or "",
            "relation": relation or "",
            "student_id": student.id,
            "student_personal_code": student.personal_code or "",
        }


register(
    Importer(
        kind="guardians",
        columns={
            **PERSON_COLUMNS,
            "login": LOGIN_COLUMN,
            "link_code": LINK_CODE_COLUMN,
            "relation": {"lt": ("ryšys",), "ru": ("родство",), "pl": ("pokrewieństwo",)},
            "student_id": {"en": ("student id",), "lt": ("mokinio nr.",)},
            "student_personal_code": {
                "lt": ("mokinio asmens kodas",),
                "ru": ("личный код ученика",),
                "pl": ("kod osobisty ucznia",),
            },
        },
        required=("first_name", "last_name"),
        apply_row=_apply_guardian,
        export_rows=_export_guardians,
        values={**PERSON_VALUES, "relation": people.RELATIONS},
    )
)


def _split(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[;,]", value or "") if v.strip()]


def _staff_member(
    session: Session, school: School, login: str, details: people.PersonDetails
) -> people.StaffMember | None:
    """The member of staff a row describes: by login, else personal code, else e-mail, else
    the only one with that name (a list kept before logins were given still matches). Reads
    only the staff the row could mean, so a long file does not read the whole staff per row."""
    code, email = details.personal_code, details.email.lower()
    name = (details.first_name, details.last_name)
    candidates = [and_(Person.first_name == name[0], Person.last_name == name[1])]
    if login:
        candidates.append(Account.login == login)
    if code:
        candidates.append(Person.personal_code == code)
    if email:
        candidates.append(func.lower(Account.email) == email)
    staff = people.list_staff(session, school, matching=or_(*candidates))
    for matches in (
        lambda m: login and m.login == login,
        lambda m: code and m.person is not None and m.person.personal_code == code,
        lambda m: email and (m.email or "").lower() == email,
    ):
        found = [m for m in staff if matches(m)]
        if found:
            return found[0]
    if login or code:
        return None
    same_name = [m for m in staff if m.person and (m.person.first_name, m.person.last_name) == name]
    return same_name[0] if len(same_name) == 1 else None


def _subject_ids(session: Session, codes: list[str]) -> list[int]:
    by_code = dict(
        session.execute(
            select(func.upper(Subject.code), Subject.id).where(
                func.upper(Subject.code).in_([c.upper() for c in codes])
            )
        ).all()
    )
    for code in codes:
        if code.upper() not in by_code:
            raise RowProblem(
                "subjects", _("There is no subject with the code “%(code)s”.", code=code)
            )
    return [by_code[c.upper()] for c in codes]


def _apply_staff(session: Session, school: School, actor: Principal, row: dict[str, str]) -> str:
    details = _details(row)
    login = row.get("login", "").strip().lower()
    roles, rights = _split(row.get("roles", "")), _split(row.get("rights", ""))
    subject_ids = _subject_ids(session, _split(row.get("subjects", "")))
    member = _staff_member(session, school, login, details)
    if member is None:
        people.add_staff(
            session, actor, school, details, roles, rights, login=login,
            subject_ids=subject_ids, link_code=row.get("link_code", ""),
        )  # fmt: skip
        return "created"
    account = session.get(Account, member.account_id)
    same = (
        member.person is not None
        and _same_details(member.person, account, details)
        and {r.value for r in member.roles} == set(roles)
        and set(member.rights) == set(rights)
        and {s.id for s in member.subjects} == set(subject_ids)
    )
    if same:
        return "unchanged"
    people.update_staff(
        session, actor, school, member, details, roles, rights, subject_ids=subject_ids
    )
    return "updated"


def _export_staff(session: Session, school: School) -> Iterable[dict[str, Any]]:
    """The staff; an account with no person record here (the e-diary administrator made with
    the school) by its account's name, so the file imports again (a name is required)."""
    for member in people.list_staff(session, school):
        if member.person is not None:
            columns = _person_columns(member.person)
        else:
            first, last = people.names_of_account(member.name)
            columns = {"first_name": first, "last_name": last}
        yield {
            **columns,
            "login": member.login,
            "roles": ";".join(r.value for r in member.roles),
            "rights": ";".join(member.rights),
            "subjects": ";".join(s.code for s in member.subjects),
        }


register(
    Importer(
        kind="staff",
        columns={
            **PERSON_COLUMNS,
            "login": LOGIN_COLUMN,
            "link_code": LINK_CODE_COLUMN,
            "roles": {"lt": ("pareigos",), "ru": ("роли",), "pl": ("role",)},
            "rights": {"lt": ("teisės",), "ru": ("права",), "pl": ("uprawnienia",)},
            "subjects": {"lt": ("dalykai",), "ru": ("предметы",), "pl": ("przedmioty",)},
        },
        required=("first_name", "last_name", "roles"),
        apply_row=_apply_staff,
        export_rows=_export_staff,
        values={
            **PERSON_VALUES,
            "roles": {role.value: ROLE_LABELS[role] for role in people.STAFF_ROLE_ORDER},
            "rights": people.RIGHTS,
        },
    )
)
