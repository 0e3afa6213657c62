"""When a message does not arrive: record opt-outs, send SMS again when the phone was only out of reach,
and fall back from Telegram to SMS when the case has a phone number.

People in the forest switch their phones off to save battery, so "unreachable" is worth a later
try; a number that texted STOP, or that does not exist, is never tried again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from hotline.storage import outbox
from hotline.storage.models import Contact, Conversation, Message

log = logging.getLogger(__name__)

OPTED_OUT = "21610"
# Twilio error codes after which the same SMS may arrive later: queue overflow, handset unreachable
# (switched off, no signal), unknown error, missing segment, carrier busy.
RETRY_LATER = {"30001", "30003", "30008", "30009", "30010"}
MAX_RESENDS = 3
RESEND_PAUSE = timedelta(minutes=5)


def after_failure(session: Session, *, message_id: int, code: str | None, now: datetime) -> None:
    """React to a message the provider refused for good (at send time)."""
    message = session.get(Message, message_id)
    if message is None:
        return
    if code == OPTED_OUT:
        _record_opt_out(session, message, now)
        return
    if message.channel == "telegram":
        fall_back_to_sms(session, message=message, now=now)


def after_status(session: Session, *, message: Message, code: str | None, now: datetime) -> None:
    """React to a delivery report: an opt-out is recorded, an unreachable phone is tried again later."""
    if message.delivery_status not in ("undelivered", "failed"):
        return
    if code == OPTED_OUT:
        _record_opt_out(session, message, now)
        return
    attempt = outbox.resend_chain_length(session, message_id=message.id or 0) + 1
    if code not in RETRY_LATER or attempt > MAX_RESENDS:
        log.info("message %s was not delivered (code %s); not sent again", message.id, code)
        return
    outbox.resend(
        session, original=message, channel=message.channel, recipient_key=message.recipient_key or "",
        body=dict(message.body or {}), at=now + RESEND_PAUSE * attempt, contact_id=message.contact_id,
    )  # fmt: skip
    log.info("message %s undelivered (code %s); trying again in %s", message.id, code, RESEND_PAUSE * attempt)


def fall_back_to_sms(session: Session, *, message: Message, now: datetime) -> Message | None:
    """Send a failed Telegram message to a person by SMS instead, when their case has a phone number."""
    if message.report_id is None or message.contact_id is None or message.kind not in ("reply", "relay"):
        return None
    phone = _sms_contact(session, report_id=message.report_id)
    if phone is None:
        return None
    body = sms_copy(dict(message.body or {}), to=phone.address)
    log.info("message %s failed on telegram; sending it by sms", message.id)
    return outbox.resend(
        session, original=message, channel="sms", recipient_key=phone.address_index, body=body, at=now,
        contact_id=phone.id,
    )  # fmt: skip


def sms_copy(body: dict[str, Any], *, to: str) -> dict[str, Any]:
    """Return a Telegram message body as it should go by SMS: the answers only, no keyboard."""
    buttons = [
        [button]
        for row in body.get("buttons", [])
        for button in row
        if str(button.get("data", "")).startswith("a:")  # "done" and "a person" are words on SMS
    ]
    return {"text": body.get("text", ""), "buttons": buttons, "request_location": None, "to": to}


def _sms_contact(session: Session, *, report_id: int) -> Contact | None:
    query = (
        select(Contact)
        .join(Conversation, col(Conversation.contact_id) == col(Contact.id))
        .where(Conversation.report_id == report_id, Contact.channel == "sms", col(Contact.opted_out_at).is_(None))
        .order_by(col(Contact.last_seen_at).desc())
    )
    return session.exec(query).first()


def _record_opt_out(session: Session, message: Message, now: datetime) -> None:
    contact = session.get(Contact, message.contact_id) if message.contact_id else None
    if contact is not None and contact.opted_out_at is None:
        contact.opted_out_at = now
        session.add(contact)
        log.info("contact %s opted out of sms", contact.id)
