"""Shared fixtures: every storage and dispatcher test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``HOTLINE_TEST_POSTGRES_URL`` (CI sets it), else the server on
127.0.0.1:5432 (database ``test``, user ``postgres``), else an embedded server started from the
``pgserver`` package, so the suite needs nothing but Python. Each test gets its own schema.
"""

from __future__ import annotations

import gettext
import os
import secrets
import shutil
import subprocess
import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from hotline.api.app import create_app
from hotline.settings import Settings, generate_key
from hotline.storage import db
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Return a URL of a PostgreSQL server the tests may use."""
    configured = os.environ.get("HOTLINE_TEST_POSTGRES_URL")
    if configured:
        assert _reachable(configured), f"HOTLINE_TEST_POSTGRES_URL is set but unreachable: {configured}"
        yield db.normalize_url(configured)
        return
    if _reachable(LOCAL_POSTGRES):
        yield LOCAL_POSTGRES
        return
    yield from _embedded_postgres(tmp_path_factory.mktemp("pgdata"))


def _embedded_postgres(directory: Path) -> Iterator[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver  # type: ignore[import-not-found]

        server = pgserver.get_server(str(directory), cleanup_mode="stop")
    url = make_url(server.get_uri()).set(drivername="postgresql+psycopg")
    yield url.render_as_string(hide_password=False)
    server.cleanup()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield a fresh empty database URL: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hotline.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq(base), autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with psycopg.connect(_libpq(base), autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def settings_values(database_url: str, tmp_path: Path) -> dict[str, str]:
    """Return the settings mapping of a test instance (no Telegram, no Twilio)."""
    return {
        "HOTLINE_DATABASE_URL": database_url,
        "HOTLINE_ENCRYPTION_KEYS": generate_key(),
        "HOTLINE_VAR_DIR": str(tmp_path / "var"),
        "HOTLINE_POLL_INTERVAL": "0.2",
        "HOTLINE_NGO_NAME": "Test Hotline",
    }


@pytest.fixture
def settings(settings_values: dict[str, str]) -> Settings:
    """Return test settings built from an explicit mapping, never from the environment."""
    return Settings.from_mapping(settings_values)


@pytest.fixture
def database(settings: Settings) -> Iterator[db.Database]:
    """Yield a migrated database with its own key ring."""
    database = db.open_database(settings)
    db.upgrade(database)
    yield database
    database.dispose()


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 15, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: Any) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    """Start a fake Telegram Bot API on loopback for one test."""
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
def twilio() -> Iterator[FakeTwilioAPI]:
    """Start a fake Twilio REST API on loopback for one test."""
    with FakeTwilioAPI() as server:
        yield server


@pytest.fixture
async def client(settings: Settings, database: db.Database, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    """Return an HTTP client of the app (lifespan run, background loops off)."""
    app = create_app(settings, database=database, run_workers=False, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


class FakeCatalogue(gettext.NullTranslations):
    """A catalogue holding a few fixed translations."""

    def __init__(self, entries: dict[str, str]) -> None:
        super().__init__()
        self.entries = entries

    def gettext(self, message: str) -> str:
        return self.entries.get(message, message)


@pytest.fixture
def clock() -> FakeClock:
    """Return a fake clock at a fixed winter night."""
    return FakeClock()


def put_on_duty(
    database: db.Database,
    *,
    chat: str | None,
    name: str = "Vol",
    phone: str | None = None,
    languages: str = "en",
    layer: str = "primary",
    role: str = "volunteer",
    quiet: str | None = None,
    since: datetime | None = None,
) -> int:
    """Register a volunteer with a Telegram chat and/or a phone and put them on a layer until replaced; return their id.

    They cover from ``since`` (default: a day before the fake clock's start), so any test clock finds them on duty.
    """
    from hotline.storage import rota, staff

    since = since or datetime(2026, 1, 14, 3, 0, tzinfo=UTC)
    with database.session() as session:
        volunteer = staff.add_volunteer(
            session, keyring=database.keyring, name=name, telegram_chat=chat, phone=phone, languages=languages,
            now=since, role=role, quiet=quiet,
        )  # fmt: skip
        rota.cover_now(session, volunteer_id=volunteer.id or 0, now=since, created_by="test", layer=layer)
        return volunteer.id or 0


def pg_dump_command() -> str:
    """Find a pg_dump: the system one, else the one bundled with pgserver."""
    found = shutil.which("pg_dump")
    if found:
        return found
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    return str(Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump")


def pg_dump_schema(database_url: str) -> bytes:
    """Dump one test schema as plain SQL (data included)."""
    url = make_url(database_url)
    schema = url.query["options"].split("=", 1)[1]  # type: ignore[union-attr]
    plain = url.set(query={}).set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run([pg_dump_command(), "--schema", schema, plain], check=True, capture_output=True).stdout
