"""How one outgoing message becomes one SMS: numbered choices, locations, GSM-7 folding and segment counts."""

from __future__ import annotations

import pytest

from hotline.bot.channels.base import Button, Outgoing
from hotline.bot.channels.console import render
from hotline.bot.channels.sms import render_sms, sms_cost, sms_segments, to_gsm7

RLM, LRI, PDI = "\u200f", "\u2066", "\u2069"


def test_buttons_become_numbered_lines_across_rows() -> None:
    rows = ((Button("Yes", "y"), Button("No", "n")), (Button("Not sure", "?"),))
    assert render_sms(Outgoing(text="Is anyone hurt?", buttons=rows)) == "Is anyone hurt?\n1. Yes\n2. No\n3. Not sure"


def test_a_location_request_adds_nothing() -> None:
    message = Outgoing(text="Send your location.", request_location="Share location")
    assert render_sms(message) == "Send your location."


def test_a_location_is_coordinates_and_a_map_link_then_the_text() -> None:
    message = Outgoing(text="Meet here.", location=(54.6872, 25.2797))
    assert render_sms(message) == (
        "54.68720, 25.27970\n"
        "https://www.openstreetmap.org/?mlat=54.68720&mlon=25.27970#map=15/54.68720/25.27970\n"
        "Meet here."
    )


def test_a_bare_location_has_no_trailing_text() -> None:
    assert render_sms(Outgoing(location=(-1.5, 30.25))).splitlines()[0] == "-1.50000, 30.25000"


def test_the_rendered_sms_is_folded_into_gsm7() -> None:
    rows = ((Button("Oui", "y"), Button("Peut-être", "?")),)
    assert render_sms(Outgoing(text="Êtes-vous blessé ?", buttons=rows)) == "Etes-vous blessé ?\n1. Oui\n2. Peut-etre"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        (
            "Êtes-vous blessé\u00a0? Où êtes-vous\u00a0? « Restez là » — merci… c’est ça, Noël, maïs, cœur",
            'Etes-vous blessé ? Où etes-vous ? " Restez là " - merci... c\'est ca, Noel, mais, coeur',
        ),
        (
            "Ar jūs saugūs? Šiandien čia šąla, Žemė, ėjo į mišką, Ąžuolas Ųų Ęę Įį",
            "Ar jus saugus? Siandien cia sala, Zeme, ejo i miska, Azuolas Uu Ee Ii",
        ),
        (
            "Güvende misiniz? İçeride şu an ağaçlık, ışık yok. Şoför Ğ",
            "Güvende misiniz? Iceride su an agaclik, isik yok. Soför G",
        ),
        ("Łódź, źródło, gęś, żółw, Ćma, Ńń Śś Źź Żż", "Lodz, zrodlo, ges, zolw, Cma, Nn Ss Zz Zz"),
        ("¿Está usted herido? Sí, niño. Ú Í Á Ó", "¿Esta usted herido? Si, niño. U I A O"),
        ("Hûn li ku derê ne? Şev e, çûk, Îran", "Hun li ku dere ne? Sev e, cuk, Iran"),
        ("“Stay” ‘here’ – ok", "\"Stay\" 'here' - ok"),
    ],
    ids=["fr", "lt", "tr", "pl", "es", "kmr", "quotes"],
)
def test_latin_texts_are_folded_into_gsm7(text: str, folded: str) -> None:
    assert to_gsm7(text) == folded
    assert sms_segments(folded)[0] == "GSM-7"


def test_characters_already_in_gsm7_are_kept() -> None:
    kept = "é è à ù ì ò Ç ä ö ü ñ Ä Ö Ü Ñ É å Å ø Ø æ Æ ß ¿ ¡ € [ ] { } ~ ^ \\ | @ £ $ ¥ § _"
    assert to_gsm7(kept) == kept


def test_bidi_controls_are_dropped_from_a_latin_text() -> None:
    assert to_gsm7(f"{RLM}Réf. {LRI}HX-1234{PDI}") == "Réf. HX-1234"


@pytest.mark.parametrize(
    "text",
    [
        f"{RLM}أين أنتم؟ نحن في الطريق. المرجع {LRI}HX-1234{PDI}",
        "Где вы? Нам нужна вода и тёплая одежда.",
        "ኣበይ ኣለኹም? ማይ ኣሎኩም ዶ?",
        "நீங்கள் எங்கே இருக்கிறீர்கள்?",
        "Êtes-vous à Вильнюс ?",  # one Cyrillic word: the French is not folded either
        "Ça va ? 🙂",
    ],
    ids=["ar", "ru", "ti", "ta", "mixed", "emoji"],
)
def test_other_scripts_are_left_untouched(text: str) -> None:
    assert to_gsm7(text) == text


def test_a_decomposed_accent_is_kept_when_gsm7_has_it() -> None:
    assert to_gsm7("Cafe\u0301 cre\u0300me") == "Café crème"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("€" * 80, ("GSM-7", 1)),  # extension characters cost two septets
        ("€" * 81, ("GSM-7", 2)),
        ("ж" * 70, ("UCS-2", 1)),
        ("ж" * 71, ("UCS-2", 2)),
        ("ж" * 134, ("UCS-2", 2)),
        ("ж" * 135, ("UCS-2", 3)),
        ("🙂" * 35, ("UCS-2", 1)),  # outside the BMP: two UTF-16 units each
        ("🙂" * 36, ("UCS-2", 2)),
    ],
)
def test_segment_counts_at_the_boundaries(text: str, expected: tuple[str, int]) -> None:
    assert sms_segments(text) == expected


def test_folding_makes_a_french_text_cheaper() -> None:
    text = "Êtes-vous en sécurité ? " * 6  # 144 characters
    assert sms_segments(text) == ("UCS-2", 3)
    assert sms_cost(text) == ("GSM-7", 1)


def test_the_console_shows_the_sms_as_sent_with_its_cost() -> None:
    shown = render(Outgoing(text="Êtes-vous blessé ?", buttons=((Button("Oui", "y"),),)), "sms")
    assert shown == "Etes-vous blessé ?\n1. Oui\n    (GSM-7, 1 segment)"
