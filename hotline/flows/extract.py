"""One-shot extraction: everything the distress flow asks for, read from one free-text message.

A panicked person writes one long message: a map link, a head count in Arabic digits, "my wife is
pregnant", "no water". ``extract`` pulls out every fact it can, so the flow asks only for what is
missing. Pure and total: any string in, a ``Facts`` out, never an exception.

The words come from ``vocabulary/facts.yaml``. A phrase with a negation a few words before or after it
in the same clause ("no one is bleeding", "беременных нет") says the opposite; a phrase in a question
("can I ask for asylum?") or a thank-you ("thanks for your help") asks for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hotline.flows.geo import Point, parse_location
from hotline.flows.parsers import (
    BREAK,
    MAX_TEXT,
    PEOPLE_PHRASES,
    QUESTION,
    Hit,
    Lexicon,
    count_people,
    load_vocabulary,
    phrase_lists,
    tokens,
)

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


_LEXICON = Lexicon([*phrase_lists(load_vocabulary("facts")), *PEOPLE_PHRASES])
_DENIABLE = frozenset(f"red_flags:{code}" for code in RED_FLAGS if code != "no_medicine")  # "nobody bleeds": all well
_BEFORE = 3  # words a negation may stand before what it negates
_AFTER = 2  # words a negation may stand after it ("kanama yok", "беременных нет")


@dataclass(frozen=True)
class _Reading:
    """A message's tokens and phrases, with the clause each token belongs to."""

    words: list[str]
    hits: list[Hit]
    by_category: dict[str, list[Hit]]
    clause: list[int]  # clause number of every token
    questions: frozenset[int]  # clauses ending in a question mark
    thanked: frozenset[int]  # clauses that thank someone
    negating_from: dict[int, int]  # where a negation of what follows starts -> where it ends
    negating_after: frozenset[int]  # where a negation of what precedes starts

    def found(self, category: str) -> list[Hit]:
        """Return the phrases of one category ("pregnant", "red_flags:bleeding"...)."""
        return self.by_category.get(category, [])

    def negated(self, hit: Hit) -> bool:
        """Tell whether a negation stands just before or just after a phrase, in its clause."""
        before = range(max(hit.start - _BEFORE, 0), hit.start)
        after = range(hit.end, min(hit.end + _AFTER + 1, len(self.words)))
        return any(self.negating_from.get(s, hit.start + 1) <= hit.start and self._same(s, hit) for s in before) or any(
            s in self.negating_after and self._same(s, hit) for s in after
        )

    def asked(self, hit: Hit) -> bool:
        """Tell whether a phrase sits in a question or a thank-you, so it asks for nothing."""
        return self.clause[hit.start] in self.questions | self.thanked

    def said(self, category: str) -> list[bool]:
        """Return, for every phrase of a category, whether it is meant (True) or negated (False)."""
        return [not self.negated(hit) for hit in self.found(category)]

    def _same(self, position: int, hit: Hit) -> bool:
        return self.clause[position] == self.clause[hit.start]


@lru_cache(maxsize=64)  # the menu reads a message to decide where it goes, then the flow reads it again
def extract(text: str) -> Facts:
    """Read every distress fact from one message."""
    text = text[:MAX_TEXT]
    reading = _read(text)
    flags = _red_flags(reading)
    needs = _needs(reading, flags)
    total, children = count_people(reading.words, reading.hits)
    return Facts(
        location=parse_location(text),
        people_total=total,
        children=children,
        pregnant=_pregnant(reading),
        medical=_medical(reading, flags),
        red_flags=tuple(code for code in RED_FLAGS if code in flags),
        asylum=_asylum(reading),
        needs=tuple(code for code in NEEDS if code in needs),
        help=bool(needs) or any(not reading.asked(hit) for hit in reading.found("help")),
    )


def _read(text: str) -> _Reading:
    """Tokenise a message, find its phrases, number its clauses and note where negations stand."""
    words = tokens(text)
    clause, questions, current = [], set(), 0
    for word in words:
        clause.append(current)
        if word in (BREAK, QUESTION):
            questions |= {current} if word == QUESTION else set()
            current += 1
    hits = _LEXICON.find(words)
    by_category: dict[str, list[Hit]] = {}
    for hit in hits:
        by_category.setdefault(hit.value, []).append(hit)
    negating_from: dict[int, int] = {}
    for hit in by_category.get("negation:before", []):
        negating_from[hit.start] = min(hit.end, negating_from.get(hit.start, hit.end))
    return _Reading(
        words,
        hits,
        by_category,
        clause,
        frozenset(questions),
        frozenset(clause[hit.start] for hit in by_category.get("thanks", [])),
        negating_from,
        frozenset(hit.start for hit in by_category.get("negation:after", [])),
    )


def _red_flags(reading: _Reading) -> set[str]:
    """Collect the red flags said and not negated (a lack of medicine is itself a negation)."""
    flags = {
        hit.value.removeprefix("red_flags:")
        for hit in reading.hits
        if hit.value.startswith("red_flags:") and (hit.value == "red_flags:no_medicine" or not reading.negated(hit))
    }
    pregnancy_clauses = {reading.clause[hit.start] for hit in reading.found("pregnant")}
    if any(reading.clause[hit.start] not in pregnancy_clauses for hit in reading.found("baby_age")):
        flags.add("baby")
    if _pregnant(reading) and ("bleeding" in flags or any(reading.said("pain"))):
        flags.add("pregnancy_pain")
    return flags


def _pregnant(reading: _Reading) -> bool | None:
    """Tell whether someone is pregnant (labour says so too), nobody is, or the message does not say."""
    said = reading.said("pregnant") + [True for _ in reading.found("red_flags:pregnancy_pain")]
    return True if any(said) else False if said else None


def _medical(reading: _Reading, flags: set[str]) -> bool | None:
    """Tell whether someone needs a doctor, everyone is well, or the message does not say."""
    said = reading.said("medical") + reading.said("pain")
    if flags or any(said):
        return True
    denied = said or any(reading.negated(hit) for hit in reading.hits if hit.value in _DENIABLE)
    return False if denied or reading.found("healthy") else None


def _asylum(reading: _Reading) -> str | None:
    """Return "yes" when asylum is asked for, "no" when refused, None when not said or only asked about."""
    said = [not reading.negated(hit) for hit in reading.found("asylum") if not reading.asked(hit)]
    return "yes" if any(said) else "no" if said else None


def _needs(reading: _Reading, flags: set[str]) -> set[str]:
    """Collect what the group lacks or asks for; medicine when their own has run out."""
    needs = {
        hit.value.removeprefix("needs:")
        for hit in reading.hits
        if hit.value.startswith("needs:") and not reading.asked(hit)
    }
    return needs | ({"medicine"} if "no_medicine" in flags else set())
