"""``dienynas demo …``: a demo municipality with Lithuanian-, Russian- and Polish-language schools.

Everything is made through the same services the pages use (so the demo obeys every rule):
the school year with terms, holidays and bell times, rooms, subjects named in the school's
language with translations, classes of about twenty students with guardians who prefer their
own languages, subject groups (English split in two), a week's timetable without clashes, and
the month of lessons, grades and attendance before today (``gradebook.sample``).
Every demo account has the password :data:`DEMO_PASSWORD` (``dienynas demo logins``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from accounts.models import Account, Role
from accounts.services import create_account, grant_role, hash_password, issue_link_code
from dienynas import clock
from dienynas.clitools import committing
from dienynas.errors import ServiceError
from dienynas.extensions import db
from gradebook import sample
from school.calendar import services as calendar
from school.classes import services as classes
from school.classes.models import SchoolClass
from school.curriculum import services as curriculum
from school.curriculum.models import GradeScale
from school.people import services as people
from school.people.models import Guardianship, Person, Student
from school.people.names import person_order
from school.timetable import services as timetable
from tenants.binding import unbind_session
from tenants.models import School
from tenants.services import bind_to_school, create_school

DEMO_PASSWORD = "demo-Dienynas-2026"
#: Days of gradebook data (lessons, grades, attendance) up to the demo's today.
GRADEBOOK_DAYS = 30
OPERATOR_LOGIN = "operator"


@dataclass(frozen=True)
class DemoSchool:
    slug: str
    short: str
    name: str
    locale: str
    term_kind: str
    boys: tuple[str, ...]
    girls: tuple[str, ...]
    #: a family name in its forms for a man, a girl and a married woman
    families: tuple[tuple[str, str, str], ...]


SCHOOLS = (
    DemoSchool(
        "berzu-progimnazija", "berzu", "Vilniaus Beržų progimnazija", "lt", "semester",
        ("Jonas", "Matas", "Lukas", "Dominykas", "Nojus", "Jokūbas", "Benas", "Kajus"),
        ("Ugnė", "Austėja", "Emilija", "Gabija", "Kamilė", "Lėja", "Urtė", "Smiltė"),
        (("Kazlauskas", "Kazlauskaitė", "Kazlauskienė"),
         ("Petrauskas", "Petrauskaitė", "Petrauskienė"),
         ("Jankauskas", "Jankauskaitė", "Jankauskienė"),
         ("Stankevičius", "Stankevičiūtė", "Stankevičienė"),
         ("Vasiliauskas", "Vasiliauskaitė", "Vasiliauskienė"), ("Butkus", "Butkutė", "Butkienė"),
         ("Urbonas", "Urbonaitė", "Urbonienė"), ("Žukauskas", "Žukauskaitė", "Žukauskienė")),
    ),
    DemoSchool(
        "raduga", "raduga", "Вильнюсская гимназия «Радуга»", "ru", "trimester",
        ("Дмитрий", "Артём", "Максим", "Иван", "Егор", "Михаил", "Никита", "Тимофей"),
        ("Анна", "Мария", "София", "Алиса", "Полина", "Виктория", "Дарья", "Ева"),
        (("Иванов", "Иванова", "Иванова"), ("Смирнов", "Смирнова", "Смирнова"),
         ("Кузнецов", "Кузнецова", "Кузнецова"), ("Попов", "Попова", "Попова"),
         ("Соколов", "Соколова", "Соколова"), ("Лебедев", "Лебедева", "Лебедева"),
         ("Козлов", "Козлова", "Козлова"), ("Новиков", "Новикова", "Новикова")),
    ),
    DemoSchool(
        "kasztanowa", "kasztan", "Szkoła Średnia „Kasztanowa” w Wilnie", "pl", "semester",
        ("Jan", "Antoni", "Franciszek", "Stanisław", "Wiktor", "Tomasz", "Michał", "Piotr"),
        ("Zofia", "Maja", "Julia", "Lena", "Hanna", "Alicja", "Zuzanna", "Helena"),
        (("Nowak", "Nowak", "Nowak"), ("Kowalski", "Kowalska", "Kowalska"),
         ("Wiśniewski", "Wiśniewska", "Wiśniewska"), ("Wójcik", "Wójcik", "Wójcik"),
         ("Kamiński", "Kamińska", "Kamińska"), ("Lewandowski", "Lewandowska", "Lewandowska"),
         ("Zieliński", "Zielińska", "Zielińska"), ("Szymański", "Szymańska", "Szymańska")),
    ),
)  # fmt: skip

#: code → names in lt, ru, pl, en; weekly lessons per class
SUBJECTS = {
    "MAT": (("Matematika", "Математика", "Matematyka", "Mathematics"), 4),
    "LIT": (
        (
            "Lietuvių kalba ir literatūra",
            "Литовский язык и литература",
            "Język litewski i literatura",
            "Lithuanian language and literature",
        ),
        4,
    ),
    "GIM": (("Gimtoji kalba", "Родной язык", "Język ojczysty", "Mother tongue"), 3),
    "ANG": (("Anglų kalba", "Английский язык", "Język angielski", "English"), 3),
    "IST": (("Istorija", "История", "Historia", "History"), 2),
    "GAM": (("Gamtos mokslai", "Природоведение", "Przyroda", "Science"), 2),
    "KK": (("Fizinis ugdymas", "Физкультура", "Wychowanie fizyczne", "Physical education"), 2),
    "DAI": (("Dailė", "Изобразительное искусство", "Plastyka", "Art"), 1),
}
LOCALES = ("lt", "ru", "pl", "en")

HOLIDAYS = {  # (names in lt, ru, pl), months/days relative to the year's start
    ("Rudens atostogos", "Осенние каникулы", "Ferie jesienne"): ((10, 27), (10, 31)),
    ("Žiemos (Kalėdų) atostogos", "Рождественские каникулы", "Ferie bożonarodzeniowe"): (
        (12, 23),
        (1, 2),
    ),
    ("Žiemos atostogos", "Зимние каникулы", "Ferie zimowe"): ((2, 16), (2, 20)),
    ("Pavasario (Velykų) atostogos", "Весенние (пасхальные) каникулы", "Ferie wiosenne"): (
        (4, 6),
        (4, 10),
    ),
}
GUARDIAN_LOCALES = {
    "lt": ("lt", "lt", "lt", "en"),
    "ru": ("ru", "ru", "lt"),
    "pl": ("pl", "pl", "lt"),
}

demo_cli = click.Group("demo", help="The demo municipality.")


@demo_cli.command("seed")
@click.option(
    "--schools", "school_count", default=3, show_default=True, type=click.IntRange(1, 200)
)
@click.option("--students-per-school", default=40, show_default=True, type=click.IntRange(0, 2000))
@click.option("--if-empty", is_flag=True, help="Do nothing when a school already exists.")
@with_appcontext
def seed(school_count: int, students_per_school: int, if_empty: bool) -> None:
    """Create demo schools, staff, students, guardians, classes, groups and timetables."""
    if if_empty and db.session.scalar(select(func.count(School.id))):
        click.echo("demo: the database already has schools; nothing seeded")
    else:
        with committing():
            seed_demo(school_count=school_count, students_per_school=students_per_school)
    _print_logins()


@demo_cli.command("logins")
@with_appcontext
def logins() -> None:
    """Print the demo logins."""
    _print_logins()


def seed_demo(*, school_count: int = 3, students_per_school: int = 40, seed: int = 2026) -> None:
    """Seed ``school_count`` schools; commits after each school (its transaction is bound)."""
    rng = random.Random(seed)
    today = clock.today()
    year_start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    session = db.session

    operator = _account(session, OPERATOR_LOGIN, "Savivaldybės operatorius", "lt")
    operator.is_operator = True
    shared_parent = _account(session, "parent.shared", "Irena Mackevič", "pl")
    session.commit()
    demo_accounts = {operator.id, shared_parent.id}

    for index in range(school_count):
        template = SCHOOLS[index % len(SCHOOLS)]
        suffix = "" if index < len(SCHOOLS) else f"-{index // len(SCHOOLS) + 1}"
        slug, short = template.slug + suffix, template.short + suffix.replace("-", "")
        if session.scalar(select(School.id).where(School.slug == slug)) is not None:
            continue
        school = create_school(
            session,
            slug=slug,
            name=template.name + (f" {suffix[1:]}" if suffix else ""),
            locale=template.locale,
        )
        admin = _account(session, f"admin.{short}", _name(rng, template), template.locale)
        grant_role(session, admin, school, Role.ADMIN)
        session.commit()
        bind_to_school(session, school)
        _seed_school(session, rng, school, template, short, admin, students_per_school, year_start)
        if index < 2:
            _link_shared_parent(session, school, admin, shared_parent)
        demo_accounts.update(
            session.scalars(select(Person.account_id).where(Person.account_id.is_not(None)))
        )
        demo_accounts.add(admin.id)
        unbind_session(session)
        session.commit()

    # One known password for the demo's accounts (the people services issue one-time ones).
    session.execute(
        update(Account)
        .where(Account.id.in_(demo_accounts))
        .values(password_hash=hash_password(DEMO_PASSWORD), must_change_password=False)
    )
    session.flush()


def _account(session: Session, login: str, name: str, locale: str) -> Account:
    existing = session.scalar(select(Account).where(Account.login == login))
    if existing is not None:
        return existing
    account, _ = create_account(
        session,
        login=login,
        name=name,
        locale=locale,
        email=f"{login}@demo.dienynas.lt",
        password=DEMO_PASSWORD,
    )
    return account


def _name(
    rng: random.Random,
    template: DemoSchool,
    *,
    girl: bool | None = None,
    family: tuple[str, str, str] | None = None,
    adult: bool = True,
) -> str:
    """A first and last name of the school's language, the family name in the right form."""
    girl = rng.random() < 0.5 if girl is None else girl
    family = family or rng.choice(template.families)
    first = rng.choice(template.girls if girl else template.boys)
    last = family[0] if not girl else (family[2] if adult else family[1])
    return f"{first} {last}"


def _details(rng: random.Random, name: str, **extra) -> people.PersonDetails:
    first, last = name.split(" ", 1)
    return people.PersonDetails(first_name=first, last_name=last, document_kind="other", **extra)


def _seed_school(
    session: Session,
    rng: random.Random,
    school: School,
    template: DemoSchool,
    short: str,
    admin: Account,
    students: int,
    year_start: date,
) -> None:
    locale_index = LOCALES.index(template.locale)
    year = calendar.create_year(
        session,
        name=f"{year_start.year}–{year_start.year + 1}",
        starts_on=year_start,
        ends_on=date(year_start.year + 1, 8, 31),
    )
    last_day = date(year_start.year + 1, 6, 19)
    calendar.set_terms(
        session,
        year,
        template.term_kind,
        calendar.propose_terms(template.term_kind, year_start, last_day),
    )
    for names, ((m1, d1), (m2, d2)) in HOLIDAYS.items():
        y1 = year_start.year if m1 >= 9 else year_start.year + 1
        y2 = year_start.year if m2 >= 9 else year_start.year + 1
        name = names[min(locale_index, 2)]  # holidays are named in lt, ru and pl
        calendar.add_holiday(
            session, year, name=name, starts_on=date(y1, m1, d1), ends_on=date(y2, m2, d2)
        )

    in_language = min(locale_index, 2)  # the names below exist in lt, ru and pl
    main = calendar.add_schedule(
        session, name=("Pagrindinis", "Основное", "Podstawowy")[in_language], is_default=True
    )
    calendar.fill_periods(
        session, main, first_starts_at=time(8, 0), lessons=7, lesson_minutes=45, break_minutes=10
    )
    first_grade = calendar.add_schedule(
        session,
        name=("1 klasė", "1 класс", "Klasa 1")[in_language],
        is_default=False,
        min_grade=1,
        max_grade=1,
    )
    calendar.fill_periods(
        session,
        first_grade,
        first_starts_at=time(8, 0),
        lessons=5,
        lesson_minutes=35,
        break_minutes=15,
    )
    rooms = [calendar.add_room(session, code=str(100 + n), capacity=30) for n in range(1, 9)]
    rooms.append(
        calendar.add_room(
            session, code=("Sporto salė", "Спортзал", "Sala gimnastyczna")[min(locale_index, 2)]
        )
    )

    ten_point = session.scalar(select(GradeScale.id).where(GradeScale.code == "ten_point"))
    pass_fail = session.scalar(select(GradeScale.id).where(GradeScale.code == "pass_fail"))
    subjects = {}
    for code, (names, _weekly) in SUBJECTS.items():
        subjects[code] = curriculum.create_subject(
            session,
            school_locale=template.locale,
            code=code,
            names=dict(zip(LOCALES, names, strict=True)),
            scale_id=pass_fail if code == "KK" else ten_point,
        )

    # Staff: a teacher per subject (two for English); the class heads teach too.
    teacher_logins = [f"teacher{n}.{short}" for n in range(1, len(SUBJECTS) + 2)]
    # one teacher a subject; English has two (the class is split in halves)
    subject_teacher = dict(zip(SUBJECTS, teacher_logins, strict=False))
    taught = {login: [subjects[code].id for code, t in subject_teacher.items() if t == login]
              for login in teacher_logins}  # fmt: skip
    for login in teacher_logins[-2:]:
        taught[login] = sorted({*taught[login], subjects["ANG"].id})

    def staff_member(login: str, roles: list[str], rights: list[str], subject_ids: list[int]):
        account = _account(session, login, _name(rng, template), template.locale)
        person, _linked = people.add_staff(
            session,
            admin,
            school,
            people.PersonDetails(
                first_name=account.name.split(" ")[0],
                last_name=account.name.split(" ", 1)[1],
                document_kind="other",
                email=account.email or "",
                locale=template.locale,
            ),
            roles,
            rights,
            login=login,
            link_code=_consent(account),
            subject_ids=subject_ids,
        )
        return person

    teachers = {
        login: staff_member(
            login,
            ["teacher", "class_head"] if n < 2 else ["teacher"],
            ["form_groups", "edit_timetable"] if n == 0 else [],
            taught[login],
        )
        for n, login in enumerate(teacher_logins)
    }
    staff_member(f"director.{short}", ["director"], [], [])
    staff_member(f"pedagogue.{short}", ["social_pedagogue"], [], [])
    staff_member(f"nurse.{short}", ["health_specialist"], [], [])

    # Classes 5a and 6a with their students and guardians.
    heads = [teachers[teacher_logins[0]], teachers[teacher_logins[1]]]
    class_list = [
        classes.create_class(
            session, school, year=year, grade_level=grade, letter="a", head_id=head.id
        )
        for grade, head in ((5, heads[0]), (6, heads[1]))
    ]
    today = max(clock.today(), year_start)
    for n in range(students):
        school_class = class_list[n % len(class_list)]
        birth = date(
            year_start.year - 6 - school_class.grade_level, rng.randint(1, 12), rng.randint(1, 28)
        )
        family = rng.choice(template.families)
        child = _name(rng, template, family=family, adult=False)
        student = people.add_student(
            session,
            admin,
            school,
            _details(rng, child, birth_date=birth, document_number=f"DEMO{n:05d}"),
            school_class.id,
            today=today,
        )
        relation = rng.choice(["mother", "father"])
        parent = _name(rng, template, girl=relation == "mother", family=family)
        people.add_guardian(
            session,
            admin,
            school,
            student,
            _details(
                rng,
                parent,
                locale=rng.choice(GUARDIAN_LOCALES[template.locale]),
                phone=f"+3706{rng.randint(1000000, 9999999)}",
                email=f"parent{n}.{short}@demo.dienynas.lt",
            ),
            relation,
            today=today,
        )

    # Groups and a week's timetable (the first free slot for every lesson).
    for school_class in class_list:
        class_students = [s.person_id for s in classes.class_students(session, school_class)]
        for code, (names, weekly) in SUBJECTS.items():
            if code == "ANG":
                halves = (class_students[::2], class_students[1::2])
                groups = []
                for part, (members, login) in enumerate(
                    zip(halves, teacher_logins[-2:], strict=True), start=1
                ):
                    group = classes.create_group(
                        session,
                        school,
                        year=year,
                        name=f"{school_class.name} {names[locale_index]} ({part})",
                        subject_id=subjects[code].id,
                        kind="part",
                        class_id=school_class.id,
                        teacher_ids=[teachers[login].id],
                    )
                    if members:
                        classes.add_students(session, group, members)
                    groups.append(group)
            else:
                groups = [
                    classes.create_group(
                        session,
                        school,
                        year=year,
                        name=f"{school_class.name} {names[locale_index]}",
                        subject_id=subjects[code].id,
                        kind="class",
                        class_id=school_class.id,
                        teacher_ids=[teachers[subject_teacher[code]].id],
                    )
                ]
            for _lesson in range(weekly):
                _place(session, rng, groups, rooms)

    _fill_gradebook(session, rng, template, year_start, last_day)


def _fill_gradebook(
    session: Session, rng: random.Random, template: DemoSchool, year_start: date, last_day: date
) -> None:
    """The month of lessons, grades and attendance before the demo's today (before the last
    lesson day when the demo is seeded in the summer)."""
    end = min(max(clock.today(), year_start), last_day)
    start = max(end - timedelta(days=GRADEBOOK_DAYS - 1), year_start)
    sample.fill_month(
        session, start=start, days=(end - start).days + 1, rng=rng, locale=template.locale
    )


def _place(session: Session, rng: random.Random, groups: list, rooms: list) -> None:
    """Put one weekly lesson of ``groups`` (parallel part-groups together) in a free slot."""
    slots = [(day, lesson) for lesson in range(1, 7) for day in range(1, 6)]
    for day, lesson in slots:
        savepoint = session.begin_nested()
        try:
            for group, room in zip(groups, rng.sample(rooms[:-1], len(groups)), strict=True):
                timetable.add_entry(
                    session, group_id=group.id, weekday=day, lesson_no=lesson, room_id=room.id
                )
        except ServiceError:
            savepoint.rollback()
            continue
        savepoint.commit()
        return


def _consent(account: Account) -> str:
    """The link code the account's holder would make on their account page for the school
    that links their login (school.people.services._person_for_login)."""
    return issue_link_code(account, datetime.now(UTC))


def _link_shared_parent(session: Session, school: School, admin: Account, parent: Account) -> None:
    """parent.shared is a guardian of the first student in this school (children in two)."""
    student = session.scalar(select(Student).order_by(Student.person_id).limit(1))
    if student is not None:
        people.add_guardian(
            session, admin, school, student, people.PersonDetails(), "mother",
            login=parent.login, link_code=_consent(parent),
        )  # fmt: skip


def _print_logins() -> None:
    schools = db.session.scalars(select(School).order_by(School.id)).all()
    click.echo("")
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD})")
    click.echo(f"  municipality operator: {OPERATOR_LOGIN}")
    click.echo("  parent with children in two schools: parent.shared")
    for school in schools:
        template = next((t for t in SCHOOLS if school.slug.startswith(t.slug)), None)
        if template is None:
            continue
        short = template.short + school.slug[len(template.slug) :].replace("-", "")
        bind_to_school(db.session, school)
        student_login, parent_login = _first_student_and_parent(db.session)
        unbind_session(db.session)
        db.session.rollback()
        click.echo(
            f"  {school.name} (/s/{school.slug}/): admin.{short}, director.{short}, "
            f"class head teacher1.{short}, teacher teacher3.{short}, "
            f"social pedagogue pedagogue.{short}, health specialist nurse.{short}, "
            f"student {student_login}, parent {parent_login}"
        )


def _first_student_and_parent(session: Session) -> tuple[str, str]:
    student = session.scalar(
        select(Account.login)
        .join(Person, Person.account_id == Account.id)
        .join(Student, Student.person_id == Person.id)
        .join(SchoolClass, SchoolClass.id == Student.class_id)
        .order_by(SchoolClass.grade_level, *person_order())
        .limit(1)
    )
    parent = session.scalar(
        select(Account.login)
        .join(Person, Person.account_id == Account.id)
        .join(Guardianship, Guardianship.guardian_id == Person.id)
        .order_by(Guardianship.id)
        .limit(1)
    )
    return student or "-", parent or "-"
