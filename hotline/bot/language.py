"""Choosing the language a person is answered in.

A stored choice beats everything; then the text of the first message; then Telegram's
``language_code``; then the country of the phone number. When none of these tells, the person
gets a short menu with each language written in its own script. ``/lang`` (or the word for
"language" in any served language) opens the menu at any time.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from hotline.bot import languages
from hotline.bot.i18n import translate, translations_of, use_locale
from hotline.bot.replies import BATTERY_BUTTON, BATTERY_WORD, DONE_BUTTON, HUMAN_BUTTON, MENU_BUTTON, SKIP_WORD
from hotline.flows.detect import detect_language, language_from_code, language_from_phone
from hotline.flows.model import N_, Flow, FlowSet, Option
from hotline.flows.parsers import normalize_digits

CHOOSE = N_("Choose your language:")
CHOSEN = N_("Thank you. I will write to you in this language.")
# translators: one word a person can write to get the language menu (lower case)
MENU_WORD = N_("language")
MENU_PREFIX = "lang:"
_LOCALIZED: dict[tuple[str, str, int, str | None], Flow] = {}
WEAK_SOURCES = ("client", "phone")  # a guess the first written words may still overrule
MENU_LINES = ("en", "ar", "fa", "fr", "ru", "tr", "so", "ti")
BUTTONS_PER_ROW = 3
BIDI_MARKS = "\u200e\u200f\u061c"


def localized_flow(flow: Flow, code: str | None) -> Flow:
    """Return the flow with its option labels and button words also accepted in a person's language."""
    key = (flow.name, flow.source, id(flow), code)
    if key not in _LOCALIZED:
        _LOCALIZED[key] = _localize(flow, code)
    return _LOCALIZED[key]


def localized_flows(flows: FlowSet, code: str | None) -> FlowSet:
    """Return every flow of a set localized for a person's language."""
    return replace(flows, flows={name: localized_flow(flow, code) for name, flow in flows.flows.items()})


def _localize(flow: Flow, code: str | None) -> Flow:
    with use_locale(code):
        nodes = {name: replace(node, options=_localized(node.options)) for name, node in flow.nodes.items()}
        words = {
            "human": frozenset({_word(HUMAN_BUTTON)}),
            "done": frozenset({_word(DONE_BUTTON)}),
            "menu": frozenset({_word(MENU_BUTTON)}),
            "skip": frozenset({_word(SKIP_WORD)}),
            "shortcut:battery": frozenset({_word(BATTERY_BUTTON), _word(BATTERY_WORD)}),
        }
    return replace(flow, nodes=nodes, words=words)


def _word(msgid: str) -> str:
    """A translated word as people type it: without the direction mark right-to-left texts start with."""
    return translate(msgid).strip(BIDI_MARKS).lower()


def _localized(options: tuple[Option, ...]) -> tuple[Option, ...]:
    return tuple(replace(option, aliases=(translate(option.label),)) for option in options)


def first_language(channel: str, address: str, kind: str, payload: dict[str, Any]) -> tuple[str | None, str]:
    """Guess a new contact's language from what we have, and say where the guess came from."""
    if kind in ("text", "edited_text"):
        detected = detect_language(str(payload.get("text", "")))
        if detected:
            return detected, "text"
    from_client = language_from_code(payload.get("language_code"))
    if from_client:
        return from_client, "client"
    if address.startswith("+"):
        from_phone = language_from_phone(address)
        if from_phone:
            return from_phone, "phone"
    return None, "none"


def chosen(kind: str, payload: dict[str, Any]) -> str | None:
    """Return the language picked from the menu, if this event is such a pick."""
    data = str(payload.get("data", ""))
    if kind == "button" and data.startswith(MENU_PREFIX):
        code = data.removeprefix(MENU_PREFIX)
        return code if languages.is_served(code) else None
    return None


def chosen_by_number(text: str) -> str | None:
    """Return the language a number names in the numbered SMS menu (the menu's order), if it names one."""
    number = normalize_digits(text).strip().rstrip(".")
    if not number.isdigit() or not 1 <= int(number) <= len(languages.LANGUAGES):
        return None
    return languages.LANGUAGES[int(number) - 1].code


def asks_for_menu(kind: str, payload: dict[str, Any]) -> bool:
    """Tell whether a person asked to change the language."""
    if kind not in ("text", "command"):
        return False
    words = str(payload.get("text", "")).strip().lower().split()
    if len(words) != 1:
        return False
    return words[0].split("@")[0] in {"/lang", "/language", *menu_words()}


@lru_cache(maxsize=1)
def menu_words() -> frozenset[str]:
    """Return the word for "language" in every served language (read once: catalogues do not change while running)."""
    return frozenset(word.strip().lower() for word in translations_of(MENU_WORD).values())


def menu_body() -> dict[str, Any]:
    """Return the language menu: the question in several languages and one button per language."""
    asked = translations_of(CHOOSE)
    lines = list(dict.fromkeys(asked[code] for code in MENU_LINES if code in asked))
    buttons = [{"label": language.native, "data": f"{MENU_PREFIX}{language.code}"} for language in languages.LANGUAGES]
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    return {"text": "\n".join(lines), "buttons": rows, "request_location": None}
