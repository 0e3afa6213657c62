"""The escalation policy as data: who is paged, on which channel, and when, relative to the start of a cycle.

The YAML policy (``hotline/flows/escalation.yaml``) is validated, then copied onto each incident as
plain JSON. Its notify groups are flattened into numbered steps, one per target and channel, so a
page is identified by (incident, step, repeat, volunteer, channel).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

TARGETS = ("primary", "backup", "coordinators")
CHANNELS = ("telegram", "sms", "call")


class PolicyError(ValueError):
    """The escalation policy file is not valid."""


@dataclass(frozen=True)
class PageStep:
    """One numbered step: page ``target`` on ``channel`` at ``offset`` seconds into the cycle."""

    index: int
    group: int
    target: str
    channel: str
    offset: float


def load_policy(path: Path | None = None) -> dict[str, Any]:
    """Read and validate a policy file (the shipped one by default); return it as plain data."""
    source = path or Path(str(resources.files("hotline.flows") / "escalation.yaml"))
    return parse_policy(yaml.safe_load(source.read_text(encoding="utf-8")))


def parse_policy(data: Any) -> dict[str, Any]:
    """Validate parsed policy data and return a clean copy, raising ``PolicyError`` on the first problem."""
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise PolicyError("a policy needs a non-empty list of steps")
    steps = [_parse_group(number, group) for number, group in enumerate(data["steps"], 1)]
    policy = {
        "name": str(data.get("name", "default")),
        "steps": steps,
        "repeat": _number(data.get("repeat", 1), "repeat", minimum=1),
        "urgent_factor": _number(data.get("urgent_factor", 1), "urgent_factor", minimum=0.05),
        "acknowledged_timeout": _number(data.get("acknowledged_timeout", 7200), "acknowledged_timeout", minimum=60),
    }
    if float(policy["urgent_factor"]) > 1:  # type: ignore[arg-type]
        raise PolicyError("urgent_factor shortens waits: it must be at most 1")
    return policy


def _parse_group(number: int, group: Any) -> dict[str, Any]:
    if not isinstance(group, dict) or group.get("notify") not in TARGETS:
        raise PolicyError(f"step {number}: notify must be one of {', '.join(TARGETS)}")
    channels = group.get("by", ["telegram"])
    if not isinstance(channels, list) or not channels or any(c not in CHANNELS for c in channels):
        raise PolicyError(f"step {number}: by must list channels among {', '.join(CHANNELS)}")
    if len(set(channels)) != len(channels):
        raise PolicyError(f"step {number}: a channel is listed twice")
    gap = _number(group.get("gap", 60), f"step {number}: gap", minimum=0)
    wait = _number(group.get("wait", 300), f"step {number}: wait", minimum=1)
    if gap * (len(channels) - 1) >= wait:
        raise PolicyError(f"step {number}: every channel must be tried before the wait is over")
    return {"notify": group["notify"], "by": list(channels), "gap": gap, "wait": wait}


def _number(value: Any, name: str, *, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise PolicyError(f"{name} must be a number of at least {minimum:g}")
    return float(value)


def page_steps(policy: dict[str, Any], *, urgent: bool = False) -> list[PageStep]:
    """Flatten the policy's notify groups into numbered steps with their offsets into a cycle."""
    factor = policy["urgent_factor"] if urgent else 1.0
    steps: list[PageStep] = []
    start = 0.0
    for group_number, group in enumerate(policy["steps"]):
        for position, channel in enumerate(group["by"]):
            offset = start + position * group["gap"] * factor
            steps.append(PageStep(len(steps), group_number, group["notify"], channel, offset))
        start += group["wait"] * factor
    return steps


def cycle_length(policy: dict[str, Any], *, urgent: bool = False) -> timedelta:
    """Return how long one run through every step lasts."""
    factor = policy["urgent_factor"] if urgent else 1.0
    return timedelta(seconds=sum(group["wait"] for group in policy["steps"]) * factor)


def due_at(policy: dict[str, Any], *, step: int, cycle_started_at: datetime, urgent: bool) -> datetime:
    """Return when a step of the current cycle is due."""
    return cycle_started_at + timedelta(seconds=page_steps(policy, urgent=urgent)[step].offset)


def next_group(policy: dict[str, Any], *, step: int) -> int:
    """Return the first step of the notify group after the one ``step`` belongs to (may equal the step count)."""
    steps = page_steps(policy)
    group = steps[min(step, len(steps) - 1)].group
    return next((s.index for s in steps if s.group > group), len(steps))
