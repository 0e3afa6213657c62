"""Paging a volunteer by phone: the call placed through the fake Twilio API, the key pressed, what it does.

The volunteer is a coordinator (the rota's last resort) so no rota is needed, and the policy has one
step: a call. Key presses are posted to the app's voice webhook, signed the way Twilio signs them.
"""

from __future__ import annotations

import gettext
import logging
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel import col, func, select

from hotline.api.app import create_app
from hotline.bot import i18n, paging, voice
from hotline.bot.channels.base import Outgoing, PermanentFailure, TemporaryFailure
from hotline.bot.channels.twilio import TwilioChannel
from hotline.bot.oncall import escalation
from hotline.bot.oncall.policy import parse_policy
from hotline.bot.sender import OutboxSender, RateLimiter
from hotline.settings import Settings
from hotline.storage import inbox, outbox, reports, staff
from hotline.storage.db import Database
from hotline.storage.models import AuditEvent, InboundEvent, Incident, Message, Page
from tests.conftest import FakeCatalogue, FakeClock
from tests.fakes.twilio_api import DEFAULT_AUTH_TOKEN, Call, FakeTwilioAPI, gather_params, twilio_signature

PUBLIC = "https://hotline.example.org"
HOTLINE = "+37060000099"
VOLUNTEER_PHONE = "+37069990418"
PERSON_PHONE = "+447700931864"
VOLUNTEER_NAME = "Nnvolunteermarker"
SERVICE = "MG" + "0" * 32
PAGE_TEXT = "🆘 Hotline page.\nA case needs a volunteer."
CALL_POLICY = parse_policy({"steps": [{"notify": "primary", "by": ["call"], "wait": 300}], "repeat": 1})
PROMPT = "Press 1 to take the case. Press 2 to decline."
# Fictional Lithuanian for the tests; the real translations live in the volunteer catalogue.
LITHUANIAN = {voice.PAGE_PROMPT: "Paspauskite 1, jei imatės atvejo. Paspauskite 2, jei atsisakote."}


@dataclass(frozen=True)
class Paged:
    """The ids of a page call's volunteer, incident and page."""

    volunteer: int
    incident: int
    page: int


@pytest.fixture
def settings(settings_values: dict[str, str], twilio: FakeTwilioAPI) -> Settings:
    """Return settings with Twilio pointed at the fake and a public URL for the key presses."""
    return Settings.from_mapping(
        {
            **settings_values,
            "HOTLINE_TWILIO_ACCOUNT_SID": twilio.account_sid,
            "HOTLINE_TWILIO_AUTH_TOKEN": twilio.auth_token,
            "HOTLINE_TWILIO_FROM": HOTLINE,
            "HOTLINE_TWILIO_API_URL": twilio.url,
            "HOTLINE_PUBLIC_URL": PUBLIC,
        }
    )


@pytest.fixture
async def channel(twilio: FakeTwilioAPI) -> AsyncIterator[TwilioChannel]:
    """Return a Twilio channel calling from our number through the fake, with a public URL."""
    twilio_channel = TwilioChannel(twilio.account_sid, twilio.auth_token, HOTLINE, twilio.url, public_url=PUBLIC)
    yield twilio_channel
    await twilio_channel.close()


@pytest.fixture
def lithuanian(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give the volunteer catalogue a Lithuanian prompt, and nothing else."""

    def catalogue(language: str, domain: str = i18n.PERSON) -> gettext.NullTranslations:
        return FakeCatalogue(LITHUANIAN if (language, domain) == ("lt", i18n.VOLUNTEER) else {})

    monkeypatch.setattr(i18n, "catalogue", catalogue)


def page_message(page: int = 7, text: str = PAGE_TEXT, language: str = "en") -> Outgoing:
    """Return what the outbox hands the channel for a page call."""
    return Outgoing(extra={"call_page": str(page), "call_text": text, "call_language": language})


def parse(twiml: str | None) -> ET.Element:
    assert twiml is not None
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return root


def spoken(element: ET.Element) -> list[str]:
    return [say.text or "" for say in element.iter("Say")]


def action_url(call: Call) -> str:
    """Return where the call's first Gather posts the pressed key."""
    gather = parse(call.twiml).find("Gather")
    assert gather is not None
    return gather.attrib["action"]


def page_by_call(database: Database, settings: Settings, clock: FakeClock, *, languages: str = "en") -> Paged:
    """Open a report's incident whose first step calls the coordinator; queue the call in the outbox."""
    with database.session() as session:
        volunteer = staff.add_volunteer(
            session, keyring=database.keyring, name=VOLUNTEER_NAME, telegram_chat=None, phone=VOLUNTEER_PHONE,
            languages=languages, now=clock(), role="coordinator",
        )  # fmt: skip
        contact = inbox.find_or_create_contact(
            session, keyring=database.keyring, channel="sms", address=PERSON_PHONE, now=clock()
        )
        report = reports.create_report(
            session, kind="distress", channel="sms", contact_id=contact.id or 0, language="en", now=clock()
        )
        incident = escalation.page_report(
            session, keyring=database.keyring, report=report, policy=CALL_POLICY, now=clock(),
            reach=paging.reach_of(settings), handoff=True,
        )  # fmt: skip
        assert incident is not None
        page = session.exec(select(Page).where(Page.incident_id == incident.id)).one()
        assert page.channel == "call"
        return Paged(volunteer.id or 0, incident.id or 0, page.id or 0)


async def place_calls(database: Database, clock: FakeClock, channel: TwilioChannel) -> None:
    """Run the outbox sender once with the Twilio channel under "sms" and "call", as the service does."""
    limiter = RateLimiter(per_chat_interval=0, per_second=10_000)
    sender = OutboxSender(database=database, channels={"sms": channel, "call": channel}, clock=clock, limiter=limiter)
    await sender.send_due()


async def press(
    client: httpx.AsyncClient, url: str, digits: str, *, token: str | None = None, sid: str = "CA" + "1" * 32
) -> httpx.Response:
    """Post the key pressed on a page call to ``url`` the way Twilio does, signed with ``token``."""
    params = gather_params(sender=HOTLINE, to=VOLUNTEER_PHONE, digits=digits, sid=sid)
    signature = twilio_signature(token or DEFAULT_AUTH_TOKEN, url, params)
    return await client.post(url.removeprefix(PUBLIC), data=params, headers={"X-Twilio-Signature": signature})


def state(database: Database, paged: Paged) -> dict[str, Any]:
    """Return what a key press may change: the incident, the page, the volunteer's actions, the inbox, messages."""
    with database.session() as session:
        incident = session.get(Incident, paged.incident)
        page = session.get(Page, paged.page)
        assert incident is not None and page is not None
        by_volunteer = select(AuditEvent.action, AuditEvent.detail).where(
            AuditEvent.actor == f"volunteer:{paged.volunteer}"
        )
        actions = session.exec(by_volunteer.order_by(col(AuditEvent.id))).all()
        return {
            "incident": (incident.status, incident.acknowledged_by),
            "page": page.status,
            "audit": [(action, detail) for action, detail in actions],
            "inbox": session.exec(select(func.count()).select_from(InboundEvent)).one(),
            "details": session.exec(select(func.count()).select_from(Message).where(Message.kind == "details")).one(),
        }


# --------------------------------------------------------------------------- the call


async def test_a_page_call_reads_the_page_and_asks_twice_for_a_key(
    twilio: FakeTwilioAPI, channel: TwilioChannel
) -> None:
    delivery = await channel.send(VOLUNTEER_PHONE, page_message(page=7))
    [call] = twilio.calls
    assert (call.to, call.sender, delivery.provider_message_id) == (VOLUNTEER_PHONE, HOTLINE, call.sid)
    assert (call.params["Timeout"], call.params["TimeLimit"], call.url) == ("30", "180", None)
    first, second, closing, hangup = list(parse(call.twiml))
    assert [first.tag, second.tag, closing.tag, hangup.tag] == ["Gather", "Gather", "Say", "Hangup"]
    for gather in (first, second):
        assert gather.attrib == {
            "action": f"{PUBLIC}/webhooks/twilio/voice?page=7", "input": "dtmf", "method": "POST",
            "numDigits": "1", "timeout": "6",
        }  # fmt: skip
    assert spoken(first) == ["Hotline page. A case needs a volunteer.", PROMPT]
    assert spoken(second) == [PROMPT]
    assert closing.text == "Please check your messages."
    assert twilio.sent == []


async def test_without_a_public_url_the_call_rings_reads_and_points_to_the_messages(twilio: FakeTwilioAPI) -> None:
    channel = TwilioChannel(twilio.account_sid, twilio.auth_token, HOTLINE, twilio.url)
    try:
        await channel.send(VOLUNTEER_PHONE, page_message())
    finally:
        await channel.close()
    root = parse(twilio.calls[0].twiml)
    assert [element.tag for element in root] == ["Say", "Say", "Hangup"]
    assert spoken(root) == ["Hotline page. A case needs a volunteer.", "Please check your messages."]


@pytest.mark.usefixtures("lithuanian")
async def test_a_lithuanian_volunteer_hears_a_lithuanian_voice_and_english_where_untranslated(
    twilio: FakeTwilioAPI, channel: TwilioChannel
) -> None:
    await channel.send(VOLUNTEER_PHONE, page_message(text="Skubus atvejis: vaikai.", language="lt"))
    first = parse(twilio.calls[0].twiml)[0]
    text, prompt = first.iter("Say")
    lithuanian = {"language": "lt-LT", "voice": "Google.lt-LT-Standard-B"}
    assert (text.text, text.attrib) == ("Skubus atvejis: vaikai.", lithuanian)
    assert (prompt.text, prompt.attrib) == (LITHUANIAN[voice.PAGE_PROMPT], lithuanian)
    closing = parse(twilio.calls[0].twiml)[2]  # "Please check your messages." has no fake translation
    assert (closing.text, closing.attrib) == (
        "Please check your messages.",
        {"language": "en-GB", "voice": "Polly.Amy"},
    )


async def test_a_long_page_is_cut_to_fit_twilios_limit_on_inline_twiml(
    twilio: FakeTwilioAPI, channel: TwilioChannel
) -> None:
    await channel.send(VOLUNTEER_PHONE, page_message(text="Ąžuolas & <vaikai> " + "&" * 5000))
    [call] = twilio.calls
    assert call.twiml is not None and len(call.twiml) <= 4000
    assert spoken(parse(call.twiml))[0].startswith("Ąžuolas & <vaikai> &&&")


def test_what_is_spoken_has_no_emoji_or_invisible_marks_and_a_pause_per_line() -> None:
    text = "🆘 Distress report\u200f K7M-4PX\n\n👨‍👩‍👧 3 people ❤️\nVaikai: taip!  "
    assert voice.speakable(text) == "Distress report K7M-4PX. 3 people. Vaikai: taip!"
    assert voice.speakable("A\u0328z\u030cuolas") == "Ąžuolas."  # decomposed Lithuanian letters are kept, composed


async def test_a_messaging_service_cannot_place_a_call(twilio: FakeTwilioAPI) -> None:
    channel = TwilioChannel(twilio.account_sid, twilio.auth_token, SERVICE, twilio.url, public_url=PUBLIC)
    try:
        with pytest.raises(PermanentFailure, match="phone number"):
            await channel.send(VOLUNTEER_PHONE, page_message())
    finally:
        await channel.close()
    assert twilio.requests == []


async def test_twilio_errors_on_a_call_are_ours_and_never_quote_the_number(
    twilio: FakeTwilioAPI, channel: TwilioChannel
) -> None:
    twilio.fail_next(status=503)
    with pytest.raises(TemporaryFailure):
        await channel.send(VOLUNTEER_PHONE, page_message())
    twilio.fail_next(status=400, code=21211, message=f"Invalid 'To' Phone Number: {VOLUNTEER_PHONE}")
    with pytest.raises(PermanentFailure) as caught:
        await channel.send(VOLUNTEER_PHONE, page_message())
    assert caught.value.code == "21211" and VOLUNTEER_PHONE[1:] not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


async def test_the_outbox_turns_a_call_message_into_a_call(
    database: Database, clock: FakeClock, twilio: FakeTwilioAPI, channel: TwilioChannel
) -> None:
    with database.session() as session:
        body = {"to": VOLUNTEER_PHONE, "call": {"page": 12, "text": "Hotline page.", "language": "en"}}
        message = outbox.enqueue(session, kind="page", channel="call", recipient_key="v1", body=body, now=clock())
    await place_calls(database, clock, channel)
    [call] = twilio.calls
    assert call.to == VOLUNTEER_PHONE and action_url(call) == f"{PUBLIC}/webhooks/twilio/voice?page=12"
    with database.session() as session:
        sent = session.get(Message, message.id)
        assert sent is not None and (sent.status, sent.provider_message_id) == ("sent", call.sid)


# --------------------------------------------------------------------------- the key


async def test_pressing_1_takes_the_case_once_however_often_twilio_posts_it(
    database: Database,
    settings: Settings,
    clock: FakeClock,
    twilio: FakeTwilioAPI,
    channel: TwilioChannel,
    client: httpx.AsyncClient,
) -> None:
    paged = page_by_call(database, settings, clock)
    await place_calls(database, clock, channel)
    url = action_url(twilio.calls[0])
    assert url == f"{PUBLIC}/webhooks/twilio/voice?page={paged.page}"

    answer = await press(client, url, "1")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    root = parse(answer.text)
    assert (spoken(root), [e.tag for e in root]) == (["You have this case. Details follow."], ["Say", "Hangup"])
    taken = state(database, paged)
    assert taken["incident"] == ("acknowledged", paged.volunteer) and taken["page"] == "acknowledged"
    assert [action for action, _ in taken["audit"]] == ["acknowledged"] and "via call" in taken["audit"][0][1]
    assert taken["details"] == 1

    replay = await press(client, url, "1")
    assert spoken(parse(replay.text)) == ["You already have this case."]
    assert state(database, paged) == taken and taken["inbox"] == 0


async def test_pressing_2_declines(
    database: Database,
    settings: Settings,
    clock: FakeClock,
    twilio: FakeTwilioAPI,
    channel: TwilioChannel,
    client: httpx.AsyncClient,
) -> None:
    paged = page_by_call(database, settings, clock)
    await place_calls(database, clock, channel)
    answer = await press(client, action_url(twilio.calls[0]), "2")
    assert spoken(parse(answer.text)) == ["Declined. The next volunteer is being paged."]
    declined = state(database, paged)
    assert declined["page"] == "declined" and declined["incident"][1] is None
    assert [action for action, _ in declined["audit"]] == ["declined"]


async def test_with_the_service_running_the_phone_rings_and_the_details_follow_the_key(
    database: Database, settings: Settings, clock: FakeClock, twilio: FakeTwilioAPI
) -> None:
    app = create_app(settings, database=database, clock=clock)
    page_by_call(database, settings, clock)
    async with app.router.lifespan_context(app):
        [call] = await twilio.wait_for_calls_async(1)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            answer = await press(http, action_url(call), "1")
        [details] = await twilio.wait_for_async(1)
    assert spoken(parse(answer.text)) == ["You have this case. Details follow."]
    assert details.to == VOLUNTEER_PHONE and twilio.calls == [call]


@pytest.mark.parametrize("digits", ["9", "0", "*", "#", ""])
async def test_any_other_key_asks_again_and_changes_nothing(
    database: Database, settings: Settings, clock: FakeClock, client: httpx.AsyncClient, digits: str
) -> None:
    paged = page_by_call(database, settings, clock)
    before = state(database, paged)
    url = f"{PUBLIC}/webhooks/twilio/voice?page={paged.page}"
    answer = await press(client, url, digits)
    gather, closing, hangup = list(parse(answer.text))
    assert (gather.tag, gather.attrib["action"], gather.attrib["numDigits"]) == ("Gather", url, "1")
    assert spoken(gather) == [PROMPT] and closing.text == "Please check your messages." and hangup.tag == "Hangup"
    assert state(database, paged) == before


@pytest.mark.usefixtures("lithuanian")
async def test_a_lithuanian_volunteer_is_asked_again_in_lithuanian(
    database: Database, settings: Settings, clock: FakeClock, client: httpx.AsyncClient
) -> None:
    paged = page_by_call(database, settings, clock, languages="lt")
    answer = await press(client, f"{PUBLIC}/webhooks/twilio/voice?page={paged.page}", "5")
    assert spoken(parse(answer.text))[0] == LITHUANIAN[voice.PAGE_PROMPT]


@pytest.mark.parametrize("page", ["999999", "abc", "99999999999999999999999"])
async def test_a_key_for_no_known_page_points_to_the_messages(client: httpx.AsyncClient, page: str) -> None:
    answer = await press(client, f"{PUBLIC}/webhooks/twilio/voice?page={page}", "1")
    assert answer.status_code == 200 and spoken(parse(answer.text)) == ["Please check your messages."]


@pytest.mark.parametrize("how", ["wrong token", "unsigned", "signed for another page"])
async def test_a_key_press_without_a_valid_signature_gets_403_and_changes_nothing(
    database: Database, settings: Settings, clock: FakeClock, client: httpx.AsyncClient, how: str
) -> None:
    paged = page_by_call(database, settings, clock)
    before = state(database, paged)
    path = f"/webhooks/twilio/voice?page={paged.page}"
    params = gather_params(sender=HOTLINE, to=VOLUNTEER_PHONE, digits="1")
    signed_url = PUBLIC + (
        f"/webhooks/twilio/voice?page={paged.page + 1}" if how == "signed for another page" else path
    )
    token = "not-the-token" if how == "wrong token" else settings.twilio_auth_token
    headers = {} if how == "unsigned" else {"X-Twilio-Signature": twilio_signature(token, signed_url, params)}
    response = await client.post(path, data=params, headers=headers)
    assert response.status_code == 403
    assert state(database, paged) == before


async def test_no_phone_number_or_page_text_reaches_the_logs(
    database: Database,
    settings: Settings,
    clock: FakeClock,
    twilio: FakeTwilioAPI,
    channel: TwilioChannel,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    paged = page_by_call(database, settings, clock)
    await channel.send(VOLUNTEER_PHONE, page_message(page=paged.page, text="Wwpagemarker words"))
    await place_calls(database, clock, channel)
    for digits in ("7", "1", "1", "2"):
        await press(client, action_url(twilio.calls[0]), digits)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"page {paged.page}" in logged
    for secret in (VOLUNTEER_PHONE[1:], HOTLINE[1:], PERSON_PHONE[1:], "Wwpagemarker", VOLUNTEER_NAME):
        assert secret not in logged
