"""Telegram through python-telegram-bot's ``Bot``: parse updates into inbound records, send outgoing ones.

Only the Bot API client and the update parser of python-telegram-bot are used; conversation state
and persistence are ours. Files people send are fetched by id (``download``), never kept by Telegram for us.
"""

from __future__ import annotations

import logging
import mimetypes
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Location,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from hotline.bot.channels.base import ChannelError, Delivery, Outgoing, PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)

NAME = "telegram"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
MEDIA_TYPES = ("photo", "voice", "audio", "video", "video_note", "document")
MAX_DOWNLOAD = 20 * 1024 * 1024  # the Bot API refuses to hand out bigger files
MAX_CAPTION = 1024
DELETE_BATCH = 100
_SEND_MEDIA = {kind: f"send_{kind}" for kind in MEDIA_TYPES}
_GONE = ("can't be deleted", "to delete not found", "message_id_invalid")


@dataclass(frozen=True)
class Inbound:
    """A provider update reduced to what the dispatcher needs; ``payload`` is stored encrypted."""

    provider_id: str
    address: str
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


def make_bot(token: str, api_url: str, *, timeout: float = 10.0) -> Bot:
    """Create a Bot pointed at the Bot API server in the settings."""
    request = HTTPXRequest(
        connection_pool_size=16,
        connect_timeout=timeout,
        read_timeout=timeout,
        write_timeout=timeout,
        pool_timeout=timeout,
    )
    polling = HTTPXRequest(connection_pool_size=1, connect_timeout=timeout, read_timeout=timeout + 30)
    return Bot(
        token,
        base_url=f"{api_url}/bot",
        base_file_url=f"{api_url}/file/bot",
        request=request,
        get_updates_request=polling,
    )


def parse_update(data: dict[str, Any]) -> Inbound | None:
    """Reduce a Telegram update to an inbound record; ``None`` when it has no chat to answer."""
    update = Update.de_json(data, None)
    if update is None:
        return None
    provider_id = str(update.update_id)
    if update.callback_query is not None:
        return _callback(provider_id, update)
    message = update.message or update.edited_message
    if message is None:
        return None
    address = str(message.chat.id)
    edited = update.edited_message is not None
    common: dict[str, Any] = {"message_id": str(message.message_id)}
    if message.from_user:
        common["language_code"] = message.from_user.language_code
    if message.location is not None:
        return Inbound(provider_id, address, "location", {**_location(message, message.location, edited), **common})
    if message.text is not None:
        kind = "edited_text" if edited else ("command" if message.text.startswith("/") else "text")
        return Inbound(provider_id, address, kind, {"text": message.text, **common})
    media = _media(message)
    if media is not None:
        return Inbound(provider_id, address, "media", {**media, **({"edited": True} if edited else {}), **common})
    return Inbound(provider_id, address, "unsupported", {"type": _message_type(message), **common})


def _callback(provider_id: str, update: Update) -> Inbound | None:
    query = update.callback_query
    if query is None or query.message is None:
        return None
    payload = {"data": query.data or "", "callback_query_id": query.id, "message_id": query.message.message_id}
    return Inbound(provider_id, str(query.message.chat.id), "button", payload)


def _location(message: Message, location: Location, edited: bool) -> dict[str, Any]:
    live_period = _whole_seconds(location, "live_period")
    fixed = (message.edit_date or message.date).astimezone(UTC)
    payload: dict[str, Any] = {
        "lat": location.latitude,
        "lon": location.longitude,
        "live": bool(live_period) or edited,
        "fix_at": fixed.isoformat(),
    }
    if live_period:
        payload["live_period"] = live_period
    return payload


def _media(message: Message) -> dict[str, Any] | None:
    for kind in MEDIA_TYPES:
        found: Any = getattr(message, kind, None)
        if not found:
            continue
        item = (
            max(found, key=lambda size: (size.width * size.height, size.file_size or 0)) if kind == "photo" else found
        )
        return {
            "media": kind,
            "file_id": item.file_id,
            "file_unique_id": item.file_unique_id,
            "size": item.file_size,
            "duration": _whole_seconds(item, "duration"),
            "mime_type": getattr(item, "mime_type", None),
            "caption": message.caption or "",
        }
    return None


def _largest(sizes: Sequence[Any]) -> Any:
    return max(sizes, key=lambda size: (size.width * size.height, size.file_size or 0))


def _message_type(message: Message) -> str:
    for kind in ("sticker", "animation", "contact", "venue", "poll", "dice", "game", "story", *MEDIA_TYPES):
        if getattr(message, kind, None):
            return kind
    return "other"


def _whole_seconds(item: Any, attribute: str) -> int | None:
    """Read a PTB duration as whole seconds, whichever form this PTB version returns."""
    with warnings.catch_warnings():  # PTB 22 warns that the int form will become a timedelta
        warnings.simplefilter("ignore")
        value: Any = getattr(item, attribute, None)
    if value is None:
        return None
    return int(value.total_seconds()) if hasattr(value, "total_seconds") else int(value)


class TelegramChannel:
    """Sends texts, buttons, locations, files, edits, deletions and button answers through the Bot API."""

    name = NAME

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, address: str, message: Outgoing) -> Delivery:
        """Deliver one outgoing message, mapping Telegram errors onto temporary and permanent failures."""
        try:
            return await self._send(int(address), message)
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return Delivery(message.edit_message_id)
            raise _failure(exc) from exc
        except TelegramError as exc:
            raise _failure(exc) from exc

    async def download(self, file_id: str) -> tuple[bytes, str | None]:
        """Fetch a file a person sent, with its MIME type guessed from Telegram's file path."""
        try:
            file = await self.bot.get_file(file_id)
            if file.file_size is not None and file.file_size > MAX_DOWNLOAD:
                raise PermanentFailure("file too big")
            content = bytes(await file.download_as_bytearray())
        except BadRequest as exc:
            raise _download_failure(exc) from exc
        except TelegramError as exc:
            raise _failure(exc) from exc
        except RuntimeError as exc:  # Telegram gave no file_path: the file cannot be downloaded
            raise PermanentFailure("no file path") from exc
        if len(content) > MAX_DOWNLOAD:
            raise PermanentFailure("file too big")
        return content, mimetypes.guess_type(file.file_path or "")[0]

    async def _send(self, chat_id: int, message: Outgoing) -> Delivery:
        if message.callback_query_id is not None:
            await self.bot.answer_callback_query(message.callback_query_id, text=message.text or None)
            return Delivery()
        if message.delete_message_ids:
            return await self._delete(chat_id, message.delete_message_ids)
        if message.media is not None:
            return await self._send_media(chat_id, message, *message.media)
        if message.location is not None:
            sent = await self.bot.send_location(chat_id, latitude=message.location[0], longitude=message.location[1])
            return Delivery(str(sent.message_id))
        markup = _markup(message)
        if message.edit_message_id is not None:
            await self.bot.edit_message_text(
                message.text, chat_id=chat_id, message_id=int(message.edit_message_id), reply_markup=markup
            )
            return Delivery(message.edit_message_id)
        sent = await self.bot.send_message(chat_id, message.text, reply_markup=markup)
        return Delivery(str(sent.message_id))

    async def _delete(self, chat_id: int, message_ids: Sequence[str]) -> Delivery:
        numbers = [int(message_id) for message_id in message_ids]
        for start in range(0, len(numbers), DELETE_BATCH):
            try:
                await self.bot.delete_messages(chat_id, numbers[start : start + DELETE_BATCH])
            except BadRequest as exc:
                if not any(reason in str(exc).lower() for reason in _GONE):
                    raise
                log.info("chat messages already gone or too old to delete (batch at %s)", start)
        return Delivery()

    async def _send_media(self, chat_id: int, message: Outgoing, kind: str, file_id: str) -> Delivery:
        method = _SEND_MEDIA.get(kind)
        if method is None:
            raise PermanentFailure(f"unknown media kind {kind}")
        send = getattr(self.bot, method)
        markup = _markup(message)
        captioned = kind != "video_note" and _utf16_length(message.text) <= MAX_CAPTION
        if captioned or not message.text:
            extra = {"caption": message.text} if message.text else {}
            sent = await send(chat_id, file_id, reply_markup=markup, **extra)
            return Delivery(str(sent.message_id))
        await send(chat_id, file_id)
        sent = await self.bot.send_message(chat_id, message.text, reply_markup=markup)
        return Delivery(str(sent.message_id))


def _markup(message: Outgoing) -> Any:
    if message.request_location:
        button = KeyboardButton(message.request_location, request_location=True)
        words = [[KeyboardButton(b.label) for b in row] for row in message.buttons]  # they send their label
        return ReplyKeyboardMarkup([[button], *words], resize_keyboard=True, one_time_keyboard=True)
    if message.buttons:
        rows = [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in message.buttons]
        return InlineKeyboardMarkup(rows)
    return None


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _failure(error: TelegramError) -> ChannelError:
    """Map a Telegram error onto a temporary or a permanent failure."""
    if isinstance(error, RetryAfter):
        return TemporaryFailure("rate limited", _seconds(error))
    if isinstance(error, Forbidden):
        return PermanentFailure("forbidden")
    if isinstance(error, BadRequest):
        return PermanentFailure("bad request")
    return TemporaryFailure(error.__class__.__name__)


def _download_failure(error: BadRequest) -> ChannelError:
    reason = str(error).lower()
    if "too big" in reason:
        return PermanentFailure("file too big")
    if "temporarily unavailable" in reason:
        return TemporaryFailure("file temporarily unavailable")
    return PermanentFailure("bad file id")


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form will become a timedelta
        warnings.simplefilter("ignore")
        value: Any = error.retry_after
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)
