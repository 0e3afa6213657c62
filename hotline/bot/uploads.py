"""What a person sends besides words: photos and voice notes kept sealed with the case, and live-location
fixes, of which only the freshest counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from hotline.flows.model import N_
from hotline.storage import attachments, reports
from hotline.storage.models import Contact, InboundEvent, Report

MEDIA_SAVED = N_("Thank you, I saved this for the volunteer.")


def keep_media(
    session: Session, *, contact: Contact, event: InboundEvent, report: Report, payload: dict[str, Any], now: datetime
) -> None:
    """Register what was sent for fetching and sealing, and note it (with any caption) on the case."""
    if payload.get("edited"):  # a caption was changed: the file itself is already kept
        reports.add_note(report, field="media", text=str(payload.get("caption") or "").strip() or "edited", now=now)
        return
    items = payload.get("media")
    if event.kind == "sms_media" and isinstance(items, list):
        sources = [({"channel": "sms", "url": item.get("url")}, "mms", item.get("mime_type")) for item in items]
    else:
        source = {"channel": "telegram", "file_id": payload.get("file_id")}
        sources = [(source, str(payload.get("media", "document")), payload.get("mime_type"))]
    for number, (source, kind, mime_type) in enumerate(sources):
        attachments.add_attachment(
            session, contact_id=contact.id or 0, report_id=report.id, inbound_event_id=event.id,
            kind=kind if number == 0 else f"{kind}{number}", source=source, mime_type=mime_type,
            size=payload.get("size"), duration=payload.get("duration"), now=now,
        )  # fmt: skip
    words = str(payload.get("caption") or payload.get("text") or "").strip()
    reports.add_note(report, field="media", text=words or f"sent a {sources[0][1]}", now=now)


def is_stale_fix(location: dict[str, Any] | None, payload: dict[str, Any]) -> bool:
    """Tell whether a location fix is older than the one the case already holds (live updates arrive out of order)."""
    held, new = (location or {}).get("fix_at"), payload.get("fix_at")
    return bool(held and new and str(new) < str(held))
