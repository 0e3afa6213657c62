"""Channels: Telegram, the console, and a fake for tests, all behind one ``Channel`` protocol."""

from hotline.bot.channels.base import (
    Button,
    Channel,
    ChannelError,
    Delivery,
    Outgoing,
    PermanentFailure,
    TemporaryFailure,
)

__all__ = ["Button", "Channel", "ChannelError", "Delivery", "Outgoing", "PermanentFailure", "TemporaryFailure"]
