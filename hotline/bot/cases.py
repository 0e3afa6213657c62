"""What the flows need from the database: moving a report to another flow, and cases looked up by code.

Someone who knows a case's code may see its status and the time of its last update, and add
information to it; never its places, people or answers. Codes are guessed rarely by accident and
often on purpose, so a contact that sends too many codes that do not exist is stopped for a day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from hotline.bot.i18n import translate
from hotline.flows import engine
from hotline.flows.model import N_, Flow
from hotline.storage import reports
from hotline.storage.models import Contact, Conversation, Report

MAX_MISSES = 5
MISS_WINDOW = timedelta(hours=24)
STATUS_TEXT = {
    "open": N_("open, we are working on it"),
    "acknowledged": N_("a volunteer is working on it"),
    "resolved": N_("closed"),
}
UNSORTED = ("contact", "info", "status")  # kinds that hold no case of their own yet


def look_up(session: Session, *, contact: Contact, text: str, now: datetime) -> engine.CodeResult:
    """Find the case a code names, counting misses per contact; blocked after too many."""
    profile = dict(contact.profile or {})
    misses = [at for at in profile.get("code_misses", []) if datetime.fromisoformat(at) > now - MISS_WINDOW]
    code = text.strip()[:40]
    if len(misses) >= MAX_MISSES:
        return engine.CodeResult(code, found=False, blocked=True)
    report = reports.find_report(session, reference=code)
    if report is None or report.kind in UNSORTED:
        contact.profile = {**profile, "code_misses": [*misses, now.isoformat()]}
        session.add(contact)
        return engine.CodeResult(code, found=False)
    return engine.CodeResult(report.reference, found=True)


def case_params(session: Session, state: dict[str, Any]) -> dict[str, str]:
    """Return the safe facts of the case a conversation looked up: code, status, last update (UTC)."""
    reference = state.get("case")
    report = reports.find_report(session, reference=str(reference)) if reference else None
    if report is None:
        return {"case": "", "case_status": "", "case_updated": ""}
    return {
        "case": report.reference,
        "case_status": translate(STATUS_TEXT.get(report.status, STATUS_TEXT["open"])),
        "case_updated": report.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
    }


def add_to_case(session: Session, *, reference: str, text: str, contact: Contact, now: datetime) -> Report | None:
    """Add what someone with the code wrote to that case, as a note; return the case."""
    report = reports.find_report(session, reference=reference)
    if report is None:
        return None
    reports.add_note(report, field="added_with_code", text=text, now=now)
    reports.audit(session, actor="person", action="added_with_code", now=now, report_id=report.id,
                  detail=f"contact {contact.id}")  # fmt: skip
    session.add(report)
    return report


def move_to(
    session: Session, *, conversation: Conversation, report: Report, flow: Flow, contact: Contact, now: datetime
) -> Report:
    """Give a report the kind of the flow it moved to; a report that already holds another case starts a new one.

    The menu, rights and code look-ups keep nothing of their own: moving to them never starts a report.
    """
    if flow.report_kind in UNSORTED and report.kind not in UNSORTED:
        return report
    if report.kind in UNSORTED or (report.kind == flow.report_kind and not report.reported_by):
        report.kind, report.reported_by = flow.report_kind, flow.reported_by
        report.updated_at = now
        session.add(report)
        return report
    if report.kind == flow.report_kind and report.reported_by == flow.reported_by:
        return report
    fresh = reports.create_report(
        session, kind=flow.report_kind, channel=contact.channel, contact_id=contact.id or 0,
        language=report.language, now=now,
    )  # fmt: skip
    fresh.reported_by, fresh.last_contact_id = flow.reported_by, contact.id
    reports.audit(session, actor="system", action="report_created", now=now, report_id=fresh.id,
                  detail=f"after {report.reference}")  # fmt: skip
    conversation.report_id = fresh.id
    session.add_all([fresh, conversation])
    session.flush()
    return fresh
