"""Telegram through python-telegram-bot's ``Bot``: parse updates into inbound records, send outgoing ones.

Only the Bot API client and the update parser of python-telegram-bot are used; conversation state
and persistence are ours.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from hotline.bot.channels.base import Delivery, Outgoing, PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)

NAME = "telegram"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


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
    hints = {"language_code": message.from_user.language_code} if message.from_user else {}
    if message.location is not None:
        location = message.location
        payload = {"lat": location.latitude, "lon": location.longitude, "live": bool(location.live_period) or edited}
        return Inbound(provider_id, address, "location", {**payload, **hints})
    if message.text is not None:
        kind = "edited_text" if edited else ("command" if message.text.startswith("/") else "text")
        return Inbound(provider_id, address, kind, {"text": message.text, **hints})
    return Inbound(provider_id, address, "unsupported", {"type": _message_type(message), **hints})


def _callback(provider_id: str, update: Update) -> Inbound | None:
    query = update.callback_query
    if query is None or query.message is None:
        return None
    payload = {"data": query.data or "", "callback_query_id": query.id, "message_id": query.message.message_id}
    return Inbound(provider_id, str(query.message.chat.id), "button", payload)


def _message_type(message: Any) -> str:
    for kind in ("photo", "voice", "audio", "video", "document", "sticker", "contact", "video_note"):
        if getattr(message, kind, None):
            return kind
    return "other"


class TelegramChannel:
    """Sends texts, buttons, locations, edits and button answers through the Bot API."""

    name = NAME

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, address: str, message: Outgoing) -> Delivery:
        """Deliver one outgoing message, mapping Telegram errors onto temporary and permanent failures."""
        try:
            return await self._send(int(address), message)
        except RetryAfter as exc:
            raise TemporaryFailure("rate limited", _seconds(exc)) from exc
        except Forbidden as exc:
            raise PermanentFailure("forbidden") from exc
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return Delivery(message.edit_message_id)
            raise PermanentFailure("bad request") from exc
        except NetworkError as exc:
            raise TemporaryFailure(exc.__class__.__name__) from exc
        except TelegramError as exc:
            raise TemporaryFailure(exc.__class__.__name__) from exc

    async def _send(self, chat_id: int, message: Outgoing) -> Delivery:
        if message.callback_query_id is not None:
            await self.bot.answer_callback_query(message.callback_query_id, text=message.text or None)
            return Delivery()
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


def _markup(message: Outgoing) -> Any:
    if message.request_location:
        button = KeyboardButton(message.request_location, request_location=True)
        return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    if message.buttons:
        rows = [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in message.buttons]
        return InlineKeyboardMarkup(rows)
    return None


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form will become a timedelta
        warnings.simplefilter("ignore")
        value: Any = error.retry_after
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)
