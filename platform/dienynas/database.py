"""The SQLAlchemy handle and the two declarative bases: shared (``public``) and per school.

``PublicModel`` tables live in the ``public`` schema and are always schema-qualified.
``SchoolModel`` tables declare no schema: they are created in each school's schema and found
through the transaction-local ``search_path`` that ``tenants.binding`` sets.
"""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class PublicModel(DeclarativeBase):
    metadata = MetaData(schema="public", naming_convention=NAMING_CONVENTION)


class SchoolModel(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=PublicModel)
