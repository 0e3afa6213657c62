"""The on-call API: the schedule for any token; rotations for coordinators; overrides also for oneself."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlmodel import select

from hotline.storage import db, staff
from hotline.storage.models import AuditEvent
from tests.oncall.test_rota import EPOCH, add_override, add_people, add_rotation, local

ROTATION = {"name": "nights", "handoffs": ["08:00", "20:00"], "starts_on": "2026-01-15"}


def auth(database: db.Database, role: str = "volunteer", volunteer_id: int | None = None) -> dict[str, str]:
    """Create a token and return the header that presents it."""
    with database.session() as session:
        token = staff.create_token(session, name=f"test {role}", role=role, now=EPOCH, volunteer_id=volunteer_id)
    return {"Authorization": f"Bearer {token}"}


def audit_trail(database: db.Database) -> list[tuple[str, str, str | None]]:
    with database.session() as session:
        events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()  # type: ignore[arg-type]
        return [(event.actor, event.action, event.detail) for event in events]


# --- the schedule ------------------------------------------------------------------------------------


async def test_any_token_reads_the_schedule_in_vilnius_time_with_gaps_and_coordinators(
    client: httpx.AsyncClient, database: db.Database
) -> None:
    a, b = add_people(database, "A", "B")
    (boss,) = add_people(database, "Boss", role="coordinator")
    add_rotation(database, [a, b], handoffs="08:00,20:00", starts_on="2026-01-15")
    add_override(database, boss, local("2026-01-16 20:00"), local("2026-01-17 08:00"))
    response = await client.get("/api/v1/oncall/schedule", params={"days": 2}, headers=auth(database))
    assert response.status_code == 200
    data = response.json()
    assert (data["from"], data["to"], data["time_zone"]) == (
        "2026-01-15T05:00:00+02:00", "2026-01-17T05:00:00+02:00", "Europe/Vilnius",
    )  # fmt: skip
    primary = [
        (s["starts_at"][:16], s["volunteer_ids"], s["source"]) for s in data["shifts"] if s["layer"] == "primary"
    ]
    assert primary == [
        ("2026-01-15T05:00", [], "uncovered"),
        ("2026-01-15T08:00", [a], "rotation"),
        ("2026-01-15T20:00", [b], "rotation"),
        ("2026-01-16T08:00", [a], "rotation"),
        ("2026-01-16T20:00", [boss], "override"),
    ]
    backup = [s for s in data["shifts"] if s["layer"] == "backup"]
    assert backup == [
        {
            "layer": "backup", "starts_at": "2026-01-15T05:00:00+02:00", "ends_at": "2026-01-17T05:00:00+02:00",
            "volunteer_ids": [], "source": "uncovered",
        }
    ]  # fmt: skip
    assert data["coordinators"] == [boss]
    assert "Boss" not in response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "schedule"), ("GET", "rotations"), ("POST", "rotations"), ("DELETE", "overrides/1")],
)
async def test_no_token_is_401(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, f"/api/v1/oncall/{path}")
    assert response.status_code == 401


async def test_days_out_of_range_is_422(client: httpx.AsyncClient, database: db.Database) -> None:
    response = await client.get("/api/v1/oncall/schedule", params={"days": 0}, headers=auth(database))
    assert response.status_code == 422


# --- rotations ---------------------------------------------------------------------------------------


async def test_a_coordinator_adds_lists_and_removes_a_rotation(
    client: httpx.AsyncClient, database: db.Database
) -> None:
    a, b = add_people(database, "A", "B")
    coordinator = auth(database, "coordinator")
    response = await client.post("/api/v1/oncall/rotations", json={**ROTATION, "members": [b, a]}, headers=coordinator)
    assert response.status_code == 201
    made = response.json()
    assert made == {
        "id": made["id"], "name": "nights", "layer": "primary", "every": "day", "handoffs": ["08:00", "20:00"],
        "weekday": None, "members": [b, a], "starts_on": "2026-01-15", "time_zone": "Europe/Vilnius", "active": True,
    }  # fmt: skip
    listed = await client.get("/api/v1/oncall/rotations", headers=auth(database))
    assert listed.json() == [made]

    removed = await client.delete(f"/api/v1/oncall/rotations/{made['id']}", headers=coordinator)
    assert (removed.status_code, removed.json()["active"]) == (200, False)
    assert (await client.get("/api/v1/oncall/rotations", headers=coordinator)).json() == []
    again = await client.delete(f"/api/v1/oncall/rotations/{made['id']}", headers=coordinator)
    assert (again.status_code, again.json()["detail"]) == (404, f"no active rotation {made['id']}")
    rotation = f"rotation {made['id']}"
    assert [e for e in audit_trail(database) if e[1].startswith("rotation")] == [
        ("token:1", "rotation_added", rotation),
        ("token:1", "rotation_removed", rotation),
    ]


async def test_a_volunteer_token_cannot_change_rotations(client: httpx.AsyncClient, database: db.Database) -> None:
    (a,) = add_people(database, "A")
    rotation_id = add_rotation(database, [a])
    mine = auth(database, "volunteer", volunteer_id=a)
    added = await client.post("/api/v1/oncall/rotations", json={**ROTATION, "members": [a]}, headers=mine)
    removed = await client.delete(f"/api/v1/oncall/rotations/{rotation_id}", headers=mine)
    assert (added.status_code, removed.status_code) == (403, 403)


BAD_ROTATIONS: list[tuple[dict[str, Any], str]] = [
    ({"handoffs": ["25:00"]}, "no such time of day: '25:00'"),
    ({"members": [99]}, "no active volunteer 99"),
    ({"layer": "tertiary"}, "layer must be one of primary, backup, not 'tertiary'"),
    ({"every": "week"}, "a weekly rotation needs a weekday from 0 (Monday) to 6 (Sunday)"),
    ({"starts_on": "15/01/2026"}, "dates are written YYYY-MM-DD, not '15/01/2026'"),
]


@pytest.mark.parametrize(("change", "message"), BAD_ROTATIONS, ids=[m for _, m in BAD_ROTATIONS])
async def test_a_bad_rotation_is_422_with_a_clear_message(
    client: httpx.AsyncClient, database: db.Database, change: dict[str, Any], message: str
) -> None:
    (a,) = add_people(database, "A")
    body = {**ROTATION, "members": [a], **change}
    response = await client.post("/api/v1/oncall/rotations", json=body, headers=auth(database, "coordinator"))
    assert (response.status_code, response.json()["detail"]) == (422, message)


async def test_a_rotation_without_members_is_422(client: httpx.AsyncClient, database: db.Database) -> None:
    response = await client.post("/api/v1/oncall/rotations", json=ROTATION, headers=auth(database, "coordinator"))
    assert response.status_code == 422


# --- overrides ---------------------------------------------------------------------------------------


async def test_a_volunteer_covers_tuesday_night_for_themselves(
    client: httpx.AsyncClient, database: db.Database
) -> None:
    me, other = add_people(database, "Me", "Other")
    mine = auth(database, "volunteer", volunteer_id=me)
    night = {"starts_at": "2026-01-20T20:00", "ends_at": "2026-01-21T08:00"}  # local time: no offset given
    response = await client.post("/api/v1/oncall/overrides", json=night, headers=mine)
    assert response.status_code == 201
    made = response.json()
    assert made == {
        "id": made["id"], "layer": "primary", "volunteer_id": me, "starts_at": "2026-01-20T20:00:00+02:00",
        "ends_at": "2026-01-21T08:00:00+02:00", "created_by": "token:1", "cancelled": False,
    }  # fmt: skip
    schedule = await client.get("/api/v1/oncall/schedule", params={"days": 7}, headers=mine)
    assert {"layer": "primary", "volunteer_ids": [me], "source": "override", **night} == {
        **next(s for s in schedule.json()["shifts"] if s["source"] == "override"),
        **night,
    }
    for_other = await client.post("/api/v1/oncall/overrides", json={**night, "volunteer_id": other}, headers=mine)
    assert for_other.status_code == 403
    assert [o["id"] for o in (await client.get("/api/v1/oncall/overrides", headers=mine)).json()] == [made["id"]]
    assert audit_trail(database) == [("token:1", "override_added", f"override {made['id']} volunteer {me} primary")]


async def test_a_token_linked_to_nobody_must_name_the_volunteer(
    client: httpx.AsyncClient, database: db.Database
) -> None:
    (a,) = add_people(database, "A")
    night = {"starts_at": "2026-01-20T20:00:00+02:00"}
    unlinked = await client.post("/api/v1/oncall/overrides", json=night, headers=auth(database))
    assert (unlinked.status_code, unlinked.json()["detail"]) == (422, "volunteer_id is required")
    named = await client.post("/api/v1/oncall/overrides", json={**night, "volunteer_id": a}, headers=auth(database))
    assert named.status_code == 403
    coordinator = auth(database, "coordinator")
    made = await client.post("/api/v1/oncall/overrides", json={**night, "volunteer_id": a}, headers=coordinator)
    assert (made.status_code, made.json()["ends_at"]) == (201, None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"starts_at": "2026-01-21T08:00", "ends_at": "2026-01-20T20:00"}, "an override must end after it starts"),
        ({"starts_at": "2025-01-20T20:00", "ends_at": "2025-01-21T08:00"}, "that override would already be over"),
        (
            {"starts_at": "2026-01-20T20:00", "layer": "tertiary"},
            "layer must be one of primary, backup, not 'tertiary'",
        ),
    ],
)
async def test_a_bad_override_is_422_with_a_clear_message(
    client: httpx.AsyncClient, database: db.Database, body: dict[str, Any], message: str
) -> None:
    (a,) = add_people(database, "A")
    response = await client.post("/api/v1/oncall/overrides", json=body, headers=auth(database, volunteer_id=a))
    assert (response.status_code, response.json()["detail"]) == (422, message)


async def test_an_override_with_an_unreadable_time_is_422(client: httpx.AsyncClient, database: db.Database) -> None:
    (a,) = add_people(database, "A")
    body = {"starts_at": "Tuesday night"}
    response = await client.post("/api/v1/oncall/overrides", json=body, headers=auth(database, volunteer_id=a))
    assert response.status_code == 422


async def test_overrides_are_cancelled_by_their_volunteer_or_a_coordinator(
    client: httpx.AsyncClient, database: db.Database
) -> None:
    me, other = add_people(database, "Me", "Other")
    my_cover = add_override(database, me, local("2026-01-20 20:00"), local("2026-01-21 08:00"))
    their_cover = add_override(database, other, local("2026-01-22 20:00"), local("2026-01-23 08:00"))
    mine, coordinator = auth(database, volunteer_id=me), auth(database, "coordinator")

    assert (await client.delete(f"/api/v1/oncall/overrides/{their_cover}", headers=mine)).status_code == 403
    cancelled = await client.delete(f"/api/v1/oncall/overrides/{my_cover}", headers=mine)
    assert (cancelled.status_code, cancelled.json()["cancelled"]) == (200, True)
    assert (await client.delete(f"/api/v1/oncall/overrides/{my_cover}", headers=mine)).status_code == 404
    assert (await client.delete(f"/api/v1/oncall/overrides/{their_cover}", headers=coordinator)).status_code == 200
    assert (await client.get("/api/v1/oncall/overrides", headers=mine)).json() == []
    assert audit_trail(database) == [
        ("token:1", "override_cancelled", f"override {my_cover}"),
        ("token:2", "override_cancelled", f"override {their_cover}"),
    ]
