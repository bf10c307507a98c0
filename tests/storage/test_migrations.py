"""Migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from storage.db import current_revision
from storage.models import Base
from storage.search_queries import SEARCH_OBJECTS


def _not_search(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """The full-text index is built by its migration, not declared by a model."""
    return name not in SEARCH_OBJECTS


def test_migrated_schema_matches_models(engine: Engine) -> None:
    assert current_revision(engine) is not None
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": False, "include_object": _not_search}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], diff


def test_every_model_table_exists(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
