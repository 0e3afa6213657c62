"""Every caller's flow as a whole conversation, in English, Arabic and French, over Telegram and SMS.

Each file in ``tests/bot/transcripts`` is language-neutral: what the person sends, what the bot's
reply must hold (English source texts, compared after translation) and what the case holds at the
end. One file runs six times: ``en``, ``ar`` and ``fr`` on ``telegram`` and on ``sms``::

    steps:
      - send: {press: relative}             # an option of the current question: a button, or its number by SMS
        expect: [{ask: relative.which}]     # the node's question (its SMS form by SMS), translated
      - send: {text: {en: "Omar", ar: "عمر", fr: "Omar"}}  # or one string for every language
      - send: {pin: [54.5, 25.1]}           # a pin on Telegram; the coordinates written by SMS
      - send: {word: "battery"}             # an English source text, sent as written in the language
      - send: {code: true}                  # the code of the case the first person was told
        from: second                        # another person, who first picks the same language
        expect: ["Thank you. The volunteers of case {case} will see it.", {say: status.found}]
      - send: {text: "ZZZ-999"}
        expect: [{telegram: "A long hint…", sms: "Its short SMS form…"}]  # a text the engine words apart by SMS
    report:                                 # the one case of this kind, at the end
      kind: missing
      reported_by: relative
      fields: {details.sought_age: 24}      # exact values (a language mapping for typed words)
      present: [reporter.contact]           # fields that hold something
      evidence: {details.story: *story}     # kept verbatim, with the language and the time
      notes: {added_with_code: *news}       # note fields with their exact text (or a list of fields)
    paged: true                             # whether the volunteer on duty got a page

A reply "holds" a text when every literal part of its translation (between placeholders) is in it.
An Arabic or French text that is still English fails with "not translated yet".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select

from hotline.bot.channels.base import Outgoing
from hotline.bot.channels.sms import render_sms, to_gsm7
from hotline.bot.i18n import RLM, translate, use_locale
from hotline.bot.replies import BATTERY_BUTTON, HUMAN_BUTTON, SEND_LOCATION
from hotline.flows import engine
from hotline.flows.model import Node, load_flows
from hotline.storage import inbox
from hotline.storage.models import Conversation, Report
from tests.bot.conftest import Harness

TRANSCRIPTS = Path(__file__).parent / "transcripts"
FILES = sorted(TRANSCRIPTS.glob("*.yaml"))
LANGUAGES = ("en", "ar", "fr")
CHANNELS = ("telegram", "sms")
VOLUNTEER = "900001"
FLOWS = load_flows()
# an SMS conversation starts with words; these are long enough to be read as the language they are in
GREETING = {
    "en": "Good evening, I would like some information",
    "ar": "مساء الخير، أريد بعض المعلومات",
    "fr": "Bonsoir, je voudrais des renseignements",
}
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
# fictional numbers whose country code gives the language: UK drama range, Iraq, DR Congo
PHONES = {"en": "+44770090{:04d}", "ar": "+96477009{:05d}", "fr": "+24397009{:05d}"}
CHATS = {"first": "700101", "second": "700102"}
BUTTON_ONLY = {"en": ("press", "talk to a person"), "ar": ("اضغط",), "fr": ("appuyez", "appuyer")}
STEP_KEYS = {"send", "from", "expect"}
SEND_KEYS = {"text", "press", "pin", "word", "code"}


@dataclass
class Run:
    """One transcript being played in one language over one channel."""

    harness: Harness
    code: str
    channel: str
    sms_seen: list[str] = field(default_factory=list)
    opened: set[str] = field(default_factory=set)

    @property
    def sms(self) -> bool:
        """Tell whether this run is over SMS."""
        return self.channel == "sms"

    def address(self, who: str) -> str:
        """Return the chat id or the phone number of a person in this run."""
        if self.sms:
            return PHONES[self.code].format(list(CHATS).index(who) + 1)
        return CHATS[who]

    def send(self, who: str, kind: str, payload: dict[str, Any]) -> str:
        """Send one event from a person; return the bot's reply as that person reads it."""
        sent = self.harness.send(self.address(who), kind, payload, channel=self.channel)
        return self.shown(sent)

    def shown(self, sent: list[Outgoing]) -> str:
        """Return the replies as the person reads them (on SMS: rendered, numbered options included)."""
        replies = [m for m in sent if m.callback_query_id is None]
        if not self.sms:
            return "\n".join(m.text for m in replies)
        rendered = [render_sms(m) for m in replies]
        self.sms_seen.extend(rendered)
        return "\n".join(rendered)


def localized(value: Any, code: str) -> Any:
    """Pick a language's form of a value written as ``{en: …, ar: …, fr: …}``; other values are the same for all."""
    if isinstance(value, dict) and set(value) == set(LANGUAGES):
        return value[code]
    return value


def parts_of(text: str) -> list[str]:
    """Return the literal parts of a translated text, between its placeholders."""
    pieces = re.split(r"\{[a-z_]+\}", text.replace(RLM, ""))
    return [piece.strip() for piece in pieces if piece.strip()]


def node_of(name: str) -> Node:
    """Return a node named ``flow.node``."""
    flow, _, node = name.partition(".")
    return FLOWS.flows[flow].node(node)


def source_text(expected: str | dict[str, str], sms: bool) -> str:
    """Return the English source text an expectation names, in its SMS form by SMS."""
    if isinstance(expected, str):
        return expected
    if set(expected) == set(CHANNELS):
        return expected["sms" if sms else "telegram"]
    ((what, name),) = expected.items()
    node = node_of(name)
    long, short = (node.ask, node.sms_ask) if what == "ask" else (node.say, node.sms_say)
    text = (short if sms else None) or long
    assert text, f"{name} has no {what}"
    return text


def check_holds(run: Run, reply: str, expected: str | dict[str, str]) -> None:
    """Assert a reply holds a text in the run's language."""
    source = source_text(expected, run.sms)
    with use_locale(run.code):
        translated = translate(source)
    if run.code != "en" and translated == source:
        pytest.fail(f"not translated yet ({run.code}): {source!r}")
    for part in parts_of(translated):
        assert part in reply or to_gsm7(part) in reply, f"{source!r} missing from the reply:\n{reply}"


def conversation_of(run: Run, who: str) -> tuple[dict[str, Any], int | None]:
    """Return a person's conversation state and the id of the case it holds."""
    database = run.harness.database
    with database.session() as session:
        contact = inbox.find_contact(session, keyring=database.keyring, channel=run.channel, address=run.address(who))
        conversation = session.get(Conversation, contact.id if contact else 0)
        assert conversation is not None, f"{who} has no conversation"
        return dict(conversation.state or {}), conversation.report_id


def current_node(run: Run, who: str) -> Node:
    """Return the node a person's conversation is waiting at."""
    state, _ = conversation_of(run, who)
    return FLOWS.get(state.get("flow")).node(state["node"])


def told_code(run: Run, who: str) -> str:
    """Return the code of the case a person's conversation holds: the one they were told last."""
    _, report_id = conversation_of(run, who)
    with run.harness.database.session() as session:
        report = session.get(Report, report_id or 0)
        assert report is not None, f"{who} has no case"
        return report.reference


def number(run: Run, value: int) -> str:
    """Write a number as a person of the run's language may type it by SMS."""
    text = str(value)
    return "".join(ARABIC_DIGITS[int(d)] for d in text) if run.code == "ar" else text


def press(run: Run, who: str, values: str | list[str]) -> str:
    """Choose options of the current question: buttons (then Done) on Telegram, their numbers by SMS."""
    node = current_node(run, who)
    options = engine.YES_NO_OPTIONS if node.expect == "yes_no" else node.options
    picked = [values] if isinstance(values, str) else values
    if run.sms:
        numbers = [number(run, [o.value for o in options].index(value) + 1) for value in picked]
        return run.send(who, "text", {"text": " ".join(numbers)})
    replies = [run.shown(run.harness.press(run.address(who), f"a:{node.name}:{value}")) for value in picked]
    if node.expect == "choices":
        replies.append(run.shown(run.harness.press(run.address(who), f"d:{node.name}")))
    return "\n".join(replies)


def send(run: Run, who: str, what: dict[str, Any]) -> str:
    """Send one transcript step's message; return the reply."""
    assert len(what) == 1 and set(what) <= SEND_KEYS, f"unknown send {what}"
    ((kind, value),) = what.items()
    if kind == "press":
        return press(run, who, value)
    if kind == "pin" and not run.sms:
        return run.send(who, "location", {"lat": value[0], "lon": value[1], "live": False})
    return run.send(who, "text", {"text": typed(run, kind, value)})


def typed(run: Run, kind: str, value: Any) -> str:
    """Return the text a person types for a text, a translated word, written coordinates or a case code."""
    if kind == "pin":
        return f"{value[0]:.5f}, {value[1]:.5f}"  # as a map app copies them
    if kind == "code":
        return told_code(run, "first")
    if kind == "word":
        with use_locale(run.code):
            return translate(value)
    return str(localized(value, run.code))


def open_chat(run: Run, who: str) -> str:
    """Start a person's conversation in the run's language: the menu button on Telegram, a greeting by SMS."""
    run.opened.add(who)
    if run.sms:
        return run.send(who, "text", {"text": GREETING[run.code]})
    return run.shown(run.harness.press(run.address(who), f"lang:{run.code}"))


def play(run: Run, steps: list[dict[str, Any]]) -> None:
    """Play every step and check each reply."""
    for count, step in enumerate(steps, 1):
        assert set(step) <= STEP_KEYS, f"step {count}: unknown keys {sorted(set(step) - STEP_KEYS)}"
        who = step.get("from", "first")
        if who not in run.opened:
            check_holds(run, open_chat(run, who), {"ask": "menu.choose"})
        reply = send(run, who, step["send"])
        for expected in step.get("expect", []):
            check_holds(run, reply, expected)


def the_case(harness: Harness, kind: str) -> Report:
    """Return the one case of a kind."""
    with harness.database.session() as session:
        found = session.exec(select(Report).where(Report.kind == kind)).all()
    assert len(found) == 1, f"{len(found)} cases of kind {kind}"
    return found[0]


def value_at(report: Report, path: str) -> Any:
    """Return a report field such as ``people.total`` or ``details.story``."""
    group, _, key = path.partition(".")
    value = getattr(report, group)
    return (value or {}).get(key) if key else value


def check_case(run: Run, expected: dict[str, Any]) -> None:
    """Assert the case holds what the transcript says, in the run's language."""
    report = the_case(run.harness, expected["kind"])
    assert (report.reported_by, report.language) == (expected.get("reported_by"), run.code)
    for path, value in expected.get("fields", {}).items():
        assert value_at(report, path) == localized(value, run.code), path
    for path in expected.get("present", []):
        assert value_at(report, path), f"{path} is empty"
    for path, words in expected.get("evidence", {}).items():
        kept = {"words": localized(words, run.code), "language": run.code, "at": run.harness.clock().isoformat()}
        assert value_at(report, path) == kept, path
    check_notes(report.notes or [], expected.get("notes", []), run.code)


def check_notes(notes: list[dict[str, str]], expected: list[str] | dict[str, Any], code: str) -> None:
    """Assert the case keeps notes for these fields (with these exact texts, when given)."""
    kept = {note["field"]: note["text"] for note in notes}
    for name in expected:
        assert name in kept, f"no note for {name}"
        if isinstance(expected, dict):
            assert kept[name] == localized(expected[name], code), name


def was_paged(harness: Harness) -> bool:
    """Tell whether the volunteer on duty got anything."""
    return any(address == VOLUNTEER for address, _ in harness.telegram.sent + harness.pager.sent)


def check_no_buttons_named(run: Run) -> None:
    """Assert no SMS mentions a button: SMS has none."""
    with use_locale(run.code):
        labels = [translate(text).replace(RLM, "") for text in (HUMAN_BUTTON, SEND_LOCATION, BATTERY_BUTTON)]
    words = [*labels, *BUTTON_ONLY[run.code]]
    for text in run.sms_seen:
        assert not [word for word in words if word.lower() in text.lower()], f"a button named in an SMS:\n{text}"


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("code", LANGUAGES)
@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_transcript(harness: Harness, path: Path, code: str, channel: str) -> None:
    transcript = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(transcript) <= {"steps", "report", "paged"}, f"unknown keys in {path.name}"
    harness.add_volunteer(VOLUNTEER)
    run = Run(harness, code, channel)
    play(run, transcript["steps"])
    if "report" in transcript:
        check_case(run, transcript["report"])
    assert was_paged(harness) is transcript["paged"], "paged" if was_paged(harness) else "not paged"
    check_no_buttons_named(run)


def test_every_flow_has_a_transcript() -> None:
    played = {path.stem.split("_")[0] for path in FILES}
    assert played >= set(FLOWS.flows) - {FLOWS.entry}
