"""What a volunteer's messages do: act on an alert, or talk to the person of the case they hold.

Buttons: Acknowledge and Decline on a page; Escalate, Close and the phrasebook under a case's details.
By text (SMS or Telegram): "3a" takes alert 3, "3d" declines it, "3e" escalates, "3c" closes; any
spacing, case, and Arabic or Persian digits. "#3 words" or "/stay" writes to the person of a case
the volunteer holds; with one case only, plain words go to it. Anything else gets the open alerts.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from hotline.bot import paging
from hotline.bot.i18n import V_, translate_for_volunteer, use_locale
from hotline.bot.oncall import actions, phrasebook, relay
from hotline.bot.outgoing import answer_button, send_to_contact
from hotline.flows.parsers import normalize_digits
from hotline.settings import Settings
from hotline.storage.db import Database
from hotline.storage.models import Contact, InboundEvent, Incident, Page, Report, Volunteer

HELP = V_("This chat receives pages. Press Acknowledge on a page to take the case.")
CODES = V_("Reply with an alert number and a letter: 3A take the case, 3D decline, 3E escalate, 3C close.")
WRITE = V_("To write to the person of your case: #3 and your words, or a phrase such as /stay.")
OPEN_ALERTS = V_("Open alerts: {alerts}")
NO_OPEN_ALERTS = V_("No open alerts.")
NO_SUCH_ALERT = V_("There is no alert {alert}.")
NO_CASE = V_("You hold no case to write to. Take one first.")
WHICH_CASE = V_("You hold several cases. Start with the alert number, for example: #3 your words.")
NEEDS_MINUTES = V_("Add the minutes, for example: /coming 30")
STATES = {"paging": V_("waiting"), "acknowledged": V_("taken")}
YOURS = V_("yours")
CODE = re.compile(r"#?(\d{1,4})([adec])")
ADDRESSED = re.compile(r"#\s*(\d{1,4})\s*:?\s+(.+)|(\d{1,4})\s*:\s*(.+)", re.DOTALL)
LETTERS = {"a": "acknowledge", "d": "decline", "e": "escalate", "c": "resolve"}
BUTTONS = {
    paging.ACK_PREFIX: "acknowledge",
    paging.DECLINE_PREFIX: "decline",
    actions.ESCALATE_PREFIX: "escalate",
    actions.RESOLVE_PREFIX: "resolve",
}
SAY_PREFIX = "say:"


def handle_volunteer_event(
    session: Session,
    *,
    database: Database,
    volunteer: Volunteer,
    contact: Contact,
    event: InboundEvent,
    payload: dict[str, Any],
    now: datetime,
    settings: Settings,
) -> None:
    """Act on a volunteer's button press or message, and answer them."""
    request = _Request(session, database, settings, volunteer, contact, now)
    with use_locale(paging.volunteer_language(volunteer)):
        if event.kind == "button":
            toast = request.press(str(payload.get("data", "")))
            answer_button(session, event=event, contact=contact, payload=payload, text=toast, now=now)
            return
        reply = request.read(str(payload.get("text", "")))
        if reply:
            send_to_contact(session, contact=contact, report=None, body={"text": reply, "buttons": []}, now=now)


class _Request:
    """One volunteer's request, with what every answer needs at hand."""

    def __init__(
        self,
        session: Session,
        database: Database,
        settings: Settings,
        volunteer: Volunteer,
        contact: Contact,
        now: datetime,
    ) -> None:
        self.session, self.database, self.settings = session, database, settings
        self.volunteer, self.contact, self.now = volunteer, contact, now

    def press(self, data: str) -> str:
        """Act on a button; return the short toast."""
        for prefix, action in BUTTONS.items():
            if data.startswith(prefix):
                incident = self._incident_of_button(prefix, data.removeprefix(prefix))
                if incident is None:
                    return translate_for_volunteer(actions.NOT_YOURS)
                return self._act(incident, action).text
        if data.startswith(SAY_PREFIX):
            return self._say_button(data.removeprefix(SAY_PREFIX))
        return ""

    def _incident_of_button(self, prefix: str, ident: str) -> Incident | None:
        if not ident.isdigit():
            return None
        if prefix in (paging.ACK_PREFIX, paging.DECLINE_PREFIX):  # page buttons: only the paged volunteer's own
            page = self.session.get(Page, int(ident))
            if page is None or page.volunteer_id != self.volunteer.id:
                return None
            return self.session.get(Incident, page.incident_id)
        return self.session.get(Incident, int(ident))

    def _act(self, incident: Incident, action: str) -> actions.Outcome:
        return actions.act(
            self.session, database=self.database, settings=self.settings, volunteer=self.volunteer,
            incident=incident, action=action, via=self.contact.channel, now=self.now,
        )  # fmt: skip

    def _say_button(self, rest: str) -> str:
        ident, _, spec = rest.partition(":")
        key, _, minutes = spec.partition(":")
        incident = self.session.get(Incident, int(ident)) if ident.isdigit() else None
        phrase = phrasebook.find(key)
        if incident is None or phrase is None or not self._holds(incident):
            return translate_for_volunteer(actions.NOT_YOURS)
        report = relay.incident_report(self.session, incident)
        return relay.send_phrase(
            self.session, volunteer=self.volunteer, report=report, phrase=phrase,
            minutes=int(minutes) if minutes.isdigit() else None, now=self.now,
        )  # fmt: skip

    def read(self, text: str) -> str | None:
        """Act on a message; return the answer to send back, if any."""
        plain = normalize_digits(text).strip()
        code = CODE.fullmatch(re.sub(r"\s+", "", plain.lower()))
        if code:
            return self._code(int(code.group(1)), LETTERS[code.group(2)])
        if plain.lower().lstrip("/") in ("help", "start", "?", ""):
            return self._help()
        addressed = ADDRESSED.fullmatch(plain)
        alert = int(addressed.group(1) or addressed.group(3)) if addressed else None
        words = (addressed.group(2) or addressed.group(4)) if addressed else plain
        return self._write(alert, words.strip())

    def _code(self, alert: int, action: str) -> str | None:
        incident = actions.incident_by_alert(self.session, alert=alert)
        if incident is None:
            return "\n".join([translate_for_volunteer(NO_SUCH_ALERT, alert=alert), self._open_alerts()])
        outcome = self._act(incident, action)
        if outcome.changed and action == "acknowledge":
            return None  # the details that follow begin with "Case … is yours"
        return outcome.text

    def _write(self, alert: int | None, words: str) -> str:
        held = self._held_cases() if alert is None else self._held_alert(alert)
        if len(held) != 1:
            reason = WHICH_CASE if len(held) > 1 else NO_CASE
            return "\n".join([translate_for_volunteer(reason), self._open_alerts()])
        report = relay.incident_report(self.session, held[0])
        command = phrasebook.parse_command(words) if words.startswith("/") else None
        if words.startswith("/") and command is None:
            return self._help()
        if command is not None:
            phrase, minutes = command
            if "{minutes}" in phrase.text and minutes is None:
                return translate_for_volunteer(NEEDS_MINUTES)
            send = relay.send_phrase
            return send(
                self.session, volunteer=self.volunteer, report=report, phrase=phrase, minutes=minutes, now=self.now
            )
        return relay.send_text(self.session, volunteer=self.volunteer, report=report, text=words, now=self.now)

    def _holds(self, incident: Incident) -> bool:
        return incident.status != "resolved" and (
            incident.acknowledged_by == self.volunteer.id or self.volunteer.role == "coordinator"
        )

    def _held_cases(self) -> list[Incident]:
        query = select(Incident).where(
            Incident.acknowledged_by == self.volunteer.id, col(Incident.status) != "resolved"
        )
        return list(self.session.exec(query).all())

    def _held_alert(self, alert: int) -> list[Incident]:
        incident = actions.incident_by_alert(self.session, alert=alert)
        return [incident] if incident is not None and self._holds(incident) else []

    def _help(self) -> str:
        sms = self.contact.channel == "sms"
        lines = [] if sms else [translate_for_volunteer(HELP)]
        lines += [translate_for_volunteer(CODES), translate_for_volunteer(WRITE)]
        if not sms:
            lines.append(phrasebook.help_text())
        return "\n".join([*lines, self._open_alerts()])

    def _open_alerts(self) -> str:
        incidents = actions.open_incidents(self.session, volunteer=self.volunteer)
        if not incidents:
            return translate_for_volunteer(NO_OPEN_ALERTS)
        return translate_for_volunteer(OPEN_ALERTS, alerts="; ".join(self._alert_line(i) for i in incidents))

    def _alert_line(self, incident: Incident) -> str:
        report = self.session.get(Report, incident.report_id)
        mine = incident.acknowledged_by == self.volunteer.id and incident.status == "acknowledged"
        state = translate_for_volunteer(YOURS if mine else STATES.get(incident.status, STATES["paging"]))
        return f"{incident.alert} {report.reference if report else '?'} ({state})"
