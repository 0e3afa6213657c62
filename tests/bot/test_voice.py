"""The TwiML of a phone call: structure, languages and voices, the key menu, and what never leaks into it."""

from __future__ import annotations

import gettext
import xml.etree.ElementTree as ET

import pytest

from hotline.bot import i18n, voice
from tests.conftest import FakeCatalogue

GATHER_URL = "https://hotline.test/webhooks/twilio/voice?step=lang&lang=ar"
VOLUNTEER_PHONE = "+37060000001"
HOTLINE_NUMBER = "+37060000099"
BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Fictional translations for the tests; the real ones live in the catalogues.
FAKE_CATALOGUES = {
    "ar": {
        voice.GREETING: "مرحبا، هذا خط {ngo_name}. سنصلك بمتطوع.",
        voice.MENU_OPTION: "للغة {language}، اضغط {key}.",
    },
    "fr": {
        voice.GREETING: "Bonjour, ici la ligne {ngo_name}. Nous vous passons un bénévole.",
        voice.MENU_OPTION: "Pour le {language}, appuyez sur {key}.",
        voice.CONNECTING: "Nous vous mettons en relation. Restez en ligne, s'il vous plaît.",
    },
}


@pytest.fixture
def translated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give Arabic and French a translation of a few voice sentences."""

    def catalogue(language: str, domain: str = i18n.PERSON) -> gettext.NullTranslations:
        return FakeCatalogue(FAKE_CATALOGUES.get(language, {}) if domain == i18n.PERSON else {})

    monkeypatch.setattr(i18n, "catalogue", catalogue)


def parse(twiml: str) -> ET.Element:
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return root


def says(element: ET.Element) -> list[ET.Element]:
    return list(element.iter("Say"))


def greeting_in(language: str, ngo_name: str = "Border Help") -> ET.Element:
    return parse(voice.greeting(language=language, gather_url=GATHER_URL, ngo_name=ngo_name))


# --------------------------------------------------------------------------- greeting and menu


def test_the_greeting_waits_four_seconds_for_one_key_and_posts_it() -> None:
    root = greeting_in("en")
    [gather] = list(root)
    assert gather.tag == "Gather"
    assert gather.attrib == {
        "action": GATHER_URL,
        "input": "dtmf",
        "method": "POST",
        "numDigits": "1",
        "timeout": "4",
    }
    first = says(gather)[0]
    assert first.attrib == {"language": "en-GB", "voice": "Polly.Amy"}
    assert first.text == "Hello, this is the Border Help hotline. We will connect you to a volunteer."


@pytest.mark.usefixtures("translated")
@pytest.mark.parametrize(
    ("language", "attribute", "voice_name"), [("ar", "arb", "Polly.Zeina"), ("fr", "fr-FR", "Polly.Lea")]
)
def test_a_translated_greeting_is_spoken_by_a_voice_of_that_language(
    language: str, attribute: str, voice_name: str
) -> None:
    first = says(greeting_in(language))[0]
    assert first.attrib == {"language": attribute, "voice": voice_name}
    assert "Border Help" in (first.text or "")
    assert "Hello" not in (first.text or "")


@pytest.mark.usefixtures("translated")
def test_no_direction_mark_reaches_the_speech_engine() -> None:
    with i18n.use_locale("ar"):
        raw = i18n.translate(voice.GREETING, ngo_name="Border Help")
    assert any(mark in raw for mark in BIDI)  # the text channel gets marks; the voice must not
    for say in says(greeting_in("ar")):
        assert not set(BIDI) & set(say.text or "")
    assert "Border Help" in (says(greeting_in("ar"))[0].text or "")


def test_the_stripping_removes_every_direction_control_and_nothing_else() -> None:
    assert voice.strip_bidi(f"a{BIDI}b ب 1") == "ab ب 1"


@pytest.mark.usefixtures("translated")
def test_an_untranslated_sentence_is_spoken_in_english_not_by_a_foreign_voice() -> None:
    forward = parse(voice.forward(language="ar", phone="+37060000001", caller_id="+37060000099", action_url=GATHER_URL))
    first = says(forward)[0]  # the fake Arabic catalogue has no "Connecting you now…"
    assert first.attrib == {"language": "en-GB", "voice": "Polly.Amy"}
    assert (first.text or "").startswith("Connecting")


@pytest.mark.parametrize("code", ["ps", "fa", "so", "ti", "ur", "kmr", "ckb", "be", "si", "xx", None])
def test_a_language_twilio_cannot_speak_falls_back_to_english(code: str | None) -> None:
    assert voice.spoken_language(code) == "en"
    first = says(parse(voice.greeting(language=code or "", gather_url=GATHER_URL, ngo_name="N")))[0]
    assert first.attrib["language"] == "en-GB"
    assert (first.text or "").startswith("Hello")


def test_every_spoken_language_has_a_voice_and_a_place_in_the_menu_order() -> None:
    assert set(voice.VOICES) == set(voice.SPOKEN_LANGUAGES)
    assert sorted(voice.MENU_ORDER) == sorted(voice.SPOKEN_LANGUAGES)
    assert voice.SPOKEN_LANGUAGES["ar"] == "arb" and voice.SPOKEN_LANGUAGES["en"] == "en-GB"


@pytest.mark.parametrize("first", ["en", "ar", "pl", "lt", "ps"])
def test_the_menu_has_english_on_key_one_then_the_guessed_language(first: str) -> None:
    menu = voice.menu_languages(first)
    assert menu[0] == "en"
    assert len(menu) == len(set(menu)) <= 8
    assert set(menu) <= set(voice.SPOKEN_LANGUAGES)
    if voice.spoken_language(first) != "en":
        assert menu[1] == first
    else:
        assert menu == voice.menu_languages("en")


@pytest.mark.parametrize("first", ["en", "ar", "uk", "fa"])
def test_every_key_offered_in_the_greeting_chooses_its_language(first: str) -> None:
    menu = voice.menu_languages(first)
    options = says(greeting_in(first))[1:]
    assert len(options) == len(menu)
    for key, (code, option) in enumerate(zip(menu, options, strict=True), start=1):
        assert str(key) in (option.text or "")  # "…press 2.", in the option's own language
        assert voice.language_for_key(str(key), first) == code


@pytest.mark.parametrize("digit", ["0", "9", "*", "#", "", "12", "٣", "a"])
def test_any_other_key_chooses_nothing(digit: str) -> None:
    assert voice.language_for_key(digit, "ar") is None


@pytest.mark.usefixtures("translated")
def test_each_menu_line_is_in_its_own_language_where_translated() -> None:
    options = says(greeting_in("en"))[1:]
    by_language = dict(zip(voice.menu_languages("en"), options, strict=True))
    assert by_language["ar"].attrib["language"] == "arb"
    assert "العربية" in (by_language["ar"].text or "")
    assert by_language["fr"].attrib["language"] == "fr-FR"
    assert by_language["fr"].text == "Pour le Français, appuyez sur 3."
    assert by_language["ru"].attrib["language"] == "en-GB"  # no Russian translation in the fake
    assert by_language["ru"].text == "For Russian, press 4."


def test_xml_special_characters_in_the_ngo_name_are_escaped() -> None:
    name = 'Help & "Hope" <Border>'
    twiml = voice.greeting(language="en", gather_url=GATHER_URL, ngo_name=name)
    assert "&amp;" in twiml and "&lt;Border&gt;" in twiml
    assert name in (says(parse(twiml))[0].text or "")


def test_then_redirect_forwards_a_caller_who_pressed_nothing() -> None:
    url = "https://hotline.test/webhooks/twilio/voice?step=forward&lang=ar"
    root = parse(voice.then_redirect(voice.greeting(language="ar", gather_url=GATHER_URL, ngo_name="N"), url))
    assert [child.tag for child in root] == ["Gather", "Redirect"]
    assert root[1].text == url
    assert root[1].attrib == {"method": "POST"}


# --------------------------------------------------------------------------- forwarding and voicemail


def test_forwarding_dials_the_volunteer_only_inside_number() -> None:
    twiml = voice.forward(
        language="en", phone=VOLUNTEER_PHONE, caller_id=HOTLINE_NUMBER, action_url="https://hotline.test/dialed"
    )
    root = parse(twiml)
    assert [child.tag for child in root] == ["Say", "Dial"]
    dial = root[1]
    assert dial.attrib == {
        "action": "https://hotline.test/dialed",
        "answerOnBridge": "true",
        "callerId": HOTLINE_NUMBER,
        "method": "POST",
        "timeout": "25",
    }
    [number] = list(dial)
    assert (number.tag, number.text) == ("Number", VOLUNTEER_PHONE)
    assert twiml.count(VOLUNTEER_PHONE) == 1
    assert dial.text is None


@pytest.mark.usefixtures("translated")
def test_forwarding_says_so_in_the_callers_language_and_honours_the_timeout() -> None:
    root = parse(
        voice.forward(language="fr", phone=VOLUNTEER_PHONE, caller_id=HOTLINE_NUMBER, action_url="u", timeout=40)
    )
    assert root[0].attrib["language"] == "fr-FR"
    assert root[1].attrib["timeout"] == "40"


def test_the_voicemail_asks_for_place_people_and_injuries_then_records() -> None:
    root = parse(voice.voicemail(language="en", action_url="https://hotline.test/recorded"))
    assert [child.tag for child in root] == ["Say", "Say", "Record", "Say", "Say", "Hangup"]
    ask = root[1].text or ""
    assert "where you are" in ask and "how many people" in ask and "hurt" in ask
    assert root[2].attrib == {
        "action": "https://hotline.test/recorded",
        "maxLength": "120",
        "method": "POST",
        "playBeep": "true",
        "timeout": "5",
    }
    assert "112" in (root[4].text or "")


def test_the_voicemail_length_can_be_set() -> None:
    [record] = parse(voice.voicemail(language="uk", action_url="u", max_length=60)).iter("Record")
    assert record.attrib["maxLength"] == "60"


def test_after_a_voicemail_the_caller_hears_about_the_call_back_and_112_then_the_call_ends() -> None:
    root = parse(voice.after_voicemail(language="en"))
    assert [child.tag for child in root] == ["Say", "Say", "Hangup"]
    text = " ".join(say.text or "" for say in says(root))
    assert "call you back" in text and "112" in text
    assert "will come" not in text  # never promise that someone will come


def test_hang_up_only_hangs_up() -> None:
    assert [child.tag for child in parse(voice.hang_up())] == ["Hangup"]


@pytest.mark.parametrize(
    ("status", "answered"),
    [
        ("completed", True),
        ("answered", True),
        (" Completed ", True),
        ("no-answer", False),
        ("busy", False),
        ("failed", False),
        ("canceled", False),
        ("", False),
    ],
)
def test_only_a_completed_or_answered_dial_counts_as_answered(status: str, answered: bool) -> None:
    assert voice.dial_answered(status) is answered
