"""Alembic environment: LearnLoop passes its engine in; batch mode keeps SQLite migratable."""

from __future__ import annotations

from alembic import context

from storage.models import Base
from storage.search_queries import SEARCH_OBJECTS

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # pragma: no cover - only when someone runs the alembic CLI by hand
    from bot.settings import load_settings
    from storage.db import make_engine

    engine = make_engine(load_settings().database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        # The full-text search index (migration 0005_library_search) is not declared by a model.
        include_object=lambda obj, name, type_, reflected, other: name not in SEARCH_OBJECTS,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
