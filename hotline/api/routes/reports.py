"""Reports for volunteers and coordinators, in the fixed JSON shape."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Response
from sqlmodel import Session, col, select

from hotline.api.deps import ClockDep, Coordinator, CurrentToken, SessionDep
from hotline.storage import attachments, reports
from hotline.storage.models import ApiToken, Attachment, AuditEvent, Report

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get("")
def list_reports(
    session: SessionDep,
    token: CurrentToken,
    status: str | None = None,
    limit: int = Query(default=50, ge=1, le=500),
) -> list[dict[str, Any]]:
    """List reports, newest first, urgent ones among them marked."""
    query = select(Report).order_by(col(Report.updated_at).desc()).limit(limit)
    if status:
        query = query.where(Report.status == status)
    return [shown(report, token, session) for report in session.exec(query).all()]


@router.get("/{reference}")
def get_report(reference: str, session: SessionDep, token: CurrentToken) -> dict[str, Any]:
    """Return one report by its reference."""
    report = reports.find_report(session, reference=reference)
    if report is None:
        raise HTTPException(404, "no such report")
    return shown(report, token, session)


def shown(report: Report, token: ApiToken, session: Session) -> dict[str, Any]:
    """Return a report as this token may see it: coordinators all of it, volunteers without the sharpest details."""
    data = reports.report_json(report)
    data["channels"] = reports.channels_of(session, report_id=report.id or 0)
    data["attachments"] = [_attachment_json(a) for a in attachments.for_report(session, report_id=report.id or 0)]
    if token.role == "coordinator":
        return data
    if data["location"]:  # about a kilometre: enough to plan, not to find someone hiding
        data["location"] |= {"lat": round(data["location"]["lat"], 2), "lon": round(data["location"]["lon"], 2)}
    data["medical"]["details"] = None
    data["notes"] = []
    return data


@router.get("/{reference}/audit")
def report_audit(reference: str, session: SessionDep, token: Coordinator) -> list[dict[str, Any]]:
    """Return who did what on a report and when (coordinators only)."""
    report = reports.find_report(session, reference=reference)
    if report is None:
        raise HTTPException(404, "no such report")
    events = session.exec(select(AuditEvent).where(AuditEvent.report_id == report.id).order_by(col(AuditEvent.id)))
    return [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "detail": e.detail} for e in events]


@router.get("/{reference}/attachments/{attachment_id}")
def get_attachment(
    reference: str, attachment_id: int, session: SessionDep, token: Coordinator, clock: ClockDep
) -> Response:
    """Return a photo, voice note or recording of a report, decrypted (coordinators only)."""
    report = reports.find_report(session, reference=reference)
    attachment = session.get(Attachment, attachment_id)
    if report is None or attachment is None or attachment.report_id != report.id:
        raise HTTPException(404, "no such attachment")
    if attachment.status != "stored" or attachment.content is None:
        raise HTTPException(409, "not fetched yet")
    reports.audit(session, actor=f"token:{token.id}", action="attachment_viewed", now=clock(), report_id=report.id)
    session.commit()
    media_type = attachment.mime_type or "application/octet-stream"
    return Response(content=bytes(attachment.content), media_type=media_type, headers={"Cache-Control": "no-store"})


def _attachment_json(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id, "kind": attachment.kind, "mime_type": attachment.mime_type, "size": attachment.size,
        "duration": attachment.duration, "status": attachment.status, "created_at": attachment.created_at.isoformat(),
    }  # fmt: skip
