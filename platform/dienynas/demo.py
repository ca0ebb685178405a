"""``dienynas demo …``: a demo municipality with Lithuanian-, Russian- and Polish-language schools.

Every demo account has the password :data:`DEMO_PASSWORD` (printed by ``dienynas demo logins``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from accounts.models import Account, Role
from accounts.services import grant_role, hash_password
from dienynas.clitools import committing
from dienynas.extensions import db
from school.calendar.services import create_year
from tenants.binding import unbind_session
from tenants.models import School
from tenants.services import bind_to_school, create_school

DEMO_PASSWORD = "demo-Dienynas-2026"
OPERATOR_LOGIN = "operator"


@dataclass(frozen=True)
class DemoSchool:
    slug: str
    short: str
    name: str
    locale: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]


SCHOOLS = (
    DemoSchool(
        "berzu-progimnazija",
        "berzu",
        "Vilniaus Beržų progimnazija",
        "lt",
        (
            "Ugnė",
            "Jonas",
            "Austėja",
            "Matas",
            "Emilija",
            "Lukas",
            "Gabija",
            "Dominykas",
            "Kamilė",
            "Nojus",
        ),
        (
            "Kazlauskas",
            "Petrauskaitė",
            "Jankauskas",
            "Stankevičiūtė",
            "Vasiliauskas",
            "Žukauskaitė",
            "Butkus",
            "Paulauskaitė",
        ),
    ),
    DemoSchool(
        "raduga",
        "raduga",
        "Вильнюсская гимназия «Радуга»",
        "ru",
        ("Анна", "Дмитрий", "Мария", "Артём", "София", "Максим", "Алиса", "Иван", "Полина", "Егор"),
        ("Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Козлов", "Новикова"),
    ),
    DemoSchool(
        "kasztanowa",
        "kasztan",
        "Szkoła Średnia „Kasztanowa” w Wilnie",
        "pl",
        (
            "Zofia",
            "Jan",
            "Maja",
            "Antoni",
            "Julia",
            "Franciszek",
            "Lena",
            "Stanisław",
            "Hanna",
            "Wiktor",
        ),
        (
            "Nowak",
            "Kowalska",
            "Wiśniewski",
            "Wójcik",
            "Kamiński",
            "Lewandowska",
            "Zieliński",
            "Szymańska",
        ),
    ),
)

GUARDIAN_LOCALES = {"lt": ("lt", "lt", "en"), "ru": ("ru", "ru", "lt"), "pl": ("pl", "pl", "lt")}

demo_cli = click.Group("demo", help="The demo municipality.")


@demo_cli.command("seed")
@click.option(
    "--schools", "school_count", default=3, show_default=True, type=click.IntRange(1, 200)
)
@click.option("--students-per-school", default=20, show_default=True, type=click.IntRange(0, 2000))
@click.option("--if-empty", is_flag=True, help="Do nothing when a school already exists.")
@with_appcontext
def seed(school_count: int, students_per_school: int, if_empty: bool) -> None:
    """Create demo schools, staff, students and guardians."""
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


def seed_demo(*, school_count: int = 3, students_per_school: int = 20, seed: int = 2026) -> None:
    rng = random.Random(seed)
    password_hash = hash_password(DEMO_PASSWORD)  # one hash for all: Argon2 is slow on purpose
    today = date.today()
    year_start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)

    def account(login: str, name: str, locale: str | None = None, email: bool = True) -> Account:
        existing = db.session.scalar(select(Account).where(Account.login == login))
        if existing:
            return existing
        acc = Account(
            login=login,
            name=name,
            email=f"{login}@demo.dienynas.lt" if email else None,
            locale=locale,
            password_hash=password_hash,
            must_change_password=False,
            is_operator=False,
            is_enabled=True,
        )
        db.session.add(acc)
        return acc

    operator = account(OPERATOR_LOGIN, "Savivaldybės operatorius", "lt")
    operator.is_operator = True

    shared_teacher = account("teacher.shared", "Rūta Vaitkienė", "lt")
    shared_parent = account("parent.shared", "Irena Mackevič", "pl")
    created: list[School] = []
    for index in range(school_count):
        template = SCHOOLS[index % len(SCHOOLS)]
        suffix = "" if index < len(SCHOOLS) else f"-{index // len(SCHOOLS) + 1}"
        slug = template.slug + suffix
        short = template.short + suffix.replace("-", "")
        school = db.session.scalar(select(School).where(School.slug == slug))
        if school is None:
            school = create_school(
                db.session,
                slug=slug,
                name=template.name + (f" {suffix[1:]}" if suffix else ""),
                locale=template.locale,
            )
        created.append(school)

        def person(rng=rng, t=template) -> str:
            return f"{rng.choice(t.first_names)} {rng.choice(t.last_names)}"

        staff = [
            (f"admin.{short}", Role.ADMIN),
            (f"director.{short}", Role.DIRECTOR),
            (f"teacher1.{short}", Role.TEACHER),
            (f"teacher2.{short}", Role.TEACHER),
            (f"teacher3.{short}", Role.TEACHER),
            (f"head.{short}", Role.CLASS_HEAD),
        ]
        for login, role in staff:
            acc = account(login, person(), template.locale)
            db.session.flush()
            grant_role(db.session, acc, school, role)
            if role == Role.CLASS_HEAD:
                grant_role(db.session, acc, school, Role.TEACHER)
        for student_no in range(1, students_per_school + 1):
            student = account(f"s{student_no:03d}.{short}", person(), template.locale, email=False)
            db.session.flush()
            grant_role(db.session, student, school, Role.STUDENT)
            guardian_locale = rng.choice(GUARDIAN_LOCALES[template.locale])
            guardian = account(f"p{student_no:03d}.{short}", person(), guardian_locale)
            db.session.flush()
            grant_role(db.session, guardian, school, Role.GUARDIAN)
        db.session.flush()
        grant_role(db.session, shared_teacher, school, Role.TEACHER)
        if index < 2:
            grant_role(db.session, shared_parent, school, Role.GUARDIAN)

        bind_to_school(db.session, school)
        for offset in (0, 1):
            start = date(year_start.year + offset, 9, 1)
            create_year(
                db.session,
                name=f"{start.year}–{start.year + 1}",
                starts_on=start,
                ends_on=date(start.year + 1, 8, 31),
            )
        unbind_session(db.session)
        db.session.commit()  # one school at a time: its schema was bound to this transaction


def _print_logins() -> None:
    schools = db.session.scalars(select(School).order_by(School.id)).all()
    click.echo("")
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD})")
    click.echo(f"  municipality operator: {OPERATOR_LOGIN}")
    click.echo(
        "  teacher in two schools: teacher.shared; "
        "parent with children in two schools: parent.shared"
    )
    for school in schools:
        short = next(
            (
                t.short + school.slug[len(t.slug) :].replace("-", "")
                for t in SCHOOLS
                if school.slug.startswith(t.slug)
            ),
            None,
        )
        if short is None:
            continue
        click.echo(
            f"  {school.name} (/s/{school.slug}/): admin.{short}, director.{short}, "
            f"teacher1.{short}, head.{short}, student s001.{short}, parent p001.{short}"
        )
