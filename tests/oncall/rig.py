"""A strict paging rig: the real dispatcher, escalation and outbox, the real Telegram and Twilio clients,
fake Bot API and Twilio servers on loopback, and a clock moved by hand.

Tests read like a smoke test: ``rig.expect(page(A))`` says what volunteers must have received since
the last look, and fails on anything missing *or anything else*: an unexpected page is a bug.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from hotline.api.app import create_app
from hotline.bot.channels.base import Channel
from hotline.bot.channels.telegram import TelegramChannel, make_bot
from hotline.bot.dispatcher import Dispatcher
from hotline.bot.oncall import escalation
from hotline.bot.paging import reach_of
from hotline.bot.sender import OutboxSender, RateLimiter
from hotline.bot.service import make_twilio
from hotline.flows.model import load_flows
from hotline.settings import Settings
from hotline.storage import inbox
from hotline.storage.db import Database
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI, twilio_signature

PUBLIC = "https://hotline.example.org"
HOTLINE = "+37060000099"
TOKEN = "123456:TEST"


@dataclass(frozen=True)
class Seen:
    """One thing a volunteer received: a Telegram message, edit, pin or toast, an SMS, or a call."""

    kind: str  # message, edit, pin, toast, sms, call
    to: str
    text: str
    data: tuple[str, ...] = ()  # the inline buttons' callback data, in order


@dataclass(frozen=True)
class Want:
    """What a test expects a volunteer to receive: its kind, address and a piece of its text."""

    kind: str
    to: str
    text: str = ""

    def matches(self, seen: Seen) -> bool:
        return seen.kind == self.kind and seen.to == self.to and self.text in seen.text


def rig_settings(values: dict[str, str], telegram: FakeBotAPI, twilio: FakeTwilioAPI) -> Settings:
    """Return settings with Telegram and Twilio pointed at the fakes."""
    return Settings.from_mapping(
        {
            **values,
            "HOTLINE_TELEGRAM_TOKEN": TOKEN,
            "HOTLINE_TELEGRAM_API_URL": telegram.url,
            "HOTLINE_TWILIO_ACCOUNT_SID": twilio.account_sid,
            "HOTLINE_TWILIO_AUTH_TOKEN": twilio.auth_token,
            "HOTLINE_TWILIO_FROM": HOTLINE,
            "HOTLINE_TWILIO_API_URL": twilio.url,
            "HOTLINE_PUBLIC_URL": PUBLIC,
        }
    )


class Rig:
    """Drives one hotline instance step by step and checks what volunteers receive."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        clock: FakeClock,
        telegram: FakeBotAPI,
        twilio: FakeTwilioAPI,
        volunteers: set[str],
    ) -> None:
        self.database, self.settings, self.clock = database, settings, clock
        self.telegram, self.twilio = telegram, twilio
        self.volunteers = volunteers  # chat ids and phone numbers whose traffic is checked strictly
        self.bot = make_bot(TOKEN, telegram.url)
        self.sms_channel = make_twilio(settings)
        channels: dict[str, Channel] = {
            "telegram": TelegramChannel(self.bot), "sms": self.sms_channel, "call": self.sms_channel,
        }  # fmt: skip
        limiter = RateLimiter(per_chat_interval=0, per_second=10_000)
        self.sender = OutboxSender(database=database, channels=channels, clock=clock, limiter=limiter)
        self.dispatcher = Dispatcher(database=database, settings=settings, flows=load_flows(), clock=clock)
        self.app = create_app(settings, database=database, clock=clock, run_workers=False)
        self._ids = itertools.count(1)
        self._telegram_seen = 0
        self._sms_seen = 0
        self._calls_seen = 0

    async def start(self) -> None:
        """Connect the Telegram client."""
        await self.bot.initialize()

    async def close(self) -> None:
        """Close the clients."""
        await self.bot.shutdown()
        await self.sms_channel.close()

    async def tick(self) -> None:
        """Process the inbox, run due escalation steps, and deliver the outbox."""
        self.dispatcher.drain()
        with self.database.session() as session:
            reach = reach_of(self.settings)
            escalation.run_due_incidents(session, keyring=self.database.keyring, now=self.clock(), reach=reach)
        while await self.sender.send_due():
            pass

    async def wait(self, **delta: Any) -> None:
        """Let time pass, then tick."""
        self.clock.advance(**delta)
        await self.tick()

    async def event(self, channel: str, address: str, kind: str, payload: dict[str, Any]) -> None:
        """Store one inbound event as a webhook would, then tick."""
        with self.database.session() as session:
            inbox.store_event(
                session, keyring=self.database.keyring, channel=channel, provider_id=f"t{next(self._ids)}",
                address=address, kind=kind, payload=payload, now=self.clock(),
            )  # fmt: skip
        await self.tick()

    async def pin(self, chat: str, lat: float, lon: float) -> None:
        """A person shares a location pin on Telegram."""
        await self.event("telegram", chat, "location", {"lat": lat, "lon": lon, "live": False})

    async def write(self, chat: str, text: str) -> None:
        """Someone writes on Telegram."""
        await self.event("telegram", chat, "command" if text.startswith("/") else "text", {"text": text})

    async def press(self, chat: str, data: str) -> None:
        """Someone presses an inline button on Telegram."""
        await self.event("telegram", chat, "button", {"data": data, "callback_query_id": f"cq{next(self._ids)}"})

    async def text(self, phone: str, body: str) -> None:
        """Someone sends an SMS."""
        await self.event("sms", phone, "text", {"text": body})

    async def keypress(self, call_to: str, digits: str) -> str:
        """The volunteer answering the newest page call presses keys; return the TwiML answer."""
        call = [c for c in self.twilio.calls if c.to == call_to][-1]
        action = _gather_action(call.twiml or "")
        params = {"AccountSid": self.twilio.account_sid, "CallSid": call.sid, "Digits": digits, "To": call_to,
                  "From": HOTLINE, "Direction": "outbound-api", "CallStatus": "in-progress"}  # fmt: skip
        path = action.removeprefix(PUBLIC)
        headers = {"X-Twilio-Signature": twilio_signature(self.twilio.auth_token, action, params)}
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.post(path, data=params, headers=headers)
        assert response.status_code == 200, response.text
        await self.tick()
        return response.text

    def seen(self) -> list[Seen]:
        """Return what volunteers received since the last look."""
        calls = self.telegram.calls()
        new_calls, self._telegram_seen = calls[self._telegram_seen :], len(calls)
        sms = self.twilio.sent
        new_sms, self._sms_seen = sms[self._sms_seen :], len(sms)
        phone_calls = self.twilio.calls
        new_phone_calls, self._calls_seen = phone_calls[self._calls_seen :], len(phone_calls)
        found = [s for s in (_telegram_seen(c.method, c.params) for c in new_calls if not c.failed) if s]
        found += [Seen("sms", m.to, m.body) for m in new_sms]
        found += [Seen("call", c.to, c.twiml or "") for c in new_phone_calls]
        return [s for s in found if s.kind == "toast" or s.to in self.volunteers]

    def expect(self, *wanted: Want) -> list[Seen]:
        """Check that volunteers received exactly what is wanted since the last look (in any order)."""
        seen = self.seen()
        left = list(seen)
        for want in wanted:
            match = next((s for s in left if want.matches(s)), None)
            assert match is not None, f"expected {want}; volunteers received {seen}"
            left.remove(match)
        assert not left, f"unexpected for volunteers: {left}"
        return [next(s for s in seen if w.matches(s)) for w in wanted]

    def sent_to(self, address: str) -> list[str]:
        """Return every text a person's chat or phone has received so far."""
        texts = [
            c.params.get("text", "")
            for c in self.telegram.calls("sendMessage")
            if str(c.params.get("chat_id")) == address
        ]
        return texts + [m.body for m in self.twilio.sent if m.to == address]


def _telegram_seen(method: str, params: dict[str, Any]) -> Seen | None:
    to = str(params.get("chat_id", ""))
    markup = params.get("reply_markup") or {}
    data = tuple(b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row)
    kinds = {"sendMessage": "message", "editMessageText": "edit", "sendLocation": "pin"}
    if method in kinds:
        return Seen(kinds[method], to, str(params.get("text", "")), data)
    if method == "answerCallbackQuery":
        return Seen("toast", "", str(params.get("text", "")))
    return None


def _gather_action(twiml: str) -> str:
    start = twiml.index('action="') + len('action="')
    return twiml[start : twiml.index('"', start)].replace("&amp;", "&")
