"""The same privacy check for SMS and calls: phone numbers, texts, coordinates and recordings never in clear."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from hotline.api.app import create_app
from hotline.settings import Settings
from hotline.storage import db
from tests.conftest import pg_dump_schema, put_on_duty
from tests.fakes.twilio_api import FakeTwilioAPI, inbound_call_params, inbound_sms_params, twilio_signature
from tests.test_privacy import forms

PUBLIC = "https://hotline.example.org"
HOTLINE = "+37060000099"
MARKERS = {
    "person phone": "+447700931864",
    "volunteer phone": "+37069990418",
    "sms words": "Wwsmsforestmarker",
    "latitude": "54.876543",
    "longitude": "25.234567",
    "recording": "Rrvoicemailaudiomarker",
}


def leaks(blob: bytes) -> list[str]:
    return [name for name, marker in MARKERS.items() if any(form in blob for form in forms(marker))]


async def test_no_sms_or_call_marker_is_readable_in_the_database_or_the_logs(
    settings_values: dict[str, str], database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeTwilioAPI() as fake:
        values = {
            **settings_values, "HOTLINE_TWILIO_ACCOUNT_SID": fake.account_sid,
            "HOTLINE_TWILIO_AUTH_TOKEN": fake.auth_token, "HOTLINE_TWILIO_FROM": HOTLINE,
            "HOTLINE_TWILIO_API_URL": fake.url, "HOTLINE_PUBLIC_URL": PUBLIC, "HOTLINE_POLL_INTERVAL": "0.2",
        }  # fmt: skip
        settings = Settings.from_mapping(values)
        database = db.open_database(settings)
        app = create_app(settings, database=database)
        put_on_duty(database, chat=None, phone=MARKERS["volunteer phone"])
        person = MARKERS["person phone"]
        texts = [MARKERS["sms words"], f"{MARKERS['latitude']} {MARKERS['longitude']}", "3", "1"]
        recording = fake.add_media(
            f"/2010-04-01/Accounts/{fake.account_sid}/Recordings/RE{'7' * 32}",
            MARKERS["recording"].encode(),
            "audio/wav",
        )
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as client,
        ):

            async def post(path: str, params: dict[str, str]) -> None:
                signature = twilio_signature(fake.auth_token, PUBLIC + path, params)
                response = await client.post(path, data=params, headers={"X-Twilio-Signature": signature})
                assert response.status_code in (200, 204)

            for body in texts:
                await post(
                    "/webhooks/twilio/sms",
                    inbound_sms_params(sender=person, to=HOTLINE, body=body, account_sid=fake.account_sid),
                )
            call = inbound_call_params(caller=person, to=HOTLINE, account_sid=fake.account_sid)
            await post("/webhooks/twilio/voice", call)
            await post("/webhooks/twilio/voice?step=dialed&lang=en", {**call, "DialCallStatus": "busy"})
            recorded = {**call, "RecordingUrl": recording, "RecordingSid": "RE" + "7" * 32, "RecordingDuration": "9"}
            await post("/webhooks/twilio/voice?step=recorded&lang=en", recorded)
            for _ in range(200):
                with database.engine.connect() as connection:
                    stored = connection.execute(
                        text("SELECT count(*) FROM attachment WHERE status = 'stored'")
                    ).scalar_one()
                if stored and len([m for m in fake.sent if m.to == person]) >= len(texts):
                    break
                await asyncio.sleep(0.05)
            assert stored == 1
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for file in [p for p in path.parent.iterdir() if p.name.startswith(path.name)]:
            assert leaks(file.read_bytes()) == [], f"{file.name} holds personal data in clear"
    else:
        dump = pg_dump_schema(database_url)
        assert b"attachment" in dump and leaks(dump) == []
    database.dispose()
    log_text = "\n".join(record.getMessage() for record in caplog.records)
    assert log_text and leaks(log_text.encode()) == []
