"""Alembic environment: runs against the engine handed over by ``hotline.storage.db``."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import hotline.storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
