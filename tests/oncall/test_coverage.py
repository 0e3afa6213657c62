"""Warning the coordinators about uncovered primary time in the next 48 hours, once per window."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from hotline.bot.oncall import coverage
from hotline.bot.paging import Reach
from hotline.storage import db
from hotline.storage import rota as rota_store
from hotline.storage.models import AuditEvent, Message
from tests.conftest import FakeClock
from tests.oncall.test_rota import EPOCH, add_override, add_people, local

TELEGRAM = Reach(telegram=True)


def warn(database: db.Database, clock: FakeClock, reach: Reach = TELEGRAM) -> int:
    with database.session() as session:
        return coverage.warn_uncovered(session, keyring=database.keyring, now=clock(), reach=reach)


def warnings(database: db.Database) -> list[Message]:
    with database.session() as session:
        query = select(Message).where(Message.kind == "rota_warning").order_by(col(Message.id))
        return list(session.exec(query).all())


def test_a_coordinator_is_warned_once_about_a_gap_before_it_and_not_again_during_it(
    database: db.Database, clock: FakeClock
) -> None:
    (coordinator,) = add_people(database, "Coordinator", role="coordinator", telegram_chat="900100")
    (volunteer,) = add_people(database, "Volunteer")
    add_override(database, volunteer, EPOCH, local("2026-01-15 20:00"))
    add_override(database, volunteer, local("2026-01-16 09:00"), None)

    assert warn(database, clock) == 1
    (message,) = warnings(database)
    assert (message.channel, message.volunteer_id, message.report_id) == ("telegram", coordinator, None)
    assert message.body["to"] == "900100"
    assert message.body["text"].splitlines() == [
        "⚠️ Nobody is on primary duty at these times (Vilnius time):",
        "- 2026-01-15 20:00 +02:00 - 2026-01-16 09:00 +02:00",
        "Please find someone to cover them and add an override (hotline oncall override add).",
    ]
    assert warn(database, clock) == 0
    clock.now = local("2026-01-15 22:00")  # inside the gap now
    assert warn(database, clock) == 0
    with database.session() as session:
        audits = session.exec(select(AuditEvent).where(AuditEvent.action == "uncovered_warned")).all()
    assert [(a.actor, a.detail) for a in audits] == [("system", "2026-01-15T18:00:00+00:00")]
    assert len(warnings(database)) == 1


def test_a_new_gap_is_warned_about_on_its_own(database: db.Database, clock: FakeClock) -> None:
    add_people(database, "Coordinator", role="coordinator", telegram_chat="900100")
    (volunteer,) = add_people(database, "Volunteer")
    add_override(database, volunteer, EPOCH, local("2026-01-15 20:00"))
    add_override(database, volunteer, local("2026-01-16 09:00"), local("2026-01-16 18:00"))
    evening = add_override(database, volunteer, local("2026-01-16 18:00"), None)
    assert warn(database, clock) == 1

    with database.session() as session:
        rota_store.cancel_override(session, override_id=evening, now=clock())
    clock.advance(minutes=5)
    assert warn(database, clock) == 1
    latest = warnings(database)[-1].body["text"]
    assert "- 2026-01-16 18:00 +02:00 - 2026-01-17 05:05 +02:00" in latest  # up to 48 hours from now
    assert "2026-01-15 20:00" not in latest


def test_every_coordinator_gets_one_message_on_the_channel_that_reaches_them(
    database: db.Database, clock: FakeClock
) -> None:
    first, second = add_people(database, "First", "Second", role="coordinator", telegram_chat=None, languages="lt,en")
    add_people(database, "Plain volunteer", telegram_chat="900200")
    assert warn(database, clock, reach=Reach()) == 2
    assert [(m.channel, m.volunteer_id, m.body["to"]) for m in warnings(database)] == [
        ("pager", first, str(first)),
        ("pager", second, str(second)),
    ]


def test_with_no_coordinator_nothing_is_sent_or_recorded_until_one_exists(
    database: db.Database, clock: FakeClock
) -> None:
    add_people(database, "Volunteer")
    assert warn(database, clock) == 0
    add_people(database, "Coordinator", role="coordinator", telegram_chat="900100")
    assert warn(database, clock) == 1


def test_a_gap_with_no_known_start_is_recalled_every_two_days(database: db.Database, clock: FakeClock) -> None:
    add_people(database, "Coordinator", role="coordinator", telegram_chat="900100")
    assert warn(database, clock) == 1
    assert "- 2026-01-15 05:00 +02:00 - 2026-01-17 05:00 +02:00" in warnings(database)[0].body["text"]
    clock.advance(hours=1)
    assert warn(database, clock) == 0
    clock.advance(hours=47)
    assert warn(database, clock) == 1


def test_time_covered_for_48_hours_raises_no_warning(database: db.Database, clock: FakeClock) -> None:
    add_people(database, "Coordinator", role="coordinator", telegram_chat="900100")
    (volunteer,) = add_people(database, "Volunteer")
    add_override(database, volunteer, EPOCH, clock() + timedelta(hours=49))
    assert warn(database, clock) == 0
    clock.advance(hours=2)
    assert warn(database, clock) == 1
