"""``hotline chat``: talk to the bot in a terminal as a person in the forest would.

Each line goes through the real inbox, dispatcher and outbox, so what you see is what a Telegram
or SMS user would get. ``/pin LAT LON`` shares a location; a number presses the button with that
number; ``/quit`` (or end of input) leaves.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from typing import TextIO

from sqlmodel import Session

from hotline.bot.channels.console import NAME, ConsoleChannel, ConsolePager
from hotline.bot.dispatcher import Dispatcher
from hotline.bot.oncall import rota
from hotline.bot.sender import OutboxSender, RateLimiter
from hotline.clock import utcnow
from hotline.flows.model import load_flows
from hotline.settings import Settings
from hotline.storage import inbox
from hotline.storage.db import Database

GREETING = (
    "Talking to the hotline as {style} user {address}. "
    "/pin LAT LON shares a location, a number answers a numbered choice, /quit leaves."
)


def parse_line(line: str, last_buttons: list[str]) -> tuple[str, dict[str, object]] | None:
    """Turn one typed line into an inbound kind and payload; ``None`` to leave."""
    text = line.strip()
    if text in ("/quit", "/exit"):
        return None
    parts = text.split()
    if len(parts) == 3 and parts[0] == "/pin":
        try:
            return "location", {"lat": float(parts[1]), "lon": float(parts[2]), "live": False}
        except ValueError:
            pass
    if text.isdigit() and 1 <= int(text) <= len(last_buttons):  # SMS has no buttons: numbers go as text
        return "button", {"data": last_buttons[int(text) - 1], "callback_query_id": secrets.token_hex(4)}
    return ("command" if text.startswith("/") else "text"), {"text": text}


async def run_chat(
    settings: Settings,
    database: Database,
    *,
    style: str = "telegram",
    language: str | None = None,
    address: str | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> None:
    """Run one terminal conversation until the person leaves."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    channel = "sms" if style == "sms" else NAME  # an SMS chat is a phone contact: numbers are read as on SMS
    address = address or (
        f"+000{secrets.randbelow(10**8):08d}" if style == "sms" else f"terminal-{secrets.token_hex(3)}"
    )
    console = ConsoleChannel(style=style, stream=stdout, name=channel)
    dispatcher = Dispatcher(database=database, settings=settings, flows=load_flows(), clock=utcnow)
    with database.session() as session:
        contact = inbox.find_or_create_contact(
            session, keyring=database.keyring, channel=channel, address=address, now=utcnow()
        )
        if language:
            contact.language = language
            contact.profile = {**(contact.profile or {}), "language_source": "chosen"}
        key = contact.address_index
        nobody = not _anyone_to_page(session)
    sender = OutboxSender(
        database=database,
        channels={channel: console, "pager": ConsolePager(stdout)},
        clock=utcnow,
        limiter=RateLimiter(per_chat_interval=0),
        console_key=key,
    )
    stdout.write(GREETING.format(style=style, address=address) + "\n")
    if nobody:
        stdout.write(
            "(Nobody is on duty, so no page will be printed: see `hotline volunteer add` and `hotline oncall set`.)\n"
        )
    await _converse(database, dispatcher, sender, console, channel, address, stdin, stdout)


def _anyone_to_page(session: Session) -> bool:
    """Tell whether a page would reach anyone now: someone on duty on a layer, or a coordinator."""
    now = utcnow()
    layers = (rota.on_duty_at(session, layer=layer, at=now) for layer in rota.LAYERS)
    return any(layers) or bool(rota.coordinators(session))


async def _converse(
    database: Database,
    dispatcher: Dispatcher,
    sender: OutboxSender,
    console: ConsoleChannel,
    channel: str,
    address: str,
    stdin: TextIO,
    stdout: TextIO,
) -> None:
    while True:
        stdout.write("\nyou> ")
        stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        buttons = [b.data for b in console.last_buttons] if channel != "sms" else []
        parsed = parse_line(line, buttons) if line else None
        if parsed is None:
            stdout.write("\n")
            return
        kind, payload = parsed
        with database.session() as session:
            inbox.store_event(
                session,
                keyring=database.keyring,
                channel=channel,
                provider_id=secrets.token_hex(8),
                address=address,
                kind=kind,
                payload=payload,
                now=utcnow(),
            )
        await asyncio.to_thread(dispatcher.drain)
        while await sender.send_due():
            pass
