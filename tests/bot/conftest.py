"""A harness that drives the real inbox, dispatcher and outbox with fake channels, one message at a time."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from hotline.bot.channels.base import Outgoing
from hotline.bot.channels.fake import FakeChannel
from hotline.bot.dispatcher import Dispatcher
from hotline.bot.sender import OutboxSender, RateLimiter
from hotline.flows.model import load_flows
from hotline.settings import Settings
from hotline.storage import inbox
from hotline.storage.db import Database
from tests.conftest import FakeClock, put_on_duty


class Harness:
    """Sends what a person or volunteer would, and returns what the bot sent back."""

    def __init__(self, database: Database, settings: Settings, clock: FakeClock) -> None:
        self.database = database
        self.clock = clock
        self.telegram = FakeChannel(name="telegram")
        self.pager = FakeChannel(name="pager")
        self.sms = FakeChannel(name="sms")
        self.dispatcher = Dispatcher(database=database, settings=settings, flows=load_flows(), clock=clock)
        self.sender = OutboxSender(
            database=database,
            channels={"telegram": self.telegram, "pager": self.pager, "sms": self.sms},
            clock=clock,
            limiter=RateLimiter(per_chat_interval=0, per_second=10_000),
        )
        self._ids = itertools.count(1)

    def store(
        self,
        address: str,
        kind: str,
        payload: dict[str, Any],
        provider_id: str | None = None,
        channel: str = "telegram",
    ) -> int | None:
        """Put one inbound event in the inbox, as a webhook would."""
        with self.database.session() as session:
            return inbox.store_event(
                session,
                keyring=self.database.keyring,
                channel=channel,
                provider_id=provider_id or str(next(self._ids)),
                address=address,
                kind=kind,
                payload=payload,
                now=self.clock(),
            )

    def run(self) -> None:
        """Process everything pending and deliver the outbox."""
        self.dispatcher.drain()
        while asyncio.run(self.sender.send_due()):
            pass

    def send(self, address: str, kind: str, payload: dict[str, Any], channel: str = "telegram") -> list[Outgoing]:
        """Store, process and deliver; return what was sent to that address on that channel."""
        fake = self.sms if channel == "sms" else self.telegram
        before = len(fake.sent)
        self.store(address, kind, payload, channel=channel)
        self.run()
        return [m for a, m in fake.sent[before:] if a == address]

    def text(self, phone: str, text: str) -> str:
        """Send an SMS from a phone number; return the bot's SMS texts joined."""
        return "\n".join(m.text for m in self.send(phone, "text", {"text": text}, channel="sms"))

    def say(self, address: str, text: str) -> str:
        """Send text; return the bot's texts joined."""
        kind = "command" if text.startswith("/") else "text"
        return "\n".join(m.text for m in self.send(address, kind, {"text": text}) if m.callback_query_id is None)

    def start(self, address: str, choice: str = "distress") -> str:
        """Open the chat and choose from the menu (distress: "I need help now"); return the bot's texts joined."""
        self.say(address, "/start")
        sent = self.press(address, f"a:choose:{choice}")
        return "\n".join(m.text for m in sent if m.callback_query_id is None)

    def pin(self, address: str, lat: float, lon: float) -> str:
        """Share a location pin; return the bot's texts joined."""
        return "\n".join(m.text for m in self.send(address, "location", {"lat": lat, "lon": lon, "live": False}))

    def press(self, address: str, data: str) -> list[Outgoing]:
        """Press an inline button; return everything sent back (button answer included)."""
        return self.send(address, "button", {"data": data, "callback_query_id": f"cq{next(self._ids)}"})

    def add_volunteer(self, chat: str = "900001") -> int:
        """Register a volunteer with a Telegram chat and put them on duty."""
        return put_on_duty(self.database, chat=chat, name="Vol Unteer")


@pytest.fixture
def harness(database: Database, settings_values: dict[str, str], clock: FakeClock) -> Harness:
    """Return a harness with Telegram turned on (a fake channel stands in for it)."""
    settings = Settings.from_mapping(
        {**settings_values, "HOTLINE_TELEGRAM_TOKEN": "123:TEST", "HOTLINE_TWILIO_ACCOUNT_SID": "ACtest"}
    )
    return Harness(database, settings, clock)
