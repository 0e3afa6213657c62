"""The rota: turns in order, summer time changes without gaps or overlaps, overrides, quiet hours, uncovered time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hotline.bot.oncall import rota
from hotline.storage import db, staff
from hotline.storage import rota as rota_store
from hotline.storage.models import Rotation, Volunteer

VILNIUS = ZoneInfo("Europe/Vilnius")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def local(text: str) -> datetime:
    """Return the instant of a Vilnius wall-clock time written "YYYY-MM-DD HH:MM"."""
    return rota.local_to_utc(datetime.fromisoformat(text), VILNIUS)


def utc(text: str) -> datetime:
    """Return a UTC instant written "YYYY-MM-DD HH:MM"."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_people(database: db.Database, *names: str, role: str = "volunteer", **fields: Any) -> list[int]:
    """Register volunteers (no channels unless given) and return their ids."""
    values: dict[str, Any] = {"telegram_chat": None, "phone": None, "languages": "en", "role": role, **fields}
    with database.session() as session:
        added = [staff.add_volunteer(session, keyring=database.keyring, name=n, now=EPOCH, **values) for n in names]
        return [person.id or 0 for person in added]


def add_rotation(database: db.Database, members: list[int], **fields: Any) -> int:
    """Add a rotation (daily at 09:00 on the primary layer unless told otherwise) and return its id."""
    values = {"name": "test", "layer": "primary", "every": "day", "handoffs": "09:00", "starts_on": "2026-01-01"}
    with database.session() as session:
        record = rota_store.add_rotation(
            session, members=",".join(map(str, members)), now=EPOCH, **{**values, **fields}
        )
        return record.id or 0


def add_override(
    database: db.Database, volunteer_id: int, starts_at: datetime, ends_at: datetime | None, layer: str = "primary"
) -> int:
    """Add an override and return its id."""
    with database.session() as session:
        record = rota_store.add_override(
            session, layer=layer, volunteer_id=volunteer_id, starts_at=starts_at, ends_at=ends_at,
            created_by="test", now=EPOCH,
        )  # fmt: skip
        return record.id or 0


def on_duty(database: db.Database, at: datetime, layer: str = "primary") -> list[int]:
    """Return the ids on duty on a layer at a moment, read through the database."""
    with database.session() as session:
        return [person.id or 0 for person in rota.on_duty_at(session, layer=layer, at=at)]


def plan(**fields: Any) -> rota.Plan:
    """Read an unsaved rotation (daily at 09:00, members 3,1,2) for the pure functions."""
    values = {"id": 1, "name": "t", "layer": "primary", "every": "day", "handoffs": "09:00", "members": "3,1,2"}
    return rota.plan_of(Rotation(**{**values, "starts_on": "2026-11-23", **fields}))


def turn_list(rotation: rota.Plan, start: str, end: str) -> list[tuple[int, str, str]]:
    """Return the turns between two local times as (volunteer, local start, local end)."""
    found = rota.turns(rotation, local(start), local(end))
    return [(t.volunteer_id, rota.local_text(t.starts_at), rota.local_text(t.ends_at)) for t in found]


# --- turns, computed without a database -------------------------------------------------------------


def test_a_daily_rotation_hands_over_at_the_local_time_in_member_order() -> None:
    assert turn_list(plan(), "2026-11-22 00:00", "2026-11-26 10:00") == [
        (3, "2026-11-23 09:00 +02:00", "2026-11-24 09:00 +02:00"),
        (1, "2026-11-24 09:00 +02:00", "2026-11-25 09:00 +02:00"),
        (2, "2026-11-25 09:00 +02:00", "2026-11-26 09:00 +02:00"),
        (3, "2026-11-26 09:00 +02:00", "2026-11-27 09:00 +02:00"),
    ]


def test_before_its_first_hand_over_a_rotation_covers_nothing() -> None:
    assert rota.turn_at(plan(), local("2026-11-23 08:59")) is None
    assert rota.turn_at(plan(), local("2026-11-20 12:00")) is None
    first = rota.turn_at(plan(), local("2026-11-23 09:00"))
    assert first is not None and first.volunteer_id == 3


def test_a_twice_daily_rotation_has_two_turns_a_day() -> None:
    twice = plan(handoffs="08:00,20:00", members="1,2")
    assert turn_list(twice, "2026-11-23 00:00", "2026-11-24 21:00") == [
        (1, "2026-11-23 08:00 +02:00", "2026-11-23 20:00 +02:00"),
        (2, "2026-11-23 20:00 +02:00", "2026-11-24 08:00 +02:00"),
        (1, "2026-11-24 08:00 +02:00", "2026-11-24 20:00 +02:00"),
        (2, "2026-11-24 20:00 +02:00", "2026-11-25 08:00 +02:00"),
    ]


def test_a_weekly_rotation_starts_on_its_weekday_on_or_after_the_start_date() -> None:
    weekly = plan(every="week", weekday=0, handoffs="10:00", members="1,2", starts_on="2026-11-25")  # a Wednesday
    assert turn_list(weekly, "2026-11-23 00:00", "2026-12-08 00:00") == [
        (1, "2026-11-30 10:00 +02:00", "2026-12-07 10:00 +02:00"),
        (2, "2026-12-07 10:00 +02:00", "2026-12-14 10:00 +02:00"),
    ]


def test_a_hand_over_skipped_by_the_spring_change_happens_when_the_clocks_jump() -> None:
    assert rota.local_to_utc(datetime(2027, 3, 28, 3, 30), VILNIUS) == utc("2027-03-28 01:00")
    assert rota.local_to_utc(datetime(2027, 3, 28, 4, 0), VILNIUS) == utc("2027-03-28 01:00")
    assert rota.local_to_utc(datetime(2027, 10, 31, 3, 30), VILNIUS) == utc("2027-10-31 00:30")  # the first 03:30
    for day in ("2027-03-28", "2027-10-31"):
        walls = [datetime.fromisoformat(f"{day} 00:00") + n * MINUTE for n in range(24 * 60)]
        instants = [rota.local_to_utc(wall, VILNIUS) for wall in walls]
        assert instants == sorted(instants), f"later wall times gave earlier instants on {day}"


def test_hand_overs_inside_the_skipped_hour_still_give_touching_turns() -> None:
    squeezed = plan(handoffs="03:30,03:45,04:15", members="1,2,3", starts_on="2027-03-27")
    turns = list(rota.turns(squeezed, local("2027-03-27 00:00"), local("2027-03-29 00:00")))
    assert all(a.ends_at == b.starts_at for a, b in pairwise(turns))
    assert all(turn.starts_at < turn.ends_at for turn in turns)
    assert [rota.local_text(t.starts_at) for t in turns][3:5] == ["2027-03-28 04:00 +03:00", "2027-03-28 04:15 +03:00"]


# --- across both summer time changes of 2027, through the database ----------------------------------

WEEKENDS = {
    "spring": (
        "2027-03-27",
        ["2027-03-27 01:30", "2027-03-27 18:00", "2027-03-28 01:00", "2027-03-28 17:00"],
        ["2027-03-28 01:00"],
    ),
    "autumn": (
        "2027-10-30",
        ["2027-10-30 00:30", "2027-10-30 17:00", "2027-10-31 00:30", "2027-10-31 18:00"],
        ["2027-10-31 00:00"],
    ),
}


@pytest.mark.parametrize("weekend", WEEKENDS, ids=list(WEEKENDS))
def test_every_minute_of_a_summer_time_weekend_has_one_person_per_layer(database: db.Database, weekend: str) -> None:
    saturday, primary_handovers, backup_handovers = WEEKENDS[weekend]
    a, b, c, d, e = add_people(database, "A", "B", "C", "D", "E")
    add_rotation(database, [a, b, c], handoffs="03:30,20:00", starts_on="2027-03-01")  # 03:30 is skipped or doubled
    add_rotation(database, [d, e], layer="backup", every="week", weekday=6, handoffs="03:00", starts_on="2027-03-01")
    start, end = local(f"{saturday} 00:00"), local(f"{saturday} 00:00") + timedelta(days=2)
    with database.session() as session:
        shifts = rota.schedule(session, start=start, end=end)
        layers = {layer: rota.load_layer(session, layer=layer, start=start, end=end) for layer in rota.LAYERS}

    for layer, handovers in (("primary", primary_handovers), ("backup", backup_handovers)):
        mine = [shift for shift in shifts if shift.layer == layer]
        assert [shift.starts_at for shift in mine] == [start, *map(utc, handovers)]
        assert [shift.ends_at for shift in mine] == [*map(utc, handovers), end]  # each ends where the next begins
        assert all(len(shift.volunteer_ids) == 1 and shift.source == "rotation" for shift in mine)
        moment = start
        while moment < end:
            ids, source = layers[layer].duty_at(moment)
            expected = next(shift.volunteer_ids for shift in mine if shift.starts_at <= moment < shift.ends_at)
            assert (ids, source) == (expected, "rotation"), f"{layer} at {rota.local_text(moment)}"
            moment += MINUTE
        for handover in map(utc, handovers):
            before, after = on_duty(database, handover - MINUTE, layer), on_duty(database, handover, layer)
            assert len(before) == len(after) == 1 and before != after


def test_hand_over_moments_in_the_summer_time_changes_are_shown_in_local_time(database: db.Database) -> None:
    a, b = add_people(database, "A", "B")
    add_rotation(database, [a, b], handoffs="03:30", starts_on="2027-03-01")
    with database.session() as session:
        spring = rota.schedule(session, start=local("2027-03-27 12:00"), end=local("2027-03-28 12:00"))
        autumn = rota.schedule(session, start=local("2027-10-30 12:00"), end=local("2027-10-31 12:00"))
    assert rota.local_text(spring[1].starts_at) == "2027-03-28 04:00 +03:00"
    assert spring[0].ends_at - spring[0].starts_at == timedelta(hours=15)  # 12:00 to 04:00, one hour lost
    assert rota.local_text(autumn[1].starts_at) == "2027-10-31 03:30 +03:00"


# --- overrides ---------------------------------------------------------------------------------------


def test_an_override_for_tuesday_night_wins_and_the_rotation_resumes(database: db.Database) -> None:
    first, second, cover = add_people(database, "First", "Second", "Cover")
    add_rotation(database, [first, second], starts_on="2026-11-23")  # Monday: first, Tuesday 09:00: second
    add_override(database, cover, local("2026-11-24 20:00"), local("2026-11-25 08:00"))
    assert on_duty(database, local("2026-11-24 19:59")) == [second]
    assert on_duty(database, local("2026-11-24 20:00")) == [cover]
    assert on_duty(database, local("2026-11-25 07:59")) == [cover]
    assert on_duty(database, local("2026-11-25 08:00")) == [second]
    assert on_duty(database, local("2026-11-25 09:00")) == [first]
    with database.session() as session:
        shifts = rota.schedule(session, start=local("2026-11-24 12:00"), end=local("2026-11-25 12:00"))
    assert [(s.volunteer_ids, s.source, rota.local_text(s.starts_at)) for s in shifts if s.layer == "primary"] == [
        ((second,), "rotation", "2026-11-24 12:00 +02:00"),
        ((cover,), "override", "2026-11-24 20:00 +02:00"),
        ((second,), "rotation", "2026-11-25 08:00 +02:00"),
        ((first,), "rotation", "2026-11-25 09:00 +02:00"),
    ]


def test_the_newest_override_wins_and_an_open_ended_one_shows_through_after(database: db.Database) -> None:
    steady, night = add_people(database, "Steady", "Night")
    add_override(database, steady, local("2026-11-23 00:00"), None)
    add_override(database, night, local("2026-11-24 20:00"), local("2026-11-25 08:00"))
    assert on_duty(database, local("2026-11-24 19:00")) == [steady]
    assert on_duty(database, local("2026-11-24 23:00")) == [night]
    assert on_duty(database, local("2026-12-31 12:00")) == [steady]  # open-ended: until replaced


def test_cover_now_replaces_open_ended_overrides_and_keeps_history(database: db.Database) -> None:
    first, second, later = add_people(database, "First", "Second", "Later")
    planned = add_override(database, later, local("2026-11-30 10:00"), None)
    with database.session() as session:
        rota_store.cover_now(session, volunteer_id=first, now=local("2026-11-23 10:00"), created_by="test")
        rota_store.cover_now(session, volunteer_id=second, now=local("2026-11-24 10:00"), created_by="test")
        rota_store.cover_now(
            session, volunteer_id=later, now=local("2026-11-23 10:00"), created_by="test", layer="backup"
        )
    assert on_duty(database, local("2026-11-23 12:00")) == [first]  # ended when replaced, not erased
    assert on_duty(database, local("2026-11-24 12:00")) == [second]
    assert on_duty(database, local("2026-12-31 12:00")) == [second]  # the open-ended cover still to begin is cancelled
    assert on_duty(database, local("2026-11-24 12:00"), "backup") == [later]
    with database.session() as session:
        current = rota_store.list_overrides(session, now=local("2026-11-24 12:00"))
        assert planned not in [o.id for o in current]
    assert [(o.volunteer_id, o.layer, o.ends_at) for o in current] == [
        (later, "backup", None),
        (second, "primary", None),
    ]


def test_a_cancelled_override_no_longer_counts(database: db.Database) -> None:
    steady, night = add_people(database, "Steady", "Night")
    add_override(database, steady, local("2026-11-23 00:00"), None)
    night_cover = add_override(database, night, local("2026-11-24 20:00"), local("2026-11-25 08:00"))
    with database.session() as session:
        rota_store.cancel_override(session, override_id=night_cover, now=EPOCH)
        with pytest.raises(LookupError, match=f"no active override {night_cover}"):
            rota_store.cancel_override(session, override_id=night_cover, now=EPOCH)
    assert on_duty(database, local("2026-11-24 23:00")) == [steady]


def test_inactive_volunteers_are_never_on_duty(database: db.Database) -> None:
    steady, gone, member = add_people(database, "Steady", "Gone", "Member")
    add_override(database, steady, local("2026-11-23 00:00"), local("2026-11-24 00:00"))
    add_override(database, gone, local("2026-11-23 10:00"), local("2026-11-23 12:00"))
    add_rotation(database, [member], starts_on="2026-11-24")
    with database.session() as session:
        for volunteer_id in (gone, member):
            person = session.get(Volunteer, volunteer_id)
            assert person is not None
            person.active = False
    assert on_duty(database, local("2026-11-23 11:00")) == [steady]  # the older override shows through
    with database.session() as session:
        assert rota.uncovered(session, start=local("2026-11-24 00:00"), end=local("2026-11-25 00:00")) == [
            (local("2026-11-24 00:00"), local("2026-11-25 00:00"))
        ]


def test_two_rotations_of_one_layer_both_put_someone_on_duty(database: db.Database) -> None:
    a, b = add_people(database, "A", "B")
    add_rotation(database, [a])
    add_rotation(database, [b], handoffs="21:00")
    assert on_duty(database, local("2026-11-23 12:00")) == [a, b]
    assert on_duty(database, local("2026-11-23 12:00"), "backup") == []


def test_a_removed_rotation_no_longer_counts(database: db.Database) -> None:
    (a,) = add_people(database, "A")
    rotation_id = add_rotation(database, [a])
    with database.session() as session:
        rota_store.deactivate_rotation(session, rotation_id=rotation_id)
        assert rota_store.list_rotations(session) == []
        assert len(rota_store.list_rotations(session, include_inactive=True)) == 1
        with pytest.raises(LookupError, match=f"no active rotation {rotation_id}"):
            rota_store.deactivate_rotation(session, rotation_id=rotation_id)
    assert on_duty(database, local("2026-11-23 12:00")) == []


# --- uncovered time and the fallback -----------------------------------------------------------------


def test_uncovered_windows_are_the_gaps_between_rotations_and_overrides(database: db.Database) -> None:
    a, b = add_people(database, "A", "B")
    add_rotation(database, [a], starts_on="2026-11-25")
    add_override(database, b, local("2026-11-23 20:00"), local("2026-11-24 08:00"))
    with database.session() as session:
        gaps = rota.uncovered(session, start=local("2026-11-23 12:00"), end=local("2026-11-26 12:00"))
        backup = rota.uncovered(session, start=local("2026-11-23 12:00"), end=local("2026-11-24 12:00"), layer="backup")
    assert gaps == [
        (local("2026-11-23 12:00"), local("2026-11-23 20:00")),
        (local("2026-11-24 08:00"), local("2026-11-25 09:00")),
    ]
    assert backup == [(local("2026-11-23 12:00"), local("2026-11-24 12:00"))]


def test_coordinators_are_the_active_ones(database: db.Database) -> None:
    first, gone = add_people(database, "First", "Gone", role="coordinator")
    add_people(database, "Plain")
    with database.session() as session:
        person = session.get(Volunteer, gone)
        assert person is not None
        person.active = False
    with database.session() as session:
        assert [person.id for person in rota.coordinators(session)] == [first]


# --- quiet hours -------------------------------------------------------------------------------------


def quiet_at(rules: str | None, moment: str) -> set[str]:
    return rota.quiet_channels(Volunteer(quiet=rules), local(moment))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2027-01-10 22:59", set()),
        ("2027-01-10 23:00", {"call"}),
        ("2027-01-11 00:30", {"call"}),
        ("2027-01-11 02:00", {"call", "sms"}),
        ("2027-01-11 06:00", {"call"}),
        ("2027-07-11 06:59", {"call"}),
        ("2027-07-11 07:00", set()),
        ("2027-07-11 12:00", set()),
    ],
)
def test_quiet_rules_may_cross_midnight(moment: str, expected: set[str]) -> None:
    assert quiet_at("call 23:00-07:00; sms 01:00-06:00", moment) == expected


def test_quiet_rules_that_make_no_sense_are_ignored() -> None:
    rules = "call 25:00-07:00; nonsense; pager 01:00-02:00; ; sms,telegram 12:00-13:00; call 09:00; sms 10:00-10:00"
    assert quiet_at(rules, "2027-01-11 12:30") == {"sms", "telegram"}
    assert quiet_at(rules, "2027-01-11 01:30") == set()
    assert quiet_at(None, "2027-01-11 01:30") == set()
    assert rota.invalid_quiet_rules(rules) == ["call 25:00-07:00", "nonsense", "pager 01:00-02:00", "call 09:00"]
    assert rota.invalid_quiet_rules("call 23:00-07:00; SMS 1:00-6:00") == []


# --- what the records accept -------------------------------------------------------------------------

BAD_ROTATIONS = [
    ({"layer": "tertiary"}, "layer must be one of primary, backup"),
    ({"every": "month"}, "every must be one of day, week"),
    ({"handoffs": "9"}, "times are written HH:MM"),
    ({"handoffs": "24:00"}, "no such time of day"),
    ({"handoffs": "08:00,08:00"}, "given twice"),
    ({"every": "week"}, "needs a weekday"),
    ({"every": "week", "weekday": 7}, "needs a weekday"),
    ({"every": "week", "weekday": 1, "handoffs": "08:00,20:00"}, "give one hand-over time"),
    ({"weekday": 1}, "a daily rotation takes no weekday"),
    ({"starts_on": "23.11.2026"}, "dates are written YYYY-MM-DD"),
    ({"time_zone": "Europe/Atlantis"}, "unknown time zone"),
    ({"name": " "}, "needs a name"),
    ({"members": "1,x"}, "members are volunteer ids"),
    ({"members": "1,99"}, "no active volunteer 99"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_ROTATIONS, ids=[m for _, m in BAD_ROTATIONS])
def test_a_rotation_with_a_bad_field_is_refused_clearly(
    database: db.Database, fields: dict[str, Any], message: str
) -> None:
    (a,) = add_people(database, "A")
    values = {"name": "x", "layer": "primary", "every": "day", "handoffs": "09:00", "members": str(a)}
    with database.session() as session, pytest.raises(ValueError, match=message):
        rota_store.add_rotation(session, now=EPOCH, **{**values, "starts_on": "2026-11-23", **fields})


def test_rotations_are_stored_in_a_tidy_form(database: db.Database) -> None:
    a, b = add_people(database, "A", "B")
    add_rotation(database, [b, a], handoffs=" 20:00, 8:00", time_zone="Europe/Warsaw")
    with database.session() as session:
        (stored,) = rota_store.list_rotations(session)
    assert (stored.handoffs, stored.members, stored.time_zone) == ("08:00,20:00", f"{b},{a}", "Europe/Warsaw")


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [
        ("2026-11-24 20:00", "2026-11-24 08:00", "must end after it starts"),
        ("2025-11-24 20:00", "2025-11-25 08:00", "already be over"),
    ],
)
def test_an_override_with_bad_times_is_refused(database: db.Database, starts: str, ends: str, message: str) -> None:
    (a,) = add_people(database, "A")
    with pytest.raises(ValueError, match=message):
        add_override(database, a, local(starts), local(ends))


def test_an_override_needs_aware_times_an_active_volunteer_and_a_layer(database: db.Database) -> None:
    (a,) = add_people(database, "A")
    with pytest.raises(ValueError, match="need a time zone"):
        add_override(database, a, datetime(2026, 11, 24, 20, 0), None)
    with pytest.raises(ValueError, match="no active volunteer 99"):
        add_override(database, 99, local("2026-11-24 20:00"), None)
    with pytest.raises(ValueError, match="layer must be one of"):
        add_override(database, a, local("2026-11-24 20:00"), None, layer="tertiary")


def test_volunteer_roles_are_checked(database: db.Database) -> None:
    with pytest.raises(ValueError, match="role must be one of volunteer, coordinator"):
        add_people(database, "A", role="admin")
