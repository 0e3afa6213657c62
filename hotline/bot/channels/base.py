"""The channel port: what the outbox hands a channel, what comes back, and how sending fails.

Exceptions::

    ChannelError
    ├── TemporaryFailure   try again later (network, 5xx, rate limit with ``retry_after``)
    └── PermanentFailure   do not try again (blocked by the user, chat not found)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Button:
    """An inline button: its label and the data sent back when pressed."""

    label: str
    data: str


@dataclass(frozen=True)
class Outgoing:
    """One thing to send to one address, already translated."""

    text: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    request_location: str | None = None
    location: tuple[float, float] | None = None
    edit_message_id: str | None = None
    callback_query_id: str | None = None
    delete_message_ids: tuple[str, ...] = ()  # erase these from the chat (Telegram), sending nothing
    media: tuple[str, str] | None = None  # (kind, provider file id): photo, voice, audio, video, document
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """What the provider said after accepting a message."""

    provider_message_id: str | None = None


class ChannelError(Exception):
    """Sending failed."""


class TemporaryFailure(ChannelError):
    """Sending failed for now; ``retry_after`` seconds is the provider's wish, if it said one."""

    def __init__(self, reason: str, retry_after: float | None = None, code: str | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.code = code


class PermanentFailure(ChannelError):
    """Sending can never succeed for this message; ``code`` is the provider's error code, if any."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.code = code


class Channel(Protocol):
    """A way to reach people: one method to send."""

    name: str

    async def send(self, address: str, message: Outgoing) -> Delivery:
        """Deliver one message to an address, raising a ``ChannelError`` on failure."""
        ...
