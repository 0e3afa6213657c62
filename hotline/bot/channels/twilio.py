"""SMS and page calls through Twilio's official library: send texts, ring volunteers with a page they
answer by a key, map Twilio's errors onto ours, fetch recordings and media.

A message whose ``extra`` carries ``call_page`` (the outbox's ``call`` channel) becomes a phone call that
reads the page and posts the pressed key to our voice webhook, when the deployment has a public URL.

Twilio's client always builds ``https://api.twilio.com/...`` URLs. As Twilio's documentation suggests
for such needs, a custom HTTP client (:class:`_ApiHttpClient`) moves every request onto
``HOTLINE_TWILIO_API_URL`` instead, so tests and the crash test talk to a fake server.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from hotline.bot import voice
from hotline.bot.channels.base import ChannelError, Delivery, Outgoing, PermanentFailure, TemporaryFailure
from hotline.bot.channels.sms import render_sms

log = logging.getLogger(__name__)

NAME = "sms"
DEFAULT_API_URL = "https://api.twilio.com"
API_VERSION = "2010-04-01"
OPTED_OUT = 21610  # the recipient replied STOP; Twilio refuses to send until they reply START
MAX_MEDIA_BYTES = 25 * 1024 * 1024
TIMEOUT = 15.0
RING_SECONDS = 30  # then voicemail would answer; the escalation's next step covers a missed call
CALL_SECONDS = 180  # hang up a page call that runs on (a voicemail box reading itself, a key never pressed)

# Headers of the last Twilio response seen in this task: TwilioRestException does not carry them.
_response_headers: ContextVar[Mapping[str, str] | None] = ContextVar("twilio_response_headers", default=None)


def rebase(url: str, api_url: str) -> str:
    """Move a Twilio URL onto ``api_url``, keeping its path and query."""
    parts = urlsplit(url)
    return api_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


def basic_authorization(user: str, password: str) -> str:
    """Return an HTTP basic ``Authorization`` header value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class _ApiHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's aiohttp client, sent to ``api_url``, with a timeout, remembering each response's headers."""

    def __init__(self, api_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.api_url = api_url

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Any:
        """Send one request to ``api_url``; Twilio's client passes no timeout, so the client's own applies."""
        target = rebase(url, self.api_url)
        headers = dict(headers or {})
        if auth is not None:  # Twilio's client would build an aiohttp BasicAuth, which aiohttp 3.14 deprecates
            headers["Authorization"] = basic_authorization(*auth)
        timeout = timeout or self.timeout
        response = await super().request(method, target, params, data, headers, None, timeout, allow_redirects)
        _response_headers.set(response.headers)
        return response


class TwilioChannel:
    """Sends SMS through Twilio's Messages API and page calls through its Calls API.

    SMS cannot be edited (an edit goes as a new SMS), deleted or carry buttons. Key presses on a page call are posted to
    ``{public_url}/webhooks/twilio/voice?page=<id>``; without a public URL the call only rings and
    points to the messages.
    """

    name = NAME

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        sender: str,
        api_url: str = DEFAULT_API_URL,
        status_callback: str | None = None,
        *,
        public_url: str = "",
        timeout: float = TIMEOUT,
    ) -> None:
        self.account_sid = account_sid
        self.sender = sender
        self.api_url = api_url.rstrip("/")
        self.status_callback = status_callback
        self.public_url = public_url.rstrip("/")
        self._auth_token = auth_token
        self._timeout = timeout
        self._client: Any = None
        self._downloads: httpx.AsyncClient | None = None

    async def send(self, address: str, message: Outgoing) -> Delivery:
        """Send one message as one SMS, or a page as a call; button answers and deletions send nothing."""
        if "call_page" in message.extra:
            return await self.call(address, message.extra)
        if message.callback_query_id is not None or message.delete_message_ids:
            return Delivery()
        body = render_sms(message)
        if not body:
            return Delivery()
        created = await _create(self._twilio().messages.create_async, to=address, body=body, **self._options())
        log.info("sms %s accepted by twilio", created.sid)
        return Delivery(provider_message_id=str(created.sid))

    async def call(self, address: str, page: Mapping[str, str]) -> Delivery:
        """Ring a volunteer and read them a page (``call_page``, ``call_text``, ``call_language``)."""
        if not self.sender.startswith("+"):
            raise PermanentFailure("calls need a phone number in HOTLINE_TWILIO_FROM, not a sender id or service")
        if not page["call_page"].isdigit():
            raise PermanentFailure("a page call without a page id")
        page_id = int(page["call_page"])
        action_url = voice.page_answer_url(self.public_url, page_id) if self.public_url else None
        twiml = voice.page_call(
            text=page.get("call_text", ""), language=page.get("call_language", ""), action_url=action_url
        )
        created = await _create(
            self._twilio().calls.create_async,
            to=address, from_=self.sender, twiml=twiml, timeout=RING_SECONDS, time_limit=CALL_SECONDS,
        )  # fmt: skip
        log.info("page %s: call %s accepted by twilio", page_id, created.sid)
        return Delivery(provider_message_id=str(created.sid))

    async def download(self, url: str) -> tuple[bytes, str | None]:
        """Fetch a recording or MMS media file of our account from Twilio; return its content and type."""
        target = self.media_url(url)
        try:
            async with self._http().stream("GET", target) as response:
                if response.status_code != 200:
                    raise _failure(response.status_code, None, response.headers.get("Retry-After"))
                content = await _read_capped(response)
                return content, response.headers.get("Content-Type")
        except httpx.TransportError as exc:
            raise TemporaryFailure(exc.__class__.__name__) from exc

    def media_url(self, url: str) -> str:
        """Return where to fetch a Twilio media URL from; refuse anything outside our account's resources."""
        parts = urlsplit(url)
        segments = parts.path.split("/")
        allowed = (
            parts.scheme in ("http", "https")
            and parts.path.startswith(f"/{API_VERSION}/Accounts/{self.account_sid}/")
            and not {".", ".."} & set(segments)
            and not any(ch in parts.path for ch in "%\\")
        )
        if not allowed:
            raise ValueError("not a media URL of this Twilio account")
        return rebase(url, self.api_url)

    async def close(self) -> None:
        """Close the HTTP sessions."""
        if self._client is not None:
            await self._client.http_client.close()
            self._client = None
        if self._downloads is not None:
            await self._downloads.aclose()
            self._downloads = None

    def _twilio(self) -> Any:
        if self._client is None:  # created on first use: aiohttp wants a running event loop
            http_client = _ApiHttpClient(self.api_url, self._timeout)
            self._client = Client(self.account_sid, self._auth_token, http_client=http_client)
        return self._client

    def _http(self) -> httpx.AsyncClient:
        if self._downloads is None:  # redirects to Twilio's media storage drop the credentials (httpx does)
            auth = (self.account_sid, self._auth_token)
            self._downloads = httpx.AsyncClient(auth=auth, timeout=self._timeout, follow_redirects=True)
        return self._downloads

    def _options(self) -> dict[str, str]:
        options = {"messaging_service_sid" if self.sender.startswith("MG") else "from_": self.sender}
        if self.status_callback:
            options["status_callback"] = self.status_callback
        return options


async def _create(create: Callable[..., Awaitable[Any]], **params: Any) -> Any:
    """Create a Twilio resource, turning Twilio's and the network's errors into ours."""
    try:
        return await create(**params)
    except (TwilioRestException, TwilioServiceException) as exc:
        # Twilio's error text may quote the phone number: keep it out of our error and its traceback.
        raise _failure(exc.status, exc.code, _last_retry_after()) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise TemporaryFailure(exc.__class__.__name__) from exc


def _failure(status: int, code: int | None, retry_after: str | None) -> ChannelError:
    """Map an HTTP status and a Twilio error code onto a temporary or a permanent failure."""
    code_text = str(code or status)
    if status == 429 or status >= 500:
        return TemporaryFailure(f"twilio http {status}", _seconds(retry_after), code=code_text)
    if code == OPTED_OUT:
        return PermanentFailure("opted out", code=code_text)
    return PermanentFailure(f"twilio http {status}, error {code_text}", code=code_text)


def _last_retry_after() -> str | None:
    headers = _response_headers.get()
    return headers.get("Retry-After") if headers is not None else None


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:  # the HTTP-date form: let the caller back off on its own
        return None


async def _read_capped(response: httpx.Response) -> bytes:
    """Read a response body, refusing one larger than ``MAX_MEDIA_BYTES``."""
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_MEDIA_BYTES:
        raise PermanentFailure("media too large")
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_MEDIA_BYTES:
            raise PermanentFailure("media too large")
        chunks.append(chunk)
    return b"".join(chunks)
