"""One group, several reporters: linking on SQLite and PostgreSQL, and people counted once."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from hotline.storage import groups, reports
from hotline.storage.db import Database
from hotline.storage.models import Contact, Report
from tests.conftest import FakeClock

NUMBERS = itertools.count(1)
NEAR = (54.2, 24.3)
TWO_KM_NORTH = (54.218, 24.3)
TWENTY_KM_EAST = (54.2, 24.61)


def report(
    session: Session,
    clock: FakeClock,
    *,
    where: tuple[float, float] | None,
    total: int | None,
    by: str = "person",
    children: int | None = None,
    kind: str = "distress",
) -> Report:
    contact = Contact(
        channel="telegram",
        address_index=f"contact-{next(NUMBERS)}",
        created_at=clock(),
        last_seen_at=clock(),
    )
    session.add(contact)
    session.flush()
    made = reports.create_report(
        session, kind=kind, channel="telegram", contact_id=contact.id or 0, language="en", now=clock()
    )
    made.reported_by = by
    if where is not None:
        made.location = {"lat": where[0], "lon": where[1], "source": "pin"}
    people: dict[str, Any] = {}
    if total is not None:
        people["total"] = total
    if children is not None:
        people["children"] = children
    made.people = people or None
    session.add(made)
    session.flush()
    return made


def test_the_person_a_relative_and_a_resident_make_one_group_counted_once(database: Database, clock: FakeClock) -> None:
    with database.session() as session:
        first = report(session, clock, where=NEAR, total=7, children=2)
        assert groups.link(session, first, clock()) is None
        clock.advance(minutes=90)
        relative = report(session, clock, where=TWO_KM_NORTH, total=8, by="relative")
        assert groups.link(session, relative, clock()) is first
        clock.advance(hours=3)
        resident = report(session, clock, where=NEAR, total=None, by="resident")
        assert groups.link(session, resident, clock()) is not None
        assert first.group_id == relative.group_id == resident.group_id == first.id
        assert reports.has_audit(session, report_id=relative.id or 0, action="linked_to_group")
        counted = groups.count_people(session, since=clock() - timedelta(days=1), until=clock() + timedelta(hours=1))
    assert (counted.groups, counted.people, counted.children, counted.reports) == (1, 8, 2, 3)
    assert counted.reporters == {"person": 1, "relative": 1, "resident": 1}
    assert "count once" in counted.json()["how_counted"]


def test_far_apart_late_or_contradicting_reports_stay_separate(database: Database, clock: FakeClock) -> None:
    with database.session() as session:
        first = report(session, clock, where=NEAR, total=7)
        far = report(session, clock, where=TWENTY_KM_EAST, total=7)
        bigger = report(session, clock, where=TWO_KM_NORTH, total=30)
        clock.advance(hours=13)
        late = report(session, clock, where=NEAR, total=7)
        nowhere = report(session, clock, where=None, total=7)
        tracing = report(session, clock, where=NEAR, total=7, kind="missing")
        for other in (far, bigger, late, nowhere, tracing):
            assert groups.link(session, other, clock()) is None
        assert first.group_id is None
        counted = groups.count_people(session, since=clock() - timedelta(days=1), until=clock() + timedelta(hours=1))
    assert (counted.groups, counted.people, counted.groups_without_count) == (5, 58, 0)


def test_a_group_without_any_head_count_is_listed_not_guessed(database: Database, clock: FakeClock) -> None:
    with database.session() as session:
        report(session, clock, where=NEAR, total=None)
        counted = groups.count_people(session, since=clock() - timedelta(days=1), until=clock() + timedelta(hours=1))
    assert (counted.groups, counted.people, counted.groups_without_count) == (1, 0, 1)


def test_who_pages(database: Database, clock: FakeClock) -> None:
    with database.session() as session:
        distress = report(session, clock, where=NEAR, total=3)
        empty = report(session, clock, where=None, total=None)
        missing = report(session, clock, where=NEAR, total=None, kind="missing", by="relative")
        pushback = report(session, clock, where=NEAR, total=4, kind="pushback")
        assistance = report(session, clock, where=None, total=None, kind="assistance")
        assert reports.needs_a_volunteer(distress) and not reports.needs_a_volunteer(empty)
        assert not reports.needs_a_volunteer(missing) and not reports.needs_a_volunteer(pushback)
        missing.details = {"in_forest": True, "last_contact_ago": "days_4_14"}
        assert not reports.needs_a_volunteer(missing)
        missing.details = {"in_forest": True, "last_contact_ago": reports.RECENT_CONTACT}
        pushback.details = {"danger": True}
        assert reports.needs_a_volunteer(missing) and reports.needs_a_volunteer(pushback)
        assert not reports.needs_a_volunteer(assistance)
