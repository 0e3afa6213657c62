"""Attachments: files people send, noted with the message that brought them and fetched later, sealed.

A claim is a lease like the outbox's: the row stays ``pending`` but is hidden for ``LEASE`` while a
fetcher downloads it, so a fetcher that dies leaves it for the next one. Each claim counts as an
attempt; failures wait 30 s, 2 min, 10 min, 1 h, and the fifth failed attempt sets the file aside.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hotline.storage.models import Attachment

LEASE = timedelta(minutes=5)  # a download of at most 20 MB, with time to spare
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1))
MAX_ATTEMPTS = 5


def add_attachment(
    session: Session,
    *,
    contact_id: int,
    report_id: int | None,
    inbound_event_id: int | None,
    kind: str,
    source: dict[str, Any],
    mime_type: str | None,
    size: int | None,
    duration: int | None,
    now: datetime,
) -> Attachment | None:
    """Note a file to fetch; the same event and kind twice gives back the first row, never a second."""
    existing = _for_event(session, inbound_event_id, kind)
    if existing is not None:
        return existing
    attachment = Attachment(
        contact_id=contact_id,
        report_id=report_id,
        inbound_event_id=inbound_event_id,
        kind=kind,
        source=source,
        mime_type=mime_type,
        size=size,
        duration=duration,
        status="pending",
        not_before=now,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(attachment)
    except IntegrityError:
        return _for_event(session, inbound_event_id, kind)
    return attachment


def _for_event(session: Session, inbound_event_id: int | None, kind: str) -> Attachment | None:
    if inbound_event_id is None:
        return None
    query = select(Attachment).where(Attachment.inbound_event_id == inbound_event_id, Attachment.kind == kind)
    return session.exec(query).first()


def claim_pending(session: Session, *, now: datetime, limit: int = 5) -> list[Attachment]:
    """Lease the attachments due for fetching; one whose every attempt died mid-fetch is set aside instead."""
    query = (
        select(Attachment)
        .where(
            Attachment.status == "pending",
            or_(col(Attachment.not_before).is_(None), col(Attachment.not_before) <= now),
        )
        .order_by(col(Attachment.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Attachment)  # type: ignore[arg-type]
    claimed = []
    for attachment in session.exec(query).all():
        if attachment.attempts >= MAX_ATTEMPTS:
            attachment.status, attachment.error, attachment.not_before = "failed", "interrupted too often", None
        else:
            attachment.attempts += 1
            attachment.not_before = now + LEASE
            claimed.append(attachment)
        session.add(attachment)
    return claimed


def store_content(
    session: Session, *, attachment_id: int, content: bytes, mime_type: str | None, now: datetime
) -> None:
    """Keep a fetched file, sealed, with its real size."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        return
    attachment.content = content
    attachment.size = len(content)
    attachment.mime_type = mime_type or attachment.mime_type
    attachment.status, attachment.stored_at = "stored", now
    attachment.error, attachment.not_before = None, None
    session.add(attachment)


def record_failure(session: Session, *, attachment_id: int, error: str, now: datetime, permanent: bool = False) -> None:
    """Count a failed fetch: try again after a growing pause, or set the file aside for good."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.status != "pending":
        return
    attempts = max(attachment.attempts, 1)
    attachment.error = error[:120]
    if permanent or attempts >= MAX_ATTEMPTS:
        attachment.status, attachment.not_before = "failed", None
    else:
        attachment.not_before = now + BACKOFF[min(attempts, len(BACKOFF)) - 1]
    session.add(attachment)


def for_report(session: Session, *, report_id: int) -> list[Attachment]:
    """Return a report's attachments, oldest first."""
    query = select(Attachment).where(Attachment.report_id == report_id).order_by(col(Attachment.id))
    return list(session.exec(query).all())


def link_to_report(session: Session, *, inbound_event_id: int, report_id: int) -> int:
    """Attach the files of one inbound event to a report; return how many rows changed."""
    statement = (
        update(Attachment).where(col(Attachment.inbound_event_id) == inbound_event_id).values(report_id=report_id)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
