"""The background half of ``hotline serve``: dispatcher, outbox sender, Telegram polling or webhook, wake-ups.

Loops wake at once when work arrives (an in-process signal, and ``LISTEN/NOTIFY`` between processes
on PostgreSQL) and poll every ``HOTLINE_POLL_INTERVAL`` seconds as a backstop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import threading
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot
from telegram.error import TelegramError

from hotline.bot.channels.base import Channel
from hotline.bot.channels.console import ConsolePager
from hotline.bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel, make_bot, parse_update
from hotline.bot.channels.twilio import TwilioChannel
from hotline.bot.dispatcher import Dispatcher
from hotline.bot.media import Downloader, MediaFetcher, telegram_downloader
from hotline.bot.oncall import coverage, escalation
from hotline.bot.paging import reach_of
from hotline.bot.sender import OutboxSender
from hotline.clock import utcnow
from hotline.flows.model import load_flows
from hotline.settings import Settings
from hotline.storage import inbox, outbox
from hotline.storage.db import Database

log = logging.getLogger(__name__)

STOP_GRACE = 15.0
COVERAGE_CHECK = timedelta(minutes=15)  # how often the next 48 hours of the rota are checked for gaps
DISPATCHERS_ON_POSTGRES = 2  # claims are row locks there, so two loops per process share the work safely


def telegram_webhook_secret(settings: Settings, database: Database) -> str:
    """Return the webhook secret: the configured one, else one derived from the encryption key (development)."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    return hmac.new(
        database.keyring.newest_id + b"telegram-webhook", settings.telegram_token.encode(), hashlib.sha256
    ).hexdigest()


def store_telegram_update(database: Database, data: dict[str, Any], now: datetime) -> int | None:
    """Store one Telegram update in the inbox; return its id, or ``None`` when duplicate or not for us."""
    try:
        inbound = parse_update(data)
    except (ValueError, TypeError, KeyError, AttributeError):
        log.warning("telegram update %s could not be parsed; dropped", data.get("update_id"))
        return None
    if inbound is None:
        return None
    with database.session() as session:
        return inbox.store_event(
            session,
            keyring=database.keyring,
            channel="telegram",
            provider_id=inbound.provider_id,
            address=inbound.address,
            kind=inbound.kind,
            payload=inbound.payload,
            now=now,
        )


def make_twilio(settings: Settings) -> TwilioChannel:
    """Create the SMS and call channel; with a public URL, delivery reports and keys pressed on page calls reach us."""
    status = f"{settings.public_url}/webhooks/twilio/status" if settings.public_url else None
    return TwilioChannel(
        settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from, settings.twilio_api_url, status,
        public_url=settings.public_url,
    )  # fmt: skip


class Runtime:
    """Starts and stops the background loops of one process."""

    def __init__(self, *, settings: Settings, database: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.database = database
        self.clock = clock
        self.bot: Bot | None = (
            make_bot(settings.telegram_token, settings.telegram_api_url) if settings.telegram_enabled else None
        )
        self.dispatcher = Dispatcher(database=database, settings=settings, flows=load_flows(), clock=clock)
        self.twilio = make_twilio(settings) if settings.twilio_enabled else None
        channels = self._channels()
        self.sender = OutboxSender(database=database, channels=channels, clock=clock)
        self.media = MediaFetcher(database, self._downloaders(channels), clock)
        self._inbox_ready = asyncio.Event()
        self._outbox_ready = asyncio.Event()
        self._media_ready = asyncio.Event()  # photos can wait for the poll: no extra SQLite write lock per commit
        self._escalation_ready = asyncio.Event()
        self._next_step_at: datetime | None = None
        self._coverage_checked_at: datetime | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._network: list[asyncio.Task[None]] = []
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: threading.Thread | None = None

    def _channels(self) -> dict[str, Channel]:
        channels: dict[str, Channel] = {}
        if self.bot is not None:
            channels["telegram"] = TelegramChannel(self.bot)
        if self.twilio is not None:
            channels["sms"] = channels["call"] = self.twilio
        if self.settings.page_on_console:
            channels["pager"] = ConsolePager()
        return channels

    def _downloaders(self, channels: dict[str, Channel]) -> dict[str, Downloader]:
        downloaders: dict[str, Downloader] = {}
        telegram = channels.get("telegram")
        if isinstance(telegram, TelegramChannel):
            downloaders["telegram"] = telegram_downloader(telegram)
        if self.twilio is not None:
            twilio = self.twilio

            async def fetch_sms_media(source: dict[str, Any]) -> tuple[bytes, str | None]:
                return await twilio.download(str(source.get("url", "")))

            downloaders["sms"] = fetch_sms_media
        return downloaders

    async def start(self) -> None:
        """Start every loop this process runs."""
        self._loop = asyncio.get_running_loop()
        self.dispatcher.on_commit = self._after_dispatch
        if not self.database.is_postgres:
            with self.database.session() as session:
                outbox.release_expired_leases(session, now=self.clock(), everything=True)
        for _ in range(DISPATCHERS_ON_POSTGRES if self.database.is_postgres else 1):
            self._spawn(self._dispatch_loop())
        self._spawn(self._send_loop())
        self._spawn(self._forever(self._media_ready, self.media.fetch_due))
        self._spawn(self._forever(self._escalation_ready, self._escalate, self._next_step_in))
        if self.database.is_postgres:
            self._listener = threading.Thread(target=self._listen, name="hotline-listen", daemon=True)
            self._listener.start()
        if self.bot is not None:
            await self.bot.initialize()
            self._network.append(asyncio.create_task(self._webhook_or_polling()))

    async def stop(self) -> None:
        """Stop the loops and wait for them."""
        self._stopping.set()
        for task in self._network:
            task.cancel()
        await asyncio.gather(*self._network, return_exceptions=True)
        self.wake_inbox()
        self.wake_outbox()
        self._wake(self._media_ready)
        self._wake(self._escalation_ready)
        _, late = await asyncio.wait(self._tasks, timeout=STOP_GRACE) if self._tasks else (set(), set())
        for task in late:  # only awaits are cancelled here: work already in a thread finishes its transaction
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._listener is not None:
            await asyncio.to_thread(self._listener.join, 5)
        if self.bot is not None:
            await self.bot.shutdown()
        if self.twilio is not None:
            await self.twilio.close()

    def wake_inbox(self) -> None:
        """Wake the dispatcher; safe from any thread."""
        self._wake(self._inbox_ready)

    def wake_outbox(self) -> None:
        """Wake the outbox sender; safe from any thread."""
        self._wake(self._outbox_ready)

    def _after_dispatch(self) -> None:
        self.wake_outbox()
        self._wake(self._escalation_ready)  # a new incident's next step may be due sooner than the loop thinks

    async def _escalate(self) -> int:
        pages = await asyncio.to_thread(self._run_escalation)
        if pages:
            self.wake_outbox()
        return pages

    def _run_escalation(self) -> int:
        """Run the escalation steps that are due, and now and then check the rota for gaps."""
        now, keyring, reach = self.clock(), self.database.keyring, reach_of(self.settings)
        with self.database.session() as session:
            pages = escalation.run_due_incidents(session, keyring=keyring, now=now, reach=reach)
        checked = self._coverage_checked_at
        if checked is None or now - checked >= COVERAGE_CHECK:
            with self.database.session() as session:
                pages += coverage.warn_uncovered(session, keyring=keyring, now=now, reach=reach)
            self._coverage_checked_at = now
        with self.database.session() as session:
            self._next_step_at = escalation.next_due(session)
        return pages

    def _next_step_in(self) -> float | None:
        if self._next_step_at is None:
            return None
        return max((self._next_step_at - self.clock()).total_seconds(), 0.0)

    def _wake(self, ready: asyncio.Event) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(ready.set)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(coroutine))

    async def _dispatch_loop(self) -> None:
        await self._forever(self._inbox_ready, lambda: asyncio.to_thread(self.dispatcher.drain, 200, self._stopping))

    async def _send_loop(self) -> None:
        await self._forever(self._outbox_ready, self.sender.send_due, self.sender.limiter.seconds_until_free)

    async def _forever(
        self,
        ready: asyncio.Event,
        work: Callable[[], Coroutine[Any, Any, int]],
        due_in: Callable[[], float | None] = lambda: None,
    ) -> None:
        while not self._stopping.is_set():
            ready.clear()
            try:
                done = await work()
            except Exception:
                log.exception("background loop failed; retrying")
                done = 0
                await asyncio.sleep(1)
            if done:
                continue
            free_in = due_in()
            timeout = self.settings.poll_interval if free_in is None else min(self.settings.poll_interval, free_in)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), timeout=max(timeout, 0.01))

    def _listen(self) -> None:
        import psycopg

        url = self.database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stopping.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as connection:
                    connection.execute("LISTEN hotline_inbox")
                    connection.execute("LISTEN hotline_outbox")
                    while not self._stopping.is_set():
                        for note in connection.notifies(timeout=1.0):
                            self.wake_inbox() if note.channel == "hotline_inbox" else self.wake_outbox()
            except psycopg.Error:
                log.warning("notification listener lost its connection; reconnecting")
                self._stopping.wait(2)

    async def _webhook_or_polling(self) -> None:
        assert self.bot is not None
        if self.settings.public_url:
            await self._register_webhook(self.bot)
        else:
            await self._poll(self.bot)

    async def _register_webhook(self, bot: Bot) -> None:
        url = f"{self.settings.public_url}/webhooks/telegram"
        secret = telegram_webhook_secret(self.settings, self.database)
        for attempt in range(1, 1_000_000):
            try:
                await bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
                log.info("telegram webhook registered")
                return
            except TelegramError as exc:
                log.warning("telegram webhook registration failed (%s); retrying", exc.__class__.__name__)
                await asyncio.sleep(min(60, 2**attempt))

    async def _poll(self, bot: Bot) -> None:
        log.info("no HOTLINE_PUBLIC_URL: long polling Telegram")
        offset: int | None = None
        webhook_removed = False
        while True:
            try:
                if not webhook_removed:
                    webhook_removed = bool(await bot.delete_webhook())
                updates = await bot.get_updates(offset=offset, timeout=20, allowed_updates=ALLOWED_UPDATES)
            except TelegramError as exc:
                log.warning("telegram polling failed (%s); retrying", exc.__class__.__name__)
                await asyncio.sleep(2)
                continue
            try:
                for update in updates:
                    await asyncio.to_thread(store_telegram_update, self.database, update.to_dict(), self.clock())
            except Exception:  # not confirmed, so Telegram hands the same updates out again
                log.exception("could not store polled updates; retrying")
                await asyncio.sleep(2)
                continue
            if updates:
                offset = updates[-1].update_id + 1
                self.wake_inbox()
