"""Paging the volunteer on duty: when to page, what a page says, updating it, and acknowledgement.

The rule: a report is paged as soon as a volunteer could act on it (a location, a headcount, a
medical answer, words kept from the person) or the person asks for a human; every later answer
edits the same page. A page carries no names, numbers or coordinates: those go only to the
volunteer who acknowledges, at that moment.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from hotline.bot.channels.console import PAGER
from hotline.storage import outbox, reports, staff
from hotline.storage.crypto import KeyRing
from hotline.storage.inbox import address_key
from hotline.storage.models import Message, Page, Report, Volunteer

log = logging.getLogger(__name__)

ACK_PREFIX = "ack:"


def page_report(
    session: Session, *, keyring: KeyRing, report: Report, now: datetime, telegram: bool, handoff: bool = False
) -> None:
    """Page the on-duty volunteers about a report, or update the pages they already have."""
    if report.paged_at is None and not (handoff or reports.has_something_to_act_on(report)):
        return
    volunteers = staff.on_duty(session)
    if not volunteers:
        log.warning("report %s has nobody on duty to page", report.id)
        reports.audit(session, actor="system", action="no_one_on_duty", now=now, report_id=report.id)
        return
    for volunteer in volunteers:
        _page_one(session, keyring=keyring, report=report, volunteer=volunteer, now=now, telegram=telegram)
    if report.paged_at is None:
        report.paged_at = now
        reports.audit(session, actor="system", action="paged", now=now, report_id=report.id)


def _page_one(
    session: Session, *, keyring: KeyRing, report: Report, volunteer: Volunteer, now: datetime, telegram: bool
) -> None:
    page = session.exec(select(Page).where(Page.report_id == report.id, Page.volunteer_id == volunteer.id)).first()
    channel, address, key = volunteer_route(keyring, volunteer, telegram=telegram)
    body = {
        "to": address,
        **page_body(report, now, page_id=page.id if page else None, acknowledged=bool(page and page.acknowledged_at)),
    }
    if page is None:
        page = Page(report_id=report.id or 0, volunteer_id=volunteer.id or 0, created_at=now)
        session.add(page)
        session.flush()
        body = {"to": address, **page_body(report, now, page_id=page.id, acknowledged=False)}
        message = outbox.enqueue(
            session,
            kind="page",
            channel=channel,
            recipient_key=key,
            body=body,
            now=now,
            volunteer_id=volunteer.id,
            report_id=report.id,
        )
        page.message_id = message.id
        return
    _update_page(session, page=page, body=body, channel=channel, key=key, now=now)


def _update_page(session: Session, *, page: Page, body: dict[str, Any], channel: str, key: str, now: datetime) -> None:
    original = session.get(Message, page.message_id) if page.message_id else None
    if original is not None and original.status == "pending":
        original.body = body
        session.add(original)
        return
    queued = outbox.pending_edit(session, edit_of_id=page.message_id or 0)
    if queued is not None:
        queued.body = body
        session.add(queued)
        return
    outbox.enqueue(
        session,
        kind="page_update",
        channel=channel,
        recipient_key=key,
        body=body,
        now=now,
        volunteer_id=page.volunteer_id,
        report_id=page.report_id,
        edit_of_id=page.message_id,
    )


def volunteer_route(keyring: KeyRing, volunteer: Volunteer, *, telegram: bool) -> tuple[str, str, str]:
    """Return the channel, address and ordering key used to reach a volunteer."""
    if telegram and volunteer.telegram_chat:
        chat = str(volunteer.telegram_chat)
        return "telegram", chat, keyring.blind_index(address_key("telegram", chat))
    return PAGER, str(volunteer.id), f"pager:{volunteer.id}"


def page_body(report: Report, now: datetime, *, page_id: int | None, acknowledged: bool) -> dict[str, Any]:
    """Return a page's text and its Acknowledge button (until acknowledged)."""
    buttons = [] if acknowledged or page_id is None else [[{"label": "Acknowledge", "data": f"{ACK_PREFIX}{page_id}"}]]
    return {"text": page_text(report, now, acknowledged=acknowledged), "buttons": buttons}


def page_text(report: Report, now: datetime, *, acknowledged: bool) -> str:
    """Describe a report for a page, without names, numbers or coordinates."""
    people, medical = report.people or {}, report.medical or {}
    flags = [name for name, on in _urgency_flags(people, medical) if on]
    lines = [f"🆘 {report.kind.capitalize()} report {report.reference}"]
    lines.append(f"⚠️ URGENT: {', '.join(flags)}" if flags else "Urgency: not known yet")
    lines.append(f"People: {_or_unknown(people.get('total'))}, children: {_or_unknown(people.get('children'))}")
    lines.append(f"Location: {_location_freshness(report, now)}")
    lines.append(f"Language: {report.language or 'unknown'} · channel: {report.channel}")
    if any(note.get("field") == "handoff" for note in report.notes or []):
        lines.append("🙋 Asked to talk to a person")
    lines.append("✅ Acknowledged" if acknowledged else "Press Acknowledge to take this case.")
    return "\n".join(lines)


def _urgency_flags(people: dict[str, Any], medical: dict[str, Any]) -> list[tuple[str, bool]]:
    return [
        ("children", (people.get("children") or 0) > 0),
        ("pregnant", bool(people.get("pregnant"))),
        ("medical emergency", bool(medical.get("emergency"))),
    ]


def _or_unknown(value: Any) -> str:
    return "?" if value is None else str(value)


def _location_freshness(report: Report, now: datetime) -> str:
    location = report.location or {}
    if "received_at" not in location:
        words = any(note.get("field") == "location" for note in report.notes or [])
        return "described in words only" if words else "not sent yet"
    age = now - datetime.fromisoformat(location["received_at"])
    minutes = max(0, int(age.total_seconds() // 60))
    return f"{location.get('source', 'pin')}, {minutes} min old"


def details_body(report: Report) -> dict[str, Any]:
    """Return the case details sent only to the volunteer who acknowledged."""
    data = reports.report_json(report)
    lines = [f"Case {report.reference} is yours.", f"People: {data['people']}", f"Medical: {data['medical']}"]
    lines += [f"Asylum intent: {data['asylum_intent']}", f"Needs: {', '.join(data['needs']) or '-'}"]
    lines += [f"Note ({n['field']}): {n['text']}" for n in data["notes"]]
    location = data["location"]
    if location:
        lines.append(
            f"Location: {location['lat']:.6f}, {location['lon']:.6f} ({location['source']}, {location['received_at']})"
        )
        lines.append(
            f"https://www.openstreetmap.org/?mlat={location['lat']:.6f}&mlon={location['lon']:.6f}#map=15/{location['lat']:.6f}/{location['lon']:.6f}"
        )
    return {"text": "\n".join(lines), "buttons": []}
