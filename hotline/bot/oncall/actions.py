"""What volunteers do with an incident: acknowledge, decline, escalate, resolve. First acknowledgement wins.

Any active volunteer may take an open case (help is always welcome); declining needs a page of this
round; closing needs the case's owner or a coordinator (or, before anyone took it, a paged volunteer).

Every way in (a Telegram button, an SMS code such as "3a", a key pressed during a page call, the
API) ends in ``act``, which locks the incident, changes it if the action still makes sense, records
who did what and when, and returns the short answer for the volunteer in their language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from hotline.bot import paging
from hotline.bot.i18n import V_, translate_for_volunteer, use_locale
from hotline.bot.oncall import escalation, phrasebook
from hotline.settings import Settings
from hotline.storage import reports
from hotline.storage.db import Database
from hotline.storage.models import Incident, Page, Report, Volunteer

ACTIONS = ("acknowledge", "decline", "escalate", "resolve")
ESCALATE_PREFIX = "escalate:"
RESOLVE_PREFIX = "resolve:"

YOURS = V_("You have this case. Details follow.")
ALREADY_YOURS = V_("You already have this case.")
TAKEN_BY = V_("{name} has already taken this case.")
CLOSED = V_("Case {reference} is already closed.")
NOT_YOURS = V_("This page is not for you.")
DECLINED = V_("Declined. The next volunteer is being paged.")
ESCALATED = V_("The next volunteers are being paged now.")
RESOLVED = V_("Case {reference} is closed. Thank you.")
ONLY_OWNER = V_("Only the volunteer who has this case, or a coordinator, can close it.")
ESCALATE = V_("⬆️ Escalate")
RESOLVE = V_("☑️ Close the case")


@dataclass(frozen=True)
class Outcome:
    """What an action did, and the short answer for the volunteer."""

    changed: bool
    text: str


@dataclass(frozen=True)
class _Context:
    session: Session
    database: Database
    reach: paging.Reach
    volunteer: Volunteer
    incident: Incident
    report: Report
    via: str
    now: datetime


def act(
    session: Session,
    *,
    database: Database,
    settings: Settings,
    volunteer: Volunteer,
    incident: Incident,
    action: str,
    via: str,
    now: datetime,
) -> Outcome:
    """Apply one volunteer action to an incident and return what happened, in the volunteer's language."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    session.refresh(incident, with_for_update=True)  # waits for the escalation loop or another answer
    report = session.get(Report, incident.report_id)
    assert report is not None
    context = _Context(session, database, paging.reach_of(settings), volunteer, incident, report, via, now)
    handler: dict[str, Callable[[_Context], Outcome]] = {
        "acknowledge": _acknowledge, "decline": _decline, "escalate": _escalate, "resolve": _resolve,
    }  # fmt: skip
    with use_locale(paging.volunteer_language(volunteer)):
        if incident.status == "resolved":
            return Outcome(False, translate_for_volunteer(CLOSED, reference=report.reference))
        return handler[action](context)


def _acknowledge(c: _Context) -> Outcome:
    incident, volunteer = c.incident, c.volunteer
    if incident.status == "acknowledged":
        if incident.acknowledged_by == volunteer.id:
            return Outcome(False, translate_for_volunteer(ALREADY_YOURS))
        return Outcome(False, translate_for_volunteer(TAKEN_BY, name=_name(c.session, incident.acknowledged_by)))
    timeout = timedelta(seconds=incident.policy["acknowledged_timeout"])
    incident.status, incident.acknowledged_by, incident.acknowledged_at = "acknowledged", volunteer.id, c.now
    incident.due_at, incident.updated_at = c.now + timeout, c.now
    c.report.acknowledged_by, c.report.acknowledged_at, c.report.status = volunteer.id, c.now, "acknowledged"
    _mark_pages(c, "acknowledged")
    _record(c, "acknowledged")
    _refresh(c)
    _send_details(c)
    return Outcome(True, translate_for_volunteer(YOURS))


def _decline(c: _Context) -> Outcome:
    incident = c.incident
    if incident.status == "acknowledged" and incident.acknowledged_by != c.volunteer.id:
        return Outcome(False, translate_for_volunteer(TAKEN_BY, name=_name(c.session, incident.acknowledged_by)))
    if not _was_paged(c, this_cycle=True) and incident.acknowledged_by != c.volunteer.id:
        return Outcome(False, translate_for_volunteer(NOT_YOURS))
    _mark_pages(c, "declined")
    _record(c, "declined")
    _move_on(c)
    return Outcome(True, translate_for_volunteer(DECLINED))


def _escalate(c: _Context) -> Outcome:
    if not (_was_paged(c) or c.volunteer.role == "coordinator"):
        return Outcome(False, translate_for_volunteer(NOT_YOURS))
    _record(c, "escalated")
    _move_on(c)
    return Outcome(True, translate_for_volunteer(ESCALATED))


def _resolve(c: _Context) -> Outcome:
    incident = c.incident
    owner = incident.acknowledged_by == c.volunteer.id or c.volunteer.role == "coordinator"
    if not (owner or (incident.status == "paging" and incident.acknowledged_by is None and _was_paged(c))):
        return Outcome(False, translate_for_volunteer(ONLY_OWNER))
    incident.status, incident.due_at = "resolved", None
    incident.resolved_at, incident.resolved_by, incident.updated_at = c.now, _actor(c), c.now
    c.report.status = "closed"
    _record(c, "resolved")
    _refresh(c)
    return Outcome(True, translate_for_volunteer(RESOLVED, reference=c.report.reference))


def _move_on(c: _Context) -> None:
    escalation.jump_to_next_group(c.session, incident=c.incident, now=c.now)
    keyring = c.database.keyring
    escalation.run_due(c.session, keyring=keyring, incident=c.incident, report=c.report, now=c.now, reach=c.reach)
    _refresh(c)


def _was_paged(c: _Context, *, this_cycle: bool = False) -> bool:
    query = select(Page.id).where(Page.incident_id == c.incident.id, Page.volunteer_id == c.volunteer.id)
    if this_cycle:
        query = query.where(Page.repeat == c.incident.cycle)
    return c.session.exec(query).first() is not None


def _mark_pages(c: _Context, status: str) -> None:
    query = select(Page).where(
        Page.incident_id == c.incident.id, Page.volunteer_id == c.volunteer.id, Page.repeat == c.incident.cycle
    )
    for page in c.session.exec(query).all():
        page.status = status
        page.acknowledged_at = c.now if status == "acknowledged" else page.acknowledged_at
        c.session.add(page)


def _record(c: _Context, action: str) -> None:
    detail = f"alert {c.incident.alert} via {c.via}"
    reports.audit(c.session, actor=_actor(c), action=action, now=c.now, report_id=c.report.id, detail=detail)
    c.session.add_all([c.incident, c.report])


def _actor(c: _Context) -> str:
    return f"volunteer:{c.volunteer.id}"


def _refresh(c: _Context) -> None:
    escalation.refresh_pages(
        c.session, keyring=c.database.keyring, incident=c.incident, report=c.report, now=c.now, reach=c.reach
    )


def _name(session: Session, volunteer_id: int | None) -> str:
    volunteer = session.get(Volunteer, volunteer_id) if volunteer_id else None
    return str(volunteer.name) if volunteer is not None else "?"


def _send_details(c: _Context) -> None:
    """Send the volunteer who took the case what pages leave out: the exact location and the answers."""
    route = paging.volunteer_route(c.database.keyring, c.volunteer, reach=c.reach)
    location = c.report.location or {}
    bodies: list[dict[str, object]] = []
    if "lat" in location and route[0] == "telegram":
        bodies.append({"location": [location["lat"], location["lon"]]})
    details = paging.details_body(c.report)
    if route[0] == "telegram":
        details["buttons"] = [*phrasebook.volunteer_keyboard(c.incident.id or 0), *case_buttons(c.incident)]
    for body in [*bodies, details]:
        paging.notify_volunteer(
            c.session, route=route, volunteer_id=c.volunteer.id, report_id=c.report.id, kind="details",
            body=dict(body), now=c.now,
        )  # fmt: skip


def case_buttons(incident: Incident) -> list[list[dict[str, str]]]:
    """Return the Escalate and Close buttons of a case, in the current volunteer locale."""
    return [
        [
            {"label": translate_for_volunteer(ESCALATE), "data": f"{ESCALATE_PREFIX}{incident.id}"},
            {"label": translate_for_volunteer(RESOLVE), "data": f"{RESOLVE_PREFIX}{incident.id}"},
        ]
    ]


def incident_by_alert(session: Session, *, alert: int) -> Incident | None:
    """Return the open incident with this alert number, else the last resolved one that had it."""
    query = select(Incident).where(Incident.alert == alert)
    candidates = list(session.exec(query.order_by(col(Incident.id).desc())).all())
    return next((i for i in candidates if i.status != "resolved"), candidates[0] if candidates else None)


def open_incidents(session: Session, *, volunteer: Volunteer) -> list[Incident]:
    """Return the unresolved incidents a volunteer was paged for (all of them for a coordinator)."""
    query = select(Incident).where(col(Incident.status) != "resolved")
    if volunteer.role != "coordinator":
        paged = select(Page.incident_id).where(Page.volunteer_id == volunteer.id)
        query = query.where(col(Incident.id).in_(paged))
    return list(session.exec(query.order_by(col(Incident.alert))).all())
