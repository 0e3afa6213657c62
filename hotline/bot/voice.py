"""The spoken side of phone calls, as TwiML: greet a caller, forward to a volunteer, take a voicemail,
and page a volunteer by phone, answered by a key.

Every builder is pure: URLs and numbers come in, a TwiML string goes out. Sentences are English sources
marked with ``N_`` (callers) or ``V_`` (volunteers, English and Lithuanian), translated and spoken by a
voice Twilio has for the language. A language Twilio cannot speak, or a sentence not yet translated, is
spoken in English: a foreign voice reading English text would be harder to follow than plain English.
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from babel import Locale
from twilio.twiml.voice_response import VoiceResponse

from hotline.bot import languages
from hotline.bot.i18n import SOURCE_LANGUAGE, V_, translate, translate_for_volunteer, use_locale
from hotline.flows.model import N_

# Twilio's <Say> ``language`` value per served language. Only languages with a Twilio voice are here
# (twilio-node's generated SayLanguage/SayVoice types and the voice table of Twilio's Text-to-Speech docs).
# fa, ps, ckb, kmr, ur, so, ti, be and si have no Twilio voice: they are spoken in English.
SPOKEN_LANGUAGES: dict[str, str] = {
    "en": "en-GB",
    "ar": "arb",  # Modern Standard Arabic (Polly); Google's Arabic would be ar-XA
    "fr": "fr-FR",
    "es": "es-MX",  # Latin American Spanish is closer to what Cuban callers speak
    "ru": "ru-RU",
    "uk": "uk-UA",
    "lt": "lt-LT",
    "pl": "pl-PL",
    "tr": "tr-TR",
    "hi": "hi-IN",
    "ta": "ta-IN",
    "am": "am-ET",
}
# One voice per language. Amazon Polly standard voices where Polly has the language (their names are
# stable); Google standard voices for the rest, picked among those Twilio lists in 2025 (Google retires
# older letters now and then: check https://www.twilio.com/docs/voice/twiml/say/text-speech when a
# call says nothing).
VOICES: dict[str, str] = {
    "en": "Polly.Amy",
    "ar": "Polly.Zeina",
    "fr": "Polly.Lea",
    "es": "Polly.Mia",
    "ru": "Polly.Tatyana",
    "pl": "Polly.Ewa",
    "tr": "Polly.Filiz",
    "hi": "Polly.Aditi",
    "uk": "Google.uk-UA-Standard-A",
    "lt": "Google.lt-LT-Standard-B",
    "ta": "Google.ta-IN-Standard-C",
    "am": "Google.am-ET-Standard-A",
}
MENU_ORDER = ("en", "ar", "fr", "ru", "tr", "es", "am", "hi", "ta", "uk", "lt", "pl")
MENU_KEYS = 8
GATHER_SECONDS = 4
RECORD_SILENCE_SECONDS = 5
ANSWERED_STATUSES = frozenset({"completed", "answered"})
BIDI_CONTROLS = dict.fromkeys(
    [0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)],
)
PAGE_KEYS = {"1": "acknowledge", "2": "decline"}  # what a key pressed on a page call does
PAGE_GATHER_SECONDS = 6
# About half a minute of speech. Twilio refuses a call whose inline TwiML is over 4000 characters: even
# with every character escaped in XML ("&amp;"), the page call's TwiML stays under that.
PAGE_TEXT_LIMIT = 500
UNSPOKEN = frozenset({"So", "Sk", "Cc", "Cf", "Co", "Cs", "Cn"})  # emoji, their modifiers, invisible controls
VARIATION_SELECTORS = frozenset(map(chr, range(0xFE00, 0xFE10)))  # "show as emoji": nothing to say

# translators: spoken on the phone by a computer voice; keep it short and plain
GREETING = N_("Hello, this is the {ngo_name} hotline. We will connect you to a volunteer.")
# translators: spoken on the phone; {language} is the name of this very language, {key} a phone key
MENU_OPTION = N_("For {language}, press {key}.")
# translators: spoken on the phone while the call is put through to a volunteer
CONNECTING = N_("Connecting you now. Please stay on the line.")
# translators: spoken on the phone when no volunteer picked up
NOBODY_ANSWERED = N_("We are sorry, nobody could answer right now.")
# translators: spoken on the phone just before a beep starts the recording
LEAVE_MESSAGE = N_(
    "After the tone, please tell us where you are, how many people are with you, and whether anyone is hurt."
)
# translators: spoken on the phone when the caller said nothing after the tone
NO_MESSAGE = N_("We did not hear a message. Please call again when you can.")
# translators: spoken on the phone after the caller left a message
MESSAGE_RECEIVED = N_("Thank you, we have your message. A volunteer will call you back.")
# translators: spoken on the phone; 112 is the European emergency number
EMERGENCY = N_("If someone's life is in danger, call 112.")
# translators: spoken by a computer voice on a volunteer's phone, after the page is read out
PAGE_PROMPT = V_("Press 1 to take the case. Press 2 to decline.")
# translators: spoken on a volunteer's phone at the end of a page call, when no key was pressed
CHECK_MESSAGES = V_("Please check your messages.")


def spoken_language(code: str | None) -> str:
    """Return the language a call is spoken in: the given one if Twilio can speak it, else English."""
    return code if code in SPOKEN_LANGUAGES else SOURCE_LANGUAGE


def menu_languages(first: str) -> list[str]:
    """Return the languages of the key menu in key order: English, then the caller's, then the most asked."""
    wanted = [SOURCE_LANGUAGE, spoken_language(first), *MENU_ORDER]
    return list(dict.fromkeys(wanted))[:MENU_KEYS]


def language_for_key(digit: str, first: str) -> str | None:
    """Return the language a pressed key chooses in the menu built for ``first``, or None for any other key."""
    options = menu_languages(first)
    if not (digit.isascii() and digit.isdigit()) or not 1 <= int(digit) <= len(options):
        return None
    return options[int(digit) - 1]


def greeting(*, language: str, gather_url: str, ngo_name: str) -> str:
    """Greet the caller and offer the language menu; a key press is posted to ``gather_url``."""
    response = VoiceResponse()
    menu = response.gather(input="dtmf", num_digits=1, timeout=GATHER_SECONDS, action=gather_url, method="POST")
    _say(menu, GREETING, language, ngo_name=ngo_name)
    for key, code in enumerate(menu_languages(language), start=1):
        text, spoken = menu_option(code, key)
        menu.say(text, language=SPOKEN_LANGUAGES[spoken], voice=VOICES[spoken])
    return str(response)


def menu_option(code: str, key: int) -> tuple[str, str]:
    """Return one menu line, in its own language if translated, else in English with the language's English name."""
    text, spoken = sentence(MENU_OPTION, code, language=languages.get(code).native, key=key)
    if spoken != spoken_language(code):
        text, spoken = sentence(MENU_OPTION, SOURCE_LANGUAGE, language=Locale.parse(code).english_name, key=key)
    return text, spoken


def then_redirect(twiml: str, url: str) -> str:
    """Append a redirect to ``url``, where the call goes when the TwiML before it finishes (no key pressed)."""
    root = ET.fromstring(twiml)
    redirect = ET.SubElement(root, "Redirect", method="POST")
    redirect.text = url
    return _document(root)


def forward(*, language: str, phone: str, caller_id: str, action_url: str, timeout: int = 25) -> str:
    """Tell the caller they are being connected, then ring the volunteer's phone."""
    response = VoiceResponse()
    _say(response, CONNECTING, language)
    dial = response.dial(action=action_url, method="POST", timeout=timeout, answer_on_bridge=True, caller_id=caller_id)
    dial.number(phone)
    return str(response)


def voicemail(*, language: str, action_url: str, max_length: int = 120) -> str:
    """Say nobody could answer and record a message; a silent caller hears how to get help and is hung up."""
    response = VoiceResponse()
    _say(response, NOBODY_ANSWERED, language)
    _say(response, LEAVE_MESSAGE, language)
    response.record(
        max_length=max_length,
        play_beep=True,
        action=action_url,
        method="POST",
        timeout=RECORD_SILENCE_SECONDS,
    )
    # Twilio skips the action and carries on here when the recording is empty.
    _say(response, NO_MESSAGE, language)
    _say(response, EMERGENCY, language)
    response.hangup()
    return str(response)


def after_voicemail(*, language: str) -> str:
    """Thank the caller for the message, point to 112 for danger to life, and hang up."""
    response = VoiceResponse()
    _say(response, MESSAGE_RECEIVED, language)
    _say(response, EMERGENCY, language)
    response.hangup()
    return str(response)


def page_answer_url(public_url: str, page_id: int) -> str:
    """Return where Twilio posts the key a volunteer presses on the call of page ``page_id``."""
    return f"{public_url}/webhooks/twilio/voice?page={page_id}"


def action_for_key(digit: str) -> str | None:
    """Return the page action a key chooses (``acknowledge``, ``decline``), or None for any other key."""
    return PAGE_KEYS.get(digit.strip())


def page_call(*, text: str, language: str, action_url: str | None) -> str:
    """Read a page to a volunteer and ask for a key, twice; without ``action_url``, only point to the messages."""
    response = VoiceResponse()
    if action_url is None:  # no public URL: a key could not reach us, but the ring still wakes the volunteer
        _say_text(response, speakable(text), language)
    else:
        first = _page_gather(response, action_url)
        _say_text(first, speakable(text), language)
        _say_volunteer(first, PAGE_PROMPT, language)
        _say_volunteer(_page_gather(response, action_url), PAGE_PROMPT, language)
    _say_volunteer(response, CHECK_MESSAGES, language)
    response.hangup()
    return str(response)


def page_prompt(*, language: str, action_url: str) -> str:
    """Ask a volunteer again for 1 or 2 after another key, then point to the messages."""
    response = VoiceResponse()
    _say_volunteer(_page_gather(response, action_url), PAGE_PROMPT, language)
    _say_volunteer(response, CHECK_MESSAGES, language)
    response.hangup()
    return str(response)


def page_answered(*, text: str, language: str) -> str:
    """Tell a volunteer what their key did (a text already in their language) and hang up."""
    response = VoiceResponse()
    _say_text(response, speakable(text), language)
    response.hangup()
    return str(response)


def check_messages(*, language: str) -> str:
    """Point a volunteer to their messages and hang up."""
    response = VoiceResponse()
    _say_volunteer(response, CHECK_MESSAGES, language)
    response.hangup()
    return str(response)


def speakable(text: str, limit: int = PAGE_TEXT_LIMIT) -> str:
    """Ready a written text for a speech engine: no emoji or invisible marks, a pause per line, ``limit`` long."""
    kept = "".join(
        ch
        for ch in unicodedata.normalize("NFC", text)
        if ch.isspace() or (unicodedata.category(ch) not in UNSPOKEN and ch not in VARIATION_SELECTORS)
    )
    lines = [" ".join(line.split()) for line in kept.splitlines()]
    spoken = " ".join(line if line[-1] in ".!?:;," else f"{line}." for line in lines if line)
    return spoken[:limit]


def hang_up() -> str:
    """End the call."""
    response = VoiceResponse()
    response.hangup()
    return str(response)


def dial_answered(dial_status: str) -> bool:
    """Tell whether a <Dial> ended with the volunteer having answered (Twilio's DialCallStatus)."""
    return dial_status.strip().lower() in ANSWERED_STATUSES


def strip_bidi(text: str) -> str:
    """Remove the invisible direction marks and isolates that a speech engine might read or choke on."""
    return text.translate(BIDI_CONTROLS)


def sentence(message: str, code: str | None, **params: Any) -> tuple[str, str]:
    """Return a sentence ready to speak and the language to speak it in (English when untranslated)."""
    return _spoken(translate, message, code, params)


def volunteer_sentence(message: str, code: str | None, **params: Any) -> tuple[str, str]:
    """Return a volunteer sentence ready to speak and the language to speak it in (English when untranslated)."""
    return _spoken(translate_for_volunteer, message, code, params)


def _spoken(translator: Callable[..., str], message: str, code: str | None, params: dict[str, Any]) -> tuple[str, str]:
    spoken = spoken_language(code)
    with use_locale(spoken):
        text = strip_bidi(translator(message, **params))
    english = message.format(**params) if params else message
    if spoken != SOURCE_LANGUAGE and text == strip_bidi(english):
        return text, SOURCE_LANGUAGE
    return text, spoken


def _say(parent: Any, message: str, code: str | None, **params: Any) -> None:
    text, spoken = sentence(message, code, **params)
    parent.say(text, language=SPOKEN_LANGUAGES[spoken], voice=VOICES[spoken])


def _say_volunteer(parent: Any, message: str, code: str | None) -> None:
    text, spoken = volunteer_sentence(message, code)
    parent.say(text, language=SPOKEN_LANGUAGES[spoken], voice=VOICES[spoken])


def _say_text(parent: Any, text: str, code: str | None) -> None:
    """Speak a text already written in ``code`` by that language's voice (English's when Twilio has none)."""
    if text:
        spoken = spoken_language(code)
        parent.say(text, language=SPOKEN_LANGUAGES[spoken], voice=VOICES[spoken])


def _page_gather(parent: Any, action_url: str) -> Any:
    return parent.gather(input="dtmf", num_digits=1, timeout=PAGE_GATHER_SECONDS, action=action_url, method="POST")


def _document(root: ET.Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode")
