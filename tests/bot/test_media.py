"""The media fetcher end to end: attachments noted in the database, fetched from the fake Bot API, stored sealed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hotline.bot.channels.base import PermanentFailure
from hotline.bot.channels.telegram import TelegramChannel, make_bot
from hotline.bot.media import Downloader, MediaFetcher, telegram_downloader
from hotline.storage import attachments, inbox
from hotline.storage.db import Database
from hotline.storage.models import Attachment
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeBotAPI

TOKEN = "123456:TEST-token"
VOICE = b"OggS fictional voice note"
PHOTO = b"\xff\xd8\xff fictional photo"


@pytest.fixture
async def downloader(fake: FakeBotAPI) -> AsyncIterator[Downloader]:
    """The Telegram downloader, its bot pointed at the fake Bot API."""
    async with make_bot(TOKEN, fake.url) as bot:
        yield telegram_downloader(TelegramChannel(bot))


def note(database: Database, clock: FakeClock, source: dict[str, Any], provider_id: str) -> int:
    """Store an inbound event and note its file; return the attachment id."""
    with database.session() as session:
        event_id = inbox.store_event(
            session, keyring=database.keyring, channel="telegram", provider_id=provider_id, address="424242",
            kind="media", payload={}, now=clock(),
        )  # fmt: skip
        contact = inbox.find_contact(session, keyring=database.keyring, channel="telegram", address="424242")
        assert event_id is not None and contact is not None
        attachment = attachments.add_attachment(
            session, contact_id=contact.id or 0, report_id=None, inbound_event_id=event_id, kind="voice",
            source=source, mime_type=None, size=None, duration=None, now=clock(),
        )  # fmt: skip
        assert attachment is not None
        return attachment.id or 0


def row(database: Database, attachment_id: int) -> Attachment:
    with database.session() as session:
        attachment = session.get(Attachment, attachment_id)
        assert attachment is not None
        return attachment


async def test_due_files_are_fetched_and_stored(
    database: Database, clock: FakeClock, fake: FakeBotAPI, downloader: Downloader
) -> None:
    fake.add_file("voice-1", VOICE, file_path="voice/file_1.oga")
    fake.add_file("photo-1", PHOTO, file_path="photos/file_2.jpg")
    voice = note(database, clock, {"channel": "telegram", "file_id": "voice-1"}, "1")
    photo = note(database, clock, {"channel": "telegram", "file_id": "photo-1"}, "2")
    fetcher = MediaFetcher(database, {"telegram": downloader}, clock)

    assert await fetcher.fetch_due() == 2
    assert await fetcher.fetch_due() == 0
    stored = row(database, voice), row(database, photo)
    assert [(a.status, a.content, a.mime_type, a.size) for a in stored] == [
        ("stored", VOICE, "audio/ogg", len(VOICE)),
        ("stored", PHOTO, "image/jpeg", len(PHOTO)),
    ]
    assert [call.params["file_id"] for call in fake.calls("getFile")] == ["voice-1", "photo-1"]


async def test_a_failed_download_is_tried_again_later(
    database: Database, clock: FakeClock, fake: FakeBotAPI, downloader: Downloader
) -> None:
    fake.add_file("voice-1", VOICE, file_path="voice/file_1.oga")
    attachment_id = note(database, clock, {"channel": "telegram", "file_id": "voice-1"}, "1")
    fetcher = MediaFetcher(database, {"telegram": downloader}, clock)
    fake.fail_next("download", status=502)

    assert await fetcher.fetch_due() == 1
    waiting = row(database, attachment_id)
    assert (waiting.status, waiting.attempts, waiting.content) == ("pending", 1, None)
    assert waiting.not_before == clock() + attachments.BACKOFF[0]
    assert await fetcher.fetch_due() == 0
    clock.advance(seconds=31)
    assert await fetcher.fetch_due() == 1
    assert (row(database, attachment_id).status, row(database, attachment_id).content) == ("stored", VOICE)


async def test_files_that_can_never_be_fetched_are_set_aside(
    database: Database, clock: FakeClock, fake: FakeBotAPI, downloader: Downloader
) -> None:
    fake.add_file("huge", b"x", file_path="videos/file_9.mp4", reported_size=30 * 1024 * 1024)
    huge = note(database, clock, {"channel": "telegram", "file_id": "huge"}, "1")
    unknown = note(database, clock, {"channel": "telegram", "file_id": "never-registered"}, "2")
    no_channel = note(database, clock, {"channel": "carrier-pigeon", "url": "http://127.0.0.1:9/x"}, "3")
    no_id = note(database, clock, {"channel": "telegram"}, "4")
    fetcher = MediaFetcher(database, {"telegram": downloader}, clock)

    assert await fetcher.fetch_due() == 4
    failed = [row(database, attachment_id) for attachment_id in (huge, unknown, no_channel, no_id)]
    assert [(a.status, a.error) for a in failed] == [
        ("failed", "file too big"),
        ("failed", "bad file id"),
        ("failed", "no downloader"),
        ("failed", "no file id"),
    ]
    clock.advance(days=1)
    assert await fetcher.fetch_due() == 0


async def test_any_downloader_can_serve_its_channel(database: Database, clock: FakeClock) -> None:
    seen: list[dict[str, Any]] = []

    async def sms(source: dict[str, Any]) -> tuple[bytes, str | None]:
        seen.append(source)
        if len(seen) == 1:
            raise ConnectionError("provider unreachable")
        if len(seen) == 2:
            raise PermanentFailure("gone")
        return b"fictional mms", "image/png"

    first = note(database, clock, {"channel": "sms", "url": "http://127.0.0.1:9/media/1"}, "1")
    fetcher = MediaFetcher(database, {"sms": sms}, clock)
    assert await fetcher.fetch_due() == 1
    assert (row(database, first).status, row(database, first).error) == ("pending", "provider unreachable")
    clock.advance(minutes=1)
    assert await fetcher.fetch_due() == 1
    assert row(database, first).status == "failed"

    second = note(database, clock, {"channel": "sms", "url": "http://127.0.0.1:9/media/2"}, "2")
    assert await fetcher.fetch_due() == 1
    assert (row(database, second).status, row(database, second).mime_type) == ("stored", "image/png")
    assert [source["url"][-1] for source in seen] == ["1", "1", "2"]
