"""The inbox: contacts found by blind index, provider updates stored once, claimed one contact at a time.

Claiming locks the contact row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) for the whole processing
transaction, so one contact's events run in order in one worker while other contacts run in
others. A worker that dies rolls back and leaves the event pending for the next claim.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hotline.storage.crypto import KeyRing
from hotline.storage.models import Contact, InboundEvent

MAX_ATTEMPTS = 3


def address_key(channel: str, address: str) -> str:
    """Return the string whose keyed hash finds a contact."""
    return f"{channel}:{address}"


def find_contact(session: Session, *, keyring: KeyRing, channel: str, address: str) -> Contact | None:
    """Find a contact by channel and address through its blind index (any key of the ring)."""
    indexes = keyring.blind_indexes(address_key(channel, address))
    return session.exec(select(Contact).where(col(Contact.address_index).in_(indexes))).first()


def find_or_create_contact(session: Session, *, keyring: KeyRing, channel: str, address: str, now: datetime) -> Contact:
    """Return the contact for an address, creating it (race-safe) when new."""
    contact = find_contact(session, keyring=keyring, channel=channel, address=address)
    if contact is not None:
        contact.last_seen_at = now
        return contact
    index = keyring.blind_index(address_key(channel, address))
    try:
        with session.begin_nested():
            contact = Contact(channel=channel, address_index=index, address=address, created_at=now, last_seen_at=now)
            session.add(contact)
    except IntegrityError:
        contact = find_contact(session, keyring=keyring, channel=channel, address=address)
        assert contact is not None
    return contact


def store_event(
    session: Session,
    *,
    keyring: KeyRing,
    channel: str,
    provider_id: str,
    address: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
) -> int | None:
    """Store one provider update under its provider id; return its id, or ``None`` for a duplicate."""
    if _event_exists(session, channel, provider_id):
        return None
    contact = find_or_create_contact(session, keyring=keyring, channel=channel, address=address, now=now)
    event = InboundEvent(
        channel=channel,
        provider_id=provider_id,
        contact_id=contact.id or 0,
        kind=kind,
        payload=payload,
        received_at=now,
    )
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        return None
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("NOTIFY hotline_inbox"))
    return event.id


def _event_exists(session: Session, channel: str, provider_id: str) -> bool:
    query = select(InboundEvent.id).where(InboundEvent.channel == channel, InboundEvent.provider_id == provider_id)
    return session.exec(query).first() is not None


def claim_next_event(session: Session) -> InboundEvent | None:
    """Lock the contact with the oldest pending event and return that contact's oldest pending event."""
    candidates = session.exec(
        select(InboundEvent.contact_id, func.min(InboundEvent.id))
        .where(InboundEvent.status == "pending")
        .group_by(col(InboundEvent.contact_id))
        .order_by(func.min(InboundEvent.id))
        .limit(20)
    ).all()
    postgres = session.get_bind().dialect.name == "postgresql"
    for contact_id, _ in candidates:
        if postgres and not _lock_contact(session, contact_id):
            continue
        event = session.exec(
            select(InboundEvent)
            .where(InboundEvent.contact_id == contact_id, InboundEvent.status == "pending")
            .order_by(col(InboundEvent.id))
            .limit(1)
        ).first()
        if event is not None:
            return event
    return None


def _lock_contact(session: Session, contact_id: int) -> bool:
    query = select(Contact.id).where(Contact.id == contact_id).with_for_update(skip_locked=True)
    return session.exec(query).first() is not None


def mark_done(session: Session, *, event: InboundEvent, now: datetime) -> None:
    """Mark an event processed, in the transaction that performed its effects."""
    event.status = "done"
    event.processed_at = now
    session.add(event)


def record_failure(session: Session, *, event_id: int, error: str, now: datetime) -> bool:
    """Count a failed attempt; after the last one the event is set aside. Return whether it was set aside."""
    event = session.get(InboundEvent, event_id)
    if event is None or event.status != "pending":
        return False
    event.attempts += 1
    event.error = error[:120]
    if event.attempts >= MAX_ATTEMPTS:
        event.status = "failed"
        event.processed_at = now
    session.add(event)
    return event.status == "failed"


def pending_count(session: Session) -> int:
    """Count events still waiting to be processed."""
    query = select(func.count()).select_from(InboundEvent).where(InboundEvent.status == "pending")
    return int(session.exec(query).one())
