"""Migrations: a provisioned school equals one built by every migration; public matches the
models; `db upgrade` migrates only schools that are behind and resumes after a failure."""

from sqlalchemy import text

from dienynas.database import PublicModel
from tenants import migrations, roles
from tenants.binding import SchoolBinding
from tenants.services import create_school


def schema_shape(connection, schema: str) -> dict:
    """Everything that makes a schema's structure, with the schema's name taken out."""

    def rows(sql: str) -> list[tuple]:
        result = connection.execute(text(sql), {"s": schema}).fetchall()
        return sorted(tuple(str(v).replace(schema, "<schema>") for v in row) for row in result)

    return {
        "columns": rows(
            "SELECT table_name, column_name, data_type, is_nullable, column_default, "
            "character_maximum_length, ordinal_position FROM information_schema.columns "
            "WHERE table_schema = :s"
        ),
        "constraints": rows(
            "SELECT c.conrelid::regclass::text, c.conname, c.contype, "
            "pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = :s"
        ),
        "indexes": rows(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = :s"
        ),
        "sequences": rows(
            "SELECT sequence_name, data_type, start_value, increment "
            "FROM information_schema.sequences WHERE sequence_schema = :s"
        ),
        "triggers": rows(
            "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :s AND NOT t.tgisinternal"
        ),
        "owners": rows(
            "SELECT c.relname, c.relkind, r.rolname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE n.nspname = :s"
        ),
    }


def test_provisioned_school_equals_school_built_by_every_migration(db_session):
    provisioned = create_school(db_session, slug="by-create-all", name="Create-all", locale="lt")
    connection = db_session.connection()

    schema, role = "school_migrated_check", roles.role_prefix(connection) + "school_migrated_check"
    roles.create_school_role_and_schema(connection, role=role, schema=schema, can_login=False)
    version = migrations.migrate_school_connection(connection, SchoolBinding(0, schema, role))
    assert version == migrations.school_head() == provisioned.schema_version

    built = schema_shape(connection, schema)
    fast = schema_shape(connection, provisioned.schema_name)
    # owners differ only by the role's name
    built["owners"] = [(n, k, o.replace(role, "<role>")) for n, k, o in built["owners"]]
    fast["owners"] = [
        (n, k, o.replace(provisioned.role_name, "<role>")) for n, k, o in fast["owners"]
    ]
    assert built["columns"], "the migrations built no tables"
    differences = [
        f"{key}: only in the provisioned schema {sorted(set(fast[key]) - set(built[key]))}; "
        f"only in the migrated one {sorted(set(built[key]) - set(fast[key]))}"
        for key in fast
        if fast[key] != built[key]
    ]
    assert not differences, "\n".join(differences)


def test_public_schema_built_by_migrations_equals_the_models(db_session):
    connection = db_session.connection()
    connection.execute(text("CREATE SCHEMA public_check"))
    PublicModel.metadata.create_all(
        connection.execution_options(schema_translate_map={"public": "public_check"})
    )
    # names in definitions come out schema-qualified when neither schema is on the search_path
    connection.execute(text("SELECT set_config('search_path', 'pg_catalog', true)"))
    migrated = schema_shape(connection, "public")
    from_models = schema_shape(connection, "public_check")
    migrated = {k: [r for r in v if "alembic_version" not in r[0]] for k, v in migrated.items()}
    del migrated["owners"], from_models["owners"]
    assert migrated["columns"]
    assert migrated == from_models


def test_upgrade_migrates_only_schools_behind_and_resumes(fresh_engine, world):
    """A no-op upgrade opens no schema; a school marked behind is migrated and recorded."""
    head = migrations.school_head()
    report = migrations.upgrade_schools(fresh_engine, processes=1)
    assert report.pending == 0 and report.migrated == []
    try:
        with fresh_engine.begin() as conn:
            conn.execute(
                text("UPDATE public.schools SET schema_version = 'behind' WHERE id = :id"),
                {"id": world.school_b.id},
            )
        report = migrations.upgrade_schools(fresh_engine, processes=1)
        assert report.migrated == ["school-b"] and report.failed == {}
        with fresh_engine.connect() as conn:
            versions = dict(
                conn.execute(text("SELECT slug, schema_version FROM public.schools")).all()
            )
        assert versions["school-b"] == head
        assert set(versions.values()) == {head}
    finally:
        with fresh_engine.begin() as conn:
            conn.execute(
                text("UPDATE public.schools SET schema_version = :h WHERE id = :id"),
                {"h": head, "id": world.school_b.id},
            )


def test_school_at_a_revision_the_code_does_not_know_is_reported_clearly(fresh_engine, world):
    head = migrations.school_head()
    schema = world.school_b.schema_name
    try:
        with fresh_engine.begin() as conn:
            conn.execute(text(f"UPDATE {schema}.alembic_version SET version_num = 'from_future'"))
            conn.execute(
                text("UPDATE public.schools SET schema_version = 'from_future' WHERE id = :id"),
                {"id": world.school_b.id},
            )
        report = migrations.upgrade_schools(fresh_engine, processes=2)
        assert report.migrated == []
        assert "does not know" in report.failed["school-b"]
    finally:
        with fresh_engine.begin() as conn:
            conn.execute(text(f"UPDATE {schema}.alembic_version SET version_num = :h"), {"h": head})
            conn.execute(
                text("UPDATE public.schools SET schema_version = :h WHERE id = :id"),
                {"h": head, "id": world.school_b.id},
            )
