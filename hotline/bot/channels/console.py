"""The console: ``hotline chat`` talks to the bot in a terminal, and pages are printed when no pager is set up.

Messages are rendered the way the chosen channel would show them: Telegram with buttons, SMS as
numbered lines with the segment count that an SMS would cost.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from hotline.bot.channels.base import Button, Delivery, Outgoing
from hotline.bot.channels.sms import render_sms, sms_segments

NAME = "console"
PAGER = "pager"


def render(message: Outgoing, style: str) -> str:
    """Render a message as the given channel style would show it."""
    if style == "sms":
        text = render_sms(message)
        encoding, segments = sms_segments(text)
        return f"{text}\n    ({encoding}, {segments} segment{'s' if segments != 1 else ''})"
    if message.location is not None:
        return f"[location pin {message.location[0]:.5f}, {message.location[1]:.5f}]"
    buttons = [b for row in message.buttons for b in row]
    lines = [message.text]
    if buttons:
        lines.append("  ".join(f"[{n}: {b.label}]" for n, b in enumerate(buttons, 1)))
    if message.request_location:
        lines.append(f"[{message.request_location}] (type /pin LAT LON)")
    return "\n".join(lines)


@dataclass
class ConsoleChannel:
    """Writes each message to a stream; remembers the buttons last shown so a number can press one."""

    style: str = "telegram"
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    name: str = NAME
    last_buttons: list[Button] = field(default_factory=list)

    async def send(self, address: str, message: Outgoing) -> Delivery:
        """Print the message as the bot's reply."""
        if message.callback_query_id is not None:
            if message.text:
                self.stream.write(f"  ({message.text})\n")
            return Delivery()
        self.last_buttons = [b for row in message.buttons for b in row]
        self.stream.write("\nbot> " + render(message, self.style).replace("\n", "\n     ") + "\n")
        self.stream.flush()
        return Delivery()


@dataclass
class ConsolePager:
    """Prints pages for volunteers who have no other channel; pages carry no personal data."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)
    name: str = PAGER

    async def send(self, address: str, message: Outgoing) -> Delivery:
        """Print the page with its volunteer id."""
        if message.callback_query_id is not None:
            return Delivery()
        title = "PAGE UPDATE" if message.edit_message_id else "PAGE"
        self.stream.write(f"\n=== {title} for volunteer {address} ===\n{message.text}\n")
        self.stream.flush()
        return Delivery(provider_message_id=message.edit_message_id or "printed")
