"""Fake Twilio REST API server on loopback for tests, the crash test and manual runs.

Stdlib only: a ``ThreadingHTTPServer`` in a daemon thread bound to ``127.0.0.1`` (port 0 by
default). Point the real ``twilio`` client at it (``TwilioChannel(..., api_url=fake.url)``). It
speaks the 2010-04-01 API: ``POST .../Messages.json`` and ``POST .../Calls.json`` with HTTP basic
auth, Twilio's JSON resources and error bodies, and ``GET`` of media and recordings registered with
:meth:`FakeTwilioAPI.add_media`. Every request is recorded; faults and opted-out recipients can be
injected.

Module-level builders (:func:`inbound_sms_params`, :func:`inbound_call_params`, :func:`gather_params`)
return the form parameters Twilio POSTs to our webhooks, and :func:`twilio_signature` signs them the
way Twilio does. Twilio's 4000-character limit on inline TwiML is enforced. All numbers and SIDs
produced here are fictional.

Run standalone for manual use::

    python -m tests.fakes.twilio_api --port 8082
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from twilio.request_validator import RequestValidator

from hotline.bot.channels.sms import sms_segments
from tests.fakes.loopback import LoopbackServer, Server

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "ACtest" + "0" * 28
DEFAULT_AUTH_TOKEN = "test-auth-token"
SERVICE_NUMBER = "+4915550000099"  # the number a Messaging Service picks from its pool
MAX_BODY = 1600
MAX_TWIML = 4000  # Twilio's limit on inline TwiML when creating a call (error 32018)

# Twilio error codes the fake answers with: code -> (HTTP status, message).
ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    21201: (400, "No 'To' number is specified"),
    21205: (400, "Url parameter is required."),
    21211: (400, "Invalid 'To' Phone Number"),
    21213: (400, "No 'From' number is specified"),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    32018: (400, "Twiml size exceeded maximum allowed value of 4000 characters"),
}
STATUS_CODES = {401: 20003, 404: 20404, 429: 20429, 500: 20500, 502: 20500, 503: 20500}
COUNTRIES = {
    "+1": "US", "+7": "RU", "+33": "FR", "+44": "GB", "+48": "PL", "+49": "DE", "+90": "TR", "+93": "AF",
    "+98": "IR", "+370": "LT", "+371": "LV", "+372": "EE", "+375": "BY", "+963": "SY", "+964": "IQ",
}  # fmt: skip

_PATH_RE = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/(?P<resource>Messages|Calls)\.json$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class SentSMS:
    """One message Twilio accepted; ``sender`` is the From number or the Messaging Service SID."""

    sid: str
    to: str
    sender: str
    body: str
    status_callback: str | None = None
    media_urls: tuple[str, ...] = ()
    num_segments: int = 1


@dataclass(frozen=True)
class Call:
    """One outgoing call Twilio accepted, with the TwiML URL or inline TwiML it was given, and every parameter."""

    sid: str
    to: str
    sender: str
    url: str | None = None
    twiml: str | None = None
    status_callback: str | None = None
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """One HTTP request as it arrived, with the status it was answered with."""

    method: str
    path: str
    params: dict[str, str]
    status: int
    authorized: bool


@dataclass(frozen=True)
class Reply:
    """What the fake answers: status, body and headers."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    status: int
    code: int
    message: str
    retry_after: int | None
    remaining: int


class ApiError(Exception):
    """A Twilio error response the fake returns instead of a resource."""

    def __init__(self, code: int, message: str | None = None, status: int | None = None) -> None:
        known_status, known_message = ERRORS.get(code, (400, "Error"))
        super().__init__(message or known_message)
        self.code = code
        self.status = status or known_status
        self.message = message or known_message
        self.retry_after: int | None = None

    def reply(self) -> Reply:
        """Return Twilio's error JSON for this error."""
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return Reply(self.status, json.dumps(body).encode(), headers=headers)


# --------------------------------------------------------------------------- builders


def new_sid(prefix: str) -> str:
    """Return a fresh SID such as ``SM`` followed by 32 hex digits."""
    return prefix + secrets.token_hex(16)


def country_of(number: str) -> str:
    """Return the ISO country of a phone number by its calling code (``""`` when unknown)."""
    for length in (4, 3, 2):
        if number[:length] in COUNTRIES:
            return COUNTRIES[number[:length]]
    return ""


def _rfc2822(moment: datetime | None = None) -> str:
    return format_datetime(moment or datetime.now(UTC))


def inbound_sms_params(
    *,
    sender: str,
    to: str,
    body: str,
    sid: str | None = None,
    num_segments: int = 1,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    media: tuple[tuple[str, str], ...] = (),
) -> dict[str, str]:
    """Build the form Twilio POSTs for an incoming SMS; ``media`` is ``(url, content_type)`` pairs (MMS)."""
    sid = sid or new_sid("MM" if media else "SM")
    params = {
        "ToCountry": country_of(to), "ToState": "", "ToCity": "", "ToZip": "",
        "FromCountry": country_of(sender), "FromState": "", "FromCity": "", "FromZip": "",
        "SmsMessageSid": sid, "SmsSid": sid, "MessageSid": sid, "SmsStatus": "received",
        "AccountSid": account_sid, "From": sender, "To": to, "Body": body,
        "NumMedia": str(len(media)), "NumSegments": str(num_segments), "ApiVersion": API_VERSION,
    }  # fmt: skip
    for index, (url, content_type) in enumerate(media):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = content_type
    return params


def inbound_call_params(
    *,
    caller: str,
    to: str,
    sid: str | None = None,
    status: str = "ringing",
    account_sid: str = DEFAULT_ACCOUNT_SID,
) -> dict[str, str]:
    """Build the form Twilio POSTs to the voice webhook when someone calls our number."""
    return {
        "CallSid": sid or new_sid("CA"), "AccountSid": account_sid, "ApiVersion": API_VERSION,
        "From": caller, "Caller": caller, "To": to, "Called": to,
        "CallStatus": status, "Direction": "inbound",
        "FromCountry": country_of(caller), "CallerCountry": country_of(caller), "FromState": "", "FromCity": "",
        "FromZip": "", "ToCountry": country_of(to), "CalledCountry": country_of(to), "ToState": "", "ToCity": "",
        "ToZip": "",
    }  # fmt: skip


def gather_params(
    *,
    sender: str,
    to: str,
    digits: str,
    sid: str | None = None,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    direction: str = "outbound-api",
) -> dict[str, str]:
    """Build the form Twilio POSTs to a ``<Gather>`` action after a key press (on a call we placed, by default)."""
    return {
        "CallSid": sid or new_sid("CA"), "AccountSid": account_sid, "ApiVersion": API_VERSION,
        "From": sender, "Caller": sender, "To": to, "Called": to, "CallStatus": "in-progress",
        "Direction": direction, "Digits": digits, "FinishedOnKey": "",
    }  # fmt: skip


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Return the ``X-Twilio-Signature`` Twilio would send with a webhook POST of ``params`` to ``url``."""
    return str(RequestValidator(auth_token).compute_signature(url, params))


# --------------------------------------------------------------------------- the server


class _RequestHandler(BaseHTTPRequestHandler):
    """Routes HTTP requests to the owning :class:`FakeTwilioAPI`."""

    protocol_version = "HTTP/1.1"
    server: Server

    def do_POST(self) -> None:
        """Handle a resource creation."""
        self._handle()

    def do_GET(self) -> None:
        """Handle a media or recording download."""
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request stderr logging."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.server.fake.dispatch(self.command, self.path, self.headers.get("Authorization"), body)
        try:
            self._write(reply)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (timeout tests)
            self.close_connection = True

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Twilio-Request-Id", new_sid("RQ"))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)


class FakeTwilioAPI(LoopbackServer):
    """In-process fake of Twilio's REST API; use as a context manager or via start()/stop()."""

    handler = _RequestHandler
    thread_name = "fake-twilio"

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.delay = 0.0  # seconds to wait before answering each request (for timeout tests)
        super().__init__(host, port)
        self._cond = threading.Condition()
        self._sent: list[SentSMS] = []
        self._calls: list[Call] = []
        self._requests: list[Request] = []
        self._fault: _Fault | None = None
        self._opted_out: set[str] = set()
        self._media: dict[str, tuple[bytes, str]] = {}

    # ------------------------------------------------------------------ lifecycle

    # ------------------------------------------------------------------ recorded traffic

    @property
    def sent(self) -> list[SentSMS]:
        """Return a copy of the messages accepted so far, oldest first."""
        with self._cond:
            return list(self._sent)

    @property
    def calls(self) -> list[Call]:
        """Return a copy of the calls accepted so far, oldest first."""
        with self._cond:
            return list(self._calls)

    @property
    def requests(self) -> list[Request]:
        """Return a copy of every HTTP request received, refused ones included."""
        with self._cond:
            return list(self._requests)

    def clear(self) -> None:
        """Forget recorded traffic (faults, opt-outs and media are kept)."""
        with self._cond:
            self._sent.clear()
            self._calls.clear()
            self._requests.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[SentSMS]:
        """Block until at least ``count`` messages were accepted and return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._sent) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{len(self._sent)} of {count} messages within {timeout}s")
                self._cond.wait(remaining)
            return list(self._sent)

    async def wait_for_async(self, count: int, timeout: float = 5.0) -> list[SentSMS]:
        """Like :meth:`wait_for` but without blocking the event loop (use inside async tests)."""
        deadline = time.monotonic() + timeout
        while len(sent := self.sent) < count:
            if time.monotonic() >= deadline:
                raise AssertionError(f"{len(sent)} of {count} messages within {timeout}s")
            await asyncio.sleep(0.01)
        return sent

    async def wait_for_calls_async(self, count: int, timeout: float = 5.0) -> list[Call]:
        """Wait without blocking the event loop until at least ``count`` calls were placed; return them all."""
        deadline = time.monotonic() + timeout
        while len(calls := self.calls) < count:
            if time.monotonic() >= deadline:
                raise AssertionError(f"{len(calls)} of {count} calls within {timeout}s")
            await asyncio.sleep(0.01)
        return calls

    def message(self, sid: str) -> SentSMS:
        """Return the accepted message with this SID."""
        found = next((sms for sms in self.sent if sms.sid == sid), None)
        if found is None:
            raise KeyError(sid)
        return found

    # ------------------------------------------------------------------ set-up and fault injection

    def fail_next(
        self,
        *,
        status: int = 500,
        code: int | None = None,
        message: str | None = None,
        times: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next ``times`` authorized requests with an error (429 may carry ``Retry-After``)."""
        code = code or STATUS_CODES.get(status, 20500 if status >= 500 else 21211)
        message = message or ERRORS.get(code, (status, "Error"))[1]
        with self._cond:
            self._fault = _Fault(status, code, message, retry_after, times)

    def opt_out(self, number: str) -> None:
        """Make ``number`` a recipient who replied STOP: sending to it fails with error 21610."""
        with self._cond:
            self._opted_out.add(number)

    def add_media(self, path: str, content: bytes, content_type: str) -> str:
        """Serve ``content`` at ``path`` (behind basic auth); return the URL Twilio would give for it."""
        with self._cond:
            self._media[path] = (content, content_type)
        return f"https://api.twilio.com{path}"

    def status_params(self, sid: str, status: str, error_code: int | None = None) -> dict[str, str]:
        """Build the form Twilio POSTs to a message's status callback when its status changes."""
        sms = self.message(sid)
        service = sms.sender if sms.sender.startswith("MG") else None
        params = {
            "MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
            "AccountSid": self.account_sid, "To": sms.to, "From": SERVICE_NUMBER if service else sms.sender,
            "ApiVersion": API_VERSION,
        }  # fmt: skip
        if service:
            params["MessagingServiceSid"] = service
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return params

    # ------------------------------------------------------------------ dispatch

    def dispatch(self, method: str, path: str, authorization: str | None, body: bytes) -> Reply:
        """Handle one HTTP request; called by the server threads."""
        route = urlsplit(path).path
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True) if method == "POST" else []
        authorized = authorization == self._expected_authorization()
        if self.delay:
            time.sleep(self.delay)
        try:
            reply = self._answer(method, route, pairs) if authorized else ApiError(20003).reply()
        except ApiError as error:
            reply = error.reply()
        with self._cond:
            self._requests.append(Request(method, route, dict(pairs), reply.status, authorized))
            self._cond.notify_all()
        return reply

    def _expected_authorization(self) -> str:
        credentials = f"{self.account_sid}:{self.auth_token}".encode()
        return "Basic " + base64.b64encode(credentials).decode()

    def _answer(self, method: str, route: str, pairs: list[tuple[str, str]]) -> Reply:
        self._raise_fault()
        if method == "GET":
            return self._media_file(route)
        match = _PATH_RE.match(route)
        if match is None or match["account"] != self.account_sid:
            raise ApiError(20404, f"The requested resource {route} was not found")
        if match["resource"] == "Messages":
            return _created(self._create_message(pairs))
        return _created(self._create_call(dict(pairs)))

    def _raise_fault(self) -> None:
        with self._cond:
            fault = self._fault
            if fault is None:
                return
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._fault = None
        error = ApiError(fault.code, fault.message, fault.status)
        error.retry_after = fault.retry_after
        raise error

    def _media_file(self, route: str) -> Reply:
        with self._cond:
            found = self._media.get(route)
        if found is None:
            raise ApiError(20404, f"The requested resource {route} was not found")
        return Reply(200, found[0], content_type=found[1])

    def _create_message(self, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        params = dict(pairs)
        to, body = params.get("To", ""), params.get("Body", "")
        sender = params.get("From") or params.get("MessagingServiceSid") or ""
        media = tuple(value for key, value in pairs if key == "MediaUrl")
        _check_message(to, sender, body, media)
        with self._cond:
            if to in self._opted_out:
                raise ApiError(21610)
        sms = SentSMS(new_sid("SM"), to, sender, body, params.get("StatusCallback"), media, sms_segments(body)[1])
        with self._cond:
            self._sent.append(sms)
        return self._message_resource(sms)

    def _message_resource(self, sms: SentSMS) -> dict[str, Any]:
        service = sms.sender.startswith("MG")
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sms.sid}"
        now = _rfc2822()
        return {
            "account_sid": self.account_sid, "api_version": API_VERSION, "body": sms.body,
            "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": None if service else sms.sender,
            "messaging_service_sid": sms.sender if service else None, "num_media": str(len(sms.media_urls)),
            "num_segments": str(sms.num_segments), "price": None, "price_unit": "USD", "sid": sms.sid,
            "status": "accepted" if service else "queued", "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": sms.to, "uri": f"{uri}.json",
        }  # fmt: skip

    def _create_call(self, params: dict[str, str]) -> dict[str, Any]:
        to, sender = params.get("To", ""), params.get("From", "")
        if not to:
            raise ApiError(21201)
        if not sender:
            raise ApiError(21213)
        if not (params.get("Url") or params.get("Twiml") or params.get("ApplicationSid")):
            raise ApiError(21205)
        if len(params.get("Twiml", "")) > MAX_TWIML:
            raise ApiError(32018)
        call = Call(
            new_sid("CA"), to, sender, params.get("Url"), params.get("Twiml"), params.get("StatusCallback"), params
        )
        with self._cond:
            self._calls.append(call)
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{call.sid}"
        return {
            "sid": call.sid, "account_sid": self.account_sid, "api_version": API_VERSION, "to": to,
            "to_formatted": to, "from": sender, "from_formatted": sender, "status": "queued",
            "direction": "outbound-api", "date_created": _rfc2822(), "date_updated": _rfc2822(),
            "start_time": None, "end_time": None, "duration": None, "price": None, "price_unit": "USD",
            "answered_by": None, "caller_name": None, "parent_call_sid": None, "uri": f"{uri}.json",
            "subresource_uris": {"recordings": f"{uri}/Recordings.json"},
        }  # fmt: skip


def _check_message(to: str, sender: str, body: str, media: tuple[str, ...]) -> None:
    """Refuse a message the way Twilio does when a parameter is missing or wrong."""
    if not to:
        raise ApiError(21604)
    if not _E164.match(to):
        raise ApiError(21211, f"The 'To' number {to} is not a valid phone number.")
    if not sender:
        raise ApiError(21603)
    if not body and not media:
        raise ApiError(21602)
    if len(body) > MAX_BODY:
        raise ApiError(21617)


def _created(resource: dict[str, Any]) -> Reply:
    return Reply(201, json.dumps(resource).encode())


# --------------------------------------------------------------------------- standalone


def main(argv: list[str] | None = None) -> None:
    """Run the fake standalone until Ctrl-C, printing each accepted message's SID and segment count."""
    parser = argparse.ArgumentParser(description="Fake Twilio REST API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    args = parser.parse_args(argv)
    with FakeTwilioAPI(args.account_sid, args.auth_token, host=args.host, port=args.port) as fake:
        print(f"Fake Twilio API at {fake.url} (account {fake.account_sid})", flush=True)
        printed = 0
        try:
            while True:
                time.sleep(0.5)
                for sms in fake.sent[printed:]:
                    print(f"{sms.sid}: {sms.num_segments} segment(s)", flush=True)
                    printed += 1
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
