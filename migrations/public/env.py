"""Alembic environment for the shared ``public`` schema.

Run through ``dienynas db upgrade`` (or ``dienynas db revision --chain public``), which passes
an open connection in ``config.attributes["connection"]``.
"""

from alembic import context

import accounts.models  # noqa: F401  (registers the shared tables)
import api.models  # noqa: F401
import tenants.models  # noqa: F401
import transfers.models  # noqa: F401
from dienynas.database import PublicModel

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=PublicModel.metadata,
    version_table_schema="public",
    include_schemas=False,
    compare_type=True,
    include_object=lambda obj, name, type_, reflected, compare_to: name != "alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
