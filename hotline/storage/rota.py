"""The rota's records: rotations (members taking turns) and overrides ("I cover Tuesday night").

Every function checks its input and raises ``ValueError`` with a message fit to show a coordinator,
or ``LookupError`` when the record named does not exist. Who is on duty when is worked out from
these records by ``hotline.bot.oncall.rota``.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from hotline.storage.models import Override, Rotation, Volunteer

LAYERS = ("primary", "backup")
EVERY = ("day", "week")
DEFAULT_TIME_ZONE = "Europe/Vilnius"


def add_rotation(
    session: Session,
    *,
    name: str,
    layer: str,
    every: str,
    handoffs: str,
    members: str,
    starts_on: str,
    now: datetime,
    weekday: int | None = None,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> Rotation:
    """Add a rotation after checking every field; hand-over times and members are comma lists ("08:00,20:00")."""
    if not name.strip() or len(name) > 80:
        raise ValueError("a rotation needs a name of at most 80 characters")
    check_layer(layer)
    if every not in EVERY:
        raise ValueError(f"every must be one of {', '.join(EVERY)}, not {every!r}")
    times = parse_handoffs(handoffs)
    _check_weekday(every, weekday, len(times))
    ids = parse_members(members)
    _check_active(session, ids)
    rotation = Rotation(
        name=name.strip(), layer=layer, every=every, handoffs=",".join(t.strftime("%H:%M") for t in times),
        weekday=weekday, members=",".join(map(str, ids)), starts_on=parse_date(starts_on).isoformat(),
        time_zone=check_time_zone(time_zone), created_at=now,
    )  # fmt: skip
    session.add(rotation)
    session.flush()
    return rotation


def list_rotations(session: Session, *, include_inactive: bool = False) -> list[Rotation]:
    """Return the rotations, primary layer first."""
    query = select(Rotation).order_by(col(Rotation.layer).desc(), col(Rotation.id))
    if not include_inactive:
        query = query.where(col(Rotation.active).is_(True))
    return list(session.exec(query).all())


def deactivate_rotation(session: Session, *, rotation_id: int) -> Rotation:
    """Stop a rotation; it stays on record."""
    rotation = session.get(Rotation, rotation_id)
    if rotation is None or not rotation.active:
        raise LookupError(f"no active rotation {rotation_id}")
    rotation.active = False
    session.add(rotation)
    return rotation


def add_override(
    session: Session,
    *,
    layer: str,
    volunteer_id: int,
    starts_at: datetime,
    ends_at: datetime | None,
    created_by: str,
    now: datetime,
) -> Override:
    """Put one volunteer on a layer for a while; no end means until cancelled or replaced by ``cover_now``."""
    check_layer(layer)
    if starts_at.tzinfo is None or (ends_at is not None and ends_at.tzinfo is None):
        raise ValueError("override times need a time zone")
    if ends_at is not None and ends_at <= starts_at:
        raise ValueError("an override must end after it starts")
    if ends_at is not None and ends_at <= now:
        raise ValueError("that override would already be over")
    _check_active(session, [volunteer_id])
    override = Override(
        layer=layer, volunteer_id=volunteer_id, starts_at=starts_at, ends_at=ends_at, created_by=created_by[:64],
        created_at=now,
    )  # fmt: skip
    session.add(override)
    session.flush()
    return override


def list_overrides(session: Session, *, now: datetime, layer: str | None = None) -> list[Override]:
    """Return the overrides in force now or later, soonest first."""
    query = select(Override).where(
        col(Override.cancelled_at).is_(None), col(Override.ends_at).is_(None) | (col(Override.ends_at) > now)
    )
    if layer is not None:
        query = query.where(Override.layer == layer)
    return list(session.exec(query.order_by(col(Override.starts_at), col(Override.id))).all())


def cancel_override(session: Session, *, override_id: int, now: datetime) -> Override:
    """Cancel an override; it stays on record."""
    override = session.get(Override, override_id)
    if override is None or override.cancelled_at is not None:
        raise LookupError(f"no active override {override_id}")
    override.cancelled_at = now
    session.add(override)
    return override


def cover_now(
    session: Session, *, volunteer_id: int, now: datetime, created_by: str, layer: str = "primary"
) -> Override:
    """Put a volunteer on a layer from now until replaced, ending every other open-ended override of that layer.

    Open-ended overrides that began are ended now; those that were still to begin are cancelled, since
    the new one would hide them for ever.
    """
    check_layer(layer)
    _check_active(session, [volunteer_id])
    query = select(Override).where(
        Override.layer == layer, col(Override.ends_at).is_(None), col(Override.cancelled_at).is_(None)
    )
    for open_ended in session.exec(query).all():
        if open_ended.starts_at <= now:
            open_ended.ends_at = now
        else:
            open_ended.cancelled_at = now
        session.add(open_ended)
    return add_override(
        session, layer=layer, volunteer_id=volunteer_id, starts_at=now, ends_at=None, created_by=created_by, now=now
    )


def check_layer(layer: str) -> str:
    """Return the layer if it is one of ``LAYERS``, else raise ``ValueError``."""
    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {', '.join(LAYERS)}, not {layer!r}")
    return layer


def check_time_zone(name: str) -> str:
    """Return the name of a known time zone, else raise ``ValueError``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


def parse_handoffs(text: str) -> list[time]:
    """Parse comma-separated local hand-over times ("08:00,20:00") into sorted distinct times."""
    times = [parse_clock(part) for part in text.split(",")]
    if len(set(times)) != len(times):
        raise ValueError("a hand-over time is given twice")
    return sorted(times)


def parse_clock(text: str) -> time:
    """Parse a wall-clock time written HH:MM."""
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and 1 <= len(hours) <= 2):
        raise ValueError(f"times are written HH:MM, not {text.strip()!r}")
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f"no such time of day: {text.strip()!r}")
    return time(int(hours), int(minutes))


def parse_members(text: str) -> list[int]:
    """Parse comma-separated volunteer ids in turn order ("3,1,2")."""
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() for part in parts):
        raise ValueError(f"members are volunteer ids separated by commas, not {text!r}")
    return [int(part) for part in parts]


def parse_date(text: str) -> date:
    """Parse a date written YYYY-MM-DD."""
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"dates are written YYYY-MM-DD, not {text!r}") from exc


def _check_weekday(every: str, weekday: int | None, handoff_count: int) -> None:
    if every == "day" and weekday is not None:
        raise ValueError("a daily rotation takes no weekday")
    if every == "week" and (weekday is None or not 0 <= weekday <= 6):
        raise ValueError("a weekly rotation needs a weekday from 0 (Monday) to 6 (Sunday)")
    if every == "week" and handoff_count != 1:
        raise ValueError("a weekly rotation hands over once a week: give one hand-over time")


def _check_active(session: Session, volunteer_ids: list[int]) -> None:
    query = select(Volunteer.id).where(col(Volunteer.id).in_(volunteer_ids), col(Volunteer.active).is_(True))
    found = set(session.exec(query).all())
    missing = [str(i) for i in volunteer_ids if i not in found]
    if missing:
        raise ValueError(f"no active volunteer {', '.join(missing)}")
