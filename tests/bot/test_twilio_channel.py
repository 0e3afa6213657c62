"""The Twilio SMS channel: the real ``twilio`` library against the fake Twilio REST API on loopback."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from hotline.bot.channels import twilio as twilio_channel
from hotline.bot.channels.base import Button, Outgoing, PermanentFailure, TemporaryFailure
from hotline.bot.channels.twilio import TwilioChannel, rebase
from tests.fakes.twilio_api import FakeTwilioAPI

PERSON = "+37060000001"
OUR_NUMBER = "+37060000099"
SERVICE = "MG" + "0" * 32
CALLBACK = "https://hotline.example.org/webhooks/twilio/status"


@pytest.fixture
def fake() -> Iterator[FakeTwilioAPI]:
    """Start a fake Twilio REST API on loopback for one test."""
    with FakeTwilioAPI() as server:
        yield server


@pytest.fixture
async def channel(fake: FakeTwilioAPI) -> AsyncIterator[TwilioChannel]:
    """Return a channel sending from our number through the fake, with a status callback."""
    sms = TwilioChannel(fake.account_sid, fake.auth_token, OUR_NUMBER, fake.url, CALLBACK)
    yield sms
    await sms.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_send_reaches_the_fake_and_returns_the_message_sid(fake: FakeTwilioAPI, channel: TwilioChannel) -> None:
    rows = ((Button("Yes", "y"), Button("No", "n")),)
    delivery = await channel.send(PERSON, Outgoing(text="Êtes-vous blessé ?", buttons=rows))
    [sms] = fake.sent
    assert (sms.to, sms.sender, sms.status_callback) == (PERSON, OUR_NUMBER, CALLBACK)
    assert sms.body == "Etes-vous blessé ?\n1. Yes\n2. No"
    assert delivery.provider_message_id == sms.sid and sms.sid.startswith("SM")
    assert [r.path for r in fake.requests] == [f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"]


async def test_a_messaging_service_sends_instead_of_a_number(fake: FakeTwilioAPI) -> None:
    channel = TwilioChannel(fake.account_sid, fake.auth_token, SERVICE, fake.url, None)
    try:
        await channel.send(PERSON, Outgoing(text="Hello"))
    finally:
        await channel.close()
    params = fake.requests[0].params
    assert params["MessagingServiceSid"] == SERVICE and "From" not in params and "StatusCallback" not in params
    assert fake.sent[0].sender == SERVICE


async def test_button_answers_and_deletions_send_nothing(fake: FakeTwilioAPI, channel: TwilioChannel) -> None:
    assert (await channel.send(PERSON, Outgoing(text="Saved", callback_query_id="cq1"))).provider_message_id is None
    assert (await channel.send(PERSON, Outgoing(delete_message_ids=("SM1",)))).provider_message_id is None
    assert (await channel.send(PERSON, Outgoing(request_location="Share"))).provider_message_id is None
    assert fake.requests == []


async def test_an_edit_is_sent_as_a_new_sms(fake: FakeTwilioAPI, channel: TwilioChannel) -> None:
    delivery = await channel.send(PERSON, Outgoing(text="Updated: help is on the way", edit_message_id="SM1"))
    assert [sms.body for sms in fake.sent] == ["Updated: help is on the way"]
    assert delivery.provider_message_id == fake.sent[0].sid


async def test_a_location_is_sent_as_coordinates_and_a_map_link(fake: FakeTwilioAPI, channel: TwilioChannel) -> None:
    await channel.send(PERSON, Outgoing(location=(54.5, 25.1)))
    assert fake.sent[0].body.startswith("54.50000, 25.10000\nhttps://www.openstreetmap.org/?mlat=54.50000&")


async def test_an_opted_out_recipient_is_a_permanent_failure(fake: FakeTwilioAPI, channel: TwilioChannel) -> None:
    fake.opt_out(PERSON)
    with pytest.raises(PermanentFailure, match="opted out") as caught:
        await channel.send(PERSON, Outgoing(text="Hello"))
    assert caught.value.code == "21610" and fake.sent == []


@pytest.mark.parametrize(("status", "code"), [(500, "20500"), (503, "20500"), (429, "20429")])
async def test_server_errors_and_rate_limits_are_temporary(
    fake: FakeTwilioAPI, channel: TwilioChannel, status: int, code: str
) -> None:
    fake.fail_next(status=status)
    with pytest.raises(TemporaryFailure) as caught:
        await channel.send(PERSON, Outgoing(text="Hello"))
    assert (caught.value.code, caught.value.retry_after) == (code, None)
    await channel.send(PERSON, Outgoing(text="Hello again"))
    assert [sms.body for sms in fake.sent] == ["Hello again"]


async def test_retry_after_is_taken_from_the_response(fake: FakeTwilioAPI, channel: TwilioChannel) -> None:
    fake.fail_next(status=429, retry_after=7)
    with pytest.raises(TemporaryFailure) as caught:
        await channel.send(PERSON, Outgoing(text="Hello"))
    assert caught.value.retry_after == 7.0


async def test_a_wrong_token_is_a_permanent_failure(fake: FakeTwilioAPI) -> None:
    channel = TwilioChannel(fake.account_sid, "wrong-test-token", OUR_NUMBER, fake.url, None)
    try:
        with pytest.raises(PermanentFailure) as caught:
            await channel.send(PERSON, Outgoing(text="Hello"))
    finally:
        await channel.close()
    assert caught.value.code == "20003" and "401" in str(caught.value)
    assert [r.authorized for r in fake.requests] == [False]


async def test_a_bad_number_fails_without_leaking_it(fake: FakeTwilioAPI, channel: TwilioChannel) -> None:
    with pytest.raises(PermanentFailure) as caught:
        await channel.send("+0000", Outgoing(text="secret words"))
    error = caught.value
    assert error.code == "21211"
    assert "+0000" not in str(error) and "secret" not in str(error)
    assert error.__cause__ is None and error.__suppress_context__  # Twilio's message quotes the number


async def test_an_unreachable_api_is_a_temporary_failure(fake: FakeTwilioAPI) -> None:
    channel = TwilioChannel(fake.account_sid, fake.auth_token, OUR_NUMBER, f"http://127.0.0.1:{_free_port()}", None)
    try:
        with pytest.raises(TemporaryFailure):
            await channel.send(PERSON, Outgoing(text="Hello"))
    finally:
        await channel.close()


async def test_a_slow_api_times_out_as_a_temporary_failure(fake: FakeTwilioAPI) -> None:
    fake.delay = 1.0
    channel = TwilioChannel(fake.account_sid, fake.auth_token, OUR_NUMBER, fake.url, None, timeout=0.2)
    try:
        with pytest.raises(TemporaryFailure):
            await channel.send(PERSON, Outgoing(text="Hello"))
    finally:
        await channel.close()


async def test_the_channel_works_again_after_close(fake: FakeTwilioAPI, channel: TwilioChannel) -> None:
    await channel.send(PERSON, Outgoing(text="One"))
    await channel.close()
    await channel.send(PERSON, Outgoing(text="Two"))
    assert [sms.body for sms in fake.sent] == ["One", "Two"]


async def test_download_fetches_a_recording_of_our_account(fake: FakeTwilioAPI, channel: TwilioChannel) -> None:
    url = fake.add_media(f"/2010-04-01/Accounts/{fake.account_sid}/Recordings/RE{'0' * 32}", b"ID3fake", "audio/mpeg")
    assert url.startswith("https://api.twilio.com/")
    assert await channel.download(url) == (b"ID3fake", "audio/mpeg")
    assert [(r.method, r.authorized) for r in fake.requests] == [("GET", True)]


async def test_download_of_a_missing_file_is_a_permanent_failure(fake: FakeTwilioAPI, channel: TwilioChannel) -> None:
    with pytest.raises(PermanentFailure) as caught:
        await channel.download(f"https://api.twilio.com/2010-04-01/Accounts/{fake.account_sid}/Recordings/RE404")
    assert caught.value.code == "404"


async def test_download_refuses_a_file_too_large(
    fake: FakeTwilioAPI, channel: TwilioChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(twilio_channel, "MAX_MEDIA_BYTES", 10)
    url = fake.add_media(f"/2010-04-01/Accounts/{fake.account_sid}/Messages/MM1/Media/ME1", b"x" * 11, "image/jpeg")
    with pytest.raises(PermanentFailure, match="too large"):
        await channel.download(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.twilio.com/2010-04-01/Accounts/AC" + "9" * 32 + "/Recordings/RE1",
        "https://api.twilio.com/2010-04-01/Accounts/{sid}/../AC" + "9" * 32 + "/Recordings/RE1",
        "https://api.twilio.com/2010-04-01/Accounts/{sid}/%2e%2e/Recordings/RE1",
        "https://api.twilio.com/admin/{sid}/",
        "http://169.254.169.254/latest/meta-data/",
        "file:///2010-04-01/Accounts/{sid}/Recordings/RE1",
    ],
)
async def test_download_refuses_anything_outside_our_account(
    fake: FakeTwilioAPI, channel: TwilioChannel, url: str
) -> None:
    with pytest.raises(ValueError):
        await channel.download(url.format(sid=fake.account_sid))
    assert fake.requests == []


@pytest.mark.parametrize(
    ("api_url", "expected"),
    [
        ("http://127.0.0.1:8082", "http://127.0.0.1:8082/2010-04-01/Accounts/AC1/Messages.json?Page=2"),
        (
            "https://proxy.example.org/twilio/",
            "https://proxy.example.org/twilio/2010-04-01/Accounts/AC1/Messages.json?Page=2",
        ),
    ],
)
def test_rebase_keeps_path_and_query(api_url: str, expected: str) -> None:
    assert rebase("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?Page=2", api_url) == expected
