"""Phone calls: answer in the caller's likely language, forward to the volunteer on duty, take a voicemail
when nobody answers, and make every call a case so nobody calls into the void.

The webhook half (``answer_call_step``) stores each moment of the call and returns TwiML at once;
the dispatcher half (``handle_call_event``) turns those moments into a report, a note and a page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session

from hotline.bot import voice
from hotline.bot.oncall import rota
from hotline.bot.twilio_events import store_call_event, to_int
from hotline.flows.detect import language_from_phone
from hotline.settings import Settings
from hotline.storage import attachments, inbox, reports, staff
from hotline.storage.db import Database
from hotline.storage.models import Contact, InboundEvent, Report, Volunteer

log = logging.getLogger(__name__)

CALL_KINDS = ("call", "call_language", "call_answered", "call_missed", "voicemail")
ANSWERED, MISSED, VOICEMAIL = "answered", "missed", "voicemail"


def answer_call_step(
    database: Database, settings: Settings, form: Mapping[str, str], step: str, language: str | None, now: datetime
) -> tuple[str, int | None]:
    """Store this moment of a call and return the TwiML that answers it."""
    caller = staff.normalize_phone(form.get("From", ""))
    language = language or _caller_language(database, caller, settings)  # the voice falls back to English itself
    url = _step_url(settings, language)
    if step == "lang":
        chosen = voice.language_for_key(form.get("Digits", ""), language) or language
        stored = store_call_event(
            database, form, kind="call_language", suffix="lang", payload={"language": chosen}, now=now
        )
        return _forward(database, settings, form, chosen, now), stored
    if step == "forward":
        return _forward(database, settings, form, language, now), None
    if step == "dialed":
        return _dialed(database, form, language, url, now)
    if step == "recorded":
        return _recorded(database, form, language, now)
    stored = store_call_event(database, form, kind="call", suffix="", payload={"language": language}, now=now)
    twiml = voice.greeting(language=language, gather_url=url("lang"), ngo_name=settings.ngo_name)
    return voice.then_redirect(twiml, url("forward")), stored


def _forward(database: Database, settings: Settings, form: Mapping[str, str], language: str, now: datetime) -> str:
    phone = _duty_phone(database, now)
    url = _step_url(settings, language)
    if phone is None:  # nobody can take the call: straight to the voicemail, and the case pages at once
        store_call_event(
            database, form, kind="call_missed", suffix="dial", payload={"reason": "nobody_on_duty"}, now=now
        )
        return voice.voicemail(language=language, action_url=url("recorded"))
    caller_id = settings.twilio_from if settings.twilio_from.startswith("+") else form.get("To", "")
    return voice.forward(language=language, phone=phone, caller_id=caller_id, action_url=url("dialed"))


def _dialed(
    database: Database, form: Mapping[str, str], language: str, url: Any, now: datetime
) -> tuple[str, int | None]:
    status = form.get("DialCallStatus", "")
    if voice.dial_answered(status):
        payload = {"duration": to_int(form.get("DialCallDuration"))}
        stored = store_call_event(database, form, kind="call_answered", suffix="dial", payload=payload, now=now)
        return voice.hang_up(), stored
    stored = store_call_event(database, form, kind="call_missed", suffix="dial", payload={"reason": status}, now=now)
    return voice.voicemail(language=language, action_url=url("recorded")), stored


def _recorded(database: Database, form: Mapping[str, str], language: str, now: datetime) -> tuple[str, int | None]:
    recording = form.get("RecordingSid", "")
    payload = {
        "url": form.get("RecordingUrl", ""),
        "recording_sid": recording,
        "duration": to_int(form.get("RecordingDuration")),
    }
    stored = (
        store_call_event(database, form, kind="voicemail", suffix=f"rec:{recording}", payload=payload, now=now)
        if payload["url"]
        else None
    )
    return voice.after_voicemail(language=language), stored


def _step_url(settings: Settings, language: str) -> Any:
    def url(step: str) -> str:
        return f"{settings.public_url}/webhooks/twilio/voice?{urlencode({'step': step, 'lang': language})}"

    return url


def _caller_language(database: Database, caller: str, settings: Settings) -> str:
    with database.session() as session:
        contact = inbox.find_contact(session, keyring=database.keyring, channel="sms", address=caller)
        if contact is not None and contact.language:
            return contact.language
    return language_from_phone(caller) or settings.default_language


def _duty_phone(database: Database, now: datetime) -> str | None:
    """Return the phone to forward a call to: primary on duty, then backup, then a coordinator, not in quiet hours."""
    with database.session() as session:
        return next((str(v.phone) for v in _call_candidates(session, now) if _callable(v, now)), None)


def _call_candidates(session: Session, now: datetime) -> list[Volunteer]:
    primary = rota.on_duty_at(session, layer="primary", at=now)
    return primary + rota.on_duty_at(session, layer="backup", at=now) + rota.coordinators(session)


def _callable(volunteer: Volunteer, now: datetime) -> bool:
    return bool(volunteer.phone) and "call" not in rota.quiet_channels(volunteer, now)


def handle_call_event(
    session: Session, *, contact: Contact, report: Report, event: InboundEvent, payload: dict[str, Any], now: datetime
) -> bool:
    """Record one moment of a call on the caller's case; return whether the case must be paged loudly."""
    if event.kind in ("call", "call_language"):
        contact.language = payload.get("language") or contact.language
        report.language = contact.language or report.language
        if event.kind == "call":
            reports.add_note(report, field="call", text="incoming call", now=now)
            reports.audit(session, actor="person", action="called", now=now, report_id=report.id)
        return False
    if event.kind == "call_answered":
        reports.add_note(
            report, field="call", text=f"call answered by the volunteer on duty ({payload.get('duration')} s)", now=now
        )
        reports.audit(session, actor="system", action="call_answered", now=now, report_id=report.id)
        return False
    if event.kind == "call_missed":
        reports.add_note(report, field="call", text=f"missed call ({payload.get('reason') or 'no answer'})", now=now)
        reports.audit(session, actor="system", action="call_missed", now=now, report_id=report.id)
        return True
    source = {"channel": "sms", "url": payload.get("url", ""), "recording_sid": payload.get("recording_sid")}
    attachments.add_attachment(
        session, contact_id=contact.id or 0, report_id=report.id, inbound_event_id=event.id, kind="recording",
        source=source, mime_type=None, size=None, duration=payload.get("duration"), now=now,
    )  # fmt: skip
    reports.add_note(report, field="call", text=f"voicemail left ({payload.get('duration')} s)", now=now)
    reports.audit(session, actor="person", action="voicemail", now=now, report_id=report.id)
    return True
