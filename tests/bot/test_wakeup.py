"""Workers wake at once for new work: in-process, and across processes through LISTEN/NOTIFY on PostgreSQL."""

from __future__ import annotations

import asyncio
import time

from sqlmodel import select

from hotline.bot.service import Runtime
from hotline.clock import utcnow
from hotline.settings import Settings
from hotline.storage import db, inbox
from hotline.storage.models import InboundEvent

SLOW_POLL = "30"  # far longer than the test waits: only a wake-up can explain a quick answer


async def wait_until_done(database: db.Database, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with database.session() as session:
            if session.exec(select(InboundEvent).where(InboundEvent.status == "done")).first():
                return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError("the event was not processed in time")


def store_from_elsewhere(settings: Settings, keyring_from: db.Database) -> None:
    """Store an event through a second engine, as another process (a webhook on another host) would."""
    other = db.open_database(settings, keyring=keyring_from.keyring)
    with other.session() as session:
        inbox.store_event(
            session, keyring=other.keyring, channel="console", provider_id="from-elsewhere", address="t-1",
            kind="text", payload={"text": "help"}, now=utcnow(),
        )  # fmt: skip
    other.dispose()


async def test_new_work_from_another_process_wakes_the_dispatcher(settings_values: dict[str, str]) -> None:
    settings = Settings.from_mapping({**settings_values, "HOTLINE_POLL_INTERVAL": SLOW_POLL})
    database = db.open_database(settings)
    db.upgrade(database)
    runtime = Runtime(settings=settings, database=database)
    await runtime.start()
    try:
        await asyncio.sleep(0.5)  # let the loops reach their wait (and the listener its LISTEN)
        await asyncio.to_thread(store_from_elsewhere, settings, database)
        if not database.is_postgres:
            runtime.wake_inbox()  # SQLite is one process: the webhook route wakes the loop like this
        took = await wait_until_done(database, timeout=5)
    finally:
        await runtime.stop()
        database.dispose()
    assert took < 2.0
