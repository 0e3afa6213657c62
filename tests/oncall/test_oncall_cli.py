"""``hotline volunteer`` and ``hotline oncall``: roles, quiet hours, rotations, overrides and the schedule."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from hotline.settings import Settings
from hotline.storage import db, staff
from hotline.storage.models import AuditEvent
from tests.test_cli import ok, on_duty_lines, run

SPRING_SHOW = """On duty from 2027-03-27 00:00 +02:00 to 2027-03-29 00:00 +03:00 (Europe/Vilnius)
primary:
  2027-03-27 00:00 +02:00 → 2027-03-27 03:30 +02:00  2 Jonas (rotation)
  2027-03-27 03:30 +02:00 → 2027-03-28 04:00 +03:00  1 Ona (rotation)
  2027-03-28 04:00 +03:00 → 2027-03-29 00:00 +03:00  2 Jonas (rotation)
backup:
  2027-03-27 00:00 +02:00 → 2027-03-29 00:00 +03:00  UNCOVERED
coordinators (final fallback): 1 Ona
"""


@pytest.fixture
def env(settings_values: dict[str, str]) -> dict[str, str | None]:
    """Return the environment of a CLI on the test database (SQLite or PostgreSQL), nothing inherited."""
    return {**{key: None for key in os.environ if key.startswith("HOTLINE_")}, **settings_values}


@pytest.fixture
def opened(settings_values: dict[str, str]) -> Iterator[db.Database]:
    """Open the CLI's database from the test."""
    database = db.open_database(Settings.from_mapping(settings_values))
    yield database
    database.dispose()


def add_two(env: dict[str, str | None]) -> None:
    ok(env, "volunteer", "add", "--name", "Ona", "--telegram-chat", "900001", "--role", "coordinator")
    ok(env, "volunteer", "add", "--name", "Jonas", "--phone", "+37060000002", "--quiet", "call 23:00-07:00")


HELP_CASES: list[tuple[list[str], list[str]]] = [
    (["volunteer", "list"], ["role", "languages"]),
    (["oncall", "rotation"], ["add", "list", "remove"]),
    (["oncall", "rotation", "add"], ["--name", "--layer", "--every", "--handoffs", "--weekday", "--members"]),
    (["oncall", "rotation", "list"], ["active rotations"]),
    (["oncall", "rotation", "remove"], ["ROTATION_ID"]),
    (["oncall", "override"], ["add", "list", "cancel"]),
    (["oncall", "override", "add"], ["VOLUNTEER_ID", "--from", "--to", "--layer", "YYYY-MM-DD HH:MM"]),
    (["oncall", "override", "list"], ["overrides"]),
    (["oncall", "override", "cancel"], ["OVERRIDE_ID"]),
]


@pytest.mark.parametrize("args", [args for args, _ in HELP_CASES], ids=[" ".join(a) for a, _ in HELP_CASES])
def test_every_rota_command_explains_itself(tmp_path: Path, args: list[str]) -> None:
    expected = dict((tuple(a), words) for a, words in HELP_CASES)[tuple(args)]
    output = ok({"HOTLINE_VAR_DIR": str(tmp_path)}, *args, "--help")
    for word in expected:
        assert word in output, f"{word!r} missing from `hotline {' '.join(args)} --help`"


def test_volunteers_are_listed_with_role_languages_channels_and_quiet_hours(env: dict[str, str | None]) -> None:
    add_two(env)
    assert ok(env, "volunteer", "list").splitlines() == [
        "id\tname\trole\tlanguages\ttelegram\tphone\tquiet",
        "1\tOna\tcoordinator\ten\tyes\tno\t-",
        "2\tJonas\tvolunteer\ten\tno\tyes\tcall 23:00-07:00",
    ]


def test_a_bad_role_or_quiet_rule_is_refused(env: dict[str, str | None]) -> None:
    result = run(env, "volunteer", "add", "--name", "X", "--quiet", "call 23:00-07:00; nights")
    assert result.exit_code == 2
    assert "not a quiet rule: nights" in result.output
    assert run(env, "volunteer", "add", "--name", "X", "--role", "admin").exit_code == 2


def test_a_token_can_act_for_one_volunteer(env: dict[str, str | None], opened: db.Database) -> None:
    add_two(env)
    token = ok(env, "token", "create", "--name", "Jonas's phone", "--volunteer", "2").strip()
    with opened.session() as session:
        record = staff.find_token(session, token=token)
        assert record is not None and (record.role, record.volunteer_id) == ("volunteer", 2)
    result = run(env, "token", "create", "--name", "nobody", "--volunteer", "9")
    assert (result.exit_code, result.output) == (1, "Error: no volunteer 9\n")


def test_rotations_are_added_listed_and_removed(env: dict[str, str | None], opened: db.Database) -> None:
    add_two(env)
    assert ok(env, "oncall", "rotation", "add", "--name", "days", "--members", "2,1", "--handoffs", "20:00,8:00",
              "--starts-on", "2027-01-04") == "rotation 1 added\n"  # fmt: skip
    weekly = ["--name", "weeks", "--layer", "backup", "--every", "week", "--weekday", "0", "--members", "1"]
    assert ok(env, "oncall", "rotation", "add", *weekly, "--starts-on", "2027-01-04") == "rotation 2 added\n"
    assert ok(env, "oncall", "rotation", "list").splitlines() == [
        "id\tname\tlayer\tevery\thandoffs\tweekday\tmembers\tstarts_on\ttime_zone",
        "1\tdays\tprimary\tday\t08:00,20:00\t-\t2,1\t2027-01-04\tEurope/Vilnius",
        "2\tweeks\tbackup\tweek\t09:00\t0\t1\t2027-01-04\tEurope/Vilnius",
    ]
    assert ok(env, "oncall", "rotation", "remove", "1") == "rotation 1 removed\n"
    assert [line.split("\t")[0] for line in ok(env, "oncall", "rotation", "list").splitlines()] == ["id", "2"]
    again = run(env, "oncall", "rotation", "remove", "1")
    assert (again.exit_code, again.output) == (1, "Error: no active rotation 1\n")
    with opened.session() as session:
        actions = [(e.actor, e.action, e.detail) for e in session.exec(select(AuditEvent)).all()]
    assert actions == [
        ("cli", "rotation_added", "rotation 1"),
        ("cli", "rotation_added", "rotation 2"),
        ("cli", "rotation_removed", "rotation 1"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--members", "1", "--handoffs", "9:60"], "Error: no such time of day: '9:60'"),
        (["--members", "7"], "Error: no active volunteer 7"),
        (["--members", "1", "--every", "week"], "Error: a weekly rotation needs a weekday"),
        (["--members", "1", "--starts-on", "next monday"], "Error: dates are written YYYY-MM-DD"),
    ],
)
def test_a_bad_rotation_is_refused_without_a_traceback(
    env: dict[str, str | None], args: list[str], message: str
) -> None:
    add_two(env)
    result = run(env, "oncall", "rotation", "add", "--name", "bad", *args)
    assert result.exit_code == 1
    assert result.output.startswith(message)
    assert "Traceback" not in result.output


def test_show_gives_local_times_with_their_offsets_across_the_spring_change(env: dict[str, str | None]) -> None:
    add_two(env)
    ok(env, "oncall", "rotation", "add", "--name", "days", "--members", "1,2", "--handoffs", "03:30",
       "--starts-on", "2020-01-01")  # fmt: skip
    result = run(env, "oncall", "show", "--from", "2027-03-27", "--days", "2")
    assert (result.exit_code, result.stdout) == (0, SPRING_SHOW)  # the rotation covers the next 48 hours too


def test_show_fails_when_primary_is_uncovered_in_the_next_48_hours(env: dict[str, str | None]) -> None:
    add_two(env)
    ok(env, "oncall", "set", "2", "--layer", "backup")
    result = run(env, "oncall", "show", "--days", "1")
    assert result.exit_code == 1
    assert "primary is UNCOVERED within the next 48 hours" in result.stderr
    assert on_duty_lines(result.stdout, "primary") == ["UNCOVERED"]
    assert on_duty_lines(result.stdout, "backup") == ["2 Jonas (override)"]
    ok(env, "oncall", "set", "1")
    assert on_duty_lines(ok(env, "oncall", "show"), "primary") == ["1 Ona (override)"]


def test_show_refuses_a_bad_start_date(env: dict[str, str | None]) -> None:
    result = run(env, "oncall", "show", "--from", "27.03.2027")
    assert result.exit_code == 2
    assert "dates are written YYYY-MM-DD" in result.output


def test_overrides_are_given_in_local_time_listed_and_cancelled(env: dict[str, str | None]) -> None:
    add_two(env)
    night = ["--from", "2040-03-24 20:00", "--to", "2040-03-25 08:00"]  # the clocks go forward that night
    assert ok(env, "oncall", "override", "add", "2", *night) == (
        "override 1 added: volunteer 2 on primary from 2040-03-24 20:00 +02:00 to 2040-03-25 08:00 +03:00\n"
    )
    assert ok(env, "oncall", "override", "add", "1", "--from", "2040-04-01 09:00", "--layer", "backup") == (
        "override 2 added: volunteer 1 on backup from 2040-04-01 09:00 +03:00 until replaced\n"
    )
    assert ok(env, "oncall", "override", "list").splitlines() == [
        "id\tlayer\tvolunteer\tfrom\tto\tcreated_by",
        "1\tprimary\t2\t2040-03-24 20:00 +02:00\t2040-03-25 08:00 +03:00\tcli",
        "2\tbackup\t1\t2040-04-01 09:00 +03:00\tuntil replaced\tcli",
    ]
    shown = run(env, "oncall", "show", "--from", "2040-03-24", "--days", "2").stdout
    assert on_duty_lines(shown, "primary") == ["UNCOVERED", "2 Jonas (override)", "UNCOVERED"]
    assert ok(env, "oncall", "override", "cancel", "1") == "override 1 cancelled\n"
    assert len(ok(env, "oncall", "override", "list").splitlines()) == 2
    again = run(env, "oncall", "override", "cancel", "1")
    assert (again.exit_code, again.output) == (1, "Error: no active override 1\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2040-03-24 20h"], "write a local time as YYYY-MM-DD HH:MM"),
        (["--from", "2040-03-24 20:00", "--to", "2040-03-24 08:00"], "an override must end after it starts"),
    ],
)
def test_a_bad_override_is_refused(env: dict[str, str | None], args: list[str], message: str) -> None:
    add_two(env)
    result = run(env, "oncall", "override", "add", "2", *args)
    assert result.exit_code in (1, 2)
    assert message in result.output
