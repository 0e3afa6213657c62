"""The on-call rota over the API: the schedule, rotations and overrides.

Anyone with a token may read. Coordinators may change everything; a volunteer's own token (one
linked to a volunteer) may add or cancel overrides for that volunteer only ("I cover Tuesday
night"). Times are answered in Europe/Vilnius with their UTC offset; times sent without an offset
are read as Europe/Vilnius local time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlmodel import Session

from hotline.api.deps import ClockDep, Coordinator, CurrentToken, SessionDep
from hotline.bot.oncall import rota
from hotline.storage import reports
from hotline.storage import rota as rota_store
from hotline.storage.models import ApiToken, Override, Rotation

router = APIRouter(prefix="/api/v1/oncall", tags=["oncall"])
ZONE = ZoneInfo(rota_store.DEFAULT_TIME_ZONE)
UNPROCESSABLE = 422  # the name of this status differs between Starlette versions


class RotationIn(BaseModel):
    """A new rotation: members take turns on a layer, handing over at local times."""

    name: str = Field(max_length=80)
    layer: str = "primary"
    every: str = "day"
    handoffs: list[str] = Field(default_factory=lambda: ["09:00"], min_length=1)
    weekday: int | None = None
    members: list[int] = Field(min_length=1)
    starts_on: str
    time_zone: str = rota_store.DEFAULT_TIME_ZONE


class OverrideIn(BaseModel):
    """A new override; without ``volunteer_id`` it is for the token's own volunteer, without ``ends_at`` open."""

    layer: str = "primary"
    volunteer_id: int | None = None
    starts_at: datetime
    ends_at: datetime | None = None


@router.get("/schedule")
def get_schedule(
    session: SessionDep, token: CurrentToken, clock: ClockDep, days: int = Query(default=7, ge=1, le=62)
) -> dict[str, Any]:
    """Return who is on duty when over the next days, per layer, with uncovered time and the coordinators."""
    start = clock()
    end = start + timedelta(days=days)
    shifts = rota.schedule(session, start=start, end=end)
    return {
        "from": _local(start), "to": _local(end), "time_zone": rota_store.DEFAULT_TIME_ZONE,
        "shifts": [_shift_json(shift) for shift in shifts],
        "coordinators": [person.id for person in rota.coordinators(session)],
    }  # fmt: skip


@router.get("/rotations")
def list_rotations(session: SessionDep, token: CurrentToken) -> list[dict[str, Any]]:
    """List the active rotations."""
    return [_rotation_json(rotation) for rotation in rota_store.list_rotations(session)]


@router.post("/rotations", status_code=status.HTTP_201_CREATED)
def add_rotation(body: RotationIn, session: SessionDep, token: Coordinator, clock: ClockDep) -> dict[str, Any]:
    """Add a rotation (coordinators only)."""
    try:
        rotation = rota_store.add_rotation(
            session, name=body.name, layer=body.layer, every=body.every, handoffs=",".join(body.handoffs),
            members=",".join(map(str, body.members)), starts_on=body.starts_on, now=clock(), weekday=body.weekday,
            time_zone=body.time_zone,
        )  # fmt: skip
    except ValueError as exc:
        raise HTTPException(UNPROCESSABLE, str(exc)) from exc
    _audit(session, token, "rotation_added", f"rotation {rotation.id}", clock())
    return _rotation_json(rotation)


@router.delete("/rotations/{rotation_id}")
def remove_rotation(rotation_id: int, session: SessionDep, token: Coordinator, clock: ClockDep) -> dict[str, Any]:
    """Stop a rotation (coordinators only); it stays on record."""
    try:
        rotation = rota_store.deactivate_rotation(session, rotation_id=rotation_id)
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    _audit(session, token, "rotation_removed", f"rotation {rotation_id}", clock())
    return _rotation_json(rotation)


@router.get("/overrides")
def list_overrides(session: SessionDep, token: CurrentToken, clock: ClockDep) -> list[dict[str, Any]]:
    """List the overrides in force now or later, soonest first."""
    return [_override_json(override) for override in rota_store.list_overrides(session, now=clock())]


@router.post("/overrides", status_code=status.HTTP_201_CREATED)
def add_override(body: OverrideIn, session: SessionDep, token: CurrentToken, clock: ClockDep) -> dict[str, Any]:
    """Add an override: coordinators for anyone, a volunteer's own token for that volunteer."""
    volunteer_id = body.volunteer_id if body.volunteer_id is not None else token.volunteer_id
    if volunteer_id is None:
        raise HTTPException(UNPROCESSABLE, "volunteer_id is required")
    _check_may_act_for(token, volunteer_id)
    try:
        override = rota_store.add_override(
            session, layer=body.layer, volunteer_id=volunteer_id, starts_at=_aware(body.starts_at),
            ends_at=_aware(body.ends_at) if body.ends_at else None, created_by=f"token:{token.id}", now=clock(),
        )  # fmt: skip
    except ValueError as exc:
        raise HTTPException(UNPROCESSABLE, str(exc)) from exc
    _audit(session, token, "override_added", f"override {override.id} volunteer {volunteer_id} {body.layer}", clock())
    return _override_json(override)


@router.delete("/overrides/{override_id}")
def cancel_override(override_id: int, session: SessionDep, token: CurrentToken, clock: ClockDep) -> dict[str, Any]:
    """Cancel an override: coordinators any, a volunteer's own token only that volunteer's."""
    found = session.get(Override, override_id)
    if found is None or found.cancelled_at is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no active override {override_id}")
    _check_may_act_for(token, found.volunteer_id)
    override = rota_store.cancel_override(session, override_id=override_id, now=clock())
    _audit(session, token, "override_cancelled", f"override {override_id}", clock())
    return _override_json(override)


def _check_may_act_for(token: ApiToken, volunteer_id: int) -> None:
    if token.role != "coordinator" and token.volunteer_id != volunteer_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "coordinators only, or a volunteer's own token for themselves")


def _audit(session: Session, token: ApiToken, action: str, detail: str, now: datetime) -> None:
    reports.audit(session, actor=f"token:{token.id}", action=action, detail=detail, now=now)
    session.commit()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else rota.local_to_utc(moment, ZONE)


def _local(moment: datetime) -> str:
    return moment.astimezone(ZONE).isoformat()


def _shift_json(shift: rota.Shift) -> dict[str, Any]:
    return {
        "layer": shift.layer, "starts_at": _local(shift.starts_at), "ends_at": _local(shift.ends_at),
        "volunteer_ids": list(shift.volunteer_ids), "source": shift.source,
    }  # fmt: skip


def _rotation_json(rotation: Rotation) -> dict[str, Any]:
    return {
        "id": rotation.id, "name": rotation.name, "layer": rotation.layer, "every": rotation.every,
        "handoffs": rotation.handoffs.split(","), "weekday": rotation.weekday,
        "members": [int(member) for member in rotation.members.split(",")], "starts_on": rotation.starts_on,
        "time_zone": rotation.time_zone, "active": rotation.active,
    }  # fmt: skip


def _override_json(override: Override) -> dict[str, Any]:
    return {
        "id": override.id, "layer": override.layer, "volunteer_id": override.volunteer_id,
        "starts_at": _local(override.starts_at), "ends_at": _local(override.ends_at) if override.ends_at else None,
        "created_by": override.created_by, "cancelled": override.cancelled_at is not None,
    }  # fmt: skip
