"""The ``hotline`` command: help, database, volunteers, on-call, tokens, keys, and a whole terminal chat."""

from __future__ import annotations

import base64
import io
import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlmodel import select

from hotline.api.app import create_app
from hotline.bot.chat import run_chat
from hotline.bot.oncall import rota
from hotline.cli import main
from hotline.clock import utcnow
from hotline.settings import Settings, generate_key
from hotline.storage import db, groups, reports, staff
from hotline.storage import rota as rota_store
from hotline.storage.crypto import DecryptionError
from hotline.storage.models import Contact, Report, Volunteer
from hotline.storage.reports import REFERENCE_ALPHABET
from tests.conftest import FakeClock

REFERENCE = re.compile(f"[{REFERENCE_ALPHABET}]{{3}}-[{REFERENCE_ALPHABET}]{{3}}")
URLSAFE = re.compile(r"^[A-Za-z0-9_-]+=*$")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    """Return the environment of one CLI instance: a SQLite file and a key of its own, nothing inherited."""
    inherited: dict[str, str | None] = {key: None for key in os.environ if key.startswith("HOTLINE_")}
    return {
        **inherited,
        "HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "HOTLINE_VAR_DIR": str(tmp_path / "var"),
        "HOTLINE_ENCRYPTION_KEYS": generate_key(),
    }


def run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def ok(env: dict[str, str | None], *args: str) -> str:
    result = run(env, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def open_with(env: dict[str, str | None], keys: str) -> db.Database:
    """Open the CLI's database with a given key list."""
    values = {key: value for key, value in env.items() if value is not None}
    return db.open_database(Settings.from_mapping({**values, "HOTLINE_ENCRYPTION_KEYS": keys}))


def on_duty_lines(shown: str, layer: str) -> list[str]:
    """Return who `hotline oncall show` lists on a layer, without the times."""
    section = shown.split(f"\n{layer}:\n")[1].split("\n")
    lines = list(itertools.takewhile(lambda line: line.startswith("  "), section))
    return [line.strip().split("  ", 1)[1] for line in lines]


@pytest.fixture
def opened(env: dict[str, str | None]) -> Iterator[db.Database]:
    database = open_with(env, str(env["HOTLINE_ENCRYPTION_KEYS"]))
    yield database
    database.dispose()


# --- help -------------------------------------------------------------------------------------------


HELP_CASES: list[tuple[list[str], list[str]]] = [
    ([], ["serve", "chat", "db", "keys", "volunteer", "oncall", "token", "--log-level"]),
    (["serve"], ["Run the API"]),
    (["chat"], ["--channel", "telegram|sms", "--lang", "--from"]),
    (["db"], ["upgrade"]),
    (["db", "upgrade"], ["Apply pending migrations"]),
    (["keys"], ["generate", "rotate"]),
    (["keys", "generate"], ["HOTLINE_ENCRYPTION_KEYS"]),
    (["keys", "rotate"], ["Re-encrypt"]),
    (["volunteer"], ["add", "list"]),
    (["volunteer", "add"], ["--name", "--telegram-chat", "--phone", "--lang", "--role", "--quiet"]),
    (["oncall"], ["set", "show", "rotation", "override"]),
    (["oncall", "set"], ["VOLUNTEER_ID", "--layer"]),
    (["oncall", "show"], ["on duty", "--days", "--from"]),
    (["token"], ["create"]),
    (["token", "create"], ["--name", "--role", "volunteer|coordinator", "--volunteer"]),
]


@pytest.mark.parametrize(("args", "expected"), HELP_CASES, ids=[" ".join(["hotline", *args]) for args, _ in HELP_CASES])
def test_help_lists_the_subcommands_and_options(
    env: dict[str, str | None], args: list[str], expected: list[str]
) -> None:
    output = ok(env, *args, "--help")
    assert "Usage:" in output
    for word in expected:
        assert word in output, f"{word!r} missing from `hotline {' '.join(args)} --help`"


def test_stats_count_each_group_of_people_once(env: dict[str, str | None], opened: db.Database) -> None:
    ok(env, "db", "upgrade")
    now = utcnow()
    with opened.session() as session:
        for index, (lat, total, by) in enumerate([(54.2, 7, "person"), (54.21, 8, "relative"), (55.0, 3, "resident")]):
            contact = Contact(channel="telegram", address_index=f"stats-{index}", created_at=now, last_seen_at=now)
            session.add(contact)
            session.flush()
            report = reports.create_report(
                session, kind="distress", channel="telegram", contact_id=contact.id or 0, language="en", now=now
            )
            report.location, report.people, report.reported_by = {"lat": lat, "lon": 24.3}, {"total": total}, by
            groups.link(session, report, now)
    lines = ok(env, "stats", "--days", "7").splitlines()
    assert "groups: 2" in lines and "people: 11" in lines and "reports: 3" in lines
    assert any(line.startswith("how_counted: ") for line in lines)


# --- database, volunteers, on-call ------------------------------------------------------------------


def test_upgrade_add_a_volunteer_and_put_them_on_duty(env: dict[str, str | None], opened: db.Database) -> None:
    assert "up to date" in ok(env, "db", "upgrade")
    assert db.migrations_current(opened)
    assert ok(env, "volunteer", "add", "--name", "Ona Miškinė", "--telegram-chat", "900001", "--lang", "lt,en") == (
        "volunteer 1 added\n"
    )
    assert "volunteer 1 is on primary duty" in ok(env, "oncall", "set", "1")
    shown = ok(env, "oncall", "show")
    assert on_duty_lines(shown, "primary") == ["1 Ona Miškinė (override)"]
    with opened.session() as session:
        volunteer = staff.find_volunteer_by_chat(session, keyring=opened.keyring, chat_id="900001")
        assert volunteer is not None and volunteer.name == "Ona Miškinė"
        assert rota.on_duty_at(session, layer="primary", at=utcnow()) == [volunteer]


def test_on_call_moves_to_the_volunteer_named(env: dict[str, str | None]) -> None:
    ok(env, "volunteer", "add", "--name", "First")
    ok(env, "volunteer", "add", "--name", "Second")
    ok(env, "oncall", "set", "1")
    ok(env, "oncall", "set", "2")
    assert on_duty_lines(ok(env, "oncall", "show"), "primary") == ["2 Second (override)"]


def test_on_call_for_an_unknown_volunteer_fails_clearly(env: dict[str, str | None]) -> None:
    ok(env, "volunteer", "add", "--name", "Only One")
    ok(env, "oncall", "set", "1")
    result = run(env, "oncall", "set", "99")
    assert result.exit_code != 0
    assert "no active volunteer 99" in result.output
    assert "Traceback" not in result.output
    assert on_duty_lines(ok(env, "oncall", "show"), "primary") == ["1 Only One (override)"]


def test_on_call_show_with_nobody_on_duty_fails(env: dict[str, str | None]) -> None:
    ok(env, "volunteer", "add", "--name", "Off Duty")
    result = run(env, "oncall", "show")
    assert result.exit_code == 1
    assert "primary is UNCOVERED within the next 48 hours" in result.stderr
    assert on_duty_lines(result.stdout, "primary") == ["UNCOVERED"]


# --- tokens -----------------------------------------------------------------------------------------


async def test_a_created_token_authenticates_against_the_api(env: dict[str, str | None], opened: db.Database) -> None:
    token = ok(env, "token", "create", "--name", "dashboard", "--role", "coordinator").strip()
    assert token.startswith("hl_") and "\n" not in token
    with opened.session() as session:
        record = staff.find_token(session, token=token)
        assert record is not None
        assert (record.role, record.name) == ("coordinator", "dashboard")
        assert staff.find_token(session, token=token + "x") is None

    settings = Settings.from_mapping({key: value for key, value in env.items() if value is not None})
    app = create_app(settings, database=opened, run_workers=False, clock=FakeClock())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            good = await client.get("/api/v1/reports", headers={"Authorization": f"Bearer {token}"})
            bad = await client.get("/api/v1/reports", headers={"Authorization": f"Bearer {token[:-1]}"})
    assert (good.status_code, good.json()) == (200, [])
    assert bad.status_code == 401


def test_tokens_default_to_volunteer_and_roles_are_limited(env: dict[str, str | None], opened: db.Database) -> None:
    token = ok(env, "token", "create", "--name", "default").strip()
    with opened.session() as session:
        record = staff.find_token(session, token=token)
        assert record is not None and record.role == "volunteer"
    result = run(env, "token", "create", "--name", "x", "--role", "admin")
    assert result.exit_code == 2
    assert "admin" in result.output


# --- keys -------------------------------------------------------------------------------------------


def test_keys_generate_prints_a_fresh_32_byte_key(env: dict[str, str | None]) -> None:
    first, second = ok(env, "keys", "generate").strip(), ok(env, "keys", "generate").strip()
    assert first != second
    for key in (first, second):
        assert URLSAFE.match(key), key
        assert len(base64.urlsafe_b64decode(key)) == 32


def test_keys_rotate_reseals_everything_with_the_newest_key(env: dict[str, str | None]) -> None:
    old, new = generate_key(), generate_key()
    written = {**env, "HOTLINE_ENCRYPTION_KEYS": old}
    ok(written, "volunteer", "add", "--name", "Rūta", "--telegram-chat", "900001", "--phone", "+37060000001")

    before = open_with(env, new)
    try:
        with before.session() as session, pytest.raises(DecryptionError):
            session.exec(select(Volunteer)).one()
    finally:
        before.dispose()

    rotating = {**env, "HOTLINE_ENCRYPTION_KEYS": f"{new},{old}"}
    output = ok(rotating, "keys", "rotate")
    count = int(re.search(r"re-encrypted (\d+) values", output).group(1))  # type: ignore[union-attr]
    assert count >= 3  # name, chat and phone
    assert "re-encrypted 0 values" in ok(rotating, "keys", "rotate")

    only_new = open_with(env, new)
    try:
        with only_new.session() as session:
            volunteer = session.exec(select(Volunteer)).one()
            assert (volunteer.name, volunteer.telegram_chat, volunteer.phone) == ("Rūta", "900001", "+37060000001")
            found = staff.find_volunteer_by_chat(session, keyring=only_new.keyring, chat_id="900001")
            assert found is not None and found.id == volunteer.id
    finally:
        only_new.dispose()

    only_old = open_with(env, old)
    try:
        with only_old.session() as session:
            assert staff.find_volunteer_by_chat(session, keyring=only_old.keyring, chat_id="900001") is None
            with pytest.raises(DecryptionError):
                session.exec(select(Volunteer)).one()
    finally:
        only_old.dispose()


def test_production_with_a_placeholder_key_refuses_to_start(env: dict[str, str | None], tmp_path: Path) -> None:
    production = {**env, "HOTLINE_ENV": "production", "HOTLINE_ENCRYPTION_KEYS": "change-me"}
    for args in (["db", "upgrade"], ["oncall", "show"], ["token", "create", "--name", "x"]):
        result = run(production, *args)
        assert result.exit_code != 0
        assert "refusing to start" in result.output
        assert "HOTLINE_ENCRYPTION_KEYS" in result.output
    assert not (tmp_path / "cli.db").exists()
    assert not (tmp_path / "var" / "encryption.key").exists()


# --- hotline chat -----------------------------------------------------------------------------------

WHOLE_REPORT = "/start\n1\n/pin 54.2 24.3\n5\n1\n2\nno\nyes\nwater\n/quit\n"


def add_on_duty(database: db.Database, clock: FakeClock) -> int:
    with database.session() as session:
        volunteer = staff.add_volunteer(
            session,
            keyring=database.keyring,
            name="Vol",
            telegram_chat="900001",
            phone=None,
            languages="en",
            now=clock(),
        )
        rota_store.cover_now(session, volunteer_id=volunteer.id or 0, now=clock(), created_by="test")
        return volunteer.id or 0


def pages(output: str) -> list[str]:
    """Return every printed page, from its header to the next prompt."""
    return [block.split("\nyou> ")[0] for block in output.split("=== PAGE")[1:]]


async def chat(settings: Settings, database: db.Database, lines: str, style: str = "telegram") -> str:
    stdout = io.StringIO()
    await run_chat(settings, database, style=style, stdin=io.StringIO(lines), stdout=stdout)
    return stdout.getvalue()


async def test_chat_end_to_end_with_a_page_on_the_console(
    settings: Settings, database: db.Database, clock: FakeClock
) -> None:
    assert not settings.telegram_enabled
    volunteer_id = add_on_duty(database, clock)
    output = await chat(settings, database, WHOLE_REPORT)

    assert "Send your location now" in output
    assert "(type /pin LAT LON)" in output
    assert "How many people are with you" in output
    final = re.search(r"Thank you\. Your report is (\S+)\. .*Stay where you are", output)
    assert final is not None and REFERENCE.fullmatch(final.group(1))
    reference = final.group(1)

    printed = pages(output)
    assert printed, output
    assert f"=== PAGE for volunteer {volunteer_id} ===" in output
    assert printed[0].startswith(f" for volunteer {volunteer_id} ===")
    for page in printed:
        assert reference in page
        assert "54.2" not in page and "24.3" not in page
    assert "People: 5, children: 1" in printed[-1]
    assert "URGENT: children" in printed[-1]

    with database.session() as session:
        found = session.exec(select(Report)).all()
    assert len(found) == 1
    report = found[0]
    assert report.reference == reference
    assert report.channel == "console" and report.kind == "distress"
    assert report.location["lat"] == pytest.approx(54.2) and report.location["lon"] == pytest.approx(24.3)
    assert report.location["source"] == "pin"
    assert report.people == {"total": 5, "children": 1, "pregnant": False}
    assert report.medical["emergency"] is False
    assert report.asylum_intent == "yes"
    assert report.needs == ["water"]
    assert report.urgent and report.paged_at is not None


async def test_chat_with_nobody_on_duty_says_so_and_prints_no_page(settings: Settings, database: db.Database) -> None:
    output = await chat(settings, database, "/start\n/pin 54.2 24.3\n/quit\n")
    assert "Nobody is on duty" in output
    assert "=== PAGE" not in output
    assert "How many people are with you" in output


async def test_chat_ends_at_end_of_input(settings: Settings, database: db.Database) -> None:
    output = await chat(settings, database, "/start\n")
    assert "What do you need?" in output
    assert output.endswith("you> \n")


async def test_chat_as_sms_shows_numbered_options_and_segments(
    settings: Settings, database: db.Database, clock: FakeClock
) -> None:
    add_on_duty(database, clock)
    output = await chat(settings, database, "/pin 54.2 24.3\n5\n1\n2\n/quit\n", style="sms")
    assert "Talking to the hotline as sms user" in output
    assert "How many are you in total?\n         (GSM-7, 1 segment)" in output  # the SMS form of the question
    assert "Anyone pregnant?\n     1. Yes\n     2. No\n     3. Don't know\n" in output
    assert "segments)" not in output and "Talk to a person" not in output  # every SMS here costs one segment
    assert "[1: Yes]" not in output
    assert "(type /pin LAT LON)" not in output
    with database.session() as session:
        report = session.exec(select(Report)).one()
    assert report.people == {"total": 5, "children": 1, "pregnant": False}
