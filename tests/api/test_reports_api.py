"""The reports API on SQLite and PostgreSQL: health, bearer tokens, the fixed JSON shape, lookups, OpenAPI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from hotline.settings import Settings
from hotline.storage import db, staff
from hotline.storage.models import ApiToken, Report
from tests.bot.conftest import Harness
from tests.conftest import FakeClock

COMPLETE_PERSON = "700201"
STARTED_PERSON = "700202"
REQUIRED_KEYS = {
    "reference",
    "kind",
    "status",
    "channel",
    "language",
    "created_at",
    "updated_at",
    "location",
    "people",
    "medical",
    "asylum_intent",
    "needs",
}


@dataclass
class Made:
    """The references of the reports made through the dispatcher."""

    complete: str
    started: str


@pytest.fixture
def made(database: db.Database, settings_values: dict[str, str], clock: FakeClock) -> Made:
    """Make one report that only got /start, then (a minute later) one that was answered to the end."""
    settings_with_telegram = Settings.from_mapping({**settings_values, "HOTLINE_TELEGRAM_TOKEN": "123:TEST"})
    harness = Harness(database, settings_with_telegram, clock)
    assert "Send your location" in harness.start(STARTED_PERSON)
    clock.advance(minutes=1)
    harness.say(COMPLETE_PERSON, "/start")
    harness.pin(COMPLETE_PERSON, 54.2, 24.3)
    harness.say(COMPLETE_PERSON, "5")
    harness.say(COMPLETE_PERSON, "2")
    harness.press(COMPLETE_PERSON, "a:pregnant:no")
    harness.say(COMPLETE_PERSON, "yes")
    harness.say(COMPLETE_PERSON, "a child has a broken leg")
    harness.say(COMPLETE_PERSON, "no")
    final = harness.say(COMPLETE_PERSON, "water, food")
    assert "Stay where you are" in final
    with database.session() as session:
        found = session.exec(select(Report).order_by(Report.created_at)).all()
    assert len(found) == 2
    started, complete = found
    assert complete.reference in final
    return Made(complete=complete.reference, started=started.reference)


def make_token(database: db.Database, clock: FakeClock, role: str = "volunteer") -> str:
    with database.session() as session:
        return staff.create_token(session, name=f"test {role}", role=role, now=clock())


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_record(database: db.Database, token: str) -> ApiToken:
    with database.session() as session:
        return session.exec(select(ApiToken).where(ApiToken.token_hash == staff.hash_token(token))).one()


# --- health -----------------------------------------------------------------------------------------


async def test_healthz_says_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_is_503_with_migrations_pending(client: httpx.AsyncClient, database: db.Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "migrations pending"}
    assert (await client.get("/healthz")).status_code == 200


# --- authentication ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/reports/K7M-4PX"])
async def test_no_token_is_401(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer hl_not-a-real-token", "Basic dXNlcjpwYXNz", "hl_x"])
async def test_a_garbage_token_is_401(
    client: httpx.AsyncClient, database: db.Database, clock: FakeClock, header: str
) -> None:
    make_token(database, clock)
    response = await client.get("/api/v1/reports", headers={"Authorization": header})
    assert response.status_code == 401


async def test_a_revoked_token_is_401(client: httpx.AsyncClient, database: db.Database, clock: FakeClock) -> None:
    token = make_token(database, clock, "coordinator")
    assert (await client.get("/api/v1/reports", headers=auth(token))).status_code == 200
    with database.session() as session:
        record = session.exec(select(ApiToken).where(ApiToken.token_hash == staff.hash_token(token))).one()
        record.revoked_at = clock()
        session.add(record)
    response = await client.get("/api/v1/reports", headers=auth(token))
    assert response.status_code == 401


async def test_volunteer_and_coordinator_tokens_both_list(
    client: httpx.AsyncClient, database: db.Database, clock: FakeClock, made: Made
) -> None:
    bodies = []
    for role in ("volunteer", "coordinator"):
        response = await client.get("/api/v1/reports", headers=auth(make_token(database, clock, role)))
        assert response.status_code == 200
        bodies.append(response.json())
    volunteer, coordinator = bodies
    assert [item["reference"] for item in volunteer] == [item["reference"] for item in coordinator]
    assert [item["reference"] for item in coordinator] == [made.complete, made.started]
    for seen, full in zip(volunteer, coordinator, strict=True):
        assert seen["notes"] == [] and seen["medical"]["details"] is None
        assert {k: v for k, v in seen.items() if k not in ("notes", "medical", "location")} == {
            k: v for k, v in full.items() if k not in ("notes", "medical", "location")
        }
        if full["location"]:
            assert seen["location"]["lat"] == round(full["location"]["lat"], 2)


async def test_tokens_are_stored_only_as_hashes(database: db.Database, clock: FakeClock) -> None:
    token = make_token(database, clock, "coordinator")
    assert token.startswith("hl_") and len(token) > 40
    with database.engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text("SELECT * FROM api_token")).all()]
    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0])
    assert token not in stored
    assert token[3:] not in stored
    assert staff.hash_token(token) in stored


async def test_last_used_at_is_updated_on_use(
    client: httpx.AsyncClient, database: db.Database, clock: FakeClock, made: Made
) -> None:
    token = make_token(database, clock)
    other = make_token(database, clock, "coordinator")
    assert token_record(database, token).last_used_at is None
    clock.advance(minutes=5)
    assert (await client.get("/api/v1/reports", headers=auth(token))).status_code == 200
    assert token_record(database, token).last_used_at == clock()
    clock.advance(hours=1)
    assert (await client.get(f"/api/v1/reports/{made.started}", headers=auth(token))).status_code == 200
    assert token_record(database, token).last_used_at == clock()
    assert token_record(database, other).last_used_at is None
    clock.advance(minutes=1)
    assert (await client.get("/api/v1/reports/CCC-CCC", headers=auth(token))).status_code == 404
    assert token_record(database, token).last_used_at == clock()


async def test_a_refused_token_is_not_marked_used(
    client: httpx.AsyncClient, database: db.Database, clock: FakeClock
) -> None:
    token = make_token(database, clock)
    with database.session() as session:
        record = session.exec(select(ApiToken)).one()
        record.revoked_at = clock()
        session.add(record)
    assert (await client.get("/api/v1/reports", headers=auth(token))).status_code == 401
    assert token_record(database, token).last_used_at is None


# --- the fixed JSON shape ---------------------------------------------------------------------------


def check_shape(body: dict[str, Any]) -> None:
    assert set(body) >= REQUIRED_KEYS
    assert set(body["people"]) == {"total", "children", "pregnant"}
    assert body["location"] is None or set(body["location"]) == {"lat", "lon", "source", "received_at"}
    assert body["asylum_intent"] in ("yes", "no", "unknown")
    assert isinstance(body["needs"], list)
    datetime.fromisoformat(body["created_at"])
    datetime.fromisoformat(body["updated_at"])


async def test_a_complete_report_in_the_fixed_shape(
    client: httpx.AsyncClient, database: db.Database, clock: FakeClock, made: Made
) -> None:
    response = await client.get(
        f"/api/v1/reports/{made.complete}", headers=auth(make_token(database, clock, "coordinator"))
    )
    assert response.status_code == 200
    body = response.json()
    check_shape(body)
    assert body["reference"] == made.complete
    assert (body["kind"], body["status"], body["channel"], body["language"]) == ("distress", "open", "telegram", "en")
    assert body["location"]["lat"] == pytest.approx(54.2) and body["location"]["lon"] == pytest.approx(24.3)
    assert body["location"]["source"] == "pin"
    datetime.fromisoformat(body["location"]["received_at"])
    assert body["people"] == {"total": 5, "children": 2, "pregnant": False}
    assert body["medical"] == {"emergency": True, "details": "a child has a broken leg"}
    assert body["asylum_intent"] == "no"
    assert body["needs"] == ["water", "food"]
    assert datetime.fromisoformat(body["created_at"]) <= datetime.fromisoformat(body["updated_at"])


async def test_a_report_with_only_start_has_nulls_and_defaults(
    client: httpx.AsyncClient, database: db.Database, clock: FakeClock, made: Made
) -> None:
    response = await client.get(f"/api/v1/reports/{made.started}", headers=auth(make_token(database, clock)))
    assert response.status_code == 200
    body = response.json()
    check_shape(body)
    assert body["reference"] == made.started
    assert body["location"] is None
    assert body["people"] == {"total": None, "children": None, "pregnant": None}
    assert body["medical"] == {"emergency": None, "details": None}
    assert body["asylum_intent"] == "unknown"
    assert body["needs"] == []


async def test_the_list_is_the_same_shape_as_one_report(
    client: httpx.AsyncClient, database: db.Database, clock: FakeClock, made: Made
) -> None:
    headers = auth(make_token(database, clock))
    listed = (await client.get("/api/v1/reports", headers=headers)).json()
    for item in listed:
        check_shape(item)
        single = (await client.get(f"/api/v1/reports/{item['reference']}", headers=headers)).json()
        assert single == item


async def test_the_list_filters_by_status_and_limits(
    client: httpx.AsyncClient, database: db.Database, clock: FakeClock, made: Made
) -> None:
    headers = auth(make_token(database, clock))
    limited = (await client.get("/api/v1/reports", params={"limit": 1}, headers=headers)).json()
    assert [item["reference"] for item in limited] == [made.complete]
    assert (await client.get("/api/v1/reports", params={"status": "acknowledged"}, headers=headers)).json() == []
    opened = (await client.get("/api/v1/reports", params={"status": "open"}, headers=headers)).json()
    assert {item["reference"] for item in opened} == {made.complete, made.started}
    assert (await client.get("/api/v1/reports", params={"limit": 0}, headers=headers)).status_code == 422


# --- lookups ----------------------------------------------------------------------------------------


async def test_get_by_reference_forgives_case_and_a_missing_dash(
    client: httpx.AsyncClient, database: db.Database, clock: FakeClock, made: Made
) -> None:
    headers = auth(make_token(database, clock))
    for spelling in (made.complete, made.complete.lower(), made.complete.replace("-", "").lower()):
        response = await client.get(f"/api/v1/reports/{spelling}", headers=headers)
        assert response.status_code == 200, spelling
        assert response.json()["reference"] == made.complete


async def test_an_unknown_reference_is_404(
    client: httpx.AsyncClient, database: db.Database, clock: FakeClock, made: Made
) -> None:
    headers = auth(make_token(database, clock))
    unknown = next(ref for ref in ("K7M-4PX", "CDF-GHJ") if ref not in (made.complete, made.started))
    for reference in (unknown, unknown.replace("-", "").lower(), "nope", "K7M-4PX-9"):
        response = await client.get(f"/api/v1/reports/{reference}", headers=headers)
        assert response.status_code == 404, reference
        assert response.json() == {"detail": "no such report"}


# --- OpenAPI ----------------------------------------------------------------------------------------


async def test_openapi_lists_the_reports_api(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "get" in paths["/api/v1/reports"]
    assert "get" in paths["/api/v1/reports/{reference}"]
    assert "/webhooks/telegram" not in paths


async def test_docs_are_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "/openapi.json" in response.text
