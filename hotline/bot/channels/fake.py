"""A channel that records what it is asked to send and fails on request: the test double for ``Channel``."""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.bot.channels.base import ChannelError, Delivery, Outgoing


@dataclass
class FakeChannel:
    """Keeps every sent message in ``sent``; raises the queued errors first."""

    name: str = "fake"
    sent: list[tuple[str, Outgoing]] = field(default_factory=list)
    failures: list[ChannelError] = field(default_factory=list)

    async def send(self, address: str, message: Outgoing) -> Delivery:
        """Record the message, or raise the next queued failure."""
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((address, message))
        return Delivery(provider_message_id=str(len(self.sent)))

    def texts(self, address: str | None = None) -> list[str]:
        """Return the texts sent, optionally to one address."""
        return [m.text for a, m in self.sent if address is None or a == address]
