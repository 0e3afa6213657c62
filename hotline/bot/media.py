"""The media fetcher: download the files people sent and keep them sealed in the database.

Claims happen in a short transaction; downloads run outside any transaction, so a slow provider
never holds a lock. Each source names its channel (``{"channel": "telegram", "file_id": ...}``,
``{"channel": "sms", "url": ...}``) and the fetcher hands it to that channel's downloader.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.bot.channels.base import PermanentFailure
from hotline.bot.channels.telegram import TelegramChannel
from hotline.storage import attachments
from hotline.storage.db import Database

log = logging.getLogger(__name__)

Downloader = Callable[[dict[str, Any]], Awaitable[tuple[bytes, str | None]]]


@dataclass(frozen=True)
class Claimed:
    """What a fetch needs of a leased attachment, copied out of its session."""

    id: int
    source: dict[str, Any]


class MediaFetcher:
    """Fetches due attachments through the downloader of their channel."""

    def __init__(
        self, database: Database, downloaders: Mapping[str, Downloader], clock: Callable[[], datetime]
    ) -> None:
        self.database = database
        self.downloaders = dict(downloaders)
        self.clock = clock

    async def fetch_due(self) -> int:
        """Fetch what is due now; return how many attachments were tried."""
        claimed = await asyncio.to_thread(self._claim)
        for item in claimed:
            await self._fetch(item)
        return len(claimed)

    def _claim(self) -> list[Claimed]:
        with self.database.session() as session:
            found = attachments.claim_pending(session, now=self.clock())
            return [Claimed(a.id or 0, dict(a.source or {})) for a in found]

    async def _fetch(self, item: Claimed) -> None:
        downloader = self.downloaders.get(str(item.source.get("channel")))
        if downloader is None:
            log.warning("attachment %s: no downloader for its channel", item.id)
            await asyncio.to_thread(self._fail, item.id, "no downloader", True)
            return
        try:
            content, mime_type = await downloader(item.source)
        except PermanentFailure as exc:
            log.warning("attachment %s cannot be fetched: %s", item.id, exc)
            await asyncio.to_thread(self._fail, item.id, str(exc), True)
        except Exception as exc:  # anything else may pass: try again later
            log.info("attachment %s: fetch failed (%s), will retry", item.id, exc.__class__.__name__)
            await asyncio.to_thread(self._fail, item.id, str(exc) or exc.__class__.__name__, False)
        else:
            await asyncio.to_thread(self._store, item.id, content, mime_type)

    def _store(self, attachment_id: int, content: bytes, mime_type: str | None) -> None:
        with self.database.session() as session:
            attachments.store_content(
                session, attachment_id=attachment_id, content=content, mime_type=mime_type, now=self.clock()
            )
        log.info("attachment %s stored (%s bytes)", attachment_id, len(content))

    def _fail(self, attachment_id: int, error: str, permanent: bool) -> None:
        with self.database.session() as session:
            attachments.record_failure(
                session, attachment_id=attachment_id, error=error, now=self.clock(), permanent=permanent
            )


def telegram_downloader(channel: TelegramChannel) -> Downloader:
    """Return the downloader for sources of the form ``{"channel": "telegram", "file_id": ...}``."""

    async def download(source: dict[str, Any]) -> tuple[bytes, str | None]:
        file_id = source.get("file_id")
        if not file_id:
            raise PermanentFailure("no file id")
        return await channel.download(str(file_id))

    return download
