"""Opening the database: engine, sessions, migrations. SQLite is the embedded default, PostgreSQL scales.

On SQLite every transaction starts with ``BEGIN IMMEDIATE`` so writers queue on the busy timeout
instead of failing half-way, and WAL with full sync makes a commit durable before we answer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from hotline.settings import Settings
from hotline.storage.crypto import KeyRing
from hotline.storage.types import attach_keyring

log = logging.getLogger(__name__)


@dataclass
class Database:
    """An engine with its key ring: the one handle the rest of the code passes around."""

    engine: Engine
    keyring: KeyRing

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session and commit on success, roll back on error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given without a driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def open_database(settings: Settings, *, keyring: KeyRing | None = None) -> Database:
    """Create the engine for the settings, with the key ring attached to its encrypted columns."""
    url = normalize_url(settings.database_url)
    keyring = keyring or KeyRing(settings.with_development_key().key_list())
    if make_url(url).get_backend_name() == "sqlite":
        engine = _sqlite_engine(url)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    attach_keyring(engine, keyring)
    return Database(engine=engine, keyring=keyring)


def _sqlite_engine(url: str) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("hotline.storage") / "migrations"))
    config.attributes["engine"] = database.engine
    return config


def upgrade(database: Database) -> None:
    """Apply every pending migration."""
    command.upgrade(_alembic_config(database), "head")


def migrations_current(database: Database) -> bool:
    """Tell whether the database is at the newest migration."""
    head = ScriptDirectory.from_config(_alembic_config(database)).get_current_head()
    with database.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current == head


def ping(database: Database) -> None:
    """Run a trivial query; raise if the database cannot be reached."""
    with database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
