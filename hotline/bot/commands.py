"""Commands a person can send at any point: /help, /status and /erase (/lang is the language menu).

On SMS the same words work without the slash being special: "/status" is just text there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from hotline.bot.i18n import format_age, translate, use_locale
from hotline.bot.outgoing import send_to_contact
from hotline.flows.model import N_
from hotline.storage import outbox, reports
from hotline.storage.models import Contact, Report

HELP = N_(
    "Send your location and answer the questions. A volunteer reads everything you write. "
    "/status: your case. /erase: clear this chat. /lang: language. In danger to life, call 112."
)
SMS_HELP = N_(
    "A volunteer reads everything you write here. Send your location and answer the questions. Danger to life: 112."
)
STATUS_OPEN = N_("Your case {reference} is open. Last update: {age} ago.")
STATUS_TAKEN = N_("A volunteer has your case {reference}. Last update: {age} ago.")
STATUS_CLOSED = N_("Your case {reference} is closed. Write here if you need help again.")
ERASED = N_("I deleted the messages of this chat from your phone. Your case is kept safe with us. Write here any time.")
ERASE_SMS = N_("I cannot delete SMS from your phone. Please delete them yourself. Your case is kept safe with us.")
ERASE_WINDOW = timedelta(hours=48)  # Telegram lets a bot delete messages up to 48 hours old
COMMANDS = ("/help", "/status", "/erase")


def command_of(kind: str, payload: dict[str, Any]) -> str | None:
    """Return the command a message is, if it is one of ours."""
    if kind not in ("text", "command"):
        return None
    words = str(payload.get("text", "")).strip().lower().split()
    if len(words) != 1:
        return None
    word = words[0].split("@")[0]
    return word if word in COMMANDS else None


def run_command(session: Session, *, command: str, contact: Contact, report: Report, now: datetime) -> None:
    """Answer a command in the person's language."""
    with use_locale(report.language or contact.language):
        sms = contact.channel == "sms"
        if command == "/help":
            text = translate(SMS_HELP if sms else HELP)
        elif command == "/status":
            text = status_text(report, now)
        else:
            text = translate(ERASE_SMS if sms else ERASED)
            if contact.channel == "telegram":
                erase = {"erase_since": (now - ERASE_WINDOW).isoformat()}
                outbox.enqueue(
                    session, kind="erase", channel="telegram", recipient_key=contact.address_index,
                    body={"to": contact.address, **erase}, now=now, contact_id=contact.id, report_id=report.id,
                )  # fmt: skip
                reports.audit(session, actor="person", action="erased_chat", now=now, report_id=report.id)
        send_to_contact(session, contact=contact, report=report, body={"text": text, "buttons": []}, now=now)


def status_text(report: Report, now: datetime) -> str:
    """Say what is safe to say about a case to whoever holds it: its state and when it last changed."""
    if report.status in ("closed", "resolved"):
        return translate(STATUS_CLOSED, reference=report.reference)
    template = STATUS_TAKEN if report.acknowledged_by else STATUS_OPEN
    return translate(template, reference=report.reference, age=format_age(now - report.updated_at))
