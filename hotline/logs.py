"""Logging that keeps personal data out: our own code logs ids only, and chatty libraries are held back.

python-telegram-bot logs every Bot API call with its parameters at DEBUG (chat ids, texts,
coordinates) and httpx logs request URLs at INFO (the bot token sits in the URL), so both are
capped at WARNING whatever the root level is.
"""

from __future__ import annotations

import logging

TALKATIVE = ("httpx", "httpcore", "telegram", "twilio", "hpack", "uvicorn.access")


def hold_back_talkative_libraries() -> None:
    """Cap the loggers of libraries that would write message contents or tokens."""
    for name in TALKATIVE:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure(level: str) -> None:
    """Set up process logging for the command line."""
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    hold_back_talkative_libraries()
