"""SMS and calls end to end: signed Twilio webhooks, the real Twilio client, and a fake Twilio REST server."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import func, select

from hotline.api.app import create_app
from hotline.settings import Settings
from hotline.storage import db
from hotline.storage.models import Attachment, Contact, InboundEvent, Message, Report
from tests.conftest import put_on_duty
from tests.fakes.twilio_api import FakeTwilioAPI, SentSMS, inbound_call_params, inbound_sms_params, twilio_signature

PUBLIC = "https://hotline.example.org"
HOTLINE = "+37060000099"
PERSON = "+447700900001"  # a fictional UK number: English is guessed from it
VOLUNTEER_PHONE = "+37060000001"


@pytest.fixture
async def client(settings_values: dict[str, str], twilio: FakeTwilioAPI) -> AsyncIterator[httpx.AsyncClient]:
    values = {
        **settings_values,
        "HOTLINE_TWILIO_ACCOUNT_SID": twilio.account_sid,
        "HOTLINE_TWILIO_AUTH_TOKEN": twilio.auth_token,
        "HOTLINE_TWILIO_FROM": HOTLINE,
        "HOTLINE_TWILIO_API_URL": twilio.url,
        "HOTLINE_PUBLIC_URL": PUBLIC,
        "HOTLINE_POLL_INTERVAL": "0.2",
    }
    settings = Settings.from_mapping(values)
    database = db.open_database(settings)
    app = create_app(settings, database=database)
    put_on_duty(database, chat=None, name="Vol", phone=VOLUNTEER_PHONE)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as value:
            value.app = app  # type: ignore[attr-defined]
            value.twilio = twilio  # type: ignore[attr-defined]
            yield value
    database.dispose()


async def post_signed(
    client: httpx.AsyncClient, path: str, params: dict[str, str], *, token: str | None = None, signed: bool = True
) -> httpx.Response:
    fake: FakeTwilioAPI = client.twilio  # type: ignore[attr-defined]
    headers = (
        {"X-Twilio-Signature": twilio_signature(token or fake.auth_token, PUBLIC + path, params)} if signed else {}
    )
    return await client.post(path, data=params, headers=headers)


async def sms(client: httpx.AsyncClient, sender: str, body: str, sid: str | None = None) -> httpx.Response:
    params = inbound_sms_params(sender=sender, to=HOTLINE, body=body, sid=sid, account_sid=client.twilio.account_sid)  # type: ignore[attr-defined]
    response = await post_signed(client, "/webhooks/twilio/sms", params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml") and "<Response" in response.text
    return response


async def next_sms(fake: FakeTwilioAPI, to: str, count: int) -> SentSMS:
    """Wait until ``to`` has received ``count`` SMS and return the last."""
    for _ in range(200):
        received = [m for m in fake.sent if m.to == to]
        if len(received) >= count:
            return received[count - 1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{to} received {len([m for m in fake.sent if m.to == to])} SMS, expected {count}")


async def recorded(client: httpx.AsyncClient, sid: str) -> None:
    """Wait until the sender has recorded the provider's id of a message (it commits just after Twilio answers)."""
    database: db.Database = client.app.state.database  # type: ignore[attr-defined]
    for _ in range(200):
        with database.session() as session:
            if session.exec(select(Message).where(Message.provider_message_id == sid)).first() is not None:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the sent message was never recorded")


def count(client: httpx.AsyncClient, model: Any) -> int:
    database: db.Database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


@pytest.mark.parametrize("how", ["unsigned", "wrong token", "other url"])
async def test_a_request_without_a_valid_signature_gets_403_and_stores_nothing(
    client: httpx.AsyncClient, how: str
) -> None:
    params = inbound_sms_params(sender=PERSON, to=HOTLINE, body="help", account_sid=client.twilio.account_sid)  # type: ignore[attr-defined]
    if how == "other url":
        headers = {"X-Twilio-Signature": twilio_signature(client.twilio.auth_token, PUBLIC + "/elsewhere", params)}  # type: ignore[attr-defined]
        response = await client.post("/webhooks/twilio/sms", data=params, headers=headers)
    else:
        response = await post_signed(
            client, "/webhooks/twilio/sms", params, token="not-the-token", signed=how != "unsigned"
        )
    assert response.status_code == 403
    for path in ("/webhooks/twilio/status", "/webhooks/twilio/voice"):
        assert (await client.post(path, data=params)).status_code == 403
    assert count(client, InboundEvent) == 0


async def test_garbage_with_a_signature_header_is_a_403_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/webhooks/twilio/sms",
        content=b"\xff\x00%%%=&&",
        headers={"X-Twilio-Signature": "x", "content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 403
    assert count(client, InboundEvent) == 0


async def test_an_sms_conversation_completes_a_report_and_pages_the_volunteer_by_sms(client: httpx.AsyncClient) -> None:
    fake: FakeTwilioAPI = client.twilio  # type: ignore[attr-defined]
    await sms(client, PERSON, "help", sid="SM" + "1" * 32)
    first = await next_sms(fake, PERSON, 1)
    assert "coordinates" in first.body and "button" not in first.body
    assert first.sender == HOTLINE and first.status_callback == PUBLIC + "/webhooks/twilio/status"
    replay = await sms(client, PERSON, "help", sid="SM" + "1" * 32)  # Twilio retried: nothing new
    assert replay.status_code == 200
    answers = ["54.6123, 25.0456", "4", "1", "2", "2", "1", "1 3"]
    for number, answer in enumerate(answers, start=2):
        await sms(client, PERSON, answer, sid=f"SM{number:032d}")
        await next_sms(fake, PERSON, number)
    done = await next_sms(fake, PERSON, len(answers) + 1)
    reference = re.search(r"[A-Z0-9]{3}-[A-Z0-9]{3}", done.body)
    assert reference and "112" in done.body
    assert count(client, InboundEvent) == len(answers) + 1
    page = await next_sms(fake, VOLUNTEER_PHONE, 1)
    assert "54.61" not in page.body and PERSON not in page.body
    code = re.search(r"(\d+A)\b", page.body)
    assert code, page.body
    database: db.Database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        report = session.exec(select(Report).where(Report.reference == reference.group(0))).one()
        assert report.people == {"total": 4, "children": 1, "pregnant": False}
        assert (report.asylum_intent, report.needs) == ("yes", ["water", "warm_clothes"])
        assert report.channel == "sms"
    await sms(client, VOLUNTEER_PHONE, code.group(1).lower().replace("a", " a"))
    taken = [m.body for m in fake.sent if m.to == VOLUNTEER_PHONE]
    for _ in range(100):
        taken = [m.body for m in fake.sent if m.to == VOLUNTEER_PHONE]
        if any("54.612300" in body for body in taken):
            break
        await asyncio.sleep(0.05)
    details = [body for body in taken if "54.612300, 25.045600" in body]
    assert len(details) == 1 and "is yours" in details[0] and "openstreetmap" in details[0]
    await sms(client, VOLUNTEER_PHONE, code.group(1))  # a second acknowledgement changes nothing
    reply = await next_sms(fake, VOLUNTEER_PHONE, len(taken) + 1)
    assert "already have this case" in reply.body


async def test_delivery_reports_in_any_order_and_an_opt_out(client: httpx.AsyncClient) -> None:
    fake: FakeTwilioAPI = client.twilio  # type: ignore[attr-defined]
    await sms(client, PERSON, "help")
    first = await next_sms(fake, PERSON, 1)
    await recorded(client, first.sid)
    for status in ("delivered", "sent", "queued", "delivered"):
        response = await post_signed(client, "/webhooks/twilio/status", fake.status_params(first.sid, status))
        assert response.status_code == 204
    database: db.Database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        message = session.exec(select(Message).where(Message.provider_message_id == first.sid)).one()
        assert message.delivery_status == "delivered"
    await sms(client, PERSON, "5")
    second = await next_sms(fake, PERSON, 2)
    await recorded(client, second.sid)
    params = fake.status_params(second.sid, "undelivered", error_code=21610)
    assert (await post_signed(client, "/webhooks/twilio/status", params)).status_code == 204
    assert (await post_signed(client, "/webhooks/twilio/status", params)).status_code == 204
    with database.session() as session:
        message = session.exec(select(Message).where(Message.provider_message_id == second.sid)).one()
        assert message.delivery_status == "undelivered" and "21610" in (message.error or "")
        contact = session.get(Contact, message.contact_id)
        assert contact is not None and contact.opted_out_at is not None
        assert (
            session.exec(select(func.count()).select_from(Message).where(Message.fallback_of_id == message.id)).one()
            == 0
        )


async def test_an_unreachable_phone_is_tried_again_later_once(client: httpx.AsyncClient) -> None:
    fake: FakeTwilioAPI = client.twilio  # type: ignore[attr-defined]
    await sms(client, PERSON, "help")
    first = await next_sms(fake, PERSON, 1)
    await recorded(client, first.sid)
    params = fake.status_params(first.sid, "undelivered", error_code=30003)
    for _ in range(2):
        assert (await post_signed(client, "/webhooks/twilio/status", params)).status_code == 204
    database: db.Database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        original = session.exec(select(Message).where(Message.provider_message_id == first.sid)).one()
        copies = session.exec(select(Message).where(Message.fallback_of_id == original.id)).all()
        assert len(copies) == 1 and copies[0].status == "pending" and copies[0].channel == "sms"
        assert copies[0].not_before is not None and copies[0].not_before > original.created_at


async def test_stop_is_recorded_and_never_answered(client: httpx.AsyncClient) -> None:
    fake: FakeTwilioAPI = client.twilio  # type: ignore[attr-defined]
    await sms(client, PERSON, "help")
    await next_sms(fake, PERSON, 1)
    await sms(client, PERSON, "STOP")
    database: db.Database = client.app.state.database  # type: ignore[attr-defined]
    for _ in range(100):
        with database.session() as session:
            contact = session.exec(select(Contact).where(Contact.channel == "sms")).first()
            if contact is not None and contact.opted_out_at is not None:
                break
        await asyncio.sleep(0.05)
    assert contact is not None and contact.opted_out_at is not None
    await asyncio.sleep(0.3)
    assert len([m for m in fake.sent if m.to == PERSON]) == 1


async def test_a_long_multipart_sms_arrives_as_one_message(client: httpx.AsyncClient) -> None:
    fake: FakeTwilioAPI = client.twilio  # type: ignore[attr-defined]
    body = "we are 7 people 2 children at 54.123 24.456 " + "one is sick and very cold " * 20
    params = inbound_sms_params(sender=PERSON, to=HOTLINE, body=body, num_segments=4, account_sid=fake.account_sid)
    assert (await post_signed(client, "/webhooks/twilio/sms", params)).status_code == 200
    await next_sms(fake, PERSON, 1)
    database: db.Database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        events = session.exec(select(InboundEvent)).all()
        assert len(events) == 1 and events[0].payload["text"] == body and events[0].payload["segments"] == 4
        report = session.exec(select(Report)).one()
        assert report.location and abs(report.location["lat"] - 54.123) < 1e-9


async def test_a_call_is_forwarded_to_the_phone_on_duty_and_a_voicemail_becomes_a_paged_report(
    client: httpx.AsyncClient,
) -> None:
    fake: FakeTwilioAPI = client.twilio  # type: ignore[attr-defined]
    call = inbound_call_params(caller="+9647700000001", to=HOTLINE, account_sid=fake.account_sid)
    greeting = await post_signed(client, "/webhooks/twilio/voice", call)
    assert greeting.status_code == 200 and "<Gather" in greeting.text and "<Redirect" in greeting.text
    assert 'language="arb"' in greeting.text  # an Iraqi number: greeted in Arabic
    forward = await post_signed(client, "/webhooks/twilio/voice?step=forward&lang=ar", call)
    assert f"<Number>{VOLUNTEER_PHONE}</Number>" in forward.text and "step=dialed" in forward.text
    missed = {**call, "DialCallStatus": "no-answer"}
    voicemail = await post_signed(client, "/webhooks/twilio/voice?step=dialed&lang=ar", missed)
    assert "<Record" in voicemail.text and "step=recorded" in voicemail.text
    recording = fake.add_media(
        f"/2010-04-01/Accounts/{fake.account_sid}/Recordings/RE{'5' * 32}", b"RIFF-fake-audio", "audio/wav"
    )
    recorded = {
        **call,
        "RecordingUrl": recording,
        "RecordingSid": "RE" + "5" * 32,
        "RecordingDuration": "14",
    }
    thanks = await post_signed(client, "/webhooks/twilio/voice?step=recorded&lang=ar", recorded)
    assert "<Hangup" in thanks.text
    again = await post_signed(client, "/webhooks/twilio/voice?step=recorded&lang=ar", recorded)  # retried webhook
    assert again.status_code == 200
    page = await next_sms(fake, VOLUNTEER_PHONE, 1)
    assert "Call to the hotline" in page.body and "+9647700000001" not in page.body
    database: db.Database = client.app.state.database  # type: ignore[attr-defined]
    for _ in range(100):
        with database.session() as session:
            if session.exec(select(Attachment)).first() is not None:
                break
        await asyncio.sleep(0.05)
    with database.session() as session:
        report = session.exec(select(Report)).one()
        assert report.kind == "call" and report.language == "ar" and report.paged_at is not None
        notes = [note["text"] for note in report.notes]
        assert any("missed call" in n for n in notes) and any("voicemail" in n for n in notes)
        attachment = session.exec(select(Attachment)).one()
        assert attachment.kind == "recording" and attachment.duration == 14
    for _ in range(100):
        with database.session() as session:
            attachment = session.exec(select(Attachment)).one()
            if attachment.status == "stored":
                break
        await asyncio.sleep(0.05)
    assert attachment.content == b"RIFF-fake-audio"
