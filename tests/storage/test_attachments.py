"""Attachments on SQLite and PostgreSQL: noted once, leased, fetched with growing pauses, kept sealed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlmodel import func, select

from hotline.storage import attachments, inbox, reports
from hotline.storage.db import Database
from hotline.storage.models import Attachment
from tests.conftest import FakeClock

VOICE = b"OggS fictional voice note of a person in the forest"


def new_event(database: Database, clock: FakeClock, provider_id: str = "1") -> tuple[int, int]:
    """Store one inbound event; return (contact id, event id)."""
    with database.session() as session:
        event_id = inbox.store_event(
            session, keyring=database.keyring, channel="telegram", provider_id=provider_id, address="424242",
            kind="media", payload={"media": "voice"}, now=clock(),
        )  # fmt: skip
        assert event_id is not None
        contact = inbox.find_contact(session, keyring=database.keyring, channel="telegram", address="424242")
        assert contact is not None
        return contact.id or 0, event_id


def new_report(database: Database, clock: FakeClock, contact_id: int) -> int:
    with database.session() as session:
        report = reports.create_report(
            session, kind="distress", channel="telegram", contact_id=contact_id, language="en", now=clock()
        )
        return report.id or 0


def add(database: Database, clock: FakeClock, *, kind: str = "voice", file_id: str = "voice-file-1") -> int:
    contact_id, event_id = new_event(database, clock, provider_id=file_id)
    return add_for_event(database, clock, contact_id, event_id, kind=kind, file_id=file_id)


def add_for_event(
    database: Database, clock: FakeClock, contact_id: int, event_id: int, *, kind: str = "voice", file_id: str = "f"
) -> int:
    with database.session() as session:
        attachment = attachments.add_attachment(
            session, contact_id=contact_id, report_id=None, inbound_event_id=event_id, kind=kind,
            source={"channel": "telegram", "file_id": file_id}, mime_type="audio/ogg", size=24_000, duration=7,
            now=clock(),
        )  # fmt: skip
        assert attachment is not None
        return attachment.id or 0


def claim(database: Database, clock: FakeClock, limit: int = 5) -> list[int]:
    with database.session() as session:
        return [a.id or 0 for a in attachments.claim_pending(session, now=clock(), limit=limit)]


def fail(database: Database, clock: FakeClock, attachment_id: int, *, permanent: bool = False) -> None:
    with database.session() as session:
        attachments.record_failure(session, attachment_id=attachment_id, error="boom", now=clock(), permanent=permanent)


def row(database: Database, attachment_id: int) -> Attachment:
    with database.session() as session:
        attachment = session.get(Attachment, attachment_id)
        assert attachment is not None
        return attachment


def test_the_same_event_and_kind_is_noted_once(database: Database, clock: FakeClock) -> None:
    contact_id, event_id = new_event(database, clock)
    first = add_for_event(database, clock, contact_id, event_id)
    again = add_for_event(database, clock, contact_id, event_id, file_id="other")
    photo = add_for_event(database, clock, contact_id, event_id, kind="photo")
    assert again == first and photo != first
    with database.session() as session:
        assert session.exec(select(func.count()).select_from(Attachment)).one() == 2
    assert row(database, first).source == {"channel": "telegram", "file_id": "f"}
    assert (row(database, first).status, row(database, first).not_before) == ("pending", clock())


def test_a_claim_leases_the_attachment_until_the_lease_runs_out(database: Database, clock: FakeClock) -> None:
    first, second = add(database, clock, file_id="a"), add(database, clock, file_id="b")
    assert claim(database, clock, limit=1) == [first]
    assert claim(database, clock) == [second]
    assert claim(database, clock) == []
    clock.advance(seconds=attachments.LEASE.total_seconds() + 1)
    assert claim(database, clock) == [first, second]
    assert row(database, first).attempts == 2


def test_stored_content_is_sealed_in_the_database(database: Database, clock: FakeClock) -> None:
    attachment_id = add(database, clock, file_id="voice-file-secret")
    assert claim(database, clock) == [attachment_id]
    clock.advance(seconds=5)
    with database.session() as session:
        attachments.store_content(
            session, attachment_id=attachment_id, content=VOICE, mime_type="audio/ogg; codecs=opus", now=clock()
        )
    stored = row(database, attachment_id)
    assert (stored.content, stored.size, stored.status) == (VOICE, len(VOICE), "stored")
    assert (stored.mime_type, stored.stored_at, stored.not_before) == ("audio/ogg; codecs=opus", clock(), None)
    assert claim(database, clock) == []
    with database.engine.connect() as connection:
        content, source = connection.execute(text("SELECT content, source FROM attachment")).one()
    assert VOICE not in bytes(content) and b"fictional voice" not in bytes(content)
    assert b"voice-file-secret" not in bytes(source)


def test_failures_wait_longer_each_time_and_the_fifth_sets_it_aside(database: Database, clock: FakeClock) -> None:
    attachment_id = add(database, clock)
    pauses = []
    for _ in range(4):
        assert claim(database, clock) == [attachment_id]
        fail(database, clock, attachment_id)
        failed = row(database, attachment_id)
        assert failed.status == "pending" and failed.not_before is not None and failed.error == "boom"
        pauses.append(failed.not_before - clock())
        clock.advance(seconds=(failed.not_before - clock()).total_seconds() - 1)
        assert claim(database, clock) == []
        clock.advance(seconds=1)
    assert pauses == [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1)]
    assert claim(database, clock) == [attachment_id]
    fail(database, clock, attachment_id)
    assert (row(database, attachment_id).status, row(database, attachment_id).attempts) == ("failed", 5)
    clock.advance(days=1)
    assert claim(database, clock) == []


def test_a_permanent_failure_sets_it_aside_at_once(database: Database, clock: FakeClock) -> None:
    attachment_id = add(database, clock)
    claim(database, clock)
    fail(database, clock, attachment_id, permanent=True)
    assert (row(database, attachment_id).status, row(database, attachment_id).error) == ("failed", "boom")
    clock.advance(days=1)
    assert claim(database, clock) == []


def test_a_fetch_that_keeps_dying_is_set_aside(database: Database, clock: FakeClock) -> None:
    attachment_id = add(database, clock)
    for _ in range(attachments.MAX_ATTEMPTS):
        assert claim(database, clock) == [attachment_id]
        clock.advance(seconds=attachments.LEASE.total_seconds() + 1)
    assert claim(database, clock) == []
    assert row(database, attachment_id).status == "failed"


def test_attachments_follow_their_event_into_a_report(database: Database, clock: FakeClock) -> None:
    contact_id, event_id = new_event(database, clock)
    voice = add_for_event(database, clock, contact_id, event_id)
    photo = add_for_event(database, clock, contact_id, event_id, kind="photo")
    elsewhere = add(database, clock, file_id="other-event")
    report_id = new_report(database, clock, contact_id)
    with database.session() as session:
        assert attachments.for_report(session, report_id=report_id) == []
        assert attachments.link_to_report(session, inbound_event_id=event_id, report_id=report_id) == 2
    with database.session() as session:
        assert [a.id for a in attachments.for_report(session, report_id=report_id)] == [voice, photo]
    assert row(database, elsewhere).report_id is None


def test_two_fetchers_never_claim_the_same_attachment(database: Database, clock: FakeClock) -> None:
    first, second = add(database, clock, file_id="a"), add(database, clock, file_id="b")
    if database.is_postgres:  # two transactions open at once: the row lock makes the second skip the first's row
        with database.session() as one, database.session() as two:
            taken = [a.id for a in attachments.claim_pending(one, now=clock(), limit=1)]
            also = [a.id for a in attachments.claim_pending(two, now=clock(), limit=5)]
    else:  # SQLite has one writer at a time: the lease hides what the first fetcher took
        taken, also = claim(database, clock, limit=1), claim(database, clock)
    assert (taken, also) == ([first], [second])
