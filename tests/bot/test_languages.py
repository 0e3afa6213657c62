"""Every served language end to end, the language choice, right-to-left text and the volunteer's language."""

from __future__ import annotations

import pytest
from sqlmodel import select

from hotline.bot import language, languages
from hotline.bot.channels.base import Outgoing
from hotline.bot.channels.console import render
from hotline.bot.channels.sms import to_gsm7
from hotline.bot.i18n import LRI, PDI, RLM, translate, translations_of, use_locale
from hotline.flows import engine
from hotline.flows.model import load_builtin
from hotline.storage.models import Contact, Report
from tests.bot.conftest import Harness
from tests.conftest import put_on_duty

PERSON = "700555"
FLOW = load_builtin("distress")
MENU = load_builtin("menu")
DIGITS = {"ar": "٠١٢٣٤٥٦٧٨٩", "fa": "۰۱۲۳۴۵۶۷۸۹", "ps": "۰۱۲۳۴۵۶۷۸۹", "ur": "۰۱۲۳۴۵۶۷۸۹", "ckb": "٠١٢٣٤٥٦٧٨٩"}
ENGLISH = [node.ask for node in FLOW.nodes.values() if node.ask] + [
    node.say for node in FLOW.nodes.values() if node.say
]


def digits(code: str, number: int) -> str:
    """Write a number the way a person of that language may type it."""
    table = DIGITS.get(code)
    return "".join(table[int(d)] for d in str(number)) if table else str(number)


def asked(code: str, node: str) -> str:
    with use_locale(code):
        return translate(FLOW.node(node).ask or "")


def the_report(harness: Harness) -> Report:
    with harness.database.session() as session:
        return session.exec(select(Report)).one()


def texts(sent: list[Outgoing]) -> str:
    return "\n".join(m.text for m in sent if m.callback_query_id is None)


def no_english_left(code: str, sent: str) -> None:
    if code != "en":
        leftovers = [text for text in ENGLISH if text.split("{")[0][:25] in sent]
        assert leftovers == [], f"{code}: English left in a reply"


@pytest.mark.parametrize("code", languages.CODES)
def test_the_distress_flow_end_to_end_over_telegram(harness: Harness, code: str) -> None:
    first = texts(harness.press(PERSON, f"lang:{code}"))
    with use_locale(code):
        assert translate(language.CHOSEN) in first
        assert translate(MENU.node("choose").ask or "") in first
    assert asked(code, "location") in texts(harness.press(PERSON, "a:choose:distress"))
    steps = [
        (harness.pin(PERSON, 54.5, 25.1), "people"),
        (harness.say(PERSON, digits(code, 5)), "children"),
        (harness.say(PERSON, digits(code, 1)), "pregnant"),
        (texts(harness.press(PERSON, "a:pregnant:no")), "medical"),
        (texts(harness.press(PERSON, "a:medical:no")), "asylum"),
        (texts(harness.press(PERSON, "a:asylum:yes")), "needs"),
    ]
    for reply, node in steps:
        assert asked(code, node) in reply
        no_english_left(code, reply)
    harness.press(PERSON, "a:needs:water")
    done = texts(harness.press(PERSON, "d:needs"))
    report = the_report(harness)
    assert report.reference in done and report.language == code
    no_english_left(code, done)
    assert report.people == {"total": 5, "children": 1, "pregnant": False}
    assert (report.asylum_intent, report.needs) == ("yes", ["water"])


@pytest.mark.parametrize("code", languages.CODES)
def test_the_distress_flow_end_to_end_over_sms_rendering(harness: Harness, code: str) -> None:
    rendered: list[str] = []

    def sms(sent: list[Outgoing]) -> str:
        shown = [render(m, "sms") for m in sent if m.callback_query_id is None]
        rendered.extend(shown)
        return "\n".join(shown)

    sms(harness.press(PERSON, f"lang:{code}"))
    sms(harness.send(PERSON, "location", {"lat": 54.5, "lon": 25.1, "live": False}))
    for answer in (digits(code, 4), digits(code, 0)):
        sms(harness.send(PERSON, "text", {"text": answer}))
    pregnant = sms(harness.send(PERSON, "text", {"text": digits(code, 2)}))
    with use_locale(code):
        yes, no = f"1. {translate('Yes')}", f"2. {translate('No')}"
        assert (yes in rendered[-2] or to_gsm7(yes) in rendered[-2]) and (
            no in rendered[-2] or to_gsm7(no) in rendered[-2]
        )
    assert asked(code, "medical") in pregnant or to_gsm7(asked(code, "medical")) in pregnant
    for answer in (digits(code, 2), digits(code, 1), digits(code, 1)):
        sms(harness.send(PERSON, "text", {"text": answer}))
    report = the_report(harness)
    assert report.people == {"total": 4, "children": 0, "pregnant": False}
    assert (report.asylum_intent, report.needs) == ("yes", ["water"])
    assert report.reference in rendered[-1] and "segment" in rendered[-1]
    for text in rendered:
        no_english_left(code, text)


@pytest.mark.parametrize(
    ("first", "code"),
    [("мы в лесу помогите нам", "ru"), ("نحن في الغابة ومعنا أطفال", "ar"), ("aidez nous on est dans la forêt", "fr")],
)
def test_the_first_message_picks_the_language(harness: Harness, first: str, code: str) -> None:
    reply = harness.say(PERSON, first)
    assert asked(code, "location") in reply
    with harness.database.session() as session:
        contact = session.exec(select(Contact)).one()
    assert contact.language == code and contact.profile["language_source"] == "text"


def test_written_words_beat_the_telegram_interface_language(harness: Harness) -> None:
    harness.send(PERSON, "command", {"text": "/start", "language_code": "en"})
    reply = harness.say(PERSON, "کمک کنید ما در جنگل هستیم")  # a call for help skips the menu
    assert asked("fa", "location") in reply
    assert the_report(harness).language == "fa"


def test_a_stored_choice_is_never_overruled(harness: Harness) -> None:
    harness.press(PERSON, "lang:tr")
    harness.say(PERSON, "мы в лесу помогите нам")
    assert the_report(harness).language == "tr"


def test_without_any_hint_the_language_menu_comes_first(harness: Harness) -> None:
    sent = harness.send(PERSON, "command", {"text": "/start", "language_code": "de"})
    menu = sent[0]
    labels = [button.label for row in menu.buttons for button in row]
    assert labels == [lang.native for lang in languages.LANGUAGES]
    assert translations_of(language.CHOOSE)["ar"] in menu.text
    assert MENU.node("choose").ask in sent[1].text


@pytest.mark.parametrize("word", ["/lang", "langue", "язык", "لغة"])
def test_the_language_menu_opens_at_any_time(harness: Harness, word: str) -> None:
    harness.press(PERSON, "lang:en")
    harness.pin(PERSON, 54.5, 25.1)
    sent = harness.send(PERSON, "text", {"text": word})
    assert len(sent) == 1 and len(sent[0].buttons) == 7
    reply = texts(harness.press(PERSON, "lang:so"))
    assert asked("so", "people") in reply
    assert the_report(harness).location is not None


def test_right_to_left_replies_are_marked_and_codes_isolated(harness: Harness) -> None:
    harness.press(PERSON, "lang:ar")
    reply = harness.pin(PERSON, 54.5, 25.1)
    assert reply.startswith(RLM)
    for answer in ("٣", "٠", "لا", "لا", "نعم", "١"):
        reply = harness.say(PERSON, answer)
    reference = the_report(harness).reference
    assert f"{LRI}{reference}{PDI}" in reply


def test_a_lithuanian_volunteer_gets_pages_in_lithuanian(harness: Harness) -> None:
    put_on_duty(harness.database, chat="900777", name="Ona", languages="lt,en")
    harness.press(PERSON, "lang:fa")
    harness.pin(PERSON, 54.5, 25.1)
    page = next(m for a, m in harness.telegram.sent if a == "900777")
    with use_locale("lt"):
        from hotline.bot.i18n import translate_for_volunteer

        assert page.buttons[0][0].label == translate_for_volunteer("Acknowledge") != "Acknowledge"
    assert "فارسی" in page.text


def test_the_engine_accepts_numbered_answers_for_yes_no() -> None:
    from datetime import UTC, datetime

    state = engine.new_state(FLOW)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for event in (engine.Start(), engine.Location(54.5, 25.1), engine.Text("3"), engine.Text("1")):
        state, _ = engine.step(FLOW, state, event, now)
    _, effects = engine.step(FLOW, state, engine.Text("۲"), now)
    assert engine.Save("people.pregnant", False) in effects


@pytest.mark.parametrize("code", languages.CODES)
def test_the_yes_no_buttons_can_also_be_typed(code: str) -> None:
    from hotline.flows.parsers import parse_yes_no

    with use_locale(code):
        labels = {value: translate(label) for value, label in (("yes", "Yes"), ("no", "No"), ("unknown", "Don't know"))}
    assert {value: parse_yes_no(label) for value, label in labels.items()} == {v: v for v in labels}


def test_options_can_be_typed_in_the_persons_language_and_toasts_are_translated(harness: Harness) -> None:
    harness.press(PERSON, "lang:ar")
    harness.press(PERSON, "a:choose:distress")
    for answer in ("54.5 25.1", "3", "0", "لا", "لا", "نعم"):
        harness.say(PERSON, answer)
    with use_locale("ar"):
        water, food = translate("Water"), translate("Food")
    harness.say(PERSON, f"{water} و {food}")
    assert the_report(harness).needs == ["water", "food"]


def test_a_pressed_option_is_confirmed_in_the_persons_language(harness: Harness) -> None:
    harness.press(PERSON, "lang:fr")
    harness.press(PERSON, "a:choose:distress")
    for answer in ("54.5 25.1", "3", "0", "non", "non", "oui"):
        harness.say(PERSON, answer)
    toast = [m.text for m in harness.press(PERSON, "a:needs:water") if m.callback_query_id]
    with use_locale("fr"):
        assert toast == [translate("Added: {label}", label=translate("Water"))]
