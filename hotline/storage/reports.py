"""Reports: short reference codes, answers saved field by field, the fixed JSON shape, and the audit trail."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hotline.storage.models import AuditEvent, Contact, Conversation, Report

# No look-alikes: no 0/O, 1/I/L, 2/Z, 5/S, 8/B, and no vowels that spell words by accident.
REFERENCE_ALPHABET = "34679CDFGHJKMNPQRTVWXY"
REFERENCE_LENGTH = 6
RECENT_CONTACT = "days_0_3"  # the missing flow's answer for a last contact in the last few days


def new_reference() -> str:
    """Return a random reference like ``K7M-4PX``: easy to read aloud and to type on any keyboard."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{chars[:3]}-{chars[3:]}"


def create_report(
    session: Session, *, kind: str, channel: str, contact_id: int, language: str | None, now: datetime
) -> Report:
    """Create an empty report with a fresh unique reference."""
    for _ in range(10):
        report = Report(
            reference=new_reference(),
            kind=kind,
            channel=channel,
            contact_id=contact_id,
            language=language,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(report)
            return report
        except IntegrityError:
            continue
    raise RuntimeError("could not find a free report reference")


def find_report(session: Session, *, reference: str) -> Report | None:
    """Find a report by its reference, forgiving case, spaces and a missing dash."""
    code = "".join(ch for ch in reference.upper() if ch.isalnum())
    if len(code) != REFERENCE_LENGTH:
        return None
    return session.exec(select(Report).where(Report.reference == f"{code[:3]}-{code[3:]}")).first()


def save_field(report: Report, *, field: str, value: Any, now: datetime, merge: bool = False) -> None:
    """Save one answer into a report field such as ``people.children``; ``merge`` adds to a list."""
    if merge:
        old = list(getattr(report, field) or [])
        value = old + [item for item in value if item not in old]
    group, _, key = field.partition(".")
    if key:
        current = dict(getattr(report, group) or {})
        current[key] = value
        setattr(report, group, current)
    else:
        setattr(report, group, value)
    report.urgent = is_urgent(report)
    report.updated_at = now


def add_note(report: Report, *, field: str, text: str, now: datetime) -> None:
    """Keep a verbatim answer with the field it was meant for and when it came."""
    report.notes = [*(report.notes or []), {"field": field, "text": text, "at": now.isoformat()}]
    report.updated_at = now


def is_urgent(report: Report) -> bool:
    """Children, a pregnancy, a medical emergency or a medical red flag make a report urgent."""
    people, medical = report.people or {}, report.medical or {}
    flagged = medical.get("emergency") or medical.get("flags")
    return bool((people.get("children") or 0) > 0 or people.get("pregnant") or flagged)


def has_something_to_act_on(report: Report) -> bool:
    """Tell whether a volunteer can act: any location, headcount, medical answer or kept words."""
    return bool(report.location or report.people or report.medical or report.notes)


def needs_a_volunteer(report: Report) -> bool:
    """Tell whether a report pages the volunteer on call.

    People in danger do (from themselves, a relative or a resident), as soon as there is something to
    act on. A tracing request does only when the person was last heard of in the forest in the last
    few days; a pushback testimony only when someone is still in danger. Requests for other help,
    rights information and code look-ups go to coordinators without a page.
    """
    details = report.details or {}
    if report.kind in ("distress", "call"):
        return has_something_to_act_on(report)
    if report.kind == "missing":
        return details.get("in_forest") is True and details.get("last_contact_ago") == RECENT_CONTACT
    if report.kind == "pushback":
        return details.get("danger") is True
    return False


def acknowledge(session: Session, *, report_id: int, volunteer_id: int, now: datetime) -> bool:
    """Record the first acknowledgement; return False when someone else was first."""
    result = session.execute(
        update(Report)
        .where(col(Report.id) == report_id, col(Report.acknowledged_by).is_(None))
        .values(acknowledged_by=volunteer_id, acknowledged_at=now, status="acknowledged", updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def audit(
    session: Session, *, actor: str, action: str, now: datetime, report_id: int | None = None, detail: str | None = None
) -> None:
    """Record who did what; ids and codes only, never personal data."""
    session.add(AuditEvent(at=now, actor=actor, action=action, report_id=report_id, detail=detail))


def has_audit(session: Session, *, report_id: int, action: str) -> bool:
    """Tell whether an action was already recorded for a report."""
    query = select(AuditEvent.id).where(AuditEvent.report_id == report_id, AuditEvent.action == action)
    return session.exec(query).first() is not None


def report_json(report: Report) -> dict[str, Any]:
    """Return a report in the API's fixed shape."""
    location = report.location or {}
    people = report.people or {}
    medical = report.medical or {}
    return {
        "reference": report.reference,
        "kind": report.kind,
        "status": report.status,
        "channel": report.channel,
        "language": report.language,
        "created_at": report.created_at.isoformat(),
        "updated_at": report.updated_at.isoformat(),
        "urgent": report.urgent,
        "location": _location_json(location),
        "people": {key: people.get(key) for key in ("total", "children", "pregnant")},
        "medical": {"emergency": medical.get("emergency"), "details": medical.get("details")},
        "asylum_intent": report.asylum_intent or "unknown",
        "needs": list(report.needs or []),
        "notes": list(report.notes or []),
        "acknowledged_at": report.acknowledged_at.isoformat() if report.acknowledged_at else None,
    }


def _location_json(location: dict[str, Any]) -> dict[str, Any] | None:
    if "lat" not in location:
        return None
    keys = ("lat", "lon", "source", "received_at")
    return {key: location.get(key) for key in keys}


def channels_of(session: Session, *, report_id: int) -> list[str]:
    """Return the channels the people of a case have written from (Telegram, SMS…), without their addresses."""
    rows = session.exec(
        select(Contact.channel).join(Conversation, col(Conversation.contact_id) == col(Contact.id))
        .where(Conversation.report_id == report_id)
    ).all()  # fmt: skip
    return sorted(set(rows))
