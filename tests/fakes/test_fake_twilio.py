"""Tests for the fake Twilio REST API: its wire format over raw HTTP, and the real ``twilio`` client against it."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes.twilio_api import (
    SERVICE_NUMBER,
    FakeTwilioAPI,
    inbound_call_params,
    inbound_sms_params,
    twilio_signature,
)

PERSON = "+37060000001"
OUR_NUMBER = "+37060000099"
SERVICE = "MG" + "0" * 32
RELATIVE = "+4915550000001"
SID = re.compile(r"^(SM|CA)[0-9a-f]{32}$")


@pytest.fixture
def fake() -> Iterator[FakeTwilioAPI]:
    """Start a fake Twilio REST API on loopback for one test."""
    with FakeTwilioAPI() as server:
        yield server


@pytest.fixture
def http(fake: FakeTwilioAPI) -> Iterator[httpx.Client]:
    """Return a raw HTTP client authenticated as the fake's account."""
    with httpx.Client(base_url=fake.url, auth=(fake.account_sid, fake.auth_token)) as client:
        yield client


@pytest.fixture
def client(fake: FakeTwilioAPI) -> Client:
    """Return the real synchronous Twilio client with its API domain moved to the fake."""
    twilio = Client(fake.account_sid, fake.auth_token)
    twilio.api.base_url = fake.url
    return twilio


def _messages(fake: FakeTwilioAPI) -> str:
    return f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"


def _post(http: httpx.Client, fake: FakeTwilioAPI, **form: str) -> httpx.Response:
    return http.post(_messages(fake), data=form)


def test_a_message_is_created_in_twilio_shape(fake: FakeTwilioAPI, http: httpx.Client) -> None:
    response = _post(http, fake, To=PERSON, From=OUR_NUMBER, Body="Help is coming", StatusCallback="https://cb.test/s")
    assert response.status_code == 201
    resource = response.json()
    assert SID.match(resource["sid"]) and resource["sid"].startswith("SM")
    assert {k: resource[k] for k in ("to", "from", "body", "status", "num_segments", "direction")} == {
        "to": PERSON, "from": OUR_NUMBER, "body": "Help is coming", "status": "queued", "num_segments": "1",
        "direction": "outbound-api",
    }  # fmt: skip
    assert resource["uri"] == f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{resource['sid']}.json"
    [sms] = fake.sent
    assert (sms.sid, sms.to, sms.sender, sms.body, sms.status_callback) == (
        resource["sid"], PERSON, OUR_NUMBER, "Help is coming", "https://cb.test/s",
    )  # fmt: skip


def test_a_messaging_service_message_is_accepted_without_a_from(fake: FakeTwilioAPI, http: httpx.Client) -> None:
    resource = _post(http, fake, To=PERSON, MessagingServiceSid=SERVICE, Body="Hi").json()
    assert (resource["status"], resource["from"], resource["messaging_service_sid"]) == ("accepted", None, SERVICE)
    assert fake.sent[0].sender == SERVICE


def test_segments_are_counted_by_encoding(fake: FakeTwilioAPI, http: httpx.Client) -> None:
    assert _post(http, fake, To=PERSON, From=OUR_NUMBER, Body="a" * 161).json()["num_segments"] == "2"
    assert _post(http, fake, To=PERSON, From=OUR_NUMBER, Body="ж" * 71).json()["num_segments"] == "2"


def test_wrong_credentials_get_twilios_401(fake: FakeTwilioAPI) -> None:
    response = httpx.post(f"{fake.url}{_messages(fake)}", data={"To": PERSON}, auth=(fake.account_sid, "nope"))
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.json() == {
        "code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }  # fmt: skip
    assert fake.sent == [] and [r.authorized for r in fake.requests] == [False]


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"From": OUR_NUMBER, "Body": "x"}, 21604),
        ({"To": "37060000001", "From": OUR_NUMBER, "Body": "x"}, 21211),
        ({"To": PERSON, "Body": "x"}, 21603),
        ({"To": PERSON, "From": OUR_NUMBER}, 21602),
        ({"To": PERSON, "From": OUR_NUMBER, "Body": "x" * 1601}, 21617),
    ],
)
def test_invalid_messages_are_refused_with_twilios_codes(
    fake: FakeTwilioAPI, http: httpx.Client, form: dict[str, str], code: int
) -> None:
    response = _post(http, fake, **form)
    assert (response.status_code, response.json()["code"]) == (400, code)
    assert fake.sent == []


def test_an_opted_out_recipient_gets_21610(fake: FakeTwilioAPI, http: httpx.Client) -> None:
    fake.opt_out(PERSON)
    response = _post(http, fake, To=PERSON, From=OUR_NUMBER, Body="x")
    assert (response.status_code, response.json()["code"]) == (400, 21610)
    assert _post(http, fake, To=RELATIVE, From=OUR_NUMBER, Body="x").status_code == 201


def test_injected_faults_last_as_long_as_asked(fake: FakeTwilioAPI, http: httpx.Client) -> None:
    fake.fail_next(status=503, times=2)
    statuses = [_post(http, fake, To=PERSON, From=OUR_NUMBER, Body="x").status_code for _ in range(3)]
    assert statuses == [503, 503, 201]
    fake.fail_next(status=429, retry_after=9)
    response = _post(http, fake, To=PERSON, From=OUR_NUMBER, Body="x")
    assert (response.status_code, response.headers["Retry-After"], response.json()["code"]) == (429, "9", 20429)


def test_unknown_resources_and_other_accounts_are_404(fake: FakeTwilioAPI, http: httpx.Client) -> None:
    assert http.post("/2010-04-01/Accounts/AC" + "9" * 32 + "/Messages.json", data={}).json()["code"] == 20404
    assert http.get("/2010-04-01/Accounts/whatever.json").status_code == 404


def test_media_is_served_behind_basic_auth(fake: FakeTwilioAPI, http: httpx.Client) -> None:
    path = f"/2010-04-01/Accounts/{fake.account_sid}/Messages/MM1/Media/ME1"
    assert fake.add_media(path, b"\xff\xd8jpeg", "image/jpeg") == f"https://api.twilio.com{path}"
    response = http.get(path)
    assert (response.status_code, response.content, response.headers["Content-Type"]) == (
        200,
        b"\xff\xd8jpeg",
        "image/jpeg",
    )
    assert httpx.get(f"{fake.url}{path}").status_code == 401


def test_the_real_client_sends_a_message(fake: FakeTwilioAPI, client: Client) -> None:
    message = client.messages.create(to=PERSON, from_=OUR_NUMBER, body="Stay where you are")
    assert (message.sid, message.status, message.to) == (fake.sent[0].sid, "queued", PERSON)


def test_the_real_client_sees_twilio_errors(fake: FakeTwilioAPI, client: Client) -> None:
    fake.opt_out(PERSON)
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to=PERSON, from_=OUR_NUMBER, body="x")
    assert (caught.value.status, caught.value.code) == (400, 21610)


def test_the_real_client_places_a_call(fake: FakeTwilioAPI, client: Client) -> None:
    call = client.calls.create(
        to=PERSON, from_=OUR_NUMBER, url="https://hotline.test/voice", status_callback="https://hotline.test/cs"
    )
    [recorded] = fake.calls
    assert SID.match(call.sid) and call.sid == recorded.sid and call.status == "queued"
    assert (recorded.to, recorded.sender, recorded.url, recorded.status_callback) == (
        PERSON, OUR_NUMBER, "https://hotline.test/voice", "https://hotline.test/cs",
    )  # fmt: skip


def test_a_call_needs_twiml_or_a_url(fake: FakeTwilioAPI, client: Client) -> None:
    with pytest.raises(TwilioRestException) as caught:
        client.calls.create(to=PERSON, from_=OUR_NUMBER)
    assert caught.value.code == 21205 and fake.calls == []
    client.calls.create(to=PERSON, from_=OUR_NUMBER, twiml="<Response><Say>Hello</Say></Response>")
    assert fake.calls[0].twiml == "<Response><Say>Hello</Say></Response>"


def test_status_params_describe_a_sent_message(fake: FakeTwilioAPI, http: httpx.Client) -> None:
    sid = _post(http, fake, To=PERSON, From=OUR_NUMBER, Body="x").json()["sid"]
    assert fake.status_params(sid, "undelivered", error_code=30003) == {
        "MessageSid": sid, "SmsSid": sid, "MessageStatus": "undelivered", "SmsStatus": "undelivered",
        "AccountSid": fake.account_sid, "To": PERSON, "From": OUR_NUMBER, "ApiVersion": "2010-04-01",
        "ErrorCode": "30003",
    }  # fmt: skip


def test_status_params_of_a_messaging_service_message(fake: FakeTwilioAPI, http: httpx.Client) -> None:
    sid = _post(http, fake, To=PERSON, MessagingServiceSid=SERVICE, Body="x").json()["sid"]
    params = fake.status_params(sid, "delivered")
    assert (params["From"], params["MessagingServiceSid"], "ErrorCode" in params) == (SERVICE_NUMBER, SERVICE, False)
    with pytest.raises(KeyError):
        fake.status_params("SM" + "f" * 32, "delivered")


def test_inbound_sms_params_look_like_twilios_webhook() -> None:
    params = inbound_sms_params(sender=RELATIVE, to=OUR_NUMBER, body="My brother is in the forest", num_segments=2)
    assert SID.match(params["MessageSid"]) and params["SmsSid"] == params["MessageSid"]
    assert (params["From"], params["To"], params["Body"], params["NumSegments"], params["NumMedia"]) == (
        RELATIVE, OUR_NUMBER, "My brother is in the forest", "2", "0",
    )  # fmt: skip
    assert (params["FromCountry"], params["ToCountry"], params["SmsStatus"]) == ("DE", "LT", "received")


def test_inbound_mms_params_carry_media() -> None:
    params = inbound_sms_params(
        sender=PERSON, to=OUR_NUMBER, body="", media=(("https://api.twilio.com/m/1", "image/jpeg"),)
    )
    assert (params["NumMedia"], params["MediaUrl0"], params["MediaContentType0"]) == (
        "1",
        "https://api.twilio.com/m/1",
        "image/jpeg",
    )
    assert params["MessageSid"].startswith("MM")


def test_inbound_call_params_look_like_twilios_voice_webhook() -> None:
    params = inbound_call_params(caller=PERSON, to=OUR_NUMBER)
    assert SID.match(params["CallSid"])
    assert {k: params[k] for k in ("From", "To", "CallStatus", "Direction", "FromCountry")} == {
        "From": PERSON, "To": OUR_NUMBER, "CallStatus": "ringing", "Direction": "inbound", "FromCountry": "LT",
    }  # fmt: skip


def test_signatures_validate_with_twilios_validator() -> None:
    url = "https://hotline.example.org/webhooks/twilio/sms"
    params = inbound_sms_params(sender=PERSON, to=OUR_NUMBER, body="hi")
    signature = twilio_signature("test-auth-token", url, params)
    assert RequestValidator("test-auth-token").validate(url, params, signature)
    assert not RequestValidator("test-auth-token").validate(url, {**params, "Body": "changed"}, signature)


def test_wait_for_blocks_until_messages_arrive(fake: FakeTwilioAPI, http: httpx.Client) -> None:
    def later() -> None:
        time.sleep(0.1)
        with httpx.Client(base_url=fake.url, auth=(fake.account_sid, fake.auth_token)) as other:
            _post(other, fake, To=PERSON, From=OUR_NUMBER, Body="late")

    thread = threading.Thread(target=later)
    thread.start()
    assert [sms.body for sms in fake.wait_for(1, timeout=5)] == ["late"]
    thread.join()
    with pytest.raises(AssertionError):
        fake.wait_for(2, timeout=0.1)


async def test_wait_for_async_and_clear(fake: FakeTwilioAPI, http: httpx.Client) -> None:
    _post(http, fake, To=PERSON, From=OUR_NUMBER, Body="one")
    assert [sms.body for sms in await fake.wait_for_async(1)] == ["one"]
    fake.clear()
    assert (fake.sent, fake.calls, fake.requests) == ([], [], [])


def test_url_needs_a_started_server() -> None:
    idle = FakeTwilioAPI()
    with pytest.raises(RuntimeError):
        _ = idle.url
