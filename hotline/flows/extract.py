"""One-shot extraction: everything the distress flow asks for, read from one free-text message.

A panicked person writes one long message: a map link, a head count in Arabic digits, "my wife is
pregnant", "no water". ``extract`` pulls out every fact it can, so the flow asks only for what is
missing. Pure and total: any string in, a ``Facts`` out, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotline.flows.geo import Point

RED_FLAGS = (
    "unconscious",
    "bleeding",
    "broken_bone",
    "cannot_walk",
    "hypothermia",
    "frostbite",
    "pregnancy_pain",
    "baby",
    "diabetes",
    "no_medicine",
)
NEEDS = ("water", "food", "warm_clothes", "shoes", "power_bank", "medicine")


@dataclass(frozen=True)
class Facts:
    """What one message says about a group in danger; None (or empty) where it says nothing."""

    location: Point | None = None
    people_total: int | None = None
    children: int | None = None
    pregnant: bool | None = None
    medical: bool | None = None  # someone needs a doctor now
    red_flags: tuple[str, ...] = ()  # from RED_FLAGS, in that order
    asylum: str | None = None  # "yes" or "no"
    needs: tuple[str, ...] = ()  # from NEEDS, in that order
    help: bool = False  # the message asks for help or says they are in danger

    def fields(self) -> dict[str, Any]:
        """Return the report fields these facts fill, by the flow's field names."""
        found: dict[str, Any] = {
            "people.total": self.people_total,
            "people.children": self.children,
            "people.pregnant": self.pregnant,
            "medical.emergency": True if self.red_flags else self.medical,
            "asylum_intent": self.asylum,
        }
        if self.needs:
            found["needs"] = list(self.needs)
        if self.red_flags:
            found["medical.flags"] = list(self.red_flags)
        return {key: value for key, value in found.items() if value is not None}

    def looks_like_distress(self) -> bool:
        """Tell whether the message already reads as a call for help from the forest."""
        return bool(self.location or self.people_total or self.red_flags or self.help)


def extract(text: str) -> Facts:
    """Read every distress fact from one message (stub until the parsers land)."""
    return Facts()
