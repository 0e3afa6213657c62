"""One group, several reporters: linking reports about the same people, and counting people once.

The same group is often reported three times within hours: by the person in the forest, by a
brother abroad and by a resident who met them. Reports of people in danger made within
``WINDOW`` of each other, less than ``RADIUS_KM`` apart and with head counts that do not
contradict each other are linked into one group (``group_id`` = the first report's id). Statistics
count a group's people once, as the largest head count any of its reports gave.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from hotline.storage import reports
from hotline.storage.models import Report

WINDOW = timedelta(hours=12)
RADIUS_KM = 5.0
EARTH_KM = 6371.0
COUNT_SLACK = 2  # "we are 7" and "about 9 people" may be the same group
COUNT_RATIO = 0.3
IN_DANGER = ("distress",)


def link(session: Session, report: Report, now: datetime) -> Report | None:
    """Link a report of people in danger to an earlier one about the same group; return that one."""
    if report.kind not in IN_DANGER or report.group_id is not None or not _point(report):
        return None
    best: tuple[float, Report] | None = None
    query = select(Report).where(
        col(Report.kind).in_(IN_DANGER), col(Report.id) != report.id, col(Report.created_at) >= now - WINDOW,
        col(Report.status) != "resolved", col(Report.contact_id) != report.contact_id,
    )  # fmt: skip
    for other in session.exec(query).all():
        distance = _distance_km(report, other)
        near = distance is not None and distance <= RADIUS_KM and (best is None or distance < best[0])
        if near and distance is not None and _counts_agree(report, other):
            best = (distance, other)
    if best is None:
        return None
    other = best[1]
    if other.group_id is None:
        other.group_id = other.id
        session.add(other)
    report.group_id = other.group_id
    session.add(report)
    reports.audit(session, actor="system", action="linked_to_group", now=now, report_id=report.id,
                  detail=f"same group as {other.reference}")  # fmt: skip
    return other


def _point(report: Report) -> tuple[float, float] | None:
    location = report.location or {}
    if "lat" not in location or location.get("implausible"):
        return None
    return float(location["lat"]), float(location["lon"])


def _distance_km(first: Report, second: Report) -> float | None:
    a, b = _point(first), _point(second)
    if a is None or b is None:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def _counts_agree(first: Report, second: Report) -> bool:
    a, b = _total(first), _total(second)
    if a is None or b is None:
        return True
    return abs(a - b) <= max(COUNT_SLACK, COUNT_RATIO * max(a, b))


def _total(report: Report) -> int | None:
    total = (report.people or {}).get("total")
    return total if isinstance(total, int) else None


@dataclass(frozen=True)
class PeopleCount:
    """People and groups in danger over a period, each group counted once."""

    groups: int
    people: int
    children: int
    groups_without_count: int
    reports: int
    reporters: dict[str, int]

    def json(self) -> dict[str, Any]:
        """Return the figures with how they were counted."""
        return {
            "groups": self.groups, "people": self.people, "children": self.children,
            "groups_without_count": self.groups_without_count, "reports": self.reports,
            "reports_by_reporter": self.reporters,
            "how_counted": (
                "People in danger reported in the period. Reports linked as the same group (same area, "
                "within hours, similar head count) count once, with the largest head count given. Groups "
                "with no head count are listed apart and not guessed."
            ),
        }  # fmt: skip


def count_people(session: Session, *, since: datetime, until: datetime) -> PeopleCount:
    """Count the people and groups reported in danger between two times, each group once."""
    query = select(Report).where(
        col(Report.kind).in_(IN_DANGER), col(Report.created_at) >= since, col(Report.created_at) < until
    )
    rows = session.exec(query).all()
    groups: dict[int, list[Report]] = defaultdict(list)
    reporters: dict[str, int] = defaultdict(int)
    for report in rows:
        groups[report.group_id or report.id or 0].append(report)
        reporters[report.reported_by or "person"] += 1
    people = children = unknown = 0
    for members in groups.values():
        totals = [t for t in map(_total, members) if t is not None]
        kids = [(m.people or {}).get("children") for m in members]
        people += max(totals, default=0)
        children += max((k for k in kids if isinstance(k, int)), default=0)
        unknown += not totals
    return PeopleCount(len(groups), people, children, unknown, len(rows), dict(reporters))
