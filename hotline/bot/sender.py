"""The outbox sender: lease due messages, deliver them through their channel, record what happened.

Telegram allows about one message a second per chat and thirty a second overall; the limiter keeps
to that in this process and honours any ``retry_after`` the provider sends. Temporary failures are
retried with growing pauses; permanent ones are recorded and left visible.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from hotline.bot import delivery
from hotline.bot.channels.base import Channel, PermanentFailure, TemporaryFailure
from hotline.bot.replies import outgoing
from hotline.storage import outbox
from hotline.storage.db import Database
from hotline.storage.models import Message

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 25
MAX_BACKOFF = 300.0
UNKNOWN_ORIGINAL = "the page it edits may have arrived before a crash"


class RateLimiter:
    """Spaces messages per chat and caps the overall rate, within one process."""

    def __init__(self, *, per_chat_interval: float = 1.0, per_second: int = 30) -> None:
        self.per_chat_interval = per_chat_interval
        self.per_second = per_second
        self._next_for: dict[str, float] = {}
        self._recent: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def wait(self, key: str, *, chat_message: bool) -> None:
        """Sleep until a message to this key may go out, and claim its slot."""
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next_for.get(key, now)) if chat_message else now
            while self._recent and self._recent[0] <= now - 1:
                self._recent.popleft()
            in_window = [t for t in self._recent if t > start - 1]
            if len(in_window) >= self.per_second:
                start = max(start, in_window[-self.per_second] + 1)
            bisect.insort(self._recent, start)
            if chat_message:
                self._next_for[key] = start + self.per_chat_interval
        if start > now:
            await asyncio.sleep(start - now)

    def busy_keys(self) -> list[str]:
        """Return the chats that must wait before their next message, forgetting those that need not."""
        now = time.monotonic()
        for key in [k for k, at in self._next_for.items() if at <= now]:
            del self._next_for[key]
        return list(self._next_for)

    def seconds_until_free(self) -> float | None:
        """Return how long until the first waiting chat may be sent to again."""
        if not self._next_for:
            return None
        return max(0.0, min(self._next_for.values()) - time.monotonic())

    def pause(self, key: str, seconds: float) -> None:
        """Hold back a chat after the provider asked us to wait."""
        self._next_for[key] = max(self._next_for.get(key, 0.0), time.monotonic() + seconds)


@dataclass(frozen=True)
class Claimed:
    """What a sender needs of a leased message, copied out of its session."""

    id: int
    channel: str
    kind: str
    recipient_key: str
    body: dict[str, Any]
    attempts: int
    edit_of_id: int | None
    contact_id: int | None


class OutboxSender:
    """Delivers due outbox messages for the channels it holds."""

    def __init__(
        self,
        *,
        database: Database,
        channels: Mapping[str, Channel],
        clock: Callable[[], datetime],
        limiter: RateLimiter | None = None,
        console_key: str | None = None,
    ) -> None:
        self.database = database
        self.channels = dict(channels)
        self.clock = clock
        self.limiter = limiter or RateLimiter()
        self.console_key = console_key

    async def send_due(self) -> int:
        """Deliver what is due now; return how many messages were tried."""
        claimed = await asyncio.to_thread(self._claim, self.limiter.busy_keys())
        await asyncio.gather(*(self._deliver(item) for item in claimed))
        return len(claimed)

    def _claim(self, busy: list[str]) -> list[Claimed]:
        with self.database.session() as session:
            outbox.release_expired_leases(session, now=self.clock())
            messages = outbox.claim_due(
                session, channels=list(self.channels), now=self.clock(), console_key=self.console_key, skip_keys=busy
            )
            return [_claimed(m) for m in messages]

    async def _deliver(self, item: Claimed) -> None:
        original_status, edit_target = await asyncio.to_thread(self._edit_target, item)
        if original_status == "unknown":  # the page may be on the volunteer's phone: never send it a second time
            log.info("message %s: the page it edits may have arrived before a crash; not sent anew", item.id)
            await asyncio.to_thread(self._settle, outbox.mark_skipped, item.id, reason=UNKNOWN_ORIGINAL)
            return
        if item.edit_of_id is not None and edit_target is None:
            log.info("message %s: the page it edits was never delivered; sending it anew", item.id)
        message = outgoing(item.body, edit_message_id=edit_target)
        if "erase_since" in item.body:
            targets = await asyncio.to_thread(self._erase_targets, item)
            message = replace(message, delete_message_ids=tuple(targets))
        chat_message = message.callback_query_id is None
        await self.limiter.wait(item.recipient_key, chat_message=chat_message)
        try:
            delivery = await self.channels[item.channel].send(str(item.body.get("to", "")), message)
        except TemporaryFailure as exc:
            await asyncio.to_thread(self._retry, item, exc)
        except PermanentFailure as exc:
            log.warning("message %s failed for good: %s", item.id, exc)
            await asyncio.to_thread(self._fail, item.id, str(exc), exc.code)
        except Exception as exc:  # an unknown failure is treated as temporary, never as sent
            log.exception("message %s: unexpected error while sending", item.id)
            await asyncio.to_thread(self._retry, item, TemporaryFailure(exc.__class__.__name__))
        else:
            await asyncio.to_thread(
                self._settle, outbox.mark_sent, item.id, provider_message_id=delivery.provider_message_id
            )

    def _edit_target(self, item: Claimed) -> tuple[str | None, str | None]:
        """Return the status of the message an edit changes, and its provider id when it was sent."""
        if item.edit_of_id is None:
            return None, None
        with self.database.session() as session:
            original = session.get(Message, item.edit_of_id)
            if original is None:
                return None, None
            return original.status, original.provider_message_id if original.status == "sent" else None

    def _erase_targets(self, item: Claimed) -> list[str]:
        """Collect, at sending time, the chat's messages to erase: ours and the person's, since a moment."""
        since = datetime.fromisoformat(str(item.body["erase_since"]))
        with self.database.session() as session:
            return outbox.chat_message_ids(session, contact_id=item.contact_id or 0, since=since)

    def _retry(self, item: Claimed, exc: TemporaryFailure) -> None:
        if exc.retry_after:
            self.limiter.pause(item.recipient_key, exc.retry_after)
        if item.attempts >= MAX_ATTEMPTS:
            log.warning("message %s failed after %s attempts", item.id, item.attempts)
            self._fail(item.id, f"gave up: {exc}", exc.code)
            return
        delay = exc.retry_after or min(MAX_BACKOFF, 2.0 ** (item.attempts - 1))
        log.info("message %s: temporary failure (%s), retry in %.1fs", item.id, exc, delay)
        self._settle(outbox.schedule_retry, item.id, at=self.clock() + timedelta(seconds=delay), error=str(exc))

    def _fail(self, message_id: int, error: str, code: str | None) -> None:
        with self.database.session() as session:
            outbox.mark_failed(session, message_id=message_id, error=error, now=self.clock())
            delivery.after_failure(session, message_id=message_id, code=code, now=self.clock())

    def _settle(self, action: Callable[..., None], message_id: int, **values: Any) -> None:
        with self.database.session() as session:
            if action in (outbox.schedule_retry, outbox.mark_skipped):
                action(session, message_id=message_id, **values)
            else:
                action(session, message_id=message_id, now=self.clock(), **values)


def _claimed(message: Message) -> Claimed:
    return Claimed(
        id=message.id or 0,
        channel=message.channel,
        kind=message.kind,
        recipient_key=message.recipient_key or "",
        body=dict(message.body or {}),
        attempts=message.attempts,
        edit_of_id=message.edit_of_id,
        contact_id=message.contact_id,
    )
