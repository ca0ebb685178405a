"""Alembic environment for one school's schema.

The caller (``tenants.migrations``) binds the connection to the school first (search_path and
role), so revisions use unqualified table names and create objects owned by the school's role.
"""

from alembic import context

import school.models  # noqa: F401  (registers the school tables)
from dienynas.database import SchoolModel

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SchoolModel.metadata,
    version_table_schema=config.attributes["schema"],
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
