"""The outbox: outbound ``Message`` rows written with the state change, claimed and sent in order per recipient.

A message can be claimed only when every earlier message to the same recipient is settled, so a
person never reads answers out of order, even with several senders. A claim is a lease: a sender
that dies leaves the row in ``sending``; when the lease runs out it is sent again and flagged
``resent_after_crash`` (Telegram has no idempotency key, so the outcome of that first try is unknown).
Pages are the exception: they are marked ``unknown`` instead, and the escalation's next step covers them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from hotline.storage.models import Message

LEASE = timedelta(seconds=30)  # well above a send's 10 s timeout plus rate-limit waits
UNSETTLED = ("pending", "sending")
UNKNOWN_AFTER_CRASH = "outcome unknown after a crash"


def enqueue(
    session: Session,
    *,
    kind: str,
    channel: str,
    recipient_key: str,
    body: dict[str, Any],
    now: datetime,
    contact_id: int | None = None,
    volunteer_id: int | None = None,
    report_id: int | None = None,
    edit_of_id: int | None = None,
) -> Message:
    """Add one outbound message to the outbox, in the caller's transaction."""
    message = Message(
        direction="out",
        kind=kind,
        channel=channel,
        recipient_key=recipient_key,
        body=body,
        status="pending",
        contact_id=contact_id,
        volunteer_id=volunteer_id,
        report_id=report_id,
        edit_of_id=edit_of_id,
        not_before=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("NOTIFY hotline_outbox"))
    return message


def replace_if_pending(session: Session, *, message_id: int, body: dict[str, Any]) -> bool:
    """Give a not-yet-claimed message a newer body; False when a sender has already taken it."""
    statement = update(Message).where(col(Message.id) == message_id, col(Message.status) == "pending").values(body=body)
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def pending_edit(session: Session, *, edit_of_id: int) -> Message | None:
    """Return a not-yet-claimed edit of a message, so a newer edit can replace it instead of queueing."""
    query = select(Message).where(Message.edit_of_id == edit_of_id, Message.status == "pending")
    return session.exec(query).first()


def claim_due(
    session: Session,
    *,
    channels: list[str],
    now: datetime,
    limit: int = 30,
    console_key: str | None = None,
    skip_keys: Iterable[str] = (),
) -> list[Message]:
    """Lease the due messages first in line for their recipients.

    ``skip_keys`` are recipients the caller cannot send to right now (rate limits), so a claimed
    batch never waits on them; ``console_key`` keeps one terminal's messages to itself.
    """
    earlier = aliased(Message)
    blocked = exists().where(
        and_(
            col(earlier.recipient_key) == col(Message.recipient_key),
            col(earlier.id) < col(Message.id),
            col(earlier.status).in_(UNSETTLED),
        )
    )
    query = (
        select(Message)
        .where(
            Message.direction == "out",
            Message.status == "pending",
            col(Message.channel).in_(channels),
            or_(col(Message.not_before).is_(None), col(Message.not_before) <= now),
            ~blocked,
        )
        .order_by(col(Message.id))
        .limit(limit)
    )
    skip = list(skip_keys)
    if skip:
        query = query.where(col(Message.recipient_key).not_in(skip))
    if console_key is not None:
        # a terminal chat prints only its own messages: never a real SMS to someone else
        query = query.where(
            or_(col(Message.channel).not_in(("console", "sms")), col(Message.recipient_key) == console_key)
        )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Message)  # type: ignore[arg-type]
    messages = list(session.exec(query).all())
    for message in messages:
        message.status = "sending"
        message.attempts += 1
        message.not_before = now + LEASE
        session.add(message)
    return messages


def release_expired_leases(session: Session, *, now: datetime, everything: bool = False) -> int:
    """Put messages whose sender died back in line; ``everything`` when no other sender can exist (SQLite).

    A page is the exception: it may have reached the volunteer, so it is marked ``unknown`` and not
    sent again; the escalation's next step (another channel, another person) covers it.
    """
    condition: ColumnElement[bool] = col(Message.status) == "sending"
    if not everything:
        condition = and_(condition, col(Message.not_before) < now)
    is_page = col(Message.kind) == "page"
    unknown = update(Message).where(condition, is_page).values(status="unknown", error="outcome unknown after a crash")
    session.execute(unknown)
    resend = (
        update(Message).where(condition, ~is_page).values(status="pending", not_before=now, resent_after_crash=True)
    )
    return int(session.execute(resend).rowcount)  # type: ignore[attr-defined]


def mark_sent(session: Session, *, message_id: int, provider_message_id: str | None, now: datetime) -> None:
    """Record a delivery the provider accepted."""
    message = session.get(Message, message_id)
    if message is not None:
        message.status, message.sent_at, message.error = "sent", now, None
        message.provider_message_id = provider_message_id or message.provider_message_id
        session.add(message)


def mark_skipped(session: Session, *, message_id: int, reason: str) -> None:
    """Leave a message unsent on purpose (an edit of a page that may or may not have arrived)."""
    message = session.get(Message, message_id)
    if message is not None:
        message.status, message.error, message.not_before = "skipped", reason[:120], None
        session.add(message)


def schedule_retry(session: Session, *, message_id: int, at: datetime, error: str) -> None:
    """Put a message back in line for a later attempt."""
    message = session.get(Message, message_id)
    if message is not None:
        message.status, message.not_before, message.error = "pending", at, error[:120]
        session.add(message)


def mark_failed(session: Session, *, message_id: int, error: str, now: datetime) -> None:
    """Give up on a message; it stays visible with its error."""
    message = session.get(Message, message_id)
    if message is not None:
        message.status, message.error, message.not_before = "failed", error[:120], None
        session.add(message)


# Twilio's message states, in the order they happen; callbacks may arrive in any order.
DELIVERY_RANK = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3}
FINAL_DELIVERY = {"delivered", "undelivered", "failed", "read", "canceled"}


def apply_delivery_status(
    session: Session, *, channel: str, provider_message_id: str, status: str, error_code: str | None, now: datetime
) -> Message | None:
    """Record what the provider later said about a message; return the message if this news changed it.

    A state never goes back: a late 'sent' after 'delivered' changes nothing, and the first final
    state stays. Repeated callbacks are harmless.
    """
    message = session.exec(
        select(Message).where(Message.channel == channel, Message.provider_message_id == provider_message_id)
    ).first()
    if message is None or not _moves_forward(message.delivery_status, status):
        return None
    message.delivery_status, message.delivery_updated_at = status, now
    if error_code:
        message.error = f"{status} {error_code}"[:120]
    session.add(message)
    return message


def _moves_forward(old: str | None, new: str) -> bool:
    if new not in DELIVERY_RANK and new not in FINAL_DELIVERY:
        return False
    if old is None:
        return True
    if old in FINAL_DELIVERY:
        return False
    return new in FINAL_DELIVERY or DELIVERY_RANK[new] > DELIVERY_RANK.get(old, -1)


def resend_chain_length(session: Session, *, message_id: int) -> int:
    """Count how many times a message was already sent again (on any channel) before this one."""
    count, current = 0, session.get(Message, message_id)
    while current is not None and current.fallback_of_id is not None and count < 20:
        count += 1
        current = session.get(Message, current.fallback_of_id)
    return count


def resend(
    session: Session, *, original: Message, channel: str, recipient_key: str, body: dict[str, Any], at: datetime,
    contact_id: int | None,
) -> Message:  # fmt: skip
    """Queue a copy of a failed message (possibly on another channel), linked to the original."""
    copy = enqueue(
        session, kind=original.kind, channel=channel, recipient_key=recipient_key, body=body, now=at,
        contact_id=contact_id, volunteer_id=original.volunteer_id, report_id=original.report_id,
    )  # fmt: skip
    copy.fallback_of_id = original.id
    session.add(copy)
    return copy


def chat_message_ids(session: Session, *, contact_id: int, since: datetime) -> list[str]:
    """Return the provider ids of a chat's messages since a moment: what we sent, and what the person wrote."""
    rows = session.exec(
        select(Message).where(
            Message.contact_id == contact_id, col(Message.created_at) >= since, Message.channel == "telegram"
        )
    ).all()
    ids = [m.provider_message_id for m in rows if m.direction == "out" and m.status == "sent" and m.provider_message_id]
    ids += [str(m.body["message_id"]) for m in rows if m.direction == "in" and (m.body or {}).get("message_id")]
    return sorted(set(ids), key=lambda value: int(value) if value.isdigit() else 0)


def cancel_pending(session: Session, *, contact_id: int, reason: str, now: datetime) -> int:
    """Give up on every message still waiting for a contact (the number opted out); return how many."""
    result = session.execute(
        update(Message)
        .where(col(Message.contact_id) == contact_id, col(Message.status) == "pending")
        .values(status="failed", error=reason[:120], not_before=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
