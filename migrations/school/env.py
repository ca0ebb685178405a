"""Alembic environment for one school's schema.

The caller (``tenants.migrations``) binds the connection to the school first (search_path and
role), so revisions use unqualified table names and create objects owned by the school's role.
"""

from alembic import context

import school.models  # noqa: F401  (registers every school table)
from dienynas.database import SchoolModel

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SchoolModel.metadata,
    version_table_schema=config.attributes["schema"],
    compare_type=True,
    include_object=lambda obj, name, type_, reflected, compare_to: name != "alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
