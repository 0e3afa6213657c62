"""The dispatcher: claim one inbound event, run it through the flow engine, commit everything at once.

One transaction holds the claim, the new conversation state, the report fields, the outbound
messages, the pages and the audit records. If anything fails, nothing of it is kept and the event
is claimed again (three tries, then it is set aside and the person is told we are on it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from hotline.bot import paging
from hotline.bot.i18n import use_locale
from hotline.bot.replies import reply_body
from hotline.flows import engine
from hotline.flows.model import N_, Flow
from hotline.settings import Settings
from hotline.storage import inbox, outbox, reports, staff
from hotline.storage.db import Database
from hotline.storage.models import Contact, Conversation, InboundEvent, Message, Report, Volunteer

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
UNSUPPORTED = N_("I can read text and locations only. Please write, or send your location.")
SORRY = N_("Sorry, something went wrong on our side. A volunteer has been told and will write to you.")
VOLUNTEER_HELP = N_("This chat receives pages. Press Acknowledge on a page to take the case.")


class Dispatcher:
    """Processes inbound events one at a time, each in a single transaction."""

    def __init__(self, *, database: Database, settings: Settings, flow: Flow, clock: Clock) -> None:
        self.database = database
        self.settings = settings
        self.flow = flow
        self.clock = clock
        self.on_commit: Callable[[], None] = lambda: None

    def process_next(self) -> bool:
        """Process the next pending event, if there is one; return whether one was processed."""
        event_id: int | None = None
        try:
            with self.database.session() as session:
                event = inbox.claim_next_event(session)
                if event is None:
                    return False
                event_id = event.id
                self._handle(session, event, self.clock())
        except Exception as exc:
            if event_id is None:
                raise
            log.exception("event %s failed", event_id)
            self._record_failure(event_id, exc)
        self.on_commit()
        return True

    def drain(self, limit: int = 10_000, stop: threading.Event | None = None) -> int:
        """Process pending events until none is left (or ``stop`` is set); return how many were processed."""
        count = 0
        while count < limit and not (stop and stop.is_set()) and self.process_next():
            count += 1
        return count

    def _handle(self, session: Session, event: InboundEvent, now: datetime) -> None:
        contact = session.get(Contact, event.contact_id)
        assert contact is not None
        payload: dict[str, Any] = event.payload or {}
        session.add(_inbound_log(event, payload, now))
        volunteer = None
        if event.channel == "telegram":
            volunteer = staff.find_volunteer_by_chat(session, keyring=self.database.keyring, chat_id=contact.address)
        if volunteer is not None:
            self._volunteer_event(session, volunteer, contact, event, payload, now)
        else:
            self._person_event(session, contact, event, payload, now)
        inbox.mark_done(session, event=event, now=now)

    def _person_event(
        self, session: Session, contact: Contact, event: InboundEvent, payload: dict[str, Any], now: datetime
    ) -> None:
        conversation, report = self._conversation(session, contact, payload, now)
        flow_event = to_flow_event(event.kind, payload)
        if flow_event is None:
            self._unsupported(session, contact, event, report, payload, now)
            return
        state, effects = engine.step(self.flow, conversation.state or {}, flow_event, now)
        handoff = self._apply(session, report, effects, now)
        self._reply(session, contact, event, report, effects, payload, now)
        conversation.state, conversation.node, conversation.updated_at = state, state["node"], now
        session.add(conversation)
        session.add(report)
        session.flush()
        paging.page_report(
            session,
            keyring=self.database.keyring,
            report=report,
            now=now,
            telegram=self.settings.telegram_enabled,
            handoff=handoff,
        )

    def _conversation(
        self, session: Session, contact: Contact, payload: dict[str, Any], now: datetime
    ) -> tuple[Conversation, Report]:
        conversation = session.get(Conversation, contact.id)
        if conversation is not None and conversation.report_id is not None:
            report = session.get(Report, conversation.report_id)
            assert report is not None
            return conversation, report
        language = contact.language or payload.get("language_code") or self.settings.default_language
        report = reports.create_report(
            session,
            kind=self.flow.report_kind,
            channel=contact.channel,
            contact_id=contact.id or 0,
            language=language,
            now=now,
        )
        reports.audit(session, actor="system", action="report_created", now=now, report_id=report.id)
        conversation = Conversation(
            contact_id=contact.id or 0,
            flow=self.flow.name,
            node=self.flow.start,
            state=engine.new_state(self.flow),
            report_id=report.id,
            updated_at=now,
        )
        session.add(conversation)
        return conversation, report

    def _apply(self, session: Session, report: Report, effects: list[engine.Effect], now: datetime) -> bool:
        handoff = False
        for effect in effects:
            if isinstance(effect, engine.Save):
                reports.save_field(report, field=effect.field, value=effect.value, now=now, merge=effect.merge)
            elif isinstance(effect, engine.Note):
                reports.add_note(report, field=effect.field, text=effect.text, now=now)
            elif isinstance(effect, engine.Handoff):
                handoff = True
                reports.add_note(report, field="handoff", text="asked for a person", now=now)
                reports.audit(session, actor="person", action="asked_for_person", now=now, report_id=report.id)
            elif isinstance(effect, engine.Ended):
                reports.audit(session, actor="system", action="flow_completed", now=now, report_id=report.id)
        return handoff

    def _reply(
        self,
        session: Session,
        contact: Contact,
        event: InboundEvent,
        report: Report,
        effects: list[engine.Effect],
        payload: dict[str, Any],
        now: datetime,
    ) -> None:
        says = [e for e in effects if isinstance(e, engine.Say)]
        toasts = [e for e in effects if isinstance(e, engine.Toast)]
        with use_locale(report.language):
            if says:
                choices = next((s.node for s in says if s.node and self.flow.nodes[s.node].expect == "choices"), None)
                body = reply_body(says, self._params(report), choices_node=choices)
                self._send_to(session, contact, report, body, now)
            if event.kind == "button":
                toast = paging_toast(toasts)
                self._answer_button(session, event, contact, payload, toast, now)

    def _params(self, report: Report) -> dict[str, Any]:
        return {"reference": report.reference, "ngo_name": self.settings.ngo_name, "ngo_phone": self.settings.ngo_phone}

    def _send_to(
        self, session: Session, contact: Contact, report: Report | None, body: dict[str, Any], now: datetime
    ) -> Message:
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

    def _answer_button(
        self, session: Session, event: InboundEvent, contact: Contact, payload: dict[str, Any], text: str, now: datetime
    ) -> None:
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

    def _unsupported(
        self,
        session: Session,
        contact: Contact,
        event: InboundEvent,
        report: Report,
        payload: dict[str, Any],
        now: datetime,
    ) -> None:
        if event.kind == "edited_text":
            reports.add_note(report, field="edited", text=str(payload.get("text", ""))[:2000], now=now)
            session.add(report)
            return
        reports.add_note(report, field="unsupported", text=f"sent a {payload.get('type', 'message')}", now=now)
        session.add(report)
        with use_locale(report.language):
            self._send_to(session, contact, report, reply_body([engine.Say(UNSUPPORTED)], {}), now)

    def _volunteer_event(
        self,
        session: Session,
        volunteer: Volunteer,
        contact: Contact,
        event: InboundEvent,
        payload: dict[str, Any],
        now: datetime,
    ) -> None:
        data = str(payload.get("data", ""))
        if event.kind == "button" and data.startswith(paging.ACK_PREFIX):
            toast = acknowledge_page(session, self.database, volunteer, data, now, self.settings.telegram_enabled)
            self._answer_button(session, event, contact, payload, toast, now)
            return
        if event.kind == "button":
            self._answer_button(session, event, contact, payload, "", now)
            return
        self._send_to(session, contact, None, {"text": VOLUNTEER_HELP, "buttons": []}, now)

    def _record_failure(self, event_id: int, exc: Exception) -> None:
        now = self.clock()
        with self.database.session() as session:
            set_aside = inbox.record_failure(session, event_id=event_id, error=exc.__class__.__name__, now=now)
            if not set_aside:
                return
            event = session.get(InboundEvent, event_id)
            contact = session.get(Contact, event.contact_id) if event else None
            reports.audit(session, actor="system", action="event_set_aside", now=now, detail=f"event {event_id}")
            if contact is not None:
                self._send_to(session, contact, None, reply_body([engine.Say(SORRY)], {}), now)


def acknowledge_page(
    session: Session, database: Database, volunteer: Volunteer, data: str, now: datetime, telegram: bool
) -> str:
    """Let the first volunteer who acknowledges take the case; return the short answer for their button."""
    page = _page_for(session, data)
    if page is None or page.volunteer_id != volunteer.id:
        return "This page is not for you."
    report = session.get(Report, page.report_id)
    assert report is not None
    if not reports.acknowledge(session, report_id=report.id or 0, volunteer_id=volunteer.id or 0, now=now):
        session.refresh(report)
        mine = report.acknowledged_by == volunteer.id
        return "You already have this case." if mine else "Someone else has already taken this case."
    session.refresh(report)
    page.status, page.acknowledged_at = "acknowledged", now
    session.add(page)
    reports.audit(session, actor=f"volunteer:{volunteer.id}", action="acknowledged", now=now, report_id=report.id)
    paging.page_report(session, keyring=database.keyring, report=report, now=now, telegram=telegram)
    _send_details(session, database, volunteer, report, now, telegram)
    return "You have this case. Details follow."


def _page_for(session: Session, data: str) -> Any:
    from hotline.storage.models import Page

    try:
        return session.get(Page, int(data.removeprefix(paging.ACK_PREFIX)))
    except ValueError:
        return None


def _send_details(
    session: Session, database: Database, volunteer: Volunteer, report: Report, now: datetime, telegram: bool
) -> None:
    channel, address, key = paging.volunteer_route(database.keyring, volunteer, telegram=telegram)
    location = report.location or {}
    bodies = [{"to": address, **paging.details_body(report)}]
    if "lat" in location and channel == "telegram":
        bodies.insert(0, {"to": address, "location": [location["lat"], location["lon"]]})
    for body in bodies:
        outbox.enqueue(
            session,
            kind="details",
            channel=channel,
            recipient_key=key,
            body=body,
            now=now,
            volunteer_id=volunteer.id,
            report_id=report.id,
        )


def paging_toast(toasts: list[engine.Toast]) -> str:
    """Return the translated text of the last toast, or nothing."""
    from hotline.bot.i18n import translate

    return translate(toasts[-1].text, **toasts[-1].params) if toasts else ""


def to_flow_event(kind: str, payload: dict[str, Any]) -> engine.Event | None:
    """Turn a stored inbound event into the engine's input; ``None`` for kinds the flow cannot read."""
    if kind == "location":
        return engine.Location(float(payload["lat"]), float(payload["lon"]), "live" if payload.get("live") else "pin")
    if kind == "button":
        return engine.Button(str(payload.get("data", "")))
    if kind == "command" and str(payload.get("text", "")).split()[0].split("@")[0] == "/start":
        return engine.Start()
    if kind in ("text", "command"):
        return engine.Text(str(payload.get("text", "")))
    return None


def _inbound_log(event: InboundEvent, payload: dict[str, Any], now: datetime) -> Message:
    return Message(
        direction="in",
        kind=event.kind,
        channel=event.channel,
        contact_id=event.contact_id,
        inbound_event_id=event.id,
        body=payload,
        status="received",
        created_at=now,
    )
