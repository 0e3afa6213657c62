"""The message corpora: load them and score ``extract`` against them, field by field.

``messages.yaml`` is the corpus the parsers are tuned on; ``held_out.yaml`` is written apart from them and never
tuned on, so its scores say how well extraction reads messages it has not seen. Shared by
``tests/flows/test_corpus.py`` (which asserts the scores) and ``bench/bench_parsers.py`` (which prints them). The
rules behind every expectation are written at the top of ``messages.yaml``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hotline.flows.extract import Facts

CORPUS = Path(__file__).resolve().parent / "messages.yaml"
HELD_OUT = CORPUS.with_name("held_out.yaml")
FIELDS = ("location", "people", "children", "pregnant", "medical", "red_flags", "asylum", "needs", "distress")
LIST_FIELDS = ("red_flags", "needs")
TOLERANCE = 0.0005  # degrees: about 55 m north-south, 30 m east-west at this latitude

Message = Mapping[str, Any]


@dataclass(frozen=True)
class Miss:
    """One field of one message that extraction got wrong."""

    id: str
    field: str
    expected: Any
    got: Any


def load_messages(path: Path = CORPUS) -> list[dict[str, Any]]:
    """Return the corpus entries in file order."""
    messages: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
    return messages


def expected_fields(expect: Mapping[str, Any]) -> dict[str, Any]:
    """Return every field of an entry's expectation, the ones it leaves out as their empty value."""
    empty: dict[str, Any] = {"red_flags": [], "needs": [], "distress": False}
    return {field: expect.get(field, empty.get(field)) for field in FIELDS}


def found_fields(facts: Facts) -> dict[str, Any]:
    """Return what ``extract`` found, in the corpus's terms."""
    location = [facts.location.lat, facts.location.lon] if facts.location else None
    return {
        "location": location,
        "people": facts.people_total,
        "children": facts.children,
        "pregnant": facts.pregnant,
        "medical": facts.fields().get("medical.emergency"),  # as the flow reads it: any red flag makes it true
        "red_flags": list(facts.red_flags),
        "asylum": facts.asylum,
        "needs": list(facts.needs),
        "distress": facts.looks_like_distress(),
    }


def locations_match(expected: Sequence[float] | None, got: Sequence[float] | None) -> bool:
    """Tell whether two [lat, lon] pairs are both absent or within TOLERANCE of each other."""
    if expected is None or got is None:
        return expected is got
    return all(abs(want - have) <= TOLERANCE for want, have in zip(expected, got, strict=True))


def field_matches(field: str, expected: Any, got: Any) -> bool:
    """Tell whether one found field is right: locations within TOLERANCE, code lists as sets, the rest exactly."""
    if field == "location":
        return locations_match(expected, got)
    if field in LIST_FIELDS:
        return set(expected) == set(got)
    return type(expected) is type(got) and expected == got


def compare(message: Message, found: Mapping[str, Any]) -> list[Miss]:
    """List the fields of one message that extraction got wrong."""
    expected = expected_fields(message["expect"])
    return [
        Miss(message["id"], field, expected[field], found[field])
        for field in FIELDS
        if not field_matches(field, expected[field], found[field])
    ]


def accuracy(total: int, misses: Sequence[Miss]) -> dict[str, float]:
    """Return, per field, the share of ``total`` messages that extraction got right."""
    wrong = Counter(miss.field for miss in misses)
    return {field: 1 - wrong[field] / total for field in FIELDS}
