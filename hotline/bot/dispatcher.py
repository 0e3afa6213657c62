"""The dispatcher: claim one inbound event, run it through the flow engine, commit everything at once.

One transaction holds the claim, the new conversation state, the report fields, the outbound
messages, the pages and the audit records. If anything fails, nothing of it is kept and the event
is claimed again (three tries, then it is set aside and the person is told we are on it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from hotline.bot import calls, cases, commands, continuity, language, paging, uploads
from hotline.bot.i18n import translate, use_locale
from hotline.bot.oncall import escalation, relay
from hotline.bot.oncall.policy import load_policy
from hotline.bot.outgoing import answer_button, send_to_contact
from hotline.bot.replies import reply_body
from hotline.bot.volunteers import handle_volunteer_event
from hotline.flows import engine
from hotline.flows.model import N_, Flow, FlowSet, Node
from hotline.flows.parsers import normalize_digits
from hotline.settings import Settings
from hotline.storage import groups, inbox, outbox, reports, staff
from hotline.storage.db import Database
from hotline.storage.models import Contact, Conversation, InboundEvent, Message, Report, Volunteer

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
RETRY_PAUSE = 0.5
GROUP_FIELDS = ("location", "people.total")  # what decides whether two reports are about the same group
UNSUPPORTED = N_("I can read text and locations only. Please write, or send your location.")
SORRY = N_("Sorry, something went wrong on our side. A volunteer has been told and will write to you.")


class Dispatcher:
    """Processes inbound events one at a time, each in a single transaction."""

    def __init__(self, *, database: Database, settings: Settings, flows: FlowSet, clock: Clock) -> None:
        self.database = database
        self.settings = settings
        self.flows = flows
        self.clock = clock
        self.reach = paging.reach_of(settings)
        self.policy = load_policy(Path(settings.escalation_policy) if settings.escalation_policy else None)
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
            time.sleep(RETRY_PAUSE)  # a passing database fault should not use up all tries at once
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
        volunteer = self._volunteer(session, contact, event)
        if volunteer is not None:
            handle_volunteer_event(
                session, database=self.database, volunteer=volunteer, contact=contact, event=event,
                payload=payload, now=now, settings=self.settings,
            )  # fmt: skip
        elif event.kind in ("opt_out", "opt_in"):
            _opt(session, contact, event.kind, now)
        else:
            self._person_event(session, contact, event, payload, now)
        inbox.mark_done(session, event=event, now=now)

    def _volunteer(self, session: Session, contact: Contact, event: InboundEvent) -> Volunteer | None:
        keyring = self.database.keyring
        if event.channel == "telegram":
            return staff.find_volunteer_by_chat(session, keyring=keyring, chat_id=contact.address)
        if event.channel == "sms" and event.kind not in calls.CALL_KINDS:
            return staff.find_volunteer_by_phone(session, keyring=keyring, phone=contact.address)
        return None

    def _person_event(
        self, session: Session, contact: Contact, event: InboundEvent, payload: dict[str, Any], now: datetime
    ) -> None:
        new_contact = contact.language is None
        if new_contact or (contact.profile or {}).get("language_source") in language.WEAK_SOURCES:
            self._guess_language(contact, event, payload)
        if self._continuity(session, contact, event, payload, now):
            return
        kind = "call" if event.kind in calls.CALL_KINDS else self.flows.get(self.flows.entry).report_kind
        conversation, report = self._conversation(session, contact, now, kind=kind)
        report.language = contact.language or report.language
        report.last_contact_id = contact.id
        if event.kind in calls.CALL_KINDS:
            loud = calls.handle_call_event(
                session, contact=contact, report=report, event=event, payload=payload, now=now
            )
            session.add_all([report, contact])
            session.flush()
            self._page(session, report, now, loud=loud)
            return
        if language.asks_for_menu(event.kind, payload):
            self._send_menu(session, contact, report, now)
            return
        command = commands.command_of(event.kind, payload)
        if command is not None:
            commands.run_command(session, command=command, contact=contact, report=report, now=now)
            return
        if relay.take_answer(
            session, keyring=self.database.keyring, conversation=conversation, report=report, kind=event.kind,
            payload=payload, now=now, reach=self.reach,
        ):  # fmt: skip
            return
        if event.kind in ("media", "sms_media"):
            self._media(session, contact, event, report, payload, now)
            if self._current_node(conversation).expect == "media":  # a photo the flow asked for: go on
                self._step(session, contact, event, conversation, report, engine.Media(), payload, now)
            return
        if event.kind == "location" and uploads.is_stale_fix(report.location, payload):
            return  # an older live-location fix arriving late: the fresher one stays
        picked = language.chosen(event.kind, payload) or self._picked_on_sms(contact, payload)
        flow = language.localized_flow(self.flows.get((conversation.state or {}).get("flow")), report.language)
        flow_event = engine.Repeat() if picked else to_flow_event(event.kind, payload)
        if contact.channel == "sms" and flow_event is not None:
            flow_event = sms_answer(flow, conversation.state or {}, flow_event)
        if isinstance(flow_event, engine.Text) and self._current_node(conversation).expect == "code":
            flow_event = cases.look_up(session, contact=contact, text=flow_event.text, now=now)
        if picked:
            self._set_language(contact, report, picked, "chosen")
        if flow_event is None:
            self._unsupported(session, contact, event, report, payload, now)
            return
        # the menu of 21 languages costs six SMS: by SMS it is sent only when asked for ("language", /lang)
        if contact.language is None and contact.channel != "sms" and not (contact.profile or {}).get("menu_sent"):
            self._send_menu(session, contact, report, now)
            contact.profile = {**(contact.profile or {}), "menu_sent": True}
        self._step(session, contact, event, conversation, report, flow_event, payload, now, picked=bool(picked))

    def _step(
        self, session: Session, contact: Contact, event: InboundEvent, conversation: Conversation, report: Report,
        flow_event: engine.Event, payload: dict[str, Any], now: datetime, *, picked: bool = False,
    ) -> None:  # fmt: skip
        """Run one event through the flows, keep what it gave, answer, and page when a volunteer is needed."""
        flows = language.localized_flows(self.flows, report.language)
        state, effects = engine.run(flows, conversation.state or {}, flow_event, now)
        if picked:
            effects = [engine.Say(language.CHOSEN), *effects]
        was_urgent = report.urgent
        report, handoff = self._apply(session, contact, conversation, report, effects, now)
        if any(isinstance(e, engine.Save) and e.field in GROUP_FIELDS for e in effects):
            groups.link(session, report, now)  # only when where or how many changed: it reads recent reports
        self._reply(session, contact, event, report, effects, payload, now, state)
        conversation.state, conversation.node, conversation.updated_at = state, state["node"], now
        session.add_all([conversation, report, contact])
        session.flush()
        came_back = any(isinstance(e, engine.Note) and e.field == "followup" for e in effects)
        loud = handoff or came_back or (report.urgent and not was_urgent)
        self._page(session, report, now, handoff=handoff, loud=loud, effects=effects)

    def _current_node(self, conversation: Conversation) -> Node:
        state = conversation.state or {}
        flow = self.flows.get(state.get("flow"))
        return flow.nodes.get(str(state.get("node")), flow.node(flow.start))

    def _continuity(
        self, session: Session, contact: Contact, event: InboundEvent, payload: dict[str, Any], now: datetime
    ) -> bool:
        """Handle joining another case by its reference; return whether the event was used up by it."""
        if continuity.pending_offer(contact):
            answer = continuity.answer_of(event.kind, payload)
            if answer is not None:
                joined = continuity.settle_offer(session, contact=contact, answer=answer, now=now)
                if joined is not None:
                    session.flush()
                    self._page(session, joined, now, loud=True)
                return True
        if event.kind not in ("text", "command"):
            return False
        conversation = session.get(Conversation, contact.id)
        if conversation is not None and self._current_node(conversation).expect == "code":
            return False  # a code written to look a case up, not to join it
        mentioned = continuity.mentioned_report(session, str(payload.get("text", "")))
        if mentioned is None or (conversation is not None and conversation.report_id == mentioned.id):
            return False
        continuity.offer_join(session, contact=contact, report=mentioned, now=now)
        return True

    def _media(
        self, session: Session, contact: Contact, event: InboundEvent, report: Report, payload: dict[str, Any],
        now: datetime,
    ) -> None:  # fmt: skip
        uploads.keep_media(session, contact=contact, event=event, report=report, payload=payload, now=now)
        session.add(report)
        session.flush()
        _say(session, contact, report, uploads.MEDIA_SAVED, now)
        self._page(session, report, now)
        paging.relay_media_to_owner(
            session, keyring=self.database.keyring, report=report, payload=payload, now=now, reach=self.reach
        )

    def _page(
        self, session: Session, report: Report, now: datetime, *, handoff: bool = False, loud: bool = False,
        effects: list[engine.Effect] | None = None,
    ) -> None:  # fmt: skip
        keyring, reach = self.database.keyring, self.reach
        escalation.page_report(
            session, keyring=keyring, report=report, policy=self.policy, now=now, reach=reach, handoff=handoff,
            loud=loud,
        )  # fmt: skip
        if effects:
            paging.tell_owner(session, keyring=keyring, report=report, effects=effects, now=now, reach=reach)

    def _guess_language(self, contact: Contact, event: InboundEvent, payload: dict[str, Any]) -> None:
        guess, source = language.first_language(contact.channel, contact.address, event.kind, payload)
        if guess and (contact.language is None or source == "text"):
            contact.language = guess
            contact.profile = {**(contact.profile or {}), "language_source": source}

    def _set_language(self, contact: Contact, report: Report, code: str, source: str) -> None:
        contact.language = report.language = code
        contact.profile = {**(contact.profile or {}), "language_source": source}

    def _send_menu(self, session: Session, contact: Contact, report: Report, now: datetime) -> None:
        send_to_contact(session, contact=contact, report=report, body=language.menu_body(), now=now)
        if contact.channel == "sms":  # the next bare number picks a language from the numbered list
            contact.profile = {**(contact.profile or {}), "menu_open": True}
            session.add(contact)

    def _picked_on_sms(self, contact: Contact, payload: dict[str, Any]) -> str | None:
        profile = contact.profile or {}
        if contact.channel != "sms" or not profile.get("menu_open"):
            return None
        contact.profile = {k: v for k, v in profile.items() if k != "menu_open"}
        return language.chosen_by_number(str(payload.get("text", "")))

    def _conversation(
        self, session: Session, contact: Contact, now: datetime, kind: str
    ) -> tuple[Conversation, Report]:
        conversation = session.get(Conversation, contact.id)
        if conversation is not None and conversation.report_id is not None:
            report = session.get(Report, conversation.report_id)
            assert report is not None
            return conversation, report
        report = reports.create_report(
            session, kind=kind, channel=contact.channel, contact_id=contact.id or 0,
            language=contact.language or self.settings.default_language, now=now,
        )  # fmt: skip
        reports.audit(session, actor="system", action="report_created", now=now, report_id=report.id)
        entry = self.flows.get(self.flows.entry)
        conversation = Conversation(
            contact_id=contact.id or 0, flow=entry.name, node=entry.start,
            state=engine.new_state(entry), report_id=report.id, updated_at=now,
        )  # fmt: skip
        session.add(conversation)
        return conversation, report

    def _apply(
        self, session: Session, contact: Contact, conversation: Conversation, report: Report,
        effects: list[engine.Effect], now: datetime,
    ) -> tuple[Report, bool]:  # fmt: skip
        """Keep what the effects say on the report (which a move to another flow may replace)."""
        handoff = False
        for effect in effects:
            if isinstance(effect, engine.Switch):
                flow = self.flows.get(effect.flow)
                report = cases.move_to(
                    session, conversation=conversation, report=report, flow=flow, contact=contact, now=now
                )
            elif isinstance(effect, engine.Save) and effect.field == "case.note":
                reference = str((conversation.state or {}).get("case", ""))
                cases.add_to_case(session, reference=reference, text=str(effect.value), contact=contact, now=now)
            elif isinstance(effect, engine.Save) and effect.field == "case":
                reports.audit(session, actor="person", action="looked_up_case", now=now, report_id=report.id)
            elif isinstance(effect, engine.Save):
                value = (
                    {"words": effect.value, "language": report.language, "at": now.isoformat()}
                    if effect.evidence
                    else effect.value
                )
                reports.save_field(report, field=effect.field, value=value, now=now, merge=effect.merge)
            elif isinstance(effect, engine.Note):
                reports.add_note(report, field=effect.field, text=effect.text, now=now)
            elif isinstance(effect, engine.Handoff):
                handoff = True
                reports.add_note(report, field="handoff", text="asked for a person", now=now)
                reports.audit(session, actor="person", action="asked_for_person", now=now, report_id=report.id)
            elif isinstance(effect, engine.Ended):
                reports.audit(session, actor="system", action="flow_completed", now=now, report_id=report.id)
        return report, handoff

    def _reply(
        self, session: Session, contact: Contact, event: InboundEvent, report: Report,
        effects: list[engine.Effect], payload: dict[str, Any], now: datetime, state: dict[str, Any],
    ) -> None:  # fmt: skip
        says = [e for e in effects if isinstance(e, engine.Say)]
        toasts = [e for e in effects if isinstance(e, engine.Toast)]
        flow = self.flows.get(state.get("flow"))
        with use_locale(report.language):
            if says:
                last = says[-1].node
                choices = last if last in flow.nodes and flow.nodes[last].expect == "choices" else None
                sms = contact.channel == "sms"
                params = self._params(report) | cases.case_params(session, state)
                body = reply_body(says, params, choices_node=choices, sms=sms)
                send_to_contact(session, contact=contact, report=report, body=body, now=now)
            if event.kind == "button":
                params = {key: translate(value) for key, value in toasts[-1].params.items()} if toasts else {}
                text = translate(toasts[-1].text, **params) if toasts else ""
                answer_button(session, event=event, contact=contact, payload=payload, text=text, now=now)

    def _params(self, report: Report) -> dict[str, Any]:
        return {"reference": report.reference, "ngo_name": self.settings.ngo_name, "ngo_phone": self.settings.ngo_phone}

    def _unsupported(
        self, session: Session, contact: Contact, event: InboundEvent, report: Report,
        payload: dict[str, Any], now: datetime,
    ) -> None:  # fmt: skip
        if event.kind == "edited_text":
            reports.add_note(report, field="edited", text=str(payload.get("text", ""))[:2000], now=now)
            session.add(report)
            return
        reports.add_note(report, field="unsupported", text=f"sent a {payload.get('type', 'message')}", now=now)
        session.add(report)
        _say(session, contact, report, UNSUPPORTED, now)

    def _record_failure(self, event_id: int, exc: Exception) -> None:
        now = self.clock()
        with self.database.session() as session:
            set_aside = inbox.record_failure(session, event_id=event_id, error=exc.__class__.__name__, now=now)
            if not set_aside:
                return
            event = session.get(InboundEvent, event_id)
            contact = session.get(Contact, event.contact_id) if event else None
            conversation = session.get(Conversation, contact.id) if contact else None
            report = session.get(Report, conversation.report_id) if conversation and conversation.report_id else None
            reports.audit(
                session,
                actor="system",
                action="event_set_aside",
                now=now,
                report_id=report.id if report else None,
                detail=f"event {event_id}",
            )
            if report is not None:  # the person was told a volunteer knows: make it true
                reports.add_note(
                    report, field="unprocessed", text=f"a message (event {event_id}) could not be processed", now=now
                )
                session.add(report)
                session.flush()
                self._page(session, report, now, handoff=True, loud=True)
            if contact is not None:
                _say(session, contact, report, SORRY, now)


def _say(session: Session, contact: Contact, report: Report | None, text: str, now: datetime) -> None:
    """Queue one fixed text to a contact, in their language."""
    with use_locale(report.language if report else contact.language):
        send_to_contact(session, contact=contact, report=report, body=reply_body([engine.Say(text)], {}), now=now)


def _opt(session: Session, contact: Contact, kind: str, now: datetime) -> None:
    """Record that a number texted STOP (the carrier now blocks our SMS) or START again; Twilio answers both."""
    contact.opted_out_at = now if kind == "opt_out" else None
    session.add(contact)
    if kind == "opt_out":
        outbox.cancel_pending(session, contact_id=contact.id or 0, reason="opted out", now=now)


def sms_answer(flow: Flow, state: dict[str, Any], event: engine.Event) -> engine.Event:
    """Read a bare number on SMS as the numbered option it names; "0" asks for a person."""
    if not isinstance(event, engine.Text):
        return event
    text = normalize_digits(event.text).strip().rstrip(".)")
    if text == "0":
        return engine.Button("h")
    node = flow.nodes.get(str(state.get("node", "")))
    if node is None or state.get("ended") or node.expect not in ("yes_no", "choice") or not text.isdigit():
        return event
    options = engine.YES_NO_OPTIONS if node.expect == "yes_no" else node.options
    number = int(text)
    return engine.Button(f"a:{node.name}:{options[number - 1].value}") if 1 <= number <= len(options) else event


def to_flow_event(kind: str, payload: dict[str, Any]) -> engine.Event | None:
    """Turn a stored inbound event into the engine's input; ``None`` for kinds the flow cannot read."""
    if kind == "location":
        source = "live" if payload.get("live") else "pin"
        fix_at = str(payload["fix_at"]) if payload.get("fix_at") else None
        return engine.Location(float(payload["lat"]), float(payload["lon"]), source, fix_at)
    if kind == "button":
        return engine.Button(str(payload.get("data", "")))
    words = str(payload.get("text", "")).split()
    if kind == "command" and words and words[0].split("@")[0] == "/start":
        return engine.Start()
    if kind in ("text", "command"):
        return engine.Text(str(payload.get("text", "")))
    return None


def _inbound_log(event: InboundEvent, payload: dict[str, Any], now: datetime) -> Message:
    return Message(
        direction="in", kind=event.kind, channel=event.channel, contact_id=event.contact_id,
        inbound_event_id=event.id, body=payload, status="received", created_at=now,
    )  # fmt: skip
