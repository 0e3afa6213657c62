"""Talking through the bot: a volunteer's words and phrasebook phrases to the person, their answers back.

The person hears from the hotline's own number or bot, never the volunteer's. Phrases go in the
person's language; free text goes as written, marked as untranslated when the volunteer does not
list the person's language. A phrase that asks something (how many are you?) leaves the question
open on the conversation, so the next answer comes back to the volunteer already read: "7", "yes".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from hotline.bot import languages, paging
from hotline.bot.i18n import V_, translate, translate_for_volunteer, use_locale
from hotline.bot.oncall import phrasebook
from hotline.bot.outgoing import send_to_contact
from hotline.flows.model import N_
from hotline.storage import reports
from hotline.storage.crypto import KeyRing
from hotline.storage.models import Contact, Conversation, Incident, Report, Volunteer

FROM_VOLUNTEER = N_("Message from a hotline volunteer:")
UNTRANSLATED = N_("Message from a hotline volunteer (not translated):")
SENT = V_("Sent to case {reference}.")
SENT_UNTRANSLATED = V_("Sent to case {reference} as written: they read {language}. Phrasebook buttons are translated.")
ANSWER = V_("Case {reference} answered “{question}”: {answer}")
ASKED = "asked"  # conversation state key: the phrase whose answer is awaited
ANSWER_PREFIX = "answer:"


def person_contact(session: Session, report: Report) -> Contact:
    """Return where the person of a case last wrote from."""
    contact = session.get(Contact, report.last_contact_id or report.contact_id)
    assert contact is not None
    return contact


def person_language(report: Report, contact: Contact) -> str:
    """Return the language the person of a case reads."""
    return report.language or contact.language or "en"


def send_text(session: Session, *, volunteer: Volunteer, report: Report, text: str, now: datetime) -> str:
    """Pass a volunteer's own words to the person; return the confirmation for the volunteer."""
    contact = person_contact(session, report)
    language = person_language(report, contact)
    shared = language in _spoken(volunteer)
    with use_locale(language):
        heading = translate(FROM_VOLUNTEER if shared else UNTRANSLATED)
    send_to_contact(
        session, contact=contact, report=report, body={"text": f"{heading}\n{text}", "buttons": []}, now=now
    )
    _record(session, volunteer, report, "relayed_text", now)
    if shared:
        return translate_for_volunteer(SENT, reference=report.reference)
    native = languages.get(language).native
    return translate_for_volunteer(SENT_UNTRANSLATED, reference=report.reference, language=native)


def send_phrase(
    session: Session,
    *,
    volunteer: Volunteer,
    report: Report,
    phrase: phrasebook.Phrase,
    minutes: int | None,
    now: datetime,
) -> str:
    """Send a phrasebook phrase in the person's language; return the confirmation for the volunteer."""
    contact = person_contact(session, report)
    language = person_language(report, contact)
    body = phrasebook.person_body(phrase, language=language, minutes=minutes, sms=contact.channel == "sms")
    send_to_contact(session, contact=contact, report=report, body=body, now=now)
    if phrase.answer is not None:
        _await_answer(session, contact, phrase.key, now)
    _record(session, volunteer, report, f"relayed_phrase:{phrase.key}", now)
    return translate_for_volunteer(SENT, reference=report.reference)


def _spoken(volunteer: Volunteer) -> set[str]:
    return {code.strip() for code in (volunteer.languages or "").split(",") if code.strip()}


def _await_answer(session: Session, contact: Contact, key: str, now: datetime) -> None:
    conversation = session.get(Conversation, contact.id)
    if conversation is not None:
        conversation.state = {**(conversation.state or {}), ASKED: key}
        conversation.updated_at = now
        session.add(conversation)


def _record(session: Session, volunteer: Volunteer, report: Report, action: str, now: datetime) -> None:
    reports.audit(session, actor=f"volunteer:{volunteer.id}", action=action, now=now, report_id=report.id)


def take_answer(
    session: Session,
    *,
    keyring: KeyRing,
    conversation: Conversation,
    report: Report,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    reach: paging.Reach,
) -> bool:
    """Read the person's answer to a volunteer's question and pass it on; return whether it was one.

    The words are kept with the case either way; what is not understood as an answer goes on
    through the flow as usual (and so reaches the volunteer as the person's words).
    """
    asked = (conversation.state or {}).get(ASKED)
    if not asked:
        return False
    raw = _answer_text(kind, payload, asked)
    conversation.state = {key: value for key, value in (conversation.state or {}).items() if key != ASKED}
    session.add(conversation)
    phrase = phrasebook.find(str(asked))
    answer = phrasebook.interpret(str(asked), raw) if raw is not None and phrase is not None else None
    if phrase is None or raw is None or answer is None:
        return False
    reports.add_note(report, field=f"answer:{phrase.key}", text=raw, now=now)
    session.add(report)
    _tell_owner(session, keyring=keyring, report=report, phrase=phrase, answer=answer, now=now, reach=reach)
    return True


def _answer_text(kind: str, payload: dict[str, Any], asked: str) -> str | None:
    data = str(payload.get("data", ""))
    if kind == "button" and data.startswith(f"{ANSWER_PREFIX}{asked}:"):
        return data.rsplit(":", 1)[1]
    return str(payload["text"]) if kind in ("text", "command") and payload.get("text") else None


def _tell_owner(
    session: Session,
    *,
    keyring: KeyRing,
    report: Report,
    phrase: phrasebook.Phrase,
    answer: str,
    now: datetime,
    reach: paging.Reach,
) -> None:
    owner = session.get(Volunteer, report.acknowledged_by) if report.acknowledged_by else None
    if owner is None:
        return
    route = paging.volunteer_route(keyring, owner, reach=reach)
    with use_locale(paging.volunteer_language(owner)):
        question = translate_for_volunteer(phrase.label)
        shown = translate_for_volunteer(paging.ANSWERS.get(answer, answer))
        text = translate_for_volunteer(ANSWER, reference=report.reference, question=question, answer=shown)
    body = {"text": text, "buttons": []}
    paging.notify_volunteer(
        session, route=route, volunteer_id=owner.id, report_id=report.id, kind="news", body=body, now=now
    )


def incident_report(session: Session, incident: Incident) -> Report:
    """Return an incident's report."""
    report = session.get(Report, incident.report_id)
    assert report is not None
    return report
