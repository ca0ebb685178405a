"""The tenancy core: schemas, roles, the per-transaction binding, routing by slug."""

import re

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from conftest import TEST_PASSWORD, login
from school.models import SchoolYear
from tenants.binding import SchoolBinding, bind_connection, bind_session
from tenants.services import binding_for, create_school


def test_school_role_cannot_read_another_schools_tables(db_session, world):
    connection = db_session.connection()
    bind_connection(connection, binding_for(world.school_a))
    own = connection.execute(text("SELECT name FROM school_years")).scalars().all()
    assert own == ["2026–2027 A"]
    nested = connection.begin_nested()
    with pytest.raises(ProgrammingError) as excinfo:
        connection.execute(text(f"SELECT * FROM {world.school_b.schema_name}.school_years"))
    assert "permission denied" in str(excinfo.value)
    nested.rollback()


def test_unqualified_names_never_reach_another_school(db_session, world):
    connection = db_session.connection()
    bind_connection(connection, binding_for(world.school_b))
    names = connection.execute(text("SELECT name FROM school_years")).scalars().all()
    assert names == ["2026–2027 B"]
    # public is not on a school's search_path: shared tables must be schema-qualified
    nested = connection.begin_nested()
    with pytest.raises(ProgrammingError, match="does not exist"):
        connection.execute(text("SELECT count(*) FROM accounts"))
    nested.rollback()


def test_pooled_connection_used_for_a_then_b_sees_only_b(fresh_engine, world):
    with Session(fresh_engine) as session:
        bind_session(session, binding_for(world.school_a))
        pid_a = session.execute(text("SELECT pg_backend_pid()")).scalar()
        assert session.scalars(select(SchoolYear.name)).all() == ["2026–2027 A"]
        session.commit()
    with Session(fresh_engine) as session:
        bind_session(session, binding_for(world.school_b))
        pid_b = session.execute(text("SELECT pg_backend_pid()")).scalar()
        assert session.scalars(select(SchoolYear.name)).all() == ["2026–2027 B"]
        role = session.execute(text("SELECT current_user")).scalar()
        assert role == world.school_b.role_name
        session.commit()
    assert pid_a == pid_b  # the very same pooled connection
    with fresh_engine.connect() as conn:  # and once unbound, it is the login role again
        assert conn.execute(text("SELECT current_user")).scalar() != world.school_b.role_name
        path = conn.execute(text("SHOW search_path")).scalar()
        assert world.school_b.schema_name not in path


def test_binding_is_one_round_trip_at_the_start_of_every_transaction(app, fresh_engine, world):
    from sqlalchemy import event

    statements = []
    event.listen(fresh_engine, "before_cursor_execute", lambda c, cur, s, *a: statements.append(s))
    with Session(fresh_engine) as session:
        bind_session(session, binding_for(world.school_a))
        session.execute(select(SchoolYear.id)).all()
        session.commit()
        session.execute(select(SchoolYear.id)).all()
        session.rollback()
    binds = [s for s in statements if "set_config('search_path'" in s]
    assert len(binds) == 2
    assert statements[0].startswith("SELECT set_config('search_path'")


def test_school_role_is_nologin_and_owns_only_its_schema(db_session, world):
    connection = db_session.connection()
    row = connection.execute(
        text("SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = :r"),
        {"r": world.school_a.role_name},
    ).one()
    assert row == (False, False)
    owned = (
        connection.execute(
            text(
                "SELECT nspname FROM pg_namespace n "
                "JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname = :r"
            ),
            {"r": world.school_a.role_name},
        )
        .scalars()
        .all()
    )
    assert owned == [world.school_a.schema_name]
    tables_owner = (
        connection.execute(
            text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = :s"),
            {"s": world.school_a.schema_name},
        )
        .scalars()
        .all()
    )
    assert tables_owner == [world.school_a.role_name]


def test_provisioning_creates_schema_role_and_tables_at_head(db_session, app):
    from tenants.migrations import school_head

    school = create_school(db_session, slug="fresh-school", name="Fresh", locale="en")
    assert school.status == "active"
    assert school.schema_version == school_head()
    connection = db_session.connection()
    bind_connection(connection, SchoolBinding(school.id, school.schema_name, school.role_name))
    assert connection.execute(text("SELECT count(*) FROM school_years")).scalar() == 0
    version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version == school_head()


def test_provisioning_twice_is_harmless(db_session):
    from tenants.services import provision_school, register_school

    school = register_school(db_session, slug="twice", name="Twice", locale="lt")
    provision_school(db_session, school.id)
    provision_school(db_session, school.id)  # a job delivered twice
    assert school.status == "active"


# --- routing ---------------------------------------------------------------------------------


def test_unknown_school_is_404(client, world):
    login(client, "admin.a")
    assert client.get("/s/no-such-school/").status_code == 404


def test_school_home_shows_school_and_roles(client, world):
    login(client, "admin.a")
    response = client.get("/s/school-a/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Alpha progimnazija" in page
    assert "2026–2027 A" in page


def test_school_home_menu_puts_the_daily_pages_first(app, world):
    """The menu's sections: what a teacher uses every day before the school's set-up; a
    guardian has only daily pages, so only that section."""

    def sections(login_name: str) -> list[tuple[str, list[str]]]:
        client = app.test_client()
        login(client, login_name)
        page = client.get("/s/school-a/").get_data(as_text=True)
        menu = page.split('class="card school-menu"')[1].split("</nav>")[0]
        return [
            (heading, re.findall(r'<a href="/s/school-a/([^"]*)"', items))
            for heading, items in re.findall(r"<h2>([^<]+)</h2>\s*<ul>(.*?)</ul>", menu, re.S)
        ]

    teacher = sections("teacher.a")
    assert [heading for heading, _items in teacher] == [
        "Every day", "Classes and people", "School set-up",
    ]  # fmt: skip
    assert teacher[0][1][:2] == ["lessons/mine", "journal"]
    assert "bells" in teacher[2][1] and "bells" not in teacher[0][1]
    guardian = sections("guardian.both")
    assert [heading for heading, _items in guardian] == ["Na co dzień"]  # in their Polish
    assert guardian[0][1][0] == "diary"


def test_user_of_school_a_is_refused_on_school_b(client, world, app):
    login(client, "admin.a")
    school_b_routes = [
        rule.rule.replace("<slug>", "school-b")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/s/<slug>") and "GET" in rule.methods and rule.rule.count("<") == 1
    ]
    assert school_b_routes, "no school routes found"
    for route in school_b_routes:
        response = client.get(route)
        assert response.status_code in (403, 404), route
        assert "Бета гимназия" not in response.get_data(as_text=True)


def test_anonymous_visitor_is_sent_to_login(client, world):
    response = client.get("/s/school-a/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_suspended_school_is_refused_with_a_clear_page(client, db_session, world):
    from accounts.models import Role
    from accounts.services import create_account, grant_role
    from tenants.models import SchoolStatus
    from tenants.services import set_status

    account, _ = create_account(db_session, login="no.preference", name="N", password=TEST_PASSWORD)
    grant_role(db_session, account, db_session.merge(world.school_a), Role.TEACHER)
    set_status(db_session, "school-a", SchoolStatus.SUSPENDED)
    db_session.commit()
    login(client, "no.preference")
    response = client.get("/s/school-a/")
    assert response.status_code == 403
    # no preference: the school's default language (lt)
    assert "sustabdė šios mokyklos e. dienyno veiklą" in response.get_data(as_text=True)
    # the home page (in the account's school's language) says the school is suspended, not
    # that the account has no school
    home = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Savivaldybė laikinai sustabdė Alpha progimnazija e. dienyno veiklą" in home
    assert "Kol kas neturite vaidmens jokioje mokykloje" not in home


def test_guardian_with_children_in_two_schools_switches_between_them(client, world):
    """Signing in leads a parent to the diaries of all their children, in every school; the
    header's school switcher leads to each school."""
    login(client, "guardian.both")
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == "/diary"
    page = client.get("/diary").get_data(as_text=True)
    assert "Alpha progimnazija" in page and "/s/school-a/" in page and "/s/school-b/" in page
    assert client.get("/s/school-b/").status_code == 200
    assert client.get("/s/school-a/").status_code == 200


def test_signing_in_leads_a_student_to_the_diary_and_staff_to_the_school(app, classroom):
    classroom.session.commit()

    def landing(login_name: str) -> str:
        client = app.test_client()
        login(client, login_name)
        return client.get("/").headers["Location"]

    assert landing("student.a") == "/s/school-a/diary"
    assert landing("teacher.a") == "/s/school-a/"


def test_school_page_is_bound_to_its_school_in_the_database(
    client, world, db_session, count_queries
):
    login(client, "teacher.a")
    with count_queries() as queries:
        response = client.get("/s/school-a/")
    assert response.status_code == 200
    binds = [q for q in queries if "set_config('search_path'" in q]
    assert binds, "the request never bound its transaction to the school"
    assert len(queries) <= 5, "\n".join(queries)


def test_new_school_starts_with_standard_scales_and_kinds_in_its_language(db_session):
    from school.curriculum.models import AssessmentKind, GradeScale

    school = create_school(db_session, slug="rusu-mokykla", name="Школа", locale="ru")
    bind_session(db_session, binding_for(school))
    scales = {s.code: (s.min_value, s.max_value) for s in db_session.scalars(select(GradeScale))}
    assert scales == {"ten_point": (1, 10), "pass_fail": (None, None), "five_point": (2, 5)}
    test_kind = db_session.scalar(select(AssessmentKind).where(AssessmentKind.code == "test"))
    assert test_kind.name == "Контрольная работа"
    assert test_kind.name_in("lt") == "Kontrolinis darbas"


def test_ids_beyond_bigint_are_not_found_not_a_server_error(client, world):
    login(client, "admin.a")
    assert client.get("/s/school-a/imports/99999999999999999999").status_code == 404
    assert client.get("/s/school-a/imports/1").status_code == 404


def test_an_outsiders_refusal_is_in_their_own_language_not_the_schools(client, db_session, world):
    """A member of school A only (no language of their own, an English browser) opening
    school B (Russian): the refusal and the page are in their own school's language
    (Lithuanian) throughout, school B's nowhere."""
    from accounts.models import Role
    from accounts.services import create_account, grant_role

    account, _ = create_account(db_session, login="outsider.a", name="O", password=TEST_PASSWORD)
    grant_role(db_session, account, db_session.merge(world.school_a), Role.TEACHER)
    db_session.commit()
    login(client, "outsider.a")
    response = client.get("/s/school-b/", headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Šioje mokykloje neturite vaidmens." in page and '<html lang="lt">' in page
    assert "Доступ" not in page and "Выйти" not in page
