"""No personal data in clear at rest or in logs: markers go in through the webhook and are looked for everywhere."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from hotline.api.app import create_app
from hotline.settings import Settings
from hotline.storage import db
from tests.conftest import pg_dump_schema, put_on_duty
from tests.fakes.telegram_api import FakeBotAPI, callback_update, command_update, location_update, text_update

SECRET = "privacy-test-secret-0123456789"
PERSON_CHAT = 7319846250
VOLUNTEER_CHAT = 8642097531
MARKERS = {
    "person chat id": str(PERSON_CHAT),
    "volunteer chat id": str(VOLUNTEER_CHAT),
    "volunteer name": "Zyxwvolunteername",
    "volunteer phone": "+37069990417",
    "medical words": "Qqfeverbleedingmarker",
    "location words": "Kkswampnearvillagemarker",
    "latitude": "54.987654",
    "longitude": "25.123456",
    "follow-up words": "Jjfollowupsecretmarker",
}


def forms(marker: str) -> list[bytes]:
    """Return the ways a marker could sit in a file: UTF-8, UTF-16, hex (bytea dumps) and JSON-escaped."""
    raw = marker.encode()
    return [raw, marker.encode("utf-16-le"), raw.hex().encode(), raw.hex().upper().encode()]


def leaks(blob: bytes) -> list[str]:
    return [name for name, marker in MARKERS.items() if any(form in blob for form in forms(marker))]


async def drive(values: dict[str, str], fake: FakeBotAPI) -> db.Database:
    settings = Settings.from_mapping(values)
    database = db.open_database(settings)
    app = create_app(settings, database=database)
    put_on_duty(database, chat=str(VOLUNTEER_CHAT), name=MARKERS["volunteer name"], phone=MARKERS["volunteer phone"])
    updates = [
        command_update(1, PERSON_CHAT, "/start"),
        text_update(2, PERSON_CHAT, MARKERS["location words"]),
        location_update(3, PERSON_CHAT, float(MARKERS["latitude"]), float(MARKERS["longitude"])),
        text_update(4, PERSON_CHAT, "3"),
        text_update(5, PERSON_CHAT, "0"),
        text_update(6, PERSON_CHAT, "no"),
        text_update(7, PERSON_CHAT, "yes"),
        text_update(8, PERSON_CHAT, MARKERS["medical words"]),
        text_update(9, PERSON_CHAT, "yes"),
        text_update(10, PERSON_CHAT, "water"),
        text_update(11, PERSON_CHAT, MARKERS["follow-up words"]),
    ]
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for update in updates:
            response = await client.post(
                "/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            )
            assert response.status_code == 200
        page = await fake.wait_for_async(
            lambda c: c.params.get("chat_id") == VOLUNTEER_CHAT and c.method == "sendMessage"
        )
        ack = page.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        await client.post(
            "/webhooks/telegram",
            json=callback_update(12, VOLUNTEER_CHAT, ack),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        await fake.wait_for_async(lambda c: c.method == "sendLocation", timeout=20)
        await fake.wait_for_async(lambda c: "added this to your report" in c.params.get("text", ""), timeout=30)
    return database


def assert_stored(database: db.Database) -> None:
    with database.engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM message")).scalar_one()
        notes = connection.execute(text("SELECT count(*) FROM report WHERE notes IS NOT NULL")).scalar_one()
    assert count > 20 and notes == 1


async def test_no_marker_is_readable_in_the_database_files_or_the_logs(
    settings_values: dict[str, str], fake: FakeBotAPI, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    values = {
        **settings_values,
        "HOTLINE_TELEGRAM_TOKEN": "123:PRIVACY",
        "HOTLINE_TELEGRAM_API_URL": fake.url,
        "HOTLINE_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "HOTLINE_PUBLIC_URL": "https://hotline.example.org",
    }
    database = await drive(values, fake)
    assert_stored(database)
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
        assert any(p.name.endswith("-wal") for p in files), "the test should also read the write-ahead log"
        for file in files:
            assert leaks(file.read_bytes()) == [], f"{file.name} holds personal data in clear"
    else:
        dump = pg_dump_schema(database_url)
        assert b"COPY" in dump and b"report" in dump
        assert leaks(dump) == [], "pg_dump holds personal data in clear"
    database.dispose()
    log_text = "\n".join(record.getMessage() for record in caplog.records)
    assert log_text, "logs were captured"
    assert leaks(log_text.encode()) == []
    assert "123:PRIVACY" not in log_text


def test_the_marker_check_itself_finds_clear_text() -> None:
    blob = b"xx" + MARKERS["medical words"].encode().hex().encode() + b"yy" + MARKERS["latitude"].encode()
    assert leaks(blob) == ["medical words", "latitude"]
