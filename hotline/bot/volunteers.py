"""What a volunteer's messages do: acknowledge a page (first one wins), or get a short help text."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlmodel import Session

from hotline.bot import paging
from hotline.bot.i18n import V_, translate_for_volunteer, use_locale
from hotline.bot.outgoing import answer_button, send_to_contact
from hotline.flows.parsers import normalize_digits
from hotline.settings import Settings
from hotline.storage import reports
from hotline.storage.db import Database
from hotline.storage.models import Contact, InboundEvent, Page, Report, Volunteer

HELP = V_("This chat receives pages. Press Acknowledge on a page to take the case.")
NOT_YOURS = V_("This page is not for you.")
ALREADY_YOURS = V_("You already have this case.")
TAKEN = V_("Someone else has already taken this case.")
YOURS = V_("You have this case. Details follow.")
SMS_HELP = V_("This number receives pages. Reply with the code at the end of a page, such as 12A, to take the case.")
SMS_CODE = re.compile(r"(\d{1,9})\s*a")


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
    """Act on a volunteer's button press or message (by SMS: a code such as "12A" acknowledges page 12)."""
    reach = paging.reach_of(settings)
    data = str(payload.get("data", ""))
    with use_locale(paging.volunteer_language(volunteer)):
        if event.kind == "button":
            toast = ""
            if data.startswith(paging.ACK_PREFIX):
                toast = acknowledge_page(session, database, volunteer, data, now, reach)[1]
            answer_button(session, event=event, contact=contact, payload=payload, text=toast, now=now)
            return
        code = SMS_CODE.fullmatch(normalize_digits(str(payload.get("text", ""))).strip().lower())
        if contact.channel == "sms" and code:
            taken, text = acknowledge_page(
                session, database, volunteer, f"{paging.ACK_PREFIX}{code.group(1)}", now, reach
            )
            if taken:
                return  # the details that follow begin with "Case … is yours"
        else:
            sms = contact.channel == "sms"
            text = translate_for_volunteer(SMS_HELP if sms else HELP)
        send_to_contact(session, contact=contact, report=None, body={"text": text, "buttons": []}, now=now)


def acknowledge_page(
    session: Session, database: Database, volunteer: Volunteer, data: str, now: datetime, reach: paging.Reach
) -> tuple[bool, str]:
    """Let the first volunteer who acknowledges take the case; return whether this one did, and the short answer."""
    page = _page_for(session, data)
    if page is None or page.volunteer_id != volunteer.id:
        return False, translate_for_volunteer(NOT_YOURS)
    report = session.get(Report, page.report_id)
    assert report is not None
    if not reports.acknowledge(session, report_id=report.id or 0, volunteer_id=volunteer.id or 0, now=now):
        session.refresh(report)
        return False, translate_for_volunteer(ALREADY_YOURS if report.acknowledged_by == volunteer.id else TAKEN)
    session.refresh(report)
    page.status, page.acknowledged_at = "acknowledged", now
    session.add(page)
    reports.audit(session, actor=f"volunteer:{volunteer.id}", action="acknowledged", now=now, report_id=report.id)
    paging.page_report(session, keyring=database.keyring, report=report, now=now, reach=reach)
    _send_details(session, database, page, volunteer, report, now, reach)
    return True, translate_for_volunteer(YOURS)


def _page_for(session: Session, data: str) -> Page | None:
    try:
        return session.get(Page, int(data.removeprefix(paging.ACK_PREFIX)))
    except ValueError:
        return None


def _send_details(
    session: Session,
    database: Database,
    page: Page,
    volunteer: Volunteer,
    report: Report,
    now: datetime,
    reach: paging.Reach,
) -> None:
    route = paging.volunteer_route(database.keyring, volunteer, reach=reach)
    location = report.location or {}
    if "lat" in location and route[0] == "telegram":
        pin = {"location": [location["lat"], location["lon"]]}
        paging.send_to_volunteer(session, route=route, page=page, kind="details", body=pin, now=now)
    body = paging.details_body(report)
    paging.send_to_volunteer(session, route=route, page=page, kind="details", body=body, now=now)
