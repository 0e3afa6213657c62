"""Writing replies into the outbox: to a contact, and the short answer to a pressed button."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from hotline.storage import outbox
from hotline.storage.models import Contact, InboundEvent, Message, Report


def send_to_contact(
    session: Session, *, contact: Contact, report: Report | None, body: dict[str, Any], now: datetime
) -> Message:
    """Queue a message to a contact on the channel they wrote from."""
    return outbox.enqueue(
        session,
        kind="reply",
        channel=contact.channel,
        recipient_key=contact.address_index,
        body={"to": contact.address, **body},
        now=now,
        contact_id=contact.id,
        report_id=report.id if report else None,
    )


def answer_button(
    session: Session, *, event: InboundEvent, contact: Contact, payload: dict[str, Any], text: str, now: datetime
) -> None:
    """Queue the answer to a button press; it has its own ordering key so it never waits behind chat messages."""
    body = {"to": contact.address, "callback_query_id": payload.get("callback_query_id"), "text": text}
    outbox.enqueue(
        session,
        kind="button_answer",
        channel=contact.channel,
        recipient_key=f"button:{event.id}",
        body=body,
        now=now,
        contact_id=contact.id,
    )
