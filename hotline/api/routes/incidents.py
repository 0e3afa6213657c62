"""Incidents (the paging of reports) with their paging history, volunteer actions, and paging metrics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel
from sqlmodel import Session, col, select

from hotline.api.deps import ClockDep, CurrentToken, DatabaseDep, SessionDep
from hotline.bot.oncall import actions, metrics
from hotline.storage import groups
from hotline.storage.models import ApiToken, AuditEvent, Incident, Message, Page, Report, Volunteer

router = APIRouter(prefix="/api/v1", tags=["incidents"])


class ActionRequest(BaseModel):
    """Who acts, when a coordinator's token acts for a volunteer."""

    volunteer_id: int | None = None


@router.get("/incidents")
def list_incidents(
    session: SessionDep,
    token: CurrentToken,
    status: str | None = Query(default=None, description="paging, acknowledged, resolved, or open (not resolved)"),
    limit: int = Query(default=50, ge=1, le=500),
) -> list[dict[str, Any]]:
    """List incidents, newest first, each with who was paged when, on which channel, and who answered."""
    query = select(Incident).order_by(col(Incident.id).desc()).limit(limit)
    if status == "open":
        query = query.where(col(Incident.status) != "resolved")
    elif status:
        query = query.where(Incident.status == status)
    return [incident_json(session, incident, token) for incident in session.exec(query).all()]


@router.get("/incidents/{incident_id}")
def get_incident(incident_id: int, session: SessionDep, token: CurrentToken) -> dict[str, Any]:
    """Return one incident with its paging history."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise HTTPException(404, "no such incident")
    return incident_json(session, incident, token)


@router.post("/incidents/{incident_id}/{action}")
def act_on_incident(
    incident_id: int,
    action: str,
    request: Request,
    database: DatabaseDep,
    token: CurrentToken,
    clock: ClockDep,
    body: ActionRequest | None = None,
) -> dict[str, Any]:
    """Acknowledge, decline, escalate or resolve an incident as the token's volunteer (a coordinator: as anyone)."""
    if action not in actions.ACTIONS:
        raise HTTPException(404, f"action must be one of {', '.join(actions.ACTIONS)}")
    with database.session() as session:
        incident = session.get(Incident, incident_id)
        volunteer = _acting_volunteer(session, token, body.volunteer_id if body else None)
        if incident is None:
            raise HTTPException(404, "no such incident")
        outcome = actions.act(
            session, database=database, settings=request.app.state.settings, volunteer=volunteer,
            incident=incident, action=action, via="api", now=clock(),
        )  # fmt: skip
        result = {"changed": outcome.changed, "message": outcome.text, "status": incident.status}
    runtime = request.app.state.runtime
    if runtime is not None:
        runtime.wake_outbox()
    return result


def _acting_volunteer(session: Session, token: ApiToken, volunteer_id: int | None) -> Volunteer:
    if volunteer_id is not None and volunteer_id != token.volunteer_id and token.role != "coordinator":
        raise HTTPException(403, "only coordinators may act for another volunteer")
    chosen = volunteer_id if volunteer_id is not None else token.volunteer_id
    volunteer = session.get(Volunteer, chosen) if chosen is not None else None
    if volunteer is None or not volunteer.active:
        raise HTTPException(422, "this token is not linked to a volunteer: give volunteer_id")
    return volunteer


@router.get("/metrics")
def paging_metrics(
    session: SessionDep, token: CurrentToken, clock: ClockDep, days: int = Query(default=30, ge=1, le=3660)
) -> dict[str, Any]:
    """Return time to first page, time to acknowledgement and page lateness over the last days."""
    return metrics.paging_metrics(session, since=clock() - timedelta(days=days))


@router.get("/stats")
def people_stats(
    session: SessionDep, token: CurrentToken, clock: ClockDep, days: int = Query(default=30, ge=1, le=3660)
) -> dict[str, Any]:
    """Return people and groups reported in danger over the last days, each group counted once."""
    now = clock()
    return groups.count_people(session, since=now - timedelta(days=days), until=now).json()


def incident_json(session: Session, incident: Incident, token: ApiToken) -> dict[str, Any]:
    """Return an incident as JSON: its state, the policy it runs, every page and every action on it."""
    report = session.get(Report, incident.report_id)
    names = token.role == "coordinator"
    return {
        "id": incident.id, "alert": incident.alert, "reference": report.reference if report else None,
        "kind": report.kind if report else None, "status": incident.status, "urgent": incident.urgent,
        "policy": incident.policy.get("name"), "cycle": incident.cycle, "next_step": incident.step,
        "due_at": _iso(incident.due_at), "started_at": _iso(incident.started_at),
        "first_paged_at": _iso(incident.first_paged_at), "acknowledged_at": _iso(incident.acknowledged_at),
        "acknowledged_by": _volunteer_json(session, incident.acknowledged_by, names),
        "resolved_at": _iso(incident.resolved_at), "resolved_by": incident.resolved_by,
        "pages": [_page_json(session, page, names) for page in _pages(session, incident)],
        "actions": _actions(session, incident),
    }  # fmt: skip


def _pages(session: Session, incident: Incident) -> list[Page]:
    return list(session.exec(select(Page).where(Page.incident_id == incident.id).order_by(col(Page.id))).all())


def _page_json(session: Session, page: Page, names: bool) -> dict[str, Any]:
    message = session.get(Message, page.message_id) if page.message_id else None
    return {
        "id": page.id, "step": page.step, "repeat": page.repeat, "channel": page.channel,
        "volunteer": _volunteer_json(session, page.volunteer_id, names), "status": page.status,
        "due_at": _iso(page.due_at), "queued_at": _iso(page.created_at),
        "sent_at": _iso(message.sent_at if message else None),
        "send_status": message.status if message else None, "delivery": message.delivery_status if message else None,
        "acknowledged_at": _iso(page.acknowledged_at),
    }  # fmt: skip


def _actions(session: Session, incident: Incident) -> list[dict[str, Any]]:
    query = select(AuditEvent).where(AuditEvent.report_id == incident.report_id).order_by(col(AuditEvent.id))
    return [
        {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "detail": e.detail} for e in session.exec(query)
    ]


def _volunteer_json(session: Session, volunteer_id: int | None, names: bool) -> dict[str, Any] | None:
    if volunteer_id is None:
        return None
    volunteer = session.get(Volunteer, volunteer_id) if names else None
    return {"id": volunteer_id, "name": str(volunteer.name) if volunteer else None}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
