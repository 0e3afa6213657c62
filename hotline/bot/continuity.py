"""One case across phones and accounts: a person who writes a case's reference from another Telegram account
or phone number is asked to confirm, then joined to that case.

The reference is all it takes, so joining shows nothing of the case: the person only continues it,
and the volunteer sees the new channel appear on the case. The offer is remembered in the contact's
(encrypted) profile until it is answered.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from hotline.bot.i18n import translate, use_locale
from hotline.bot.outgoing import send_to_contact
from hotline.flows import engine
from hotline.flows.model import N_
from hotline.flows.parsers import normalize_digits, parse_yes_no
from hotline.storage import reports
from hotline.storage.models import Contact, Conversation, Report

JOIN_ASK = N_("Do you want to continue case {reference} here?")
JOINED = N_("Thank you. You are now on case {reference}. The volunteer will see what you write here.")
NOT_JOINED = N_("All right, this stays a separate case.")
OFFER = "join_offer"
_REFERENCE = re.compile(
    rf"(?<![A-Z0-9])([{reports.REFERENCE_ALPHABET}]{{3}})[\s-]?([{reports.REFERENCE_ALPHABET}]{{3}})(?![A-Z0-9])"
)


def mentioned_report(session: Session, text: str) -> Report | None:
    """Return the case whose reference appears in a message (any case, with or without the dash)."""
    for match in _REFERENCE.finditer(normalize_digits(text).upper()):
        report = reports.find_report(session, reference=match.group(1) + match.group(2))
        if report is not None:
            return report
    return None


def offer_join(session: Session, *, contact: Contact, report: Report, now: datetime) -> None:
    """Ask a contact whether to continue an existing case from here."""
    contact.profile = {**(contact.profile or {}), OFFER: report.reference}
    if (contact.profile or {}).get("language_source") != "chosen":  # likely the same person: their case's language
        contact.language = report.language or contact.language
    session.add(contact)
    with use_locale(contact.language):
        options = engine.YES_NO_OPTIONS[:2]
        buttons = [[{"label": translate(o.label), "data": f"join:{o.value}"}] for o in options]
        text = translate(JOIN_ASK, reference=report.reference)
        send_to_contact(session, contact=contact, report=None, body={"text": text, "buttons": buttons}, now=now)


def pending_offer(contact: Contact) -> str | None:
    """Return the reference a contact was asked about, if the question is still open."""
    value = (contact.profile or {}).get(OFFER)
    return str(value) if value else None


def answer_of(kind: str, payload: dict[str, Any]) -> str | None:
    """Read a yes or no to the join question, from a button, a number (SMS) or words; ``None`` otherwise."""
    if kind == "button":
        data = str(payload.get("data", ""))
        return data.removeprefix("join:") if data.startswith("join:") else None
    text = normalize_digits(str(payload.get("text", ""))).strip()
    if text in ("1", "2"):
        return "yes" if text == "1" else "no"
    answer = parse_yes_no(text)
    return answer if answer in ("yes", "no") else None


def settle_offer(session: Session, *, contact: Contact, answer: str, now: datetime) -> Report | None:
    """Join the contact to the offered case on yes; forget the offer either way. Return the joined case."""
    reference = pending_offer(contact)
    contact.profile = {k: v for k, v in (contact.profile or {}).items() if k != OFFER}
    session.add(contact)
    report = reports.find_report(session, reference=reference) if reference else None
    with use_locale(contact.language or (report.language if report else None)):
        if report is None or answer != "yes":
            send_to_contact(session, contact=contact, report=None, body={"text": translate(NOT_JOINED)}, now=now)
            return None
        join(session, contact=contact, report=report, now=now)
        text = translate(JOINED, reference=report.reference)
        send_to_contact(session, contact=contact, report=report, body={"text": text, "buttons": []}, now=now)
    return report


def join(session: Session, *, contact: Contact, report: Report, now: datetime) -> None:
    """Point a contact's conversation at a case, continuing where the case's conversation is."""
    conversation = session.get(Conversation, contact.id)
    previous = session.get(Report, conversation.report_id) if conversation and conversation.report_id else None
    leader = session.exec(
        select(Conversation)
        .where(Conversation.report_id == report.id, Conversation.contact_id != contact.id)
        .order_by(col(Conversation.updated_at).desc())
    ).first()
    state = dict(leader.state) if leader and leader.state else None
    if conversation is None:
        conversation = Conversation(
            contact_id=contact.id or 0, flow=leader.flow if leader else "distress",
            node=leader.node if leader else "location", state=state, report_id=report.id, updated_at=now,
        )  # fmt: skip
    else:
        conversation.report_id, conversation.updated_at = report.id, now
        conversation.state = state or conversation.state
        conversation.node = leader.node if leader else conversation.node
    session.add(conversation)
    if previous is not None and previous.id != report.id and not reports.has_something_to_act_on(previous):
        previous.status = "merged"
        session.add(previous)
    report.last_contact_id = contact.id
    reports.add_note(report, field="channel", text=f"joined from {contact.channel}", now=now)
    session.add(report)
    reports.audit(session, actor="person", action="joined_from_" + contact.channel, now=now, report_id=report.id)
