"""Escalation: one incident per paged report, its steps run when due, each page sent at most once.

Paging starts in the transaction that makes a report worth acting on: the incident is created with
a copy of the policy and its first step runs at once. Later steps are run by ``run_due_incidents``,
which claims due incidents with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several processes share
the work. A page is a row unique on (incident, step, repeat, volunteer, channel): a step that runs
twice, in two processes or after a crash, cannot page anyone twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hotline.bot import paging
from hotline.bot.channels.console import PAGER
from hotline.bot.i18n import use_locale
from hotline.bot.oncall import rota
from hotline.bot.oncall.policy import PageStep, cycle_length, due_at, page_steps
from hotline.storage import reports
from hotline.storage.crypto import KeyRing
from hotline.storage.models import Incident, Message, Page, Report, Volunteer

log = logging.getLogger(__name__)

ACTIVE = ("paging", "acknowledged")
ALERT_COOL_DOWN = timedelta(hours=12)  # a resolved incident's alert number rests this long before reuse
ALERT_TRIES = 5
ALERT_LOCK = 0x686F746C  # the advisory lock key taken while an alert number is chosen


def page_report(
    session: Session,
    *,
    keyring: KeyRing,
    report: Report,
    policy: dict[str, Any],
    now: datetime,
    reach: paging.Reach,
    handoff: bool = False,
    loud: bool = False,
) -> Incident | None:
    """Start paging a report once there is something to act on, or bring its pages up to date.

    ``loud``: something new needs a human (the person asked for one, came back, or it became
    urgent): a resolved incident opens again and pages still waiting for an answer ring afresh.
    """
    incident = incident_of(session, report_id=report.id or 0)
    if incident is None:
        if not (handoff or reports.needs_a_volunteer(report)):
            return None
        incident = _open_incident(session, report=report, policy=policy, now=now)
    elif incident.status == "resolved" and loud:
        _reopen(session, incident, now)
    else:
        if report.urgent and not incident.urgent:
            _make_urgent(incident, now)
        if loud and incident.status == "paging":
            _ring_again(session, keyring, incident, report, now, reach)
        refresh_pages(session, keyring=keyring, incident=incident, report=report, now=now, reach=reach)
    run_due(session, keyring=keyring, incident=incident, report=report, now=now, reach=reach)
    return incident


def incident_of(session: Session, *, report_id: int) -> Incident | None:
    """Return a report's incident, locked against the escalation loop on PostgreSQL."""
    query = select(Incident).where(Incident.report_id == report_id)
    incident: Incident | None = session.exec(_locked(session, query)).first()
    return incident


def _locked(session: Session, query: Any, *, skip: bool = False) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=skip, of=Incident)
    return query


def _open_incident(session: Session, *, report: Report, policy: dict[str, Any], now: datetime) -> Incident:
    for _ in range(ALERT_TRIES):
        incident = Incident(
            report_id=report.id or 0, alert=_free_alert(session, now), policy=policy, urgent=report.urgent,
            cycle_started_at=now, due_at=now, started_at=now, updated_at=now,
        )  # fmt: skip
        try:
            with session.begin_nested():
                session.add(incident)
            return incident
        except IntegrityError:  # another process took that alert number (or paged this report) first
            existing = incident_of(session, report_id=report.id or 0)
            if existing is not None:
                return existing
    raise RuntimeError("no free alert number after several tries")


def _free_alert(session: Session, now: datetime) -> int:
    if session.get_bind().dialect.name == "postgresql":  # one new incident at a time, or they all pick the same number
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ALERT_LOCK})
    busy = col(Incident.status) != "resolved"
    resting = col(Incident.resolved_at) > now - ALERT_COOL_DOWN
    taken = set(session.exec(select(Incident.alert).where(busy | resting)).all())
    return next(number for number in range(1, len(taken) + 2) if number not in taken)


def _reopen(session: Session, incident: Incident, now: datetime) -> None:
    incident.status, incident.resolved_at, incident.resolved_by = "paging", None, None
    if incident.alert in _alerts_in_use(session, now, but=incident.id or 0):
        incident.alert = _free_alert(session, now)
    _new_cycle(incident, now)
    incident.repeats_done = 0
    reports.audit(session, actor="system", action="reopened", now=now, report_id=incident.report_id)


def _alerts_in_use(session: Session, now: datetime, *, but: int) -> set[int]:
    query = select(Incident.alert).where(col(Incident.status) != "resolved", col(Incident.id) != but)
    return set(session.exec(query).all())


def _new_cycle(incident: Incident, now: datetime) -> None:
    incident.cycle += 1
    incident.step = 0
    incident.cycle_started_at = incident.due_at = incident.updated_at = now


def _make_urgent(incident: Incident, now: datetime) -> None:
    incident.urgent = True
    if incident.due_at is not None and incident.status == "paging":
        sooner = due_at(incident.policy, step=incident.step, cycle_started_at=incident.cycle_started_at, urgent=True)
        incident.due_at = max(min(incident.due_at, sooner), now)


def run_due_incidents(
    session: Session, *, keyring: KeyRing, now: datetime, reach: paging.Reach, limit: int = 20
) -> int:
    """Claim the incidents with a step due and run those steps; return how many pages were queued."""
    query = (
        select(Incident)
        .where(col(Incident.status).in_(ACTIVE), col(Incident.due_at) <= now)
        .order_by(col(Incident.due_at))
        .limit(limit)
    )
    pages = 0
    for incident in session.exec(_locked(session, query, skip=True)).all():
        report = session.get(Report, incident.report_id)
        assert report is not None
        pages += run_due(session, keyring=keyring, incident=incident, report=report, now=now, reach=reach)
    return pages


def next_due(session: Session) -> datetime | None:
    """Return when the next step of any incident falls due."""
    query = select(Incident.due_at).where(col(Incident.status).in_(ACTIVE), col(Incident.due_at).is_not(None))
    return session.exec(query.order_by(col(Incident.due_at)).limit(1)).first()


def run_due(
    session: Session, *, keyring: KeyRing, incident: Incident, report: Report, now: datetime, reach: paging.Reach
) -> int:
    """Run every step of one incident that is due (several, after downtime); return how many pages were queued."""
    pages = 0
    while incident.due_at is not None and incident.due_at <= now and incident.status in ACTIVE:
        if incident.status == "acknowledged":  # taken long ago and still not resolved
            _repage(session, incident, now)
        steps = page_steps(incident.policy, urgent=incident.urgent)
        pages += _run_step(session, keyring, incident, report, steps[incident.step], now, reach)
        _advance(session, incident, steps, now)
    incident.updated_at = now
    session.add(incident)
    if pages and report.paged_at is None:
        report.paged_at = now
        session.add(report)
        reports.audit(session, actor="system", action="paged", now=now, report_id=report.id)
    return pages


def _repage(session: Session, incident: Incident, now: datetime) -> None:
    incident.status = "paging"
    incident.repeats_done = 0
    _new_cycle(incident, now)
    reports.audit(session, actor="system", action="repaged_unresolved", now=now, report_id=incident.report_id)


def _advance(session: Session, incident: Incident, steps: list[PageStep], now: datetime) -> None:
    incident.step += 1
    if incident.step >= len(steps):
        start = incident.cycle_started_at + cycle_length(incident.policy, urgent=incident.urgent)
        if not _next_repeat(session, incident, start, now):
            return
    incident.due_at = due_at(
        incident.policy, step=incident.step, cycle_started_at=incident.cycle_started_at, urgent=incident.urgent
    )


def _next_repeat(session: Session, incident: Incident, start: datetime, now: datetime) -> bool:
    """Begin the policy's next repeat at ``start``; False when every repeat has run."""
    incident.repeats_done += 1
    if incident.repeats_done >= incident.policy["repeat"]:
        incident.due_at = None
        reports.audit(session, actor="system", action="escalation_exhausted", now=now, report_id=incident.report_id)
        log.warning("incident %s: every escalation step ran and nobody answered", incident.id)
        return False
    _new_cycle(incident, start)
    incident.updated_at = now
    return True


def jump_to_next_group(session: Session, *, incident: Incident, now: datetime) -> None:
    """Make the next notify group due now (after a decline or an escalation), keeping its channels' spacing."""
    steps = page_steps(incident.policy, urgent=incident.urgent)
    incident.status = "paging"
    if incident.step == 0:  # a repeat has just begun: its first group is next anyway
        target: PageStep | None = steps[0]
    else:
        last_run = steps[incident.step - 1]
        target = next((s for s in steps if s.group > last_run.group), None)
    if target is None:  # the last group had run: the next repeat begins now
        _next_repeat(session, incident, now, now)
        return
    incident.step = target.index
    incident.cycle_started_at = now - timedelta(seconds=target.offset)
    incident.due_at = now


def _run_step(
    session: Session,
    keyring: KeyRing,
    incident: Incident,
    report: Report,
    step: PageStep,
    now: datetime,
    reach: paging.Reach,
) -> int:
    volunteers = _group_targets(session, incident, step) or _targets(session, step.target, now)
    if not volunteers:
        if not reports.has_audit(session, report_id=report.id or 0, action="no_one_on_duty"):
            log.warning("incident %s has nobody on duty to page", incident.id)
            reports.audit(session, actor="system", action="no_one_on_duty", now=now, report_id=report.id)
        return 0
    declined = _declined(session, incident)
    pages = 0
    for volunteer in volunteers:
        channel = None if volunteer.id in declined else _channel_for(session, incident, volunteer, step, now, reach)
        page = _new_page(session, incident, step, volunteer, channel, now) if channel else None
        if page is not None:
            with use_locale(paging.volunteer_language(volunteer)):
                _send_page(session, keyring, incident, report, page, volunteer, now, reach)
            pages += 1
    if pages and incident.first_paged_at is None:
        incident.first_paged_at = now
    return pages


def _group_targets(session: Session, incident: Incident, step: PageStep) -> list[Volunteer]:
    """Return who the first channel of this step's group paged: the later channels follow up on the same people.

    Without this, a shift change between the Telegram page and the SMS one would send each to someone else.
    """
    steps = page_steps(incident.policy, urgent=incident.urgent)
    first = next(s.index for s in steps if s.group == step.group)
    if first == step.index:
        return []
    query = (
        select(Volunteer)
        .join(Page, col(Page.volunteer_id) == col(Volunteer.id))
        .where(Page.incident_id == incident.id, Page.repeat == incident.cycle, Page.step == first)
        .distinct()
    )
    return [v for v in session.exec(query.order_by(col(Volunteer.id))).all() if v.active]


def _targets(session: Session, target: str, now: datetime) -> list[Volunteer]:
    if target == "coordinators":
        return rota.coordinators(session)
    return rota.on_duty_at(session, layer=target, at=now) or rota.coordinators(session)


def _declined(session: Session, incident: Incident) -> set[int]:
    query = select(Page.volunteer_id).where(
        Page.incident_id == incident.id, Page.repeat == incident.cycle, Page.status == "declined"
    )
    return set(session.exec(query).all())


def _channel_for(
    session: Session, incident: Incident, volunteer: Volunteer, step: PageStep, now: datetime, reach: paging.Reach
) -> str | None:
    """Return the channel this step reaches a volunteer on, or None to leave them to the next step."""
    quiet = rota.quiet_channels(volunteer, now)
    by_phone = reach.sms and bool(volunteer.phone)
    if step.channel == "telegram":
        if reach.telegram and volunteer.telegram_chat:
            return "telegram"
        if by_phone and "sms" not in quiet:
            return None if _has_page(session, incident, volunteer, "sms") else "sms"
        return PAGER if not (reach.telegram or reach.sms) else None
    if step.channel == "sms":
        wanted = by_phone and "sms" not in quiet
        return "sms" if wanted and not _has_page(session, incident, volunteer, "sms") else None
    return "call" if by_phone and "call" not in quiet else None


def _has_page(session: Session, incident: Incident, volunteer: Volunteer, channel: str) -> bool:
    query = select(Page.id).where(
        Page.incident_id == incident.id,
        Page.repeat == incident.cycle,
        Page.volunteer_id == volunteer.id,
        Page.channel == channel,
    )
    return session.exec(query).first() is not None


def _new_page(
    session: Session, incident: Incident, step: PageStep, volunteer: Volunteer, channel: str, now: datetime
) -> Page | None:
    page = Page(
        incident_id=incident.id or 0, report_id=incident.report_id, step=step.index, repeat=incident.cycle,
        volunteer_id=volunteer.id or 0, channel=channel, due_at=incident.due_at or now, created_at=now,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(page)
    except IntegrityError:  # this step already paged this volunteer here: never twice
        return None
    return page


def _send_page(
    session: Session,
    keyring: KeyRing,
    incident: Incident,
    report: Report,
    page: Page,
    volunteer: Volunteer,
    now: datetime,
    reach: paging.Reach,
) -> None:
    route = paging.volunteer_route(keyring, volunteer, reach=reach, channel=page.channel)
    if page.channel == "call":
        call = {"page": page.id, "text": paging.page_speech(report), "language": paging.volunteer_language(volunteer)}
        body: dict[str, Any] = {"call": call}
    else:
        body = paging.page_body(report, now, page=page, incident=incident, exact_location=reach.exact_location)
    page.message_id = paging.send_to_volunteer(session, route=route, page=page, kind="page", body=body, now=now).id
    session.add(page)


def _ring_again(
    session: Session, keyring: KeyRing, incident: Incident, report: Report, now: datetime, reach: paging.Reach
) -> None:
    """Send the latest page of everyone still waiting as a new message, since edits do not ring."""
    for page, volunteer in latest_pages(session, incident=incident, channels=("telegram", PAGER, "sms")):
        if page.status == "sent":
            with use_locale(paging.volunteer_language(volunteer)):
                _send_page(session, keyring, incident, report, page, volunteer, now, reach)


def refresh_pages(
    session: Session, *, keyring: KeyRing, incident: Incident, report: Report, now: datetime, reach: paging.Reach
) -> None:
    """Edit each volunteer's latest Telegram page to the report's current state (SMS cannot be edited)."""
    for page, volunteer in latest_pages(session, incident=incident, channels=("telegram", PAGER)):
        if _outcome_unknown(session, page):  # an edit would go out as a second copy of a page that may have arrived
            continue
        route = paging.volunteer_route(keyring, volunteer, reach=reach, channel=page.channel)
        with use_locale(paging.volunteer_language(volunteer)):
            owner = _owner_name(session, incident)
            body = paging.page_body(
                report, now, page=page, incident=incident, owner=owner, exact_location=reach.exact_location
            )
            paging.update_page(session, page=page, route=route, body=body, now=now)


def _outcome_unknown(session: Session, page: Page) -> bool:
    message = session.get(Message, page.message_id) if page.message_id else None
    return message is not None and message.status == "unknown"


def _owner_name(session: Session, incident: Incident) -> str | None:
    owner = session.get(Volunteer, incident.acknowledged_by) if incident.acknowledged_by else None
    return str(owner.name) if owner is not None and incident.status != "paging" else None


def latest_pages(session: Session, *, incident: Incident, channels: tuple[str, ...]) -> list[tuple[Page, Volunteer]]:
    """Return each volunteer's newest page of an incident on the given channels, with the volunteer."""
    query = (
        select(Page, Volunteer)
        .join(Volunteer, col(Volunteer.id) == col(Page.volunteer_id))
        .where(Page.incident_id == incident.id, col(Page.channel).in_(channels), col(Page.message_id).is_not(None))
        .order_by(col(Page.id))
    )
    newest: dict[int, tuple[Page, Volunteer]] = {}
    for page, volunteer in session.exec(query).all():
        newest[page.volunteer_id] = (page, volunteer)
    return list(newest.values())
