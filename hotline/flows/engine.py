"""The pure flow engine: ``step(flow, state, event, now) -> (state, effects)``.

No I/O, no clock, no imports of channels or storage. The host (``hotline.bot.dispatcher``) keeps the
state, feeds in what the person sent and performs the effects: saving answers, sending texts,
paging a human. Texts in effects are English source strings; the host translates them.

Rules that hold in every node:
- a location (pin or written coordinates) is saved at once and replaces an older one;
- asking for a person (``/human``, "talk to a person", the button) always reaches a human;
- an answer that cannot be read is asked again once, then kept verbatim as a note and the flow
  moves on, so nobody is stuck and nothing they wrote is lost;
- a question whose answer is already known (from a one-shot first message, or an earlier answer)
  is not asked again.

``run`` drives a whole ``FlowSet``: a ``Switch`` effect moves the conversation to another flow
(the menu's choices, a distress message written into the menu) and the step goes on there.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from hotline.flows.extract import extract
from hotline.flows.geo import Point, check, is_implausible, parse_location
from hotline.flows.model import FLOW_PREFIX, N_, Flow, FlowSet, Node, Option
from hotline.flows.parsers import parse_choice, parse_count, parse_many_choices, parse_yes_no

MAX_RETRIES = 2
NOTE_LIMIT = 2000
HUMAN_WORDS = {"/human", "human", "person", "a person", "talk to a person", "volunteer", "operator", "/person"}
SKIP_WORDS = {"/skip", "skip", "next", "pass"}
DONE_WORDS = {"/done", "done", "finished", "that's all", "thats all", "nothing else"}
MENU_WORDS = {"/menu", "menu"}
MAX_SWITCHES = 3
YES_NO_OPTIONS = (Option("yes", N_("Yes")), Option("no", N_("No")), Option("unknown", N_("Don't know")))
HINTS = {
    "count": N_("Please send just a number, for example 5."),
    "yes_no": N_("Please answer yes or no. If you are not sure, write: don't know."),
    "choices": N_("Press the buttons, or write the numbers, for example: 1 3."),
    "text": N_("Please write a few words."),
    "location": N_("Please send your location with the button, or write the coordinates."),
    "choice": N_("Press a button, or write its number."),
    "code": N_("I found no case with this code. Please check it and write it again, for example K7M-4PX."),
    "media": N_("Please send the photo, or write skip."),
}
SMS_HINTS = {  # SMS has no buttons: the options arrive as numbered lines, and every character costs
    "count": N_("Please send a number."),
    "yes_no": N_("Please send a number from the list."),
    "choices": N_("Sorry, I could not read that."),
    "location": N_("Please write the coordinates or a map link."),
    "choice": N_("Please send a number from the list."),
    "code": N_("No case with this code. Check it and send it again."),
}
TOO_MANY_CODES = N_("Too many codes that do not exist. Please try again tomorrow, or write to a volunteer.")
KEPT_AS_NOTE = N_("I could not read that, but I kept what you wrote for the volunteer.")
SMS_KEPT_AS_NOTE = N_("Kept for the volunteer.")
LOCATION_AS_WORDS = N_(
    "I could not find coordinates in that, but I saved your description. If you can, also send a pin."
)
SMS_LOCATION_AS_WORDS = N_("I saved your description. If you can, also send coordinates.")
HANDOFF = N_("A volunteer has been told and will write to you here. You can keep answering meanwhile.")
FOLLOWUP = N_("Thank you, I added this to your report {reference}. The volunteer will see it.")
LOCATION_UPDATED = N_("Thank you, your location is updated.")
WELCOME_BACK = N_("Welcome back. Let us continue.")
SAVED = N_("Saved.")
ADDED = N_("Added: {label}")
NOT_ACTIVE = N_("This button is no longer active.")
STILL_OPEN = N_("Your report {reference} is still open. To add something, just write it here.")


@dataclass(frozen=True)
class Start:
    """The person opened the chat or sent /start."""


@dataclass(frozen=True)
class Repeat:
    """Say the current question again (for example in a newly chosen language)."""


@dataclass(frozen=True)
class Text:
    """Free text."""

    text: str


@dataclass(frozen=True)
class Location:
    """A location pin or a live-location update."""

    lat: float
    lon: float
    source: str = "pin"
    fix_at: str | None = None  # when the phone took the fix (live locations move; the freshest counts)


@dataclass(frozen=True)
class Button:
    """A pressed button's data."""

    data: str


@dataclass(frozen=True)
class Media:
    """A photo or file arrived (the host has already kept it)."""


@dataclass(frozen=True)
class CodeResult:
    """A case code the host looked up: whether a case has it, or whether this contact tried too many."""

    reference: str
    found: bool
    blocked: bool = False


Event = Start | Repeat | Text | Location | Button | Media | CodeResult


@dataclass(frozen=True)
class Say:
    """Send a text, with answer buttons or a keyboard."""

    text: str
    options: tuple[Option, ...] = ()
    keyboard: str | None = None
    node: str | None = None
    sms: str | None = None  # a shorter form of ``text`` for SMS


@dataclass(frozen=True)
class Toast:
    """Confirm a button press briefly, without a new message."""

    text: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Save:
    """Save a value into a report field; with ``merge`` a list is added to what the field holds."""

    field: str
    value: Any
    merge: bool = False
    evidence: bool = False  # the host keeps the words with their language and time


@dataclass(frozen=True)
class Note:
    """Keep a verbatim answer that could not be read, next to the field it was meant for."""

    field: str
    text: str


@dataclass(frozen=True)
class Handoff:
    """The person asked for a human."""


@dataclass(frozen=True)
class Ended:
    """The flow reached its end node."""


@dataclass(frozen=True)
class Switch:
    """The conversation moves to another flow; ``event`` (a first message, a pin) goes on with it."""

    flow: str
    event: Event | None = None


Effect = Say | Toast | Save | Note | Handoff | Ended | Switch
State = dict[str, Any]


def new_state(flow: Flow) -> State:
    """Return the state of a flow that has not started."""
    return {
        "flow": flow.name, "node": flow.start, "retries": 0, "picked": [], "started": False, "ended": False,
        "filled": {},
    }  # fmt: skip


def run(flows: FlowSet, state: State, event: Event, now: datetime) -> tuple[State, list[Effect]]:
    """Advance a conversation through a set of flows, following every ``Switch`` to the flow it names."""
    flow = flows.get(state.get("flow"))
    if _asks_for_menu(flows, flow, event):
        pending: list[Effect] = [Switch(flows.entry)]
    else:
        state, pending = step(flow, state, event, now)
    effects = list(pending)
    for _ in range(MAX_SWITCHES):
        switch = next((e for e in pending if isinstance(e, Switch) and e.flow in flows.flows), None)
        if switch is None:
            break
        target = flows.flows[switch.flow]
        kept = {"filled": state.get("filled", {})} if switch.event is not None else {}
        state, pending = step(target, {**new_state(target), **kept}, switch.event or Start(), now)
        effects = [Switch(switch.flow) if e is switch else e for e in effects] + pending
    return state, effects


def _asks_for_menu(flows: FlowSet, flow: Flow, event: Event) -> bool:
    words = MENU_WORDS | flows.get(flows.entry).words.get("menu", frozenset())
    return flow.name != flows.entry and isinstance(event, Text) and _simplify(event.text) in words


def step(flow: Flow, state: State, event: Event, now: datetime) -> tuple[State, list[Effect]]:
    """Advance a conversation by one event; return the new state and what the host must do."""
    state = {
        **new_state(flow),
        **state,
        "picked": list(state.get("picked", [])),
        "filled": dict(state.get("filled") or {}),
    }
    if state["node"] not in flow.nodes:  # the flow file changed under a running conversation
        state.update(node=flow.start, retries=0, picked=[])
    effects = _handle(flow, state, event, now) if state["started"] else _first(flow, state, event, now)
    _remember(state, effects)
    return state, effects


def _first(flow: Flow, state: State, event: Event, now: datetime) -> list[Effect]:
    state["started"] = True
    start = flow.node(flow.start)
    if isinstance(event, Start):
        return _enter(flow, state, flow.start)
    intro: list[Effect] = [Say(start.say, node=start.name, sms=start.sms_say)] if start.say else []
    if isinstance(event, Text) and flow.extract:
        facts = _one_shot(flow, state, event.text, now)
        if facts:
            return intro + facts
    effects = _handle(flow, state, event, now, first=True)
    if any(isinstance(e, Switch) for e in effects):  # straight on to another flow: this one says nothing
        return effects
    if state["node"] == flow.start and not any(isinstance(e, Say) and e.node == flow.start for e in effects):
        effects += _ask(start)
    return intro + effects


def _one_shot(flow: Flow, state: State, text: str, now: datetime) -> list[Effect]:
    """Save every fact a first message gives, keep its words, and go on to the first question still open."""
    facts = extract(text)
    found = facts.fields()
    if not found and facts.location is None:
        return []
    effects: list[Effect] = [Note("first_message", _clip(text))]
    if facts.location is not None:
        effects.append(Save("location", {**_checked(facts.location), "received_at": now.isoformat()}))
    effects += [Save(name, value) for name, value in found.items()]
    if "medical.flags" in found:
        state["filled"]["medical.details"] = True  # the first message says what is wrong
    _remember(state, effects)
    return effects + _enter(flow, state, flow.start, said=True)


def _remember(state: State, effects: list[Effect]) -> None:
    """Note which fields hold an answer, so their questions are not asked again."""
    for effect in effects:
        if isinstance(effect, Save):
            state["filled"][effect.field] = _answer_key(effect.value)


def _answer_key(value: Any) -> str | bool:
    if value is True or value is False:
        return "yes" if value else "no"
    return value if value in ("yes", "no", "unknown") else True


def _handle(flow: Flow, state: State, event: Event, now: datetime, first: bool = False) -> list[Effect]:
    if isinstance(event, Start):
        return _restart(flow, state)
    if isinstance(event, Repeat):
        return [] if state["ended"] else _ask(flow.node(state["node"]))
    if flow.jump_to and not state["ended"] and isinstance(event, Location):
        return [Switch(flow.jump_to, event)]
    if isinstance(event, Location):
        point = _checked(Point(event.lat, event.lon), event.source)
        return _location(flow, state, point | ({"fix_at": event.fix_at} if event.fix_at else {}), now)
    if isinstance(event, Button):
        return _button(flow, state, event.data, now)
    if isinstance(event, Media):
        node = flow.node(state["node"])
        return [] if state["ended"] or node.expect != "media" else _advance(flow, state, node, None)
    if isinstance(event, CodeResult):
        return _code(flow, state, event)
    return _text(flow, state, event.text, now, first)


def _code(flow: Flow, state: State, result: CodeResult) -> list[Effect]:
    node = flow.node(state["node"])
    if state["ended"] or node.expect != "code":
        return []
    if result.blocked:
        return [Say(TOO_MANY_CODES), *_advance(flow, state, node, None)]
    if not result.found:
        return _retry(flow, state, node, result.reference)
    state["case"] = result.reference
    return _saved(flow, state, node, result.reference, "found")


def _restart(flow: Flow, state: State) -> list[Effect]:
    if state["ended"]:
        return [Say(STILL_OPEN)]
    return [Say(WELCOME_BACK), *_ask(flow.node(state["node"]))]


def _location(flow: Flow, state: State, point: dict[str, Any], now: datetime) -> list[Effect]:
    effects: list[Effect] = [Save("location", {**point, "received_at": now.isoformat()})]
    node = flow.node(state["node"])
    if not state["ended"] and node.expect == "location":
        return effects + _advance(flow, state, node, None)
    if point.get("source") == "live":  # a moving pin updates every few seconds: no message each time
        return effects
    return effects + [Say(LOCATION_UPDATED)] + ([] if state["ended"] else _ask(node))


def _text(flow: Flow, state: State, text: str, now: datetime, first: bool) -> list[Effect]:
    words = _simplify(text)
    if words in HUMAN_WORDS | flow.words.get("human", frozenset()):
        return [Handoff(), Say(HANDOFF)]
    node = flow.node(state["node"])
    shortcut = _shortcut(flow, words)
    if shortcut is not None and not state["ended"]:
        return _enter(flow, state, shortcut)
    if flow.jump_to and not state["ended"] and _jumps(node, text):
        return [Switch(flow.jump_to, Text(text))]
    point = parse_location(text)
    if state["ended"] and (point is None or is_implausible(point)):
        return [Note("followup", _clip(text)), Say(FOLLOWUP)]
    if point is not None and (state["ended"] or node.expect != "location") and not is_implausible(point):
        return _location(flow, state, {"lat": point.lat, "lon": point.lon, "source": "text"}, now)
    if words in SKIP_WORDS | flow.words.get("skip", frozenset()) and node.optional:
        return _advance(flow, state, node, None)
    if first and node.expect == "location" and point is None:
        return [Note("first_message", _clip(text))]
    if first and node.expect == "choice" and not _picks(node, text):  # the choices are not shown yet
        return [Note("first_message", _clip(text))]
    return _answer(flow, state, node, text, now)


def _shortcut(flow: Flow, words: str) -> str | None:
    """Return the node a shortcut word ("battery", or its translation) leads to."""
    for word, target in flow.shortcuts.items():
        if words in {word, f"/{word}"} | flow.words.get(f"shortcut:{word}", frozenset()):
            return target
    return None


def _picks(node: Node, text: str) -> str | None:
    """Return the option a written answer picks, if any."""
    return parse_choice(text, [(o.value, [o.label, *o.aliases]) for o in node.options])


def _jumps(node: Node, text: str) -> bool:
    """Tell whether a message written instead of a menu choice already reads as a call for help.

    A bare number or an option's exact label is a choice; anything else that reads as a call for help
    ("forest, help, 5 people") goes to distress even if a word of it is also in an option's label.
    """
    words = _simplify(text)
    labels = {_simplify(label) for option in node.options for label in (option.label, *option.aliases)}
    if node.expect == "choice" and (words.isdigit() or words in labels):
        return False
    return extract(text).looks_like_distress()


def _answer(flow: Flow, state: State, node: Node, text: str, now: datetime) -> list[Effect]:
    expect = node.expect
    if expect == "location":
        return _location_text(flow, state, node, text, now)
    if expect == "count":
        count = parse_count(text)
        if count is None and parse_yes_no(text) == "unknown":
            return _advance(flow, state, node, None)
        return _retry(flow, state, node, text) if count is None else _saved(flow, state, node, count, None)
    if expect == "yes_no":
        answer = parse_yes_no(text) or parse_choice(text, [(o.value, [o.label]) for o in YES_NO_OPTIONS])
        return _retry(flow, state, node, text) if answer is None else _yes_no(flow, state, node, answer)
    if expect == "choices":
        return _choices_text(flow, state, node, text)
    if expect == "choice":
        value = _picks(node, text)
        return _retry(flow, state, node, text) if value is None else _saved(flow, state, node, value, value)
    if expect == "media" and text.strip():
        return [Note(node.save or node.name, _clip(text.strip())), *_advance(flow, state, node, None)]
    if expect in ("text", None) and text.strip():
        return _saved(flow, state, node, _clip(text.strip()), None)
    return _retry(flow, state, node, text)


def _location_text(flow: Flow, state: State, node: Node, text: str, now: datetime) -> list[Effect]:
    point = parse_location(text)
    if point is not None:
        return _location(flow, state, _checked(point), now)
    if len(text.strip()) < 3:
        return _retry(flow, state, node, text)
    described = Say(LOCATION_AS_WORDS, sms=SMS_LOCATION_AS_WORDS)
    return [Note("location", _clip(text)), described, *_advance(flow, state, node, None)]


def _checked(point: Point, source: str = "text") -> dict[str, Any]:
    """A location with what a volunteer needs to know of it: in the region, which side of the border, plausible."""
    return {"lat": point.lat, "lon": point.lon, "source": source, **asdict(check(point))}


def _yes_no(flow: Flow, state: State, node: Node, answer: str) -> list[Effect]:
    return _saved(flow, state, node, _yes_no_value(node, answer), answer)


def _yes_no_value(node: Node, answer: str) -> Any:
    """Keep asylum intent as yes/no/unknown; store other yes/no answers as true, false or unknown (None)."""
    return answer if node.save == "asylum_intent" else {"yes": True, "no": False}.get(answer)


def _choices_text(flow: Flow, state: State, node: Node, text: str) -> list[Effect]:
    if _simplify(text) in DONE_WORDS | flow.words.get("done", frozenset()):
        return _advance(flow, state, node, None)
    picked = parse_many_choices(text, [(o.value, [o.label, *o.aliases]) for o in node.options])
    if not picked:
        return _retry(flow, state, node, text)
    merged = _merge(state["picked"], picked)
    return _saved(flow, state, node, merged, None)


def _button(flow: Flow, state: State, data: str, now: datetime) -> list[Effect]:
    kind, _, rest = data.partition(":")
    if kind == "h":
        return [Handoff(), Say(HANDOFF), Toast(HANDOFF)]
    node_name, _, value = rest.partition(":")
    node = flow.nodes.get(node_name)
    if node is None:
        return [Toast(NOT_ACTIVE)]
    if kind == "d" and node_name == state["node"]:
        return [Toast(SAVED), *_advance(flow, state, node, None)]
    if kind != "a":
        return [Toast(NOT_ACTIVE)]
    return _button_answer(flow, state, node, value)


def _button_answer(flow: Flow, state: State, node: Node, value: str) -> list[Effect]:
    current = node.name == state["node"] and not state["ended"]
    if node.expect == "choices":
        if value not in {o.value for o in node.options}:
            return [Toast(NOT_ACTIVE)]
        label = next(o.label for o in node.options if o.value == value)
        if current:
            state["picked"] = _merge(state["picked"], [value])
        if not current:
            return [Save(node.save or "needs", [value], merge=True), Toast(ADDED, {"label": label})]
        return [Save(node.save or "needs", list(state["picked"])), Toast(ADDED, {"label": label})]
    if node.expect == "choice" and value in {o.value for o in node.options}:
        if not current:  # an old menu's button: the conversation has moved on
            return [Toast(NOT_ACTIVE)]
        return [Toast(SAVED), *_saved(flow, state, node, value, value)]
    if node.expect != "yes_no" or value not in {"yes", "no", "unknown"}:
        return [Toast(NOT_ACTIVE)]
    if not current:
        return [*_save_only(node, value), Toast(SAVED)]
    return [Toast(SAVED), *_yes_no(flow, state, node, value)]


def _save_only(node: Node, answer: str) -> list[Effect]:
    if node.save is None:
        return []
    return [Save(node.save, _yes_no_value(node, answer))]


def _saved(flow: Flow, state: State, node: Node, value: Any, answer: str | None) -> list[Effect]:
    effects: list[Effect] = [Save(node.save, value, evidence=node.evidence)] if node.save else []
    if node.expect == "choices":
        state["picked"] = list(value)
        return effects + _advance(flow, state, node, None)
    return effects + _advance(flow, state, node, answer)


def _retry(flow: Flow, state: State, node: Node, text: str) -> list[Effect]:
    state["retries"] += 1
    kept = Note(node.save or node.name, _clip(text))
    if state["retries"] >= MAX_RETRIES:
        return [kept, Say(KEPT_AS_NOTE, sms=SMS_KEPT_AS_NOTE), *_advance(flow, state, node, None)]
    expect = node.expect or "text"
    return [kept, Say(HINTS.get(expect, HINTS["text"]), sms=SMS_HINTS.get(expect)), *_ask(node)]


def _advance(flow: Flow, state: State, node: Node, answer: str | None) -> list[Effect]:
    target = node.next_for(answer)
    if target is None:
        return []
    return _enter(flow, state, target)


def _enter(flow: Flow, state: State, name: str, said: bool = False) -> list[Effect]:
    """Go to a node: say its text and ask its question, skipping questions already answered."""
    effects: list[Effect] = []
    for _ in range(len(flow.nodes) + 1):
        if name.startswith(FLOW_PREFIX):
            return [*effects, Switch(name.removeprefix(FLOW_PREFIX))]
        node = flow.node(name)
        state.update(node=name, retries=0, picked=[])
        known = node.expect is not None and node.save in state["filled"]
        if node.say and not said and not known:
            effects.append(Say(node.say, node=name, sms=node.sms_say))
        said = False
        if node.end:
            state["ended"] = True
            return [*effects, Ended()]
        if node.expect is not None and not known:
            return effects + _ask(node)
        answer = state["filled"].get(node.save or "") if known else None
        target = node.next_for(answer if isinstance(answer, str) else None)
        if target is None:
            return effects
        name = target
    return effects


def _ask(node: Node) -> list[Effect]:
    if not node.ask:
        return []
    options = YES_NO_OPTIONS if node.expect == "yes_no" else node.options
    return [Say(node.ask, options=options, keyboard=node.keyboard, node=node.name, sms=node.sms_ask)]


def _merge(old: list[str], new: list[str]) -> list[str]:
    return old + [value for value in new if value not in old]


def _simplify(text: str) -> str:
    return re.sub(r"[\s.!?,;\u200e\u200f\u061c]+", " ", text.strip().lower()).strip()


def _clip(text: str) -> str:
    return text if len(text) <= NOTE_LIMIT else text[:NOTE_LIMIT] + "…"
