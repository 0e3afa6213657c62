"""The phrasebook: commands are read tolerantly, phrases reach the person in their language, answers come back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.bot.channels.sms import render_sms, sms_segments
from hotline.bot.i18n import RLM, translate, use_locale
from hotline.bot.oncall import phrasebook
from hotline.bot.oncall.phrasebook import (
    PHRASES,
    find,
    help_text,
    interpret,
    parse_answer_button,
    parse_command,
    parse_say_button,
    person_body,
    volunteer_keyboard,
)
from hotline.bot.replies import outgoing
from hotline.catalogues import extract
from hotline.flows.engine import YES_NO_OPTIONS
from hotline.flows.parsers import normalize_digits

LANGUAGES = ("en", "ar", "fa")
BIG_ID = 2**63 - 1


def body_of(key: str, language: str = "en", *, sms: bool = False, minutes: int | None = 30) -> dict[str, object]:
    phrase = find(key)
    assert phrase is not None
    return person_body(phrase, language=language, minutes=minutes, sms=sms)


# --------------------------------------------------------------------------- commands


@pytest.mark.parametrize(
    ("text", "key", "minutes"),
    [
        ("/stay", "stay", None),
        ("stay", "stay", None),
        ("  Stay! ", "stay", None),
        ("/STAY@BorderHotlineBot", "stay", None),
        ("/location", "location", None),
        ("/coming 20", "coming", 20),
        ("coming 20", "coming", 20),
        ("/Coming 20min", "coming", 20),
        ("/coming 20 min.", "coming", 20),
        ("/coming20", "coming", 20),
        ("/coming ٢٠", "coming", 20),
        ("/coming ۴۵", "coming", 45),
        ("/coming 1h", "coming", 60),
        ("/coming", "coming", None),
        ("coming", "coming", None),
        ("/coming soon", "coming", None),
        ("/coming 0", "coming", None),
        ("/coming 5000", "coming", None),
        ("/howmany", "howmany", None),
        ("/injured", "injured", None),
        ("/asylum", "asylum", None),
        ("/battery", "battery", None),
        ("/call112", "call112", None),
        ("/informed112", "informed112", None),
        ("/informed_guard", "informed_guard", None),
        ("/informed-guard", "informed_guard", None),
        ("informedlawyer", "informed_lawyer", None),
    ],
)
def test_commands_are_read_tolerantly(text: str, key: str, minutes: int | None) -> None:
    parsed = parse_command(text)
    assert parsed is not None
    assert (parsed[0].key, parsed[1]) == (key, minutes)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "/", "/unknown", "stay where you are", "/stay now", "coming soon", "location?? where", "/call 112"],
)
def test_other_text_is_not_a_command(text: str) -> None:
    assert parse_command(text) is None


def test_every_phrase_has_its_own_command_and_key() -> None:
    assert len({p.key for p in PHRASES}) == len({p.command for p in PHRASES}) == len(PHRASES)
    for phrase in PHRASES:
        parsed = parse_command(phrase.command)
        assert parsed is not None and parsed[0] is phrase


# --------------------------------------------------------------------------- what the person receives


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("sms", [False, True])
@pytest.mark.parametrize("phrase", PHRASES, ids=lambda p: p.key)
def test_every_phrase_renders_in_the_persons_language(phrase: phrasebook.Phrase, language: str, sms: bool) -> None:
    body = person_body(phrase, language=language, minutes=30, sms=sms)
    text = str(body["text"])
    assert text.strip(RLM + " ") and "{" not in text and "}" not in text
    assert text.startswith(RLM) == (language in {"ar", "fa"})
    if "{minutes}" in phrase.text:
        assert "30" in normalize_digits(text)
    if phrase.answer == "yes_no":
        with use_locale(language):
            labels = [translate(option.label) for option in YES_NO_OPTIONS]
        assert body["buttons"] == [
            [{"label": label, "data": f"answer:{phrase.key}:{option.value}"}]
            for label, option in zip(labels, YES_NO_OPTIONS, strict=True)
        ]
    else:
        assert body["buttons"] == []


@pytest.mark.parametrize("phrase", PHRASES, ids=lambda p: p.key)
def test_every_english_phrase_fits_one_gsm7_sms(phrase: phrasebook.Phrase) -> None:
    rendered = render_sms(outgoing(person_body(phrase, language="en", minutes=720, sms=True)))
    assert sms_segments(rendered) == ("GSM-7", 1)


def test_a_yes_no_question_is_numbered_on_sms_and_the_numbers_read_back() -> None:
    rendered = render_sms(outgoing(body_of("asylum", sms=True)))
    assert rendered.splitlines()[1:] == ["1. Yes", "2. No", "3. Don't know"]
    assert [interpret("asylum", n) for n in ("1", "2", "3")] == [o.value for o in YES_NO_OPTIONS]


def test_the_location_phrase_offers_the_location_button_on_telegram_only() -> None:
    assert body_of("location")["request_location"] == "Send my location"
    assert body_of("location", sms=True)["request_location"] is None


def test_help_coming_needs_minutes() -> None:
    with pytest.raises(ValueError, match="minutes"):
        body_of("coming", minutes=None)
    with pytest.raises(ValueError, match="minutes"):
        body_of("coming", minutes=0)


def test_answer_buttons_read_back() -> None:
    buttons = body_of("injured", "ar")["buttons"]
    assert isinstance(buttons, list)
    assert [parse_answer_button(row[0]["data"]) for row in buttons] == [
        (find("injured"), "yes"),
        (find("injured"), "no"),
        (find("injured"), "unknown"),
    ]
    for data in ("answer:injured:maybe", "answer:stay:yes", "answer:nothing:yes", "say:1:stay", "answer:injured"):
        assert parse_answer_button(data) is None


# --------------------------------------------------------------------------- the person's answers


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("injured", "yes", "yes"),
        ("injured", "No.", "no"),
        ("injured", "I don't know", "unknown"),
        ("injured", "نعم", "yes"),
        ("injured", "لا", "no"),
        ("asylum", "بله", "yes"),
        ("asylum", "نه", "no"),
        ("asylum", "نمی‌دانم", "unknown"),
        ("asylum", "1", "yes"),
        ("asylum", "٢", "no"),
        ("asylum", "۳", "unknown"),
        ("asylum", "4", None),
        ("asylum", "the road is far", None),
        ("howmany", "7", "7"),
        ("howmany", "٧", "7"),
        ("howmany", "۱۲", "12"),
        ("howmany", "five", "5"),
        ("howmany", "we are 7, 3 children", "7 / 3"),
        ("howmany", "٦ و ٢", "6 / 2"),
        ("howmany", "many", None),
        ("howmany", "2.5", None),
        ("stay", "yes", None),
        ("nothing", "yes", None),
        ("injured", "", None),
    ],
)
def test_answers_are_interpreted(key: str, text: str, expected: str | None) -> None:
    assert interpret(key, text) == expected


# --------------------------------------------------------------------------- the volunteer's side


def test_the_keyboard_offers_every_phrase_within_telegrams_data_limit() -> None:
    rows = volunteer_keyboard(BIG_ID)
    buttons = [button for row in rows for button in row]
    assert all(len(b["data"].encode()) < 64 and b["label"] for b in buttons)
    parsed = [parse_say_button(b["data"]) for b in buttons]
    assert all(p is not None and p[0] == BIG_ID for p in parsed)
    assert {p[1].key for p in parsed if p} == {phrase.key for phrase in PHRASES}
    assert sorted(p[2] for p in parsed if p and p[2]) == [15, 30, 60]


@pytest.mark.parametrize(
    "data",
    [
        "say:x:stay",
        "say:١:stay",
        "say:1:nope",
        "say:1:coming",
        "say:1:coming:0",
        "say:1:coming:٣٠",
        "say:1:stay:3",
        "say:1",
    ],
)
def test_other_button_data_is_not_a_phrase(data: str) -> None:
    assert parse_say_button(data) is None


@pytest.mark.parametrize("language", ["en", "lt"])
def test_the_help_lists_every_command(language: str) -> None:
    with use_locale(language):
        text = help_text()
        rows = volunteer_keyboard(1)
    assert all(phrase.command in text for phrase in PHRASES) and "/coming 30" in text
    assert all(button["label"] for row in rows for button in row)


def test_person_texts_and_volunteer_labels_are_in_their_own_catalogues() -> None:
    person, volunteer = ({str(m.id) for m in extract(domain) if m.id} for domain in ("messages", "volunteer"))
    assert {p.text for p in PHRASES} <= person - volunteer
    assert {p.label for p in PHRASES} | {phrasebook.COMING_BUTTON, phrasebook.HELP_TITLE} <= volunteer - person


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_command_never_raises(text: str) -> None:
    parsed = parse_command(text)
    assert parsed is None or parsed[1] is None or 2 <= parsed[1] <= 720


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([p.key for p in PHRASES] + ["unknown"]), st.text())
def test_interpret_never_raises(key: str, text: str) -> None:
    assert interpret(key, text) is None or isinstance(interpret(key, text), str)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_button_parsers_never_raise(data: str) -> None:
    parse_say_button(data)
    parse_answer_button(data)
