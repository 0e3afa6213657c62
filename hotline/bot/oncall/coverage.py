"""Coverage: warn the coordinators when nobody will be on primary duty in the next 48 hours.

Each uncovered window is announced once, by one message to each coordinator. A window is known by
the moment it starts, kept in the audit trail as ``uncovered_warned``. A gap that began more than
48 hours ago has no known start; it counts as announced if a warning went out in the last 48 hours,
so it is recalled every two days rather than on every pass of the loop.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlmodel import Session, select

from hotline.bot import paging
from hotline.bot.i18n import V_, translate_for_volunteer, use_locale
from hotline.bot.oncall import rota
from hotline.storage import outbox, reports
from hotline.storage.crypto import KeyRing
from hotline.storage.models import AuditEvent, Volunteer

log = logging.getLogger(__name__)

HORIZON = rota.WARNING_HORIZON
WARNED = "uncovered_warned"
TITLE = V_("⚠️ Nobody is on primary duty at these times (Vilnius time):")
ASK = V_("Please find someone to cover them and add an override (hotline oncall override add).")

Window = tuple[datetime, datetime]


def warn_uncovered(session: Session, *, keyring: KeyRing, now: datetime, reach: paging.Reach) -> int:
    """Tell each coordinator once about primary time uncovered in the next 48 hours; return the messages queued."""
    windows = [w for w in rota.uncovered(session, start=now - HORIZON, end=now + HORIZON) if w[1] > now]
    fresh = [window for window in windows if not _warned(session, window, now)]
    people = rota.coordinators(session)
    if not fresh or not people:
        return 0
    for volunteer in people:
        _send(session, keyring=keyring, volunteer=volunteer, windows=fresh, now=now, reach=reach)
    for start, _ in fresh:
        reports.audit(session, actor="system", action=WARNED, detail=_key(start), now=now)
    log.warning("primary duty uncovered in %s windows; %s coordinators warned", len(fresh), len(people))
    return len(people)


def warning_text(windows: list[Window], now: datetime) -> str:
    """Return the warning listing uncovered windows in Vilnius time, in the current locale."""
    lines = [translate_for_volunteer(TITLE)]
    lines += [f"- {rota.local_text(max(start, now))} - {rota.local_text(end)}" for start, end in windows]
    lines.append(translate_for_volunteer(ASK))
    return "\n".join(lines)


def _send(
    session: Session,
    *,
    keyring: KeyRing,
    volunteer: Volunteer,
    windows: list[Window],
    now: datetime,
    reach: paging.Reach,
) -> None:
    channel, address, key = paging.volunteer_route(keyring, volunteer, reach=reach)
    with use_locale(paging.volunteer_language(volunteer)):
        body = {"text": warning_text(windows, now), "buttons": [], "to": address}
    outbox.enqueue(
        session, kind="rota_warning", channel=channel, recipient_key=key, body=body, now=now, volunteer_id=volunteer.id
    )


def _warned(session: Session, window: Window, now: datetime) -> bool:
    start = window[0]
    query = select(AuditEvent.id).where(AuditEvent.action == WARNED)
    if start <= now - HORIZON:  # began before we looked: its start is unknown
        query = query.where(AuditEvent.at > start)
    else:
        query = query.where(AuditEvent.detail == _key(start))
    return session.exec(query).first() is not None


def _key(start: datetime) -> str:
    return start.astimezone(UTC).isoformat()
