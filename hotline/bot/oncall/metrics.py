"""How fast paging works, from the incidents and their pages: time to first page, time to acknowledgement, lateness."""

from __future__ import annotations

from datetime import datetime
from statistics import median
from typing import Any

from sqlmodel import Session, col, select

from hotline.storage.models import Incident, Page


def summary(values: list[float]) -> dict[str, float | int | None]:
    """Return the count, median, 90th percentile and maximum of some durations in seconds."""
    if not values:
        return {"count": 0, "median": None, "p90": None, "max": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return {
        "count": len(ordered),
        "median": round(median(ordered), 3),
        "p90": round(p90, 3),
        "max": round(ordered[-1], 3),
    }


def paging_metrics(session: Session, *, since: datetime) -> dict[str, Any]:
    """Return paging figures over the incidents started since a moment."""
    incidents = list(session.exec(select(Incident).where(col(Incident.started_at) >= since)).all())
    first_page = [(i.first_paged_at - i.started_at).total_seconds() for i in incidents if i.first_paged_at]
    acknowledged = [(i.acknowledged_at - i.started_at).total_seconds() for i in incidents if i.acknowledged_at]
    ids = [i.id for i in incidents]
    pages = list(session.exec(select(Page).where(col(Page.incident_id).in_(ids))).all()) if ids else []
    return {
        "since": since.isoformat(),
        "incidents": len(incidents),
        "open": sum(1 for i in incidents if i.status != "resolved"),
        "never_acknowledged": sum(1 for i in incidents if i.acknowledged_at is None),
        "pages": len(pages),
        "time_to_first_page_s": summary(first_page),
        "time_to_acknowledgement_s": summary(acknowledged),
        "page_lateness_s": summary([(p.created_at - p.due_at).total_seconds() for p in pages]),
    }
