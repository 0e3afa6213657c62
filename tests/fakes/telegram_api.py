"""Fake Telegram Bot API server on loopback for tests, the crash test and benchmarks.

Stdlib only: a ``ThreadingHTTPServer`` in a daemon thread bound to ``127.0.0.1`` (port 0 by
default). Point a real ``telegram.Bot`` at it with ``base_url=f"{fake.url}/bot"``; requests then
arrive at ``/bot<TOKEN>/<method>``. Every call is recorded as a :class:`Call`; faults and delays
can be injected per method; updates can be queued for ``getUpdates`` long polling.

Module-level builders (:func:`text_update`, :func:`location_update`, :func:`callback_update`,
:func:`command_update`, :func:`edited_location_update`, :func:`live_location_update`,
:func:`photo_update`, :func:`voice_update`, :func:`media_update`) return plain dicts in real
Telegram shape for webhook tests. Files registered with :meth:`FakeBotAPI.add_file` are served by
``getFile`` and downloaded from ``/file/bot<TOKEN>/<file_path>``. All data produced here is fictional.

Run standalone for manual use::

    python -m tests.fakes.telegram_api --port 8081
"""

from __future__ import annotations

import argparse
import asyncio
import email.parser
import email.policy
import itertools
import json
import re
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.loopback import LoopbackServer, Server

JSONDict = dict[str, Any]
Handler = Callable[[JSONDict], Any]

DEFAULT_BOT_ID = 7000000001
DEFAULT_BOT_USERNAME = "border_hotline_test_bot"
MAX_POLL_WAIT = 2.0
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)

DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

_PATH_RE = re.compile(r"^/bot(?P<token>[^/]*)/(?P<method>[A-Za-z0-9_]+)/?$")
_FILE_RE = re.compile(r"^/file/bot(?P<token>[^/]*)/(?P<file_path>.+)$")
DOWNLOAD = "download"  # the name recorded (and faulted with fail_next) for file downloads
MAX_GET_FILE = 20 * 1024 * 1024
MEDIA_METHODS = {
    "sendPhoto": "photo",
    "sendVoice": "voice",
    "sendAudio": "audio",
    "sendVideo": "video",
    "sendVideoNote": "video_note",
    "sendDocument": "document",
}
UNDELETABLE = "Bad Request: message can't be deleted"
_update_ids = itertools.count(1_000_000)
_message_ids = itertools.count(1)


@dataclass(frozen=True)
class Call:
    """One recorded Bot API request; ``at`` is ``time.monotonic()`` on arrival."""

    method: str
    params: JSONDict
    at: float
    failed: bool = False
    token: str = ""


@dataclass
class _Fault:
    status: int
    description: str
    retry_after: int | None
    remaining: int


@dataclass(frozen=True)
class _StoredFile:
    content: bytes
    path: str
    reported_size: int | None


class ApiError(Exception):
    """An error response the fake returns instead of a result."""

    def __init__(self, status: int, description: str | None = None, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description or DEFAULT_DESCRIPTIONS.get(status, "Error")
        self.parameters = parameters

    def body(self) -> JSONDict:
        """Return the Telegram error JSON for this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


# --------------------------------------------------------------------------- request parsing


def normalize_value(value: str) -> Any:
    """Decode one form value: JSON where possible (``"123"`` -> 123), else the plain string."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_multipart(content_type: str, body: bytes) -> JSONDict:
    """Parse a multipart/form-data body; file parts become ``{"filename", "content_type", "data"}``."""
    raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    params: JSONDict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        payload = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            params[str(name)] = {"filename": filename, "content_type": part.get_content_type(), "data": payload}
        else:
            params[str(name)] = normalize_value(payload.decode("utf-8"))
    return params


def parse_params(content_type: str, body: bytes, query: str = "") -> JSONDict:
    """Parse query string plus a form, multipart or JSON body into normalized params."""
    params: JSONDict = {key: normalize_value(value) for key, value in parse_qsl(query)}
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return params
    if kind == "application/json":
        params.update(json.loads(body.decode("utf-8")))
    elif kind == "multipart/form-data":
        params.update(_parse_multipart(content_type, body))
    else:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        params.update({key: normalize_value(value) for key, value in pairs})
    return params


# --------------------------------------------------------------------------- object builders


def bot_user(bot_id: int = DEFAULT_BOT_ID, username: str = DEFAULT_BOT_USERNAME) -> JSONDict:
    """Return the bot's own User object (as in ``from`` of messages it sends)."""
    return {"id": bot_id, "is_bot": True, "first_name": "Border Hotline Test", "username": username}


def user(user_id: int, *, first_name: str = "Test", language_code: str = "en") -> JSONDict:
    """Return a fictional human User object."""
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code}


def chat(chat_id: int | str, *, first_name: str = "Test") -> JSONDict:
    """Return a Chat object: private for positive ids, supergroup for negative, channel for @names."""
    if isinstance(chat_id, str):
        username = chat_id.lstrip("@")
        return {"id": -1000000000000 - zlib.crc32(username.encode()), "type": "channel", "username": username}
    if chat_id < 0:
        return {"id": chat_id, "type": "supergroup", "title": "Test Group"}
    return {"id": chat_id, "type": "private", "first_name": first_name}


def _update_id(given: int | None) -> int:
    return next(_update_ids) if given is None else given


def _user_message(chat_id: int, user_id: int | None, language_code: str, first_name: str, **extra: Any) -> JSONDict:
    message: JSONDict = {
        "message_id": extra.pop("message_id", None) or next(_message_ids),
        "date": int(time.time()),
        "chat": chat(chat_id, first_name=first_name),
        "from": user(user_id or chat_id, first_name=first_name, language_code=language_code),
    }
    message.update(extra)
    return message


def _location(lat: float, lon: float, **optional: Any) -> JSONDict:
    location: JSONDict = {"latitude": lat, "longitude": lon}
    location.update({key: value for key, value in optional.items() if value is not None})
    return location


def text_update(
    update_id: int | None,
    chat_id: int,
    text: str,
    *,
    user_id: int | None = None,
    language_code: str = "en",
    first_name: str = "Test",
) -> JSONDict:
    """Build an Update with a private text message (``update_id=None`` auto-increments)."""
    message = _user_message(chat_id, user_id, language_code, first_name, text=text)
    return {"update_id": _update_id(update_id), "message": message}


def command_update(
    update_id: int | None,
    chat_id: int,
    command: str,
    *,
    user_id: int | None = None,
    language_code: str = "en",
) -> JSONDict:
    """Build an Update whose text starts with a ``bot_command`` entity, e.g. ``"/start payload"``."""
    update = text_update(update_id, chat_id, command, user_id=user_id, language_code=language_code)
    length = len(command.split(maxsplit=1)[0].encode("utf-16-le")) // 2
    update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return update


def location_update(
    update_id: int | None,
    chat_id: int,
    lat: float,
    lon: float,
    *,
    live_period: int | None = None,
    horizontal_accuracy: float | None = None,
    user_id: int | None = None,
    language_code: str = "en",
) -> JSONDict:
    """Build an Update with a location message (a live location when ``live_period`` is set)."""
    location = _location(lat, lon, live_period=live_period, horizontal_accuracy=horizontal_accuracy)
    message = _user_message(chat_id, user_id, language_code, "Test", location=location)
    return {"update_id": _update_id(update_id), "message": message}


def edited_location_update(
    update_id: int | None,
    chat_id: int,
    lat: float,
    lon: float,
    *,
    message_id: int = 1,
    live_period: int = 900,
    heading: int | None = None,
    horizontal_accuracy: float | None = None,
    user_id: int | None = None,
    language_code: str = "en",
) -> JSONDict:
    """Build an Update with an ``edited_message`` carrying a live location move."""
    location = _location(lat, lon, live_period=live_period, heading=heading, horizontal_accuracy=horizontal_accuracy)
    message = _user_message(chat_id, user_id, language_code, "Test", message_id=message_id, location=location)
    message["edit_date"] = message["date"]
    message["date"] -= 60
    return {"update_id": _update_id(update_id), "edited_message": message}


def live_location_update(
    update_id: int | None,
    chat_id: int,
    lat: float,
    lon: float,
    *,
    live_period: int = 900,
    date: int | None = None,
    edit_date: int | None = None,
    message_id: int | None = None,
    user_id: int | None = None,
    language_code: str = "en",
) -> JSONDict:
    """Build a live location: a new message, or with ``edit_date`` an ``edited_message`` moving it."""
    location = _location(lat, lon, live_period=live_period)
    extra: JSONDict = {"location": location, "message_id": message_id}
    if date is not None:
        extra["date"] = date
    message = _user_message(chat_id, user_id, language_code, "Test", **extra)
    if edit_date is None:
        return {"update_id": _update_id(update_id), "message": message}
    message["edit_date"] = edit_date
    return {"update_id": _update_id(update_id), "edited_message": message}


def media_object(kind: str, file_id: str, *, file_size: int | None = None, **fields: Any) -> Any:
    """Return the Telegram object of one file (for ``photo``, the list of sizes, largest last)."""
    unique = f"u{zlib.crc32(file_id.encode()):08x}"
    base: JSONDict = {"file_id": file_id, "file_unique_id": unique}
    if file_size is not None:
        base["file_size"] = file_size
    if kind == "photo":
        small = {"file_id": f"{file_id}-s", "file_unique_id": f"{unique}s", "width": 90, "height": 67, "file_size": 900}
        return [small, {**base, "width": 1280, "height": 960}]
    defaults: dict[str, JSONDict] = {
        "voice": {"duration": 7, "mime_type": "audio/ogg"},
        "audio": {"duration": 30, "mime_type": "audio/mpeg"},
        "video": {"duration": 12, "width": 640, "height": 360, "mime_type": "video/mp4"},
        "video_note": {"duration": 9, "length": 240},
        "document": {"file_name": "document.pdf", "mime_type": "application/pdf"},
    }
    return {**base, **defaults[kind], **fields}


def media_update(
    update_id: int | None,
    chat_id: int,
    kind: str,
    file_id: str,
    *,
    caption: str | None = None,
    file_size: int | None = None,
    message_id: int | None = None,
    edited: bool = False,
    user_id: int | None = None,
    language_code: str = "en",
    **fields: Any,
) -> JSONDict:
    """Build an Update with a photo, voice, audio, video, video_note or document message."""
    extra: JSONDict = {kind: media_object(kind, file_id, file_size=file_size, **fields), "message_id": message_id}
    if caption is not None:
        extra["caption"] = caption
    message = _user_message(chat_id, user_id, language_code, "Test", **extra)
    if edited:
        message["edit_date"] = message["date"]
        return {"update_id": _update_id(update_id), "edited_message": message}
    return {"update_id": _update_id(update_id), "message": message}


def photo_update(
    update_id: int | None,
    chat_id: int,
    file_id: str,
    *,
    caption: str | None = None,
    file_size: int | None = 120_000,
    message_id: int | None = None,
    user_id: int | None = None,
    language_code: str = "en",
) -> JSONDict:
    """Build an Update with a photo in two sizes; the larger one carries ``file_id``."""
    return media_update(
        update_id, chat_id, "photo", file_id, caption=caption, file_size=file_size, message_id=message_id,
        user_id=user_id, language_code=language_code,
    )  # fmt: skip


def voice_update(
    update_id: int | None,
    chat_id: int,
    file_id: str,
    *,
    duration: int = 7,
    file_size: int | None = 24_000,
    mime_type: str = "audio/ogg",
    message_id: int | None = None,
    user_id: int | None = None,
    language_code: str = "en",
) -> JSONDict:
    """Build an Update with a voice note."""
    return media_update(
        update_id, chat_id, "voice", file_id, file_size=file_size, message_id=message_id, user_id=user_id,
        language_code=language_code, duration=duration, mime_type=mime_type,
    )  # fmt: skip


def callback_update(
    update_id: int | None,
    chat_id: int,
    data: str,
    *,
    message_id: int = 1,
    user_id: int | None = None,
    language_code: str = "en",
    message_text: str = "Choose an option",
) -> JSONDict:
    """Build an Update with a callback_query from an inline button on a bot message."""
    uid = _update_id(update_id)
    bot_message = {
        "message_id": message_id,
        "date": int(time.time()) - 5,
        "chat": chat(chat_id),
        "from": bot_user(),
        "text": message_text,
    }
    query = {
        "id": f"cbq-{uid}",
        "from": user(user_id or chat_id, language_code=language_code),
        "message": bot_message,
        "chat_instance": f"ci-{chat_id}",
        "data": data,
    }
    return {"update_id": uid, "callback_query": query}


# --------------------------------------------------------------------------- the server


def page_id_of(call: Call) -> int | None:
    """Return the page a recorded page message belongs to, read from its ``ack:<page id>`` button."""
    markup = call.params.get("reply_markup")
    if call.method != "sendMessage" or not isinstance(markup, dict):
        return None
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = str(button.get("callback_data", ""))
            if data.startswith("ack:"):
                return int(data.removeprefix("ack:"))
    return None


class _RequestHandler(BaseHTTPRequestHandler):
    """Routes HTTP requests to the owning :class:`FakeBotAPI`."""

    protocol_version = "HTTP/1.1"
    server: Server

    def do_POST(self) -> None:
        """Handle a POST Bot API request."""
        self._handle()

    def do_GET(self) -> None:
        """Handle a GET Bot API request (query-string parameters)."""
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request stderr logging."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/file/"):
            status, data, content_type = self.server.fake.download(self.path)
        else:
            status, payload = self.server.fake.dispatch(self.path, self.headers.get("Content-Type", ""), body)
            data, content_type = json.dumps(payload).encode("utf-8"), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeBotAPI(LoopbackServer):
    """In-process fake of the Telegram Bot API; use as a context manager or via start()/stop()."""

    handler = _RequestHandler
    thread_name = "fake-telegram"

    def __init__(self, token: str | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.expected_token = token
        self.max_poll_wait = MAX_POLL_WAIT
        self.webhook: JSONDict = {}
        self.commands: list[Any] = []
        self.on_call: Callable[[Call], None] | None = None
        super().__init__(host, port)
        self._cond = threading.Condition()
        self._calls: list[Call] = []
        self._tokens: list[str] = []
        self._updates: list[JSONDict] = []
        self._faults: dict[str, _Fault] = {}
        self._delays: dict[str, float] = {}
        self._messages: dict[tuple[Any, int], JSONDict] = {}
        self._next_message_id: dict[Any, int] = {}
        self._files: dict[str, _StoredFile] = {}
        self._undeletable: set[int] = set()
        self.deleted: list[tuple[Any, int]] = []
        self._stopping = False
        self._handlers: dict[str, tuple[str, Handler]] = {}
        for name, handler in self._builtin_handlers().items():
            self.set_handler(name, handler)

    # ------------------------------------------------------------------ lifecycle

    def _before_start(self) -> None:
        self._stopping = False

    def _before_stop(self) -> None:
        """Wake long pollers before the server goes."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give ``telegram.Bot`` (``f"{url}/bot"``)."""
        return f"{self.url}/bot"

    @property
    def tokens(self) -> list[str]:
        """Distinct tokens seen so far, in order of first use."""
        with self._cond:
            return list(self._tokens)

    # ------------------------------------------------------------------ recorded calls

    def calls(self, method: str | None = None) -> list[Call]:
        """Return a copy of recorded calls, optionally only those of ``method`` (case-insensitive)."""
        with self._cond:
            if method is None:
                return list(self._calls)
            return [call for call in self._calls if call.method.lower() == method.lower()]

    def clear(self) -> None:
        """Forget recorded calls (faults, delays, updates and webhook are kept)."""
        with self._cond:
            self._calls.clear()

    def wait_for(self, predicate: Callable[[Call], bool] | str, timeout: float = 5.0) -> Call:
        """Block until a recorded call matches and return it; a method name matches its non-failed calls."""
        match = _as_predicate(predicate)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = next((call for call in self._calls if match(call)), None)
                remaining = deadline - time.monotonic()
                if found is not None or remaining <= 0:
                    break
                self._cond.wait(remaining)
        if found is None:
            raise AssertionError(f"no matching call within {timeout}s; recorded: {self._method_names()}")
        return found

    async def wait_for_async(self, predicate: Callable[[Call], bool] | str, timeout: float = 5.0) -> Call:
        """Like :meth:`wait_for` but without blocking the event loop (use inside async tests)."""
        match = _as_predicate(predicate)
        deadline = time.monotonic() + timeout
        while True:
            found = next((call for call in self.calls() if match(call)), None)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(f"no matching call within {timeout}s; recorded: {self._method_names()}")
            await asyncio.sleep(0.01)

    def _method_names(self) -> list[str]:
        return [call.method for call in self.calls()]

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        retry_after: int | None = None,
        description: str | None = None,
        count: int = 1,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with ``status`` (429 gets retry_after, default 3)."""
        if status == 429 and retry_after is None:
            retry_after = 3
        if description is None:
            description = _default_description(status, retry_after)
        with self._cond:
            self._faults[method.lower()] = _Fault(status, description, retry_after, count)

    def delay(self, method: str, seconds: float) -> None:
        """Make every call of ``method`` sleep ``seconds`` before answering (0 removes the delay)."""
        with self._cond:
            if seconds > 0:
                self._delays[method.lower()] = seconds
            else:
                self._delays.pop(method.lower(), None)

    def set_handler(self, method: str, handler: Handler) -> None:
        """Add or replace a method; ``handler(params)`` returns the result or raises :class:`ApiError`."""
        self._handlers[method.lower()] = (method, handler)

    # ------------------------------------------------------------------ files and deletions

    def add_file(
        self, file_id: str, content: bytes, *, file_path: str | None = None, reported_size: int | None = None
    ) -> str:
        """Register a file for getFile and download; ``reported_size`` overrides the size getFile tells."""
        path = file_path or f"documents/file_{zlib.crc32(file_id.encode())}.bin"
        with self._cond:
            self._files[file_id] = _StoredFile(content, path, reported_size)
        return path

    def forbid_deleting(self, *message_ids: int) -> None:
        """Make these message ids answer "message can't be deleted", as too old ones do."""
        with self._cond:
            self._undeletable.update(message_ids)

    def download(self, path: str) -> tuple[int, bytes, str]:
        """Serve ``/file/bot<TOKEN>/<file_path>``; return ``(status, body, content_type)``."""
        arrived = time.monotonic()
        route = _FILE_RE.match(urlsplit(path).path)
        file_path = route["file_path"] if route else path
        token = route["token"] if route else ""
        call = Call(DOWNLOAD, {"file_path": file_path}, arrived, token=token)
        outcome = self._run(call, self._file_content)
        status, payload = self._finish(call, outcome)
        if status != 200:
            return status, json.dumps(payload).encode("utf-8"), "application/json"
        return 200, outcome, "application/octet-stream"

    def _file_content(self, params: JSONDict) -> bytes:
        with self._cond:
            found = next((f for f in self._files.values() if f.path == params["file_path"]), None)
        if found is None:
            raise ApiError(404)
        return found.content

    # ------------------------------------------------------------------ updates

    def push_update(self, update: JSONDict) -> int:
        """Queue an update for getUpdates (assigning an update_id if missing); returns its update_id."""
        with self._cond:
            if "update_id" not in update:
                last = max((int(queued["update_id"]) for queued in self._updates), default=None)
                update = {**update, "update_id": next(_update_ids) if last is None else last + 1}
            self._updates.append(update)
            self._cond.notify_all()
            return int(update["update_id"])

    def pending_updates(self) -> list[JSONDict]:
        """Return a copy of the queued, unconfirmed updates."""
        with self._cond:
            return list(self._updates)

    # ------------------------------------------------------------------ dispatch

    def dispatch(self, path: str, content_type: str, body: bytes) -> tuple[int, JSONDict]:
        """Handle one HTTP request and return ``(status, json_body)``; called by the server threads."""
        arrived = time.monotonic()
        parts = urlsplit(path)
        route = _PATH_RE.match(parts.path)
        try:
            params = parse_params(content_type, body, parts.query)
        except (ValueError, UnicodeDecodeError):
            params = {}
        if route is None:
            return self._finish(Call(parts.path, params, arrived, failed=True), ApiError(404))
        token, raw_method = route["token"], route["method"]
        method, handler = self._handlers.get(raw_method.lower(), (raw_method, None))
        call = Call(method, params, arrived, token=token)
        outcome = self._run(call, handler)
        return self._finish(call, outcome)

    def _run(self, call: Call, handler: Handler | None) -> Any:
        self._note_token(call.token)
        if self.expected_token is not None and call.token != self.expected_token:
            return ApiError(401)
        self._apply_delay(call.method)
        fault = self._take_fault(call.method)
        if fault is not None:
            return fault
        if handler is None:
            return ApiError(404)
        try:
            return handler(call.params)
        except ApiError as error:
            return error
        except (KeyError, TypeError, ValueError) as error:
            return ApiError(400, f"Bad Request: {error}")

    def _finish(self, call: Call, outcome: Any) -> tuple[int, JSONDict]:
        failed = isinstance(outcome, ApiError)
        recorded = Call(call.method, call.params, call.at, failed=failed, token=call.token)
        with self._cond:
            self._calls.append(recorded)
            self._cond.notify_all()
        if self.on_call is not None:
            self.on_call(recorded)
        if isinstance(outcome, ApiError):
            return outcome.status, outcome.body()
        if isinstance(outcome, bytes):
            return 200, {"ok": True, "size": len(outcome)}
        return 200, {"ok": True, "result": outcome}

    def _note_token(self, token: str) -> None:
        with self._cond:
            if token not in self._tokens:
                self._tokens.append(token)

    def _apply_delay(self, method: str) -> None:
        with self._cond:
            seconds = self._delays.get(method.lower(), 0.0)
        if seconds:
            time.sleep(seconds)

    def _take_fault(self, method: str) -> ApiError | None:
        with self._cond:
            fault = self._faults.get(method.lower())
            if fault is None:
                return None
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self._faults[method.lower()]
        parameters = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
        return ApiError(fault.status, fault.description, parameters)

    # ------------------------------------------------------------------ method implementations

    def _builtin_handlers(self) -> dict[str, Handler]:
        return {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "sendLocation": self._send_location,
            "sendChatAction": _true,
            "answerCallbackQuery": _true,
            "deleteMessage": lambda params: self._delete(params, [int(params["message_id"])]),
            "deleteMessages": lambda params: self._delete(params, [int(i) for i in params["message_ids"]]),
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": lambda params: list(self.commands),
            "deleteMyCommands": self._delete_my_commands,
            "getFile": self._get_file,
            **{method: self._media_sender(kind) for method, kind in MEDIA_METHODS.items()},
        }

    def _bot_id(self) -> int:
        prefix = (self.expected_token or (self._tokens[-1] if self._tokens else "")).split(":", 1)[0]
        return int(prefix) if prefix.isdigit() else DEFAULT_BOT_ID

    def _get_me(self, params: JSONDict) -> JSONDict:
        me = bot_user(self._bot_id())
        me.update(
            can_join_groups=True,
            can_read_all_group_messages=False,
            supports_inline_queries=False,
            can_connect_to_business=False,
            has_main_web_app=False,
        )
        return me

    def _new_message(self, params: JSONDict, **content: Any) -> JSONDict:
        chat_id = params["chat_id"]
        with self._cond:
            message_id = self._next_message_id.get(chat_id, 0) + 1
            self._next_message_id[chat_id] = message_id
        message: JSONDict = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat(chat_id),
            "from": bot_user(self._bot_id()),
            **content,
        }
        _echo_inline_markup(message, params)
        with self._cond:
            self._messages[(chat_id, message_id)] = message
        return message

    def _send_message(self, params: JSONDict) -> JSONDict:
        return self._new_message(params, text=str(params["text"]))

    def _media_sender(self, kind: str) -> Handler:
        def send(params: JSONDict) -> JSONDict:
            given = params[kind]
            file_id = given if isinstance(given, str) else f"uploaded-{next(_message_ids)}"
            content: JSONDict = {kind: media_object(kind, file_id)}
            if params.get("caption"):
                if len(str(params["caption"])) > 1024:
                    raise ApiError(400, "Bad Request: message caption is too long")
                content["caption"] = str(params["caption"])
            return self._new_message(params, **content)

        return send

    def _get_file(self, params: JSONDict) -> JSONDict:
        file_id = str(params["file_id"])
        with self._cond:
            found = self._files.get(file_id)
        if found is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        size = found.reported_size if found.reported_size is not None else len(found.content)
        if size > MAX_GET_FILE:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{zlib.crc32(file_id.encode()):08x}",
            "file_size": size,
            "file_path": found.path,
        }

    def _delete(self, params: JSONDict, message_ids: list[int]) -> bool:
        chat_id = params["chat_id"]
        with self._cond:
            if any(message_id in self._undeletable for message_id in message_ids):
                raise ApiError(400, UNDELETABLE)
            for message_id in message_ids:
                self._messages.pop((chat_id, message_id), None)
                self.deleted.append((chat_id, message_id))
        return True

    def _send_location(self, params: JSONDict) -> JSONDict:
        location = _location(
            float(params["latitude"]),
            float(params["longitude"]),
            live_period=params.get("live_period"),
            heading=params.get("heading"),
            horizontal_accuracy=params.get("horizontal_accuracy"),
        )
        return self._new_message(params, location=location)

    def _edited(self, params: JSONDict, **changes: Any) -> JSONDict | bool:
        if "inline_message_id" in params:
            return True
        key = (params["chat_id"], int(params["message_id"]))
        with self._cond:
            base = self._messages.get(key) or {
                "message_id": key[1],
                "date": int(time.time()),
                "chat": chat(key[0]),
                "from": bot_user(self._bot_id()),
            }
            message = {**base, **changes, "edit_date": int(time.time())}
            message.pop("reply_markup", None)
            _echo_inline_markup(message, params)
            self._messages[key] = message
        return message

    def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        return self._edited(params, text=str(params["text"]))

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        return self._edited(params)

    def _set_webhook(self, params: JSONDict) -> bool:
        with self._cond:
            self.webhook = {key: value for key, value in params.items() if key != "certificate"}
            self.webhook["has_custom_certificate"] = "certificate" in params
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _delete_webhook(self, params: JSONDict) -> bool:
        with self._cond:
            self.webhook = {}
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        with self._cond:
            info: JSONDict = {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": bool(self.webhook.get("has_custom_certificate")),
                "pending_update_count": len(self._updates),
            }
            for key in ("allowed_updates", "max_connections", "ip_address"):
                if key in self.webhook:
                    info[key] = self.webhook[key]
        return info

    def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        deadline = time.monotonic() + wait
        with self._cond:
            if self.webhook.get("url"):
                raise ApiError(409, WEBHOOK_CONFLICT)
            self._confirm(offset)
            while not self._updates and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return list(self._updates[: max(1, min(limit, 100))])

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _set_my_commands(self, params: JSONDict) -> bool:
        self.commands = list(params.get("commands") or [])
        return True

    def _delete_my_commands(self, params: JSONDict) -> bool:
        self.commands = []
        return True


def _true(params: JSONDict) -> bool:
    return True


def _echo_inline_markup(message: JSONDict, params: JSONDict) -> None:
    """Telegram only echoes inline keyboards back in Message.reply_markup."""
    markup = params.get("reply_markup")
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        message["reply_markup"] = markup


def _default_description(status: int, retry_after: int | None) -> str:
    if status == 429:
        return f"Too Many Requests: retry after {retry_after}"
    return DEFAULT_DESCRIPTIONS.get(status, "Error")


def _as_predicate(predicate: Callable[[Call], bool] | str) -> Callable[[Call], bool]:
    if isinstance(predicate, str):
        name = predicate.lower()
        return lambda call: call.method.lower() == name and not call.failed
    return predicate


# --------------------------------------------------------------------------- standalone


def main(argv: list[str] | None = None) -> None:
    """Run the fake standalone until Ctrl-C, printing the URL and each method name."""
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=None, help="only accept this token (401 otherwise)")
    args = parser.parse_args(argv)
    fake = FakeBotAPI(args.token, host=args.host, port=args.port)
    fake.on_call = lambda call: print(f"{call.method}{' FAILED' if call.failed else ''}", flush=True)
    with fake:
        print(f"Fake Telegram Bot API at {fake.url} (base_url={fake.base_url})", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
