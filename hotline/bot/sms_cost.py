"""What every SMS the bot can send to a person costs, per language: encoding and segments.

Every flow is walked with the pure engine the way a person on SMS would meet it (each question as it
is first asked, asked again after an unreadable answer, the step after a second one, and the step
after each of its options), and the fixed texts that go out alone are added. ``bench/catalogue_report.py``
prints the figures; a test holds them to the budget: one segment in English and French, two in every
other language, for the distress flow and every text a person in the forest may get. The menu (sent
once) and the flows for people who are not in the forest (relatives, residents, testimonies, other
help, rights, case codes) may take one segment more: their phones are not dying in the cold.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from hotline.bot import cases, commands, continuity, language, languages, uploads
from hotline.bot.channels.base import Outgoing
from hotline.bot.channels.sms import render_sms, sms_segments
from hotline.bot.dispatcher import SORRY, UNSUPPORTED
from hotline.bot.i18n import current_locale, use_locale
from hotline.bot.oncall import phrasebook
from hotline.bot.replies import outgoing, reply_body
from hotline.flows import engine
from hotline.flows.model import FlowSet, load_flows

BUDGET = {"en": 1, "fr": 1}
DEFAULT_BUDGET = 2
PARAMS = {
    "reference": "K7M-4PX", "ngo_name": "Border Hotline", "ngo_phone": "+37060000000", "age": "5 minutes",
    "case": "K7M-4PX", "case_status": "", "case_updated": "2026-11-22 05:50 UTC",
}  # fmt: skip
RELAXED = ("first", "menu", "relative", "missing", "witness", "pushback", "assistance", "rights", "status")
ALONE = (
    engine.HANDOFF, engine.FOLLOWUP, engine.LOCATION_UPDATED, engine.STILL_OPEN, engine.SAVED, UNSUPPORTED, SORRY,
    language.CHOSEN, commands.SMS_HELP, commands.STATUS_OPEN, commands.STATUS_TAKEN, commands.STATUS_CLOSED,
    commands.ERASE_SMS, continuity.JOINED, continuity.NOT_JOINED, uploads.MEDIA_SAVED, engine.TOO_MANY_CODES,
    *cases.STATUS_TEXT.values(),
)  # fmt: skip
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cost:
    """One SMS as a person would receive it, and what it costs."""

    language: str
    what: str
    text: str
    encoding: str
    segments: int


def budget(code: str) -> int:
    """Return the most segments one SMS may cost in a language."""
    return BUDGET.get(code, DEFAULT_BUDGET)


def budget_of(cost: Cost) -> int:
    """Return the most segments this SMS may cost."""
    return budget(cost.language) + (1 if cost.what.split(" ")[0] in RELAXED else 0)


def sms_costs(code: str, flows: FlowSet | None = None) -> list[Cost]:
    """Return the cost of every SMS the bot can send to a person in one language."""
    localized = language.localized_flows(flows or load_flows(), code)
    with use_locale(code):
        return [_cost(code, what, message) for what, message in _messages(localized)]


def _messages(flows: FlowSet) -> Iterator[tuple[str, Outgoing]]:
    effects = engine.run(flows, {}, engine.Text("zzqx"), NOW)[1]
    yield "first message", _sms(effects)
    for flow in flows.flows.values():
        for name, node in flow.nodes.items():
            if not node.expect:
                continue
            where = name if flow.name == "distress" else f"{flow.name} {name}"
            asked = {**engine.new_state(flow), "node": name, "started": True}
            once, again = engine.run(flows, asked, engine.Text("zzqx zzqx"), NOW)
            yield f"{where}: asked again", _sms(again)
            yield f"{where}: moved on", _sms(engine.run(flows, once, engine.Text("zzqx zzqx"), NOW)[1])
            for option in node.options:
                pressed = engine.run(flows, asked, engine.Button(f"a:{name}:{option.value}"), NOW)[1]
                yield f"{where}: {option.value}", _sms(pressed)
    yield "join question", _sms([engine.Say(continuity.JOIN_ASK, options=engine.YES_NO_OPTIONS[:2])])
    for text in ALONE:
        yield text[:40], _sms([engine.Say(text)])
    for phrase in phrasebook.PHRASES:  # a volunteer's ready phrases, with the longest minutes
        minutes = phrasebook.MAX_MINUTES if "{minutes}" in phrase.text else None
        yield (
            f"phrase {phrase.key}",
            outgoing(phrasebook.person_body(phrase, language=current_locale(), minutes=minutes, sms=True)),
        )


def _sms(effects: list[engine.Effect]) -> Outgoing:
    says = [e for e in effects if isinstance(e, engine.Say)]
    return outgoing(reply_body(says, PARAMS, sms=True))


def _cost(code: str, what: str, message: Outgoing) -> Cost:
    text = render_sms(message)
    encoding, segments = sms_segments(text)
    return Cost(code, what, text, encoding, segments)


def all_costs() -> list[Cost]:
    """Return every SMS cost in every served language."""
    return [cost for code in languages.CODES for cost in sms_costs(code)]
