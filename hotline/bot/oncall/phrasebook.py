"""The volunteer's phrasebook: ready phrases sent to the person in the person's language.

A volunteer who has a case often shares no language with the person. A button press or a short
command (``/stay``, ``/coming 30``) sends one of these phrases, translated at send time from the
person catalogue; the volunteer's own labels come from the volunteer catalogue. Questions expect a
yes/no or a number, offered as buttons on Telegram and as numbered lines on SMS, and
:func:`interpret` reads the answer back for the volunteer. Every person text fits one English SMS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hotline.bot.i18n import V_, format_number, translate, translate_for_volunteer, use_locale
from hotline.bot.replies import SEND_LOCATION
from hotline.flows.engine import YES_NO_OPTIONS
from hotline.flows.model import N_
from hotline.flows.parsers import normalize_digits, parse_count, parse_yes_no

SAY_PREFIX = "say:"
ANSWER_PREFIX = "answer:"
COMING_CHOICES = (15, 30, 60)
MIN_MINUTES, MAX_MINUTES = 2, 720  # "about 1 minutes" reads badly, and beyond half a day is no estimate
MAX_COUNT = 500  # as in the flows: a head count above this is a typo
_MAX_TEXT = 2000


@dataclass(frozen=True)
class Phrase:
    """One ready phrase: its key, the volunteer's command and button label, and the person's text."""

    key: str
    command: str
    label: str  # volunteer catalogue
    text: str  # person catalogue; may contain {minutes}
    answer: str | None = None  # None, "yes_no" or "count": the kind of answer a question expects


PHRASES: tuple[Phrase, ...] = (
    Phrase(
        "stay",
        "/stay",
        V_("🧍 Stay where you are"),
        N_("If it is safe, please stay where you are, so that help can find you."),
    ),
    Phrase(
        "location",
        "/location",
        V_("📍 Send location again"),
        N_("Please send your location again, as a map pin or as coordinates."),
    ),
    Phrase(
        "coming",
        "/coming",
        V_("⏱ Help is coming (minutes)"),
        # translators: {minutes} is a number from 2 to 720; choose a form that reads well with any number.
        N_("Help is on the way. We expect it in about {minutes} minutes."),
    ),
    Phrase(
        "howmany",
        "/howmany",
        V_("👥 How many are you?"),
        N_("How many people are with you, counting yourself? How many of them are children?"),
        "count",
    ),
    Phrase(
        "injured",
        "/injured",
        V_("🩹 Anyone injured or ill?"),
        N_("Is anyone injured or ill, including you?"),
        "yes_no",
    ),
    Phrase(
        "asylum",
        "/asylum",
        V_("🛡 Want to ask for asylum?"),
        N_("Do you want to ask for asylum (international protection)?"),
        "yes_no",
    ),
    Phrase(
        "battery",
        "/battery",
        V_("🔋 Phone warm, save battery"),
        N_(
            "Keep the phone warm in your clothes. Save battery: dim the screen, close apps. "
            "If we agree on times, switch it on only then."
        ),
    ),
    Phrase(
        "call112",
        "/call112",
        V_("☎️ We cannot come: call 112"),
        N_("We cannot come to you. Please call 112 now, the emergency number."),
    ),
    Phrase(
        "informed112",
        "/informed112",
        V_("✅ We told 112"),
        N_("We have told the emergency services (112) about you."),
    ),
    Phrase(
        "informed_guard",
        "/informed_guard",
        V_("✅ We told the border guard"),
        N_("We have told the border guard about you."),
    ),
    Phrase("informed_lawyer", "/informed_lawyer", V_("✅ We told a lawyer"), N_("We have told a lawyer about you.")),
)
BY_KEY = {phrase.key: phrase for phrase in PHRASES}
COMING_BUTTON = V_("⏱ Help in {minutes} min")
HELP_TITLE = V_("Ready phrases, sent in the person's language:")
HELP_FREE_TEXT = V_("Anything else you write is sent exactly as you wrote it.")
KEYBOARD_ROWS = (
    ("stay", "location"),
    ("coming",),
    ("howmany", "injured"),
    ("asylum", "battery"),
    ("call112",),
    ("informed112", "informed_lawyer"),
    ("informed_guard",),
)

_BOT_SUFFIX = re.compile(r"@\w+$")
_STRAY = " \t\r\n.!?,;:"
_COMMAND = re.compile(r"([a-z_]+?)(\d+[a-z]*)?")
_MINUTES = re.compile(r"~?\s*(\d{1,4})\s*(m|min|mins|minute|minutes|h|hr|hrs|hour|hours|val)?\.?")
_NUMBER = re.compile(r"\d+")
_DECIMAL = re.compile(r"\d[.,]\d")
_ID = re.compile(r"([0-9]{1,19})")
_HOURS = frozenset({"h", "hr", "hrs", "hour", "hours", "val"})


def find(key: str) -> Phrase | None:
    """Return the phrase with this key."""
    return BY_KEY.get(key)


def parse_command(text: str) -> tuple[Phrase, int | None] | None:
    """Read a volunteer's command ("/stay", "coming 20", "/Coming 20min"); None when it is not one.

    The message must be the command alone, so free text that merely begins with "stay" is never
    swallowed. Minutes are None when missing or out of range, so the caller can ask for them.
    """
    words = normalize_digits(text[:_MAX_TEXT]).casefold().strip(_STRAY).split(maxsplit=1)
    if not words:
        return None
    slash = words[0].startswith("/")
    name = _BOT_SUFFIX.sub("", words[0].lstrip("/"))
    rest = words[1] if len(words) > 1 else ""
    phrase = _phrase_named(name)
    if phrase is None:  # "/coming20", "coming30min": the number glued to the command
        glued = _COMMAND.fullmatch(name)
        phrase = _phrase_named(glued[1]) if glued and glued[2] else None
        if phrase is None or rest:
            return None
        rest = glued[2] if glued else ""
    if phrase.key != "coming":
        return None if rest else (phrase, None)
    minutes = _MINUTES.fullmatch(rest.strip())
    if rest and minutes is None and not slash:
        return None
    return phrase, _minutes(minutes)


def _phrase_named(name: str) -> Phrase | None:
    """Find a phrase by its command name, ignoring dashes and underscores ("informed-guard")."""
    wanted = name.replace("-", "").replace("_", "")
    return next((p for p in PHRASES if p.key.replace("_", "") == wanted), None)


def _minutes(match: re.Match[str] | None) -> int | None:
    """Turn "20", "20min" or "1h" into minutes within range; None otherwise."""
    if match is None:
        return None
    value = int(match[1]) * (60 if match[2] in _HOURS else 1)
    return value if MIN_MINUTES <= value <= MAX_MINUTES else None


def person_body(phrase: Phrase, *, language: str, minutes: int | None, sms: bool) -> dict[str, Any]:
    """Build the outgoing body of a phrase in the person's language, with answer buttons for a yes/no question.

    On SMS the buttons become numbered lines ("1. Yes") when the message is rendered.
    """
    if "{minutes}" in phrase.text and (minutes is None or not MIN_MINUTES <= minutes <= MAX_MINUTES):
        raise ValueError(f"phrase {phrase.key!r} needs minutes between {MIN_MINUTES} and {MAX_MINUTES}")
    with use_locale(language):
        params = {"minutes": format_number(minutes)} if minutes is not None and "{minutes}" in phrase.text else {}
        body: dict[str, Any] = {"text": translate(phrase.text, **params), "buttons": [], "request_location": None}
        if phrase.answer == "yes_no":
            body["buttons"] = [
                [{"label": translate(option.label), "data": f"{ANSWER_PREFIX}{phrase.key}:{option.value}"}]
                for option in YES_NO_OPTIONS
            ]
        elif phrase.key == "location" and not sms:
            body["request_location"] = translate(SEND_LOCATION)
    return body


def parse_answer_button(data: str) -> tuple[Phrase, str] | None:
    """Read the person's answer button ("answer:injured:yes") as (phrase, "yes" | "no" | "unknown")."""
    parts = data.split(":")
    if len(parts) != 3 or f"{parts[0]}:" != ANSWER_PREFIX:
        return None
    phrase = find(parts[1])
    values = {option.value for option in YES_NO_OPTIONS}
    return (phrase, parts[2]) if phrase is not None and phrase.answer == "yes_no" and parts[2] in values else None


def interpret(phrase_key: str, text: str) -> str | None:
    """Read the person's answer to a question: "yes", "no" or "unknown", or the number(s); None if unclear.

    A count answer gives one number ("6"), or the numbers in the order written ("6 / 2") when the
    person answered both parts of the question; the volunteer sees the person's words beside it.
    """
    phrase = find(phrase_key)
    text = text[:_MAX_TEXT]
    if phrase is None or not text.strip():
        return None
    if phrase.answer == "yes_no":
        return _yes_no(text)
    if phrase.answer == "count":
        return _counts(text)
    return None


def _yes_no(text: str) -> str | None:
    """Read yes/no/don't know in many languages, or the number of an option as numbered on SMS."""
    lone = normalize_digits(text).strip(_STRAY)
    if lone.isascii() and lone.isdigit():
        index = int(lone) - 1
        return YES_NO_OPTIONS[index].value if 0 <= index < len(YES_NO_OPTIONS) else None
    return parse_yes_no(text)


def _counts(text: str) -> str | None:
    """Read two head counts written in digits (everyone, then the children), else one count."""
    digits = normalize_digits(text)
    numbers = [int(n) for n in _NUMBER.findall(digits) if len(n) <= 3]
    if len(numbers) == 2 and all(n <= MAX_COUNT for n in numbers) and not _DECIMAL.search(digits):
        return f"{numbers[0]} / {numbers[1]}"
    single = parse_count(text, limit=MAX_COUNT)
    return None if single is None else str(single)


def volunteer_keyboard(incident_id: int) -> list[list[dict[str, str]]]:
    """Return the phrasebook as button rows for the volunteer, labelled in the current volunteer locale."""
    rows: list[list[dict[str, str]]] = []
    for keys in KEYBOARD_ROWS:
        if keys == ("coming",):
            rows.append([_coming_button(incident_id, minutes) for minutes in COMING_CHOICES])
        else:
            rows.append([_say_button(incident_id, key) for key in keys])
    return rows


def _say_button(incident_id: int, key: str) -> dict[str, str]:
    return {"label": translate_for_volunteer(BY_KEY[key].label), "data": f"{SAY_PREFIX}{incident_id}:{key}"}


def _coming_button(incident_id: int, minutes: int) -> dict[str, str]:
    label = translate_for_volunteer(COMING_BUTTON, minutes=minutes)
    return {"label": label, "data": f"{SAY_PREFIX}{incident_id}:coming:{minutes}"}


def parse_say_button(data: str) -> tuple[int, Phrase, int | None] | None:
    """Read a volunteer's phrase button ("say:12:stay", "say:12:coming:30") as (incident id, phrase, minutes)."""
    parts = data.split(":")
    if not 3 <= len(parts) <= 4 or f"{parts[0]}:" != SAY_PREFIX or not _ID.fullmatch(parts[1]):
        return None
    phrase = find(parts[2])
    if phrase is None or (len(parts) == 4) != (phrase.key == "coming"):
        return None
    minutes = _minutes(_MINUTES.fullmatch(parts[3])) if len(parts) == 4 and parts[3].isascii() else None
    if phrase.key == "coming" and minutes is None:
        return None
    return int(parts[1]), phrase, minutes


def help_text() -> str:
    """Return the volunteer's short help listing the phrase commands, in the current volunteer locale."""
    lines = [translate_for_volunteer(HELP_TITLE)]
    for phrase in PHRASES:
        command = f"{phrase.command} 30" if phrase.key == "coming" else phrase.command
        lines.append(f"{command} – {translate_for_volunteer(phrase.label)}")
    lines.append(translate_for_volunteer(HELP_FREE_TEXT))
    return "\n".join(lines)
