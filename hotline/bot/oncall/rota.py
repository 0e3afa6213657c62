"""The rota: who is on duty on each layer at any moment, worked out from rotations and overrides.

The rules, in the order they apply:

- Overrides beat rotations. At any moment the newest override covering it (the one created last)
  wins, so a layer gets one person from overrides. An open-ended override lasts until it is
  cancelled or ended by ``cover_now``; an older override shows through again once a newer one ends
  ("I cover Tuesday night" hides the open-ended cover for that night only).
- Otherwise every active rotation of the layer gives the member whose turn it is; two rotations of
  one layer both count.
- Inactive volunteers are never on duty: an override of theirs is skipped, a turn of theirs is
  left uncovered (``schedule`` shows it).

Turns hand over at local wall-clock times in the rotation's time zone. A rotation's first turn
begins at its first hand-over on or after ``starts_on``; before that it covers nothing. A hand-over
time skipped by the spring change (03:30 on the last Sunday of March in Vilnius) happens when the
clocks jump (04:00); one the autumn change repeats happens the first time round. Each turn ends at
the very instant the next begins, so there is never a gap or an overlap between turns.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from hotline.storage.models import Override, Rotation, Volunteer
from hotline.storage.rota import DEFAULT_TIME_ZONE, parse_clock, parse_date, parse_handoffs, parse_members
from hotline.storage.rota import LAYERS as LAYERS  # primary, then backup

log = logging.getLogger(__name__)

QUIET_CHANNELS = ("telegram", "sms", "call")
INSTANT = timedelta(microseconds=1)
WARNING_HORIZON = timedelta(hours=48)  # uncovered primary time this close is worth a warning


@dataclass(frozen=True)
class Plan:
    """A rotation read for computing: members, hand-over times and the local day of the first turn."""

    rotation_id: int
    members: tuple[int, ...]
    handoffs: tuple[time, ...]
    weekly: bool
    first_day: date
    zone: ZoneInfo


@dataclass(frozen=True)
class Turn:
    """One member's turn of a rotation."""

    volunteer_id: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Cover:
    """An override reduced to what counts: who, from when, until when, and how new it is."""

    volunteer_id: int
    starts_at: datetime
    ends_at: datetime | None
    order: int


@dataclass(frozen=True)
class Shift:
    """A stretch of time during which the same people are on duty on one layer, and why."""

    layer: str
    starts_at: datetime
    ends_at: datetime
    volunteer_ids: tuple[int, ...]
    source: str  # rotation, override or uncovered


@dataclass(frozen=True)
class LayerRota:
    """Everything that decides who is on duty on one layer over a stretch of time."""

    layer: str
    plans: tuple[Plan, ...]
    covers: tuple[Cover, ...]
    active: frozenset[int]

    def duty_at(self, at: datetime) -> tuple[tuple[int, ...], str]:
        """Return who is on duty at a moment and the source: override, rotation or uncovered."""
        current = [c for c in self.covers if c.volunteer_id in self.active and _covers(c, at)]
        if current:
            return (max(current, key=lambda c: c.order).volunteer_id,), "override"
        turns = (turn_at(plan, at) for plan in self.plans)
        ids = _unique(turn.volunteer_id for turn in turns if turn and turn.volunteer_id in self.active)
        return (ids, "rotation") if ids else ((), "uncovered")

    def shifts(self, start: datetime, end: datetime) -> list[Shift]:
        """Cut ``[start, end)`` into shifts, merging neighbours with the same people and source."""
        points = {start, end}
        for plan in self.plans:
            points.update(edge for turn in turns(plan, start, end) for edge in (turn.starts_at, turn.ends_at))
        points.update(edge for c in self.covers for edge in (c.starts_at, c.ends_at) if edge is not None)
        shifts: list[Shift] = []
        for begin, finish in pairwise(sorted(p for p in points if start <= p <= end)):
            ids, source = self.duty_at(begin)
            if shifts and (shifts[-1].volunteer_ids, shifts[-1].source) == (ids, source):
                shifts[-1] = replace(shifts[-1], ends_at=finish)
            else:
                shifts.append(Shift(self.layer, begin, finish, ids, source))
        return shifts


def on_duty_at(session: Session, *, layer: str, at: datetime) -> list[Volunteer]:
    """Return the active volunteers on duty on a layer at a moment; [] when nobody covers it."""
    ids, _ = load_layer(session, layer=layer, start=at, end=at + INSTANT).duty_at(at)
    return _volunteers(session, ids)


def coordinators(session: Session) -> list[Volunteer]:
    """Return the active coordinators: the final fallback when a layer is uncovered or nobody answers."""
    query = select(Volunteer).where(Volunteer.role == "coordinator", col(Volunteer.active).is_(True))
    return list(session.exec(query.order_by(col(Volunteer.id))).all())


def schedule(session: Session, *, start: datetime, end: datetime) -> list[Shift]:
    """Return the shifts of every layer over ``[start, end)``, primary first, uncovered time included."""
    layers = (load_layer(session, layer=layer, start=start, end=end) for layer in LAYERS)
    return [shift for rota in layers for shift in rota.shifts(start, end)]


def uncovered(
    session: Session, *, start: datetime, end: datetime, layer: str = "primary"
) -> list[tuple[datetime, datetime]]:
    """Return the stretches of ``[start, end)`` when nobody is on duty on a layer."""
    shifts = load_layer(session, layer=layer, start=start, end=end).shifts(start, end)
    return [(shift.starts_at, shift.ends_at) for shift in shifts if shift.source == "uncovered"]


def load_layer(session: Session, *, layer: str, start: datetime, end: datetime) -> LayerRota:
    """Read the active rotations of a layer, its overrides touching ``[start, end)`` and who is active."""
    active_rotations = select(Rotation).where(Rotation.layer == layer, col(Rotation.active).is_(True))
    rotations = session.exec(active_rotations.order_by(col(Rotation.id))).all()
    overrides = session.exec(
        select(Override).where(
            Override.layer == layer, col(Override.cancelled_at).is_(None), col(Override.starts_at) < end,
            col(Override.ends_at).is_(None) | (col(Override.ends_at) > start),
        )
    ).all()  # fmt: skip
    active = session.exec(select(Volunteer.id).where(col(Volunteer.active).is_(True))).all()
    covers = (Cover(o.volunteer_id, o.starts_at, o.ends_at, o.id or 0) for o in overrides)
    return LayerRota(layer, _plans(rotations), tuple(covers), frozenset(i for i in active if i is not None))


def plan_of(rotation: Rotation) -> Plan:
    """Read a rotation for computing; raise ``ValueError`` if a stored field no longer parses."""
    handoffs = tuple(parse_handoffs(rotation.handoffs))
    starts_on = parse_date(rotation.starts_on)
    weekly = rotation.every == "week"
    weekday = starts_on.weekday() if rotation.weekday is None else rotation.weekday
    first_day = starts_on + timedelta(days=(weekday - starts_on.weekday()) % 7) if weekly else starts_on
    members = tuple(parse_members(rotation.members))
    return Plan(rotation.id or 0, members, handoffs[:1] if weekly else handoffs, weekly, first_day, _zone(rotation))


def turns(plan: Plan, start: datetime, end: datetime) -> Iterator[Turn]:
    """Yield the turns of a rotation that overlap ``[start, end)``, in order; each ends where the next begins."""
    lookback = timedelta(days=8 if plan.weekly else 2)  # far enough back to find the turn running at ``start``
    handovers = _handovers(plan, start.astimezone(plan.zone).date() - lookback)
    number, wall = next(handovers)
    begins = local_to_utc(wall, plan.zone)
    for next_number, next_wall in handovers:
        if begins >= end:
            return
        ends = local_to_utc(next_wall, plan.zone)
        if ends > start and ends > begins:  # a turn squeezed to nothing by the spring change is skipped
            yield Turn(plan.members[number % len(plan.members)], begins, ends)
        number, begins = next_number, ends


def turn_at(plan: Plan, at: datetime) -> Turn | None:
    """Return the turn of a rotation running at a moment, if any."""
    return next(turns(plan, at, at + INSTANT), None)


@lru_cache(maxsize=4096)  # hand-overs are few and asked for again and again
def local_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """Turn a naive local wall-clock time into UTC.

    A time the spring change skips becomes the moment the clocks jump; a time the autumn change
    repeats is taken the first time round. Later wall times never give earlier instants.
    """
    while not _exists(wall, zone):
        wall += timedelta(minutes=1)
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def local_text(at: datetime, time_zone: str = DEFAULT_TIME_ZONE) -> str:
    """Write a moment as local time with its UTC offset ("2027-03-28 04:00 +03:00"), so summer time shows."""
    local = at.astimezone(ZoneInfo(time_zone))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


def quiet_channels(volunteer: Volunteer, at: datetime, time_zone: str = DEFAULT_TIME_ZONE) -> set[str]:
    """Return the channels a volunteer asked us not to use at this local time of day."""
    local = at.astimezone(ZoneInfo(time_zone)).time()
    quiet: set[str] = set()
    for channels, begins, ends in quiet_rules(volunteer.quiet or ""):
        if _within(local, begins, ends):
            quiet.update(channels)
    return quiet


def quiet_rules(text: str) -> list[tuple[frozenset[str], time, time]]:
    """Parse quiet rules ("call 23:00-07:00; sms,telegram 01:00-06:00"), leaving out any that make no sense."""
    rules = (_quiet_rule(part) for part in text.split(";"))
    return [rule for rule in rules if rule is not None]


def invalid_quiet_rules(text: str) -> list[str]:
    """Return the parts of a quiet text that are not rules and would be ignored."""
    return [part.strip() for part in text.split(";") if part.strip() and _quiet_rule(part) is None]


def _quiet_rule(text: str) -> tuple[frozenset[str], time, time] | None:
    words = text.split()
    if len(words) != 2:
        return None
    channels = frozenset(c.strip() for c in words[0].lower().split(","))
    begins, dash, ends = words[1].partition("-")
    if not dash or not channels <= set(QUIET_CHANNELS):
        return None
    try:
        return channels, parse_clock(begins), parse_clock(ends)
    except ValueError:
        return None


def _within(moment: time, begins: time, ends: time) -> bool:
    if begins <= ends:
        return begins <= moment < ends
    return moment >= begins or moment < ends  # the range crosses midnight


def _handovers(plan: Plan, from_day: date) -> Iterator[tuple[int, datetime]]:
    """Yield every hand-over from a local day on, numbered from the first turn, as naive local times."""
    step = 7 if plan.weekly else 1
    period = max(0, (from_day - plan.first_day).days) // step
    while True:
        day = plan.first_day + timedelta(days=period * step)
        for index, handoff in enumerate(plan.handoffs):
            yield period * len(plan.handoffs) + index, datetime.combine(day, handoff)
        period += 1


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    there_and_back = wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return there_and_back == wall


def _covers(cover: Cover, at: datetime) -> bool:
    return cover.starts_at <= at and (cover.ends_at is None or at < cover.ends_at)


def _plans(rotations: Iterable[Rotation]) -> tuple[Plan, ...]:
    plans = []
    for rotation in rotations:
        try:
            plans.append(plan_of(rotation))
        except (ValueError, KeyError):
            log.warning("rotation %s cannot be read and is left out of the rota", rotation.id)
    return tuple(plans)


def _zone(rotation: Rotation) -> ZoneInfo:
    return ZoneInfo(rotation.time_zone or DEFAULT_TIME_ZONE)


def _unique(ids: Iterable[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(ids))


def _volunteers(session: Session, ids: tuple[int, ...]) -> list[Volunteer]:
    if not ids:
        return []
    found = {v.id: v for v in session.exec(select(Volunteer).where(col(Volunteer.id).in_(ids))).all()}
    return [found[i] for i in ids if i in found]
