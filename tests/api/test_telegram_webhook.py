"""Telegram end to end: the webhook, the real python-telegram-bot client and a fake Bot API on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import func, select

from hotline.api.app import create_app
from hotline.settings import Settings
from hotline.storage import db, staff
from hotline.storage.models import InboundEvent, Report
from tests.conftest import put_on_duty
from tests.fakes.telegram_api import Call, FakeBotAPI, callback_update, command_update, location_update, text_update

SECRET = "test-webhook-secret-0123456789"
VOLUNTEER_CHAT = 900001
PERSON = 700042


@pytest.fixture
def telegram_values(settings_values: dict[str, str], fake: FakeBotAPI) -> dict[str, str]:
    return {
        **settings_values,
        "HOTLINE_TELEGRAM_TOKEN": "123:TEST",
        "HOTLINE_TELEGRAM_API_URL": fake.url,
        "HOTLINE_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "HOTLINE_PUBLIC_URL": "https://hotline.example.org",
    }


async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
async def client(telegram_values: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings.from_mapping(telegram_values)
    database = db.open_database(settings)
    app = create_app(settings, database=database)
    put_on_duty(database, chat=str(VOLUNTEER_CHAT), name="Vol")
    async for value in running(app):
        value.app = app  # type: ignore[attr-defined]
        yield value
    database.dispose()


async def post(client: httpx.AsyncClient, update: dict[str, Any], secret: str | None = SECRET) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    response = await client.post("/webhooks/telegram", json=update, headers=headers)
    return response.status_code


def to_chat(chat: int, text: str) -> Any:
    return lambda call: (
        call.method == "sendMessage"
        and not call.failed
        and call.params.get("chat_id") == chat
        and text in call.params.get("text", "")
    )


def stored_events(client: httpx.AsyncClient) -> int:
    database: db.Database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        return int(session.exec(select(func.count()).select_from(InboundEvent)).one())


async def test_serve_registers_the_webhook_with_its_secret(client: httpx.AsyncClient, fake: FakeBotAPI) -> None:
    await fake.wait_for_async("setWebhook")
    assert fake.webhook["url"] == "https://hotline.example.org/webhooks/telegram"
    assert fake.webhook["secret_token"] == SECRET


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
async def test_a_request_without_the_secret_gets_403_and_stores_nothing(
    client: httpx.AsyncClient, secret: str | None
) -> None:
    assert await post(client, text_update(1, PERSON, "hello"), secret=secret) == 403
    assert stored_events(client) == 0


async def test_garbage_with_the_secret_is_refused_without_storing(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/webhooks/telegram", content=b"\xff not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 400
    assert stored_events(client) == 0


async def test_a_replayed_update_is_stored_once(client: httpx.AsyncClient, fake: FakeBotAPI) -> None:
    update = command_update(10, PERSON, "/start")
    assert await post(client, update) == 200
    assert await post(client, update) == 200
    assert stored_events(client) == 1
    await fake.wait_for_async(to_chat(PERSON, "What do you need"))
    await fake.wait_for_async(lambda c: c.method == "getMe", timeout=1)
    assert len([c for c in fake.calls("sendMessage") if c.params.get("chat_id") == PERSON]) == 1


async def test_a_report_over_the_webhook_is_paged_acknowledged_and_visible(
    client: httpx.AsyncClient, fake: FakeBotAPI
) -> None:
    first = [command_update(1, PERSON, "/start"), callback_update(20, PERSON, "a:choose:distress")]
    for update in first:
        assert await post(client, update) == 200
    question = await fake.wait_for_async(to_chat(PERSON, "Send your location"))
    assert await post(client, location_update(2, PERSON, 54.61, 25.02)) == 200
    assert question.params["reply_markup"]["keyboard"][0][0]["request_location"] is True
    page = await fake.wait_for_async(to_chat(VOLUNTEER_CHAT, "Distress report"))
    assert "54.61" not in page.params["text"]
    ack_data = page.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    rest = [
        text_update(3, PERSON, "6"),
        text_update(4, PERSON, "3"),
        callback_update(5, PERSON, "a:pregnant:no"),
        text_update(6, PERSON, "no"),
        text_update(7, PERSON, "yes"),
        text_update(8, PERSON, "water food"),
    ]
    for update in rest:
        assert await post(client, update) == 200
    done = await fake.wait_for_async(to_chat(PERSON, "Stay where you are"), timeout=15)
    reference = next(
        word.rstrip(".") for word in done.params["text"].split() if word.count("-") == 1 and len(word) >= 7
    )
    assert await post(client, callback_update(9, VOLUNTEER_CHAT, ack_data)) == 200
    answer = await fake.wait_for_async(
        lambda c: c.method == "answerCallbackQuery" and "You have this case" in c.params.get("text", "")
    )
    assert answer.params["callback_query_id"] == "cbq-9"
    pin = await fake.wait_for_async(lambda c: c.method == "sendLocation" and c.params["chat_id"] == VOLUNTEER_CHAT)
    assert (pin.params["latitude"], pin.params["longitude"]) == (54.61, 25.02)
    await fake.wait_for_async(lambda c: c.method == "editMessageText" and "Taken by Vol" in c.params.get("text", ""))
    token = _token(client, "coordinator")
    response = await client.get(f"/api/v1/reports/{reference}", headers={"Authorization": f"Bearer {token}"})
    body = response.json()
    assert body["status"] == "acknowledged" and body["channel"] == "telegram"
    assert body["people"] == {"total": 6, "children": 3, "pregnant": False}
    assert body["location"]["lat"] == 54.61 and body["needs"] == ["water", "food"]


async def test_429_from_telegram_is_honoured_and_the_message_still_arrives(
    client: httpx.AsyncClient, fake: FakeBotAPI
) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=1)
    assert await post(client, command_update(1, PERSON, "/start")) == 200
    failed = await fake.wait_for_async(lambda c: c.method == "sendMessage" and c.failed)
    delivered = await fake.wait_for_async(to_chat(PERSON, "What do you need"), timeout=10)
    assert delivered.at - failed.at >= 0.95


async def test_a_button_press_is_answered(client: httpx.AsyncClient, fake: FakeBotAPI) -> None:
    assert await post(client, command_update(1, PERSON, "/start")) == 200
    assert await post(client, callback_update(2, PERSON, "h")) == 200
    answer: Call = await fake.wait_for_async("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "cbq-2"


async def test_without_a_public_url_serve_long_polls_and_stores_before_confirming(
    telegram_values: dict[str, str], fake: FakeBotAPI
) -> None:
    values = {k: v for k, v in telegram_values.items() if k != "HOTLINE_PUBLIC_URL"}
    settings = Settings.from_mapping(values)
    app = create_app(settings)
    fake.push_update(command_update(501, PERSON, "/start"))
    async for _ in running(app):
        await fake.wait_for_async(to_chat(PERSON, "What do you need"), timeout=10)
        fake.push_update(callback_update(500, PERSON, "a:choose:distress"))
        await fake.wait_for_async(to_chat(PERSON, "Send your location"), timeout=10)
        fake.push_update(text_update(502, PERSON, "we are near a swamp"))
        await fake.wait_for_async(to_chat(PERSON, "How many people"), timeout=10)
        database: db.Database = app.state.database
        with database.session() as session:
            ids = sorted(e.provider_id for e in session.exec(select(InboundEvent)).all())
            assert ids == ["500", "501", "502"]
            assert len(session.exec(select(Report)).all()) == 1
    assert fake.calls("deleteWebhook")


def _token(client: httpx.AsyncClient, role: str) -> str:
    database: db.Database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        return staff.create_token(session, name="test", role=role, now=client.app.state.clock())  # type: ignore[attr-defined]


async def test_the_audit_trail_is_for_coordinators_only(client: httpx.AsyncClient, fake: FakeBotAPI) -> None:
    for update in [command_update(1, PERSON, "/start"), location_update(2, PERSON, 54.61, 25.02)]:
        assert await post(client, update) == 200
    page = await fake.wait_for_async(to_chat(VOLUNTEER_CHAT, "Distress report"))
    reference = page.params["text"].split()[3]
    volunteer = {"Authorization": f"Bearer {_token(client, 'volunteer')}"}
    coordinator = {"Authorization": f"Bearer {_token(client, 'coordinator')}"}
    assert (await client.get(f"/api/v1/reports/{reference}/audit", headers=volunteer)).status_code == 403
    trail = (await client.get(f"/api/v1/reports/{reference}/audit", headers=coordinator)).json()
    assert [event["action"] for event in trail] == ["report_created", "paged"]


async def test_volunteer_tokens_see_the_area_not_the_exact_point(client: httpx.AsyncClient, fake: FakeBotAPI) -> None:
    for update in [command_update(1, PERSON, "/start"), location_update(2, PERSON, 54.612345, 25.021987)]:
        assert await post(client, update) == 200
    page = await fake.wait_for_async(to_chat(VOLUNTEER_CHAT, "Distress report"))
    reference = page.params["text"].split()[3]
    seen = {}
    for role in ("volunteer", "coordinator"):
        headers = {"Authorization": f"Bearer {_token(client, role)}"}
        seen[role] = (await client.get(f"/api/v1/reports/{reference}", headers=headers)).json()["location"]
    assert (seen["volunteer"]["lat"], seen["volunteer"]["lon"]) == (54.61, 25.02)
    assert (seen["coordinator"]["lat"], seen["coordinator"]["lon"]) == (54.612345, 25.021987)
