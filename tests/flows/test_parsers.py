"""Tests for hotline.flows.parsers: concrete examples per language plus property tests that nothing crashes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.flows.detect import SERVED
from hotline.flows.geo import parse_location
from hotline.flows.parsers import (
    BREAK,
    QUESTION,
    Hit,
    Lexicon,
    load_vocabulary,
    normalize_digits,
    parse_choice,
    parse_count,
    parse_many_choices,
    parse_people,
    parse_yes_no,
    tokens,
)

PERSIAN = str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫")
ARABIC = str.maketrans("0123456789.,", "٠١٢٣٤٥٦٧٨٩٫،")
OPTIONS = [
    ("water", ["Water", "Eau"]),
    ("food", ["Food", "Nourriture"]),
    ("medical", ["Medical help"]),
    ("very_sick", ["Very sick"]),
    ("sick", ["Sick"]),
]
HUGE = [
    "1" * 20000,
    "5.5 " * 5000,
    "54.1 " * 5000,
    "a" * 20000,
    " " * 20000,
    "N 5 " * 5000,
    "5° " * 5000,
    "5:5:" * 5000,
    "°'\"" * 6000,
    "https://" * 2500,
    "geo:" * 5000,
    "@1.1," * 4000,
    "!3d" * 7000,
    "-" * 20000,
    "9 " * 10000,
    "54 07 " * 4000,
    "yes " * 5000,
    "٫" * 20000,
    "https://www.google.com/maps?q=" + "1," * 10000,
    "5" + " " * 20000 + "x",
]
ALL_PARSERS: list[Callable[[str], Any]] = [
    parse_location,
    parse_count,
    parse_yes_no,
    parse_people,
    tokens,
    normalize_digits,
    lambda text: parse_choice(text, OPTIONS),
    lambda text: parse_many_choices(text, OPTIONS),
]


# --------------------------------------------------------------------------- normalize_digits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
        ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
        ("٥٤٫١٢٣", "54.123"),
        ("٥٤٫١٢٣، ٢٤٫٤٥٦", "54.123, 24.456"),
        ("١٬٠٠٠", "1000"),
        ("we are ۷", "we are 7"),
        ("plain ascii 42", "plain ascii 42"),
        ("नमस्ते ७", "नमस्ते 7"),
        ("", ""),
    ],
)
def test_normalize_digits(text: str, expected: str) -> None:
    assert normalize_digits(text) == expected


# --------------------------------------------------------------------------- parse_count


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 7),
        ("٧", 7),
        ("۷", 7),
        (" 7 people", 7),
        ("we are 7", 7),
        ("7ppl", 7),
        ("0", 0),
        ("500", 500),
        ("seven", 7),
        ("Seven", 7),
        ("TWENTY", 20),
        ("we are seven people", 7),
        ("zéro", 0),
        ("zero", 0),
        ("une", 1),
        ("deux", 2),
        ("dix-sept", 17),
        ("dix sept", 17),
        ("vingt", 20),
        ("nous sommes cinq", 5),
        ("cero", 0),
        ("dos", 2),
        ("dieciséis", 16),
        ("dieciseis", 16),
        ("veinte", 20),
        ("ноль", 0),
        ("одна", 1),
        ("две", 2),
        ("нас трое", 3),
        ("двадцать", 20),
        ("صفر", 0),
        ("واحد", 1),
        ("اثنان", 2),
        ("اثنين", 2),
        ("إثنين", 2),
        ("ثلاثة", 3),
        ("ثلاثه", 3),
        ("ثلاث", 3),
        ("أربعة", 4),
        ("اربعة", 4),
        ("اربعه", 4),
        ("عشرة", 10),
        ("ثلاثة عشر", 13),
        ("صفر", 0),
        ("یک", 1),
        ("سه", 3),
        ("چهار", 4),
        ("پنج", 5),
        ("هفت", 7),
        ("ده", 10),
        ("بیست", 20),
        ("sıfır", 0),
        ("bir", 1),
        ("üç", 3),
        ("uc", 3),
        ("dört", 4),
        ("beş", 5),
        ("altı", 6),
        ("on", 10),
        ("on bir", 11),
        ("yirmi", 20),
        ("none", 0),
        ("no", 0),
        ("No.", 0),
        ("nobody", 0),
        ("لا", 0),
        ("нет", 0),
        ("non", 0),
        ("hiç", 0),
        ("I am alone", 1),
        ("7, seven", 7),
    ],
)
def test_parse_count(text: str, expected: int) -> None:
    assert parse_count(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "-3",
        "we are -3",
        "7.5",
        "54.123",
        "7,5",
        "501",
        "1000000",
        "1" * 50,
        "5 adults and 3 children",
        "7-8",
        "no water",
        "nobody is sick, we are 4 and 3",
        "we are on the road",
        "7 " + "x" * 2001,
    ],
)
def test_parse_count_rejects(text: str) -> None:
    assert parse_count(text) is None


def test_parse_count_limit() -> None:
    assert parse_count("30", limit=20) is None
    assert parse_count("20", limit=20) == 20


# --------------------------------------------------------------------------- parse_yes_no

YES_NO_CASES: list[tuple[str, str]] = [
    # English
    *[(w, "yes") for w in ["yes", "y", "Yes", "YES!", "yeah", "yep", "ya", "ok?", "yesss", "Yes."]],
    *[(w, "no") for w in ["no", "n", "NO", "nope", "nah", "noooo", "No!!!"]],
    *[(w, "unknown") for w in ["don't know", "dont know", "I don't know", "idk", "not sure", "maybe", "no idea"]],
    # French
    ("oui", "yes"),
    ("Ouais", "yes"),
    ("non", "no"),
    ("je ne sais pas", "unknown"),
    ("sais pas", "unknown"),
    ("jsp", "unknown"),
    # Spanish
    ("sí", "yes"),
    ("si", "yes"),
    ("no sé", "unknown"),
    ("no se", "unknown"),
    # Arabic
    ("نعم", "yes"),
    ("ايوه", "yes"),
    ("أيوة", "yes"),
    ("اي", "yes"),
    ("إي", "yes"),
    ("أجل", "yes"),
    ("لا", "no"),
    ("لأ", "no"),
    ("ما بعرف", "unknown"),
    ("لا أعرف", "unknown"),
    ("لا اعرف", "unknown"),
    ("مش عارف", "unknown"),
    # Persian / Dari
    ("بله", "yes"),
    ("آره", "yes"),
    ("اره", "yes"),
    ("بلی", "yes"),
    ("نه", "no"),
    ("نخیر", "no"),
    ("نمی\u200cدانم", "unknown"),
    ("نمیدانم", "unknown"),
    ("نمیدونم", "unknown"),
    ("نمی دانم", "unknown"),
    # Russian / Ukrainian / Belarusian
    ("да", "yes"),
    ("Да!", "yes"),
    ("так", "yes"),
    ("ага", "yes"),
    ("нет", "no"),
    ("Нееет", "no"),
    ("ні", "no"),
    ("не", "no"),
    ("не знаю", "unknown"),
    ("не ведаю", "unknown"),
    # Turkish
    ("evet", "yes"),
    ("hayır", "no"),
    ("hayir", "no"),
    ("HAYIR", "no"),
    ("yok", "no"),
    ("bilmiyorum", "unknown"),
    # Kurdish Sorani / Kurmanji
    ("بەڵێ", "yes"),
    ("نەخێر", "no"),
    ("نازانم", "unknown"),
    ("erê", "yes"),
    ("na", "no"),
    ("nizanim", "unknown"),
    # Somali
    ("haa", "yes"),
    ("maya", "no"),
    # Tigrinya / Amharic
    ("እወ", "yes"),
    ("ኣይፋል", "no"),
    ("አዎ", "yes"),
    ("አይ", "no"),
    ("አይደለም", "no"),
    # Urdu / Hindi
    ("ہاں", "yes"),
    ("جی", "yes"),
    ("نہیں", "no"),
    ("جی نہیں", "no"),
    ("हाँ", "yes"),
    ("हां", "yes"),
    ("नहीं", "no"),
    # Tamil
    ("ஆம்", "yes"),
    ("இல்லை", "no"),
    # Lithuanian
    ("taip", "yes"),
    ("ne", "no"),
    ("nežinau", "unknown"),
    ("nezinau", "unknown"),
    # Polish
    ("tak", "yes"),
    ("nie", "no"),
    ("nie wiem", "unknown"),
    # Pashto
    ("هو", "yes"),
    # Emoji
    ("👍", "yes"),
    ("👍🏽", "yes"),
    ("👎", "no"),
    # Real writing, every served language
    *[(w, "yes") for w in ["aywa", "ok", "okay sure", "آره", "بله", "ايوه", "da", "evet", "haa", "ሕራይ"]],
    *[(w, "yes") for w in ["እሺ", "ஆமா", "हाँ", "ඔව්", "tak", "taip", "так", "jo", "erê", "بەڵێ", "de acuerdo"]],
    *[(w, "no") for w in ["na", "нет", "maya", "ኣይፋል", "nie", "ne", "ні", "la2", "nexêr", "இல்லை", "නැහැ", "नहीं"]],
    *[(w, "unknown") for w in ["не знаю", "je sais pas", "ma3rafsh", "ma ba3ref", "نمیدونم", "نه پوهیږم", "پتہ نہیں"]],
    *[(w, "unknown") for w in ["पता नहीं", "தெரியாது", "දන්නෑ", "ma garanayo", "ኣይፈልጥን", "አላውቅም", "ня ведаю"]],
    # Surrounding text
    ("  yes  ", "yes"),
    ("yes she is pregnant", "yes"),
    ("Yes, she is pregnant!", "yes"),
    ("no nobody", "no"),
    ("no, se fue", "no"),
    ("she says yes", "yes"),
    ("we don't know", "unknown"),
    ("мы не знаем", "unknown"),
    ("y no sé", "unknown"),
]


@pytest.mark.parametrize(("text", "expected"), YES_NO_CASES)
def test_parse_yes_no(text: str, expected: str) -> None:
    assert parse_yes_no(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "1", "2", "hello", "???", "yes no", "the forest", "да нет"])
def test_parse_yes_no_cannot_tell(text: str) -> None:
    assert parse_yes_no(text) is None


# --------------------------------------------------------------------------- parse_people

PEOPLE_CASES: list[tuple[str, tuple[int | None, int | None]]] = [
    # English: stated totals, adults plus children, companions, people named one by one
    ("we are 7 with 2 kids", (7, 2)),
    ("5 adults and 3 children", (8, 3)),
    ("a family of four", (4, None)),
    ("me and my wife and 3 kids", (5, 3)),
    ("there are twenty five of us", (25, None)),
    ("my cousin is with 4 others", (5, None)),
    ("two men and a woman, the woman is hurt", (3, None)),
    ("we are 6 adults and a baby", (7, 1)),
    ("we have a baby with us", (None, 1)),
    ("we are 5, 3 kids", (5, 3)),
    ("3 kids (2 and 5 years)", (None, 3)),
    ("I found a woman lying near the road", (1, None)),
    ("I am alone", (1, None)),
    # Digits that are not people
    ("we walked 3 days, 12 people", (12, None)),
    ("we are 5 and my phone is at 8%", (5, None)),
    ("we are 4 at 54.123, 24.456", (4, None)),
    ("call +370 600 00000, we are 3", (3, None)),
    ("my son is 7 years old", (None, None)),
    ("one of us fainted", (None, None)),
    ("hello", (None, None)),
    # Every other served language
    ("نحن ٧ أشخاص بينهم ٣ أطفال", (7, 3)),
    ("احنا خمسة ومعنا طفلين", (5, 2)),
    ("7na 6 w m3na 3 atfal", (6, 3)),
    ("ما ۵ نفر هستیم، دو تا بچه", (5, 2)),
    ("ما ۹ نفریم", (9, None)),
    ("موږ شپږ کسان یو، درې ماشومان", (6, 3)),
    ("ئێمە ١٠ کەسین، ٤ منداڵ", (10, 4)),
    ("em 8 kes in, 3 zarok", (8, 3)),
    ("ہم 6 لوگ ہیں، 2 بچے", (6, 2)),
    ("हम 9 लोग हैं, 4 बच्चे", (9, 4)),
    ("நாங்கள் 7 பேர், 2 குழந்தைகள்", (7, 2)),
    ("අපි 5 දෙනෙක්, ළමයි 2", (5, 2)),
    ("nous sommes sept dont deux enfants", (7, 2)),
    ("on est 3 avec un bébé", (3, 1)),
    ("somos 9, con dos niños", (9, 2)),
    ("somos una familia de cinco", (5, None)),
    ("нас 6, двое детей", (6, 2)),
    ("нас трое", (3, None)),
    ("нас 4, з нами двоє дітей", (4, 2)),
    ("нас 5, двое дзяцей", (5, 2)),
    ("mes 6, trys vaikai", (6, 3)),
    ("jest nas 8, w tym 3 dzieci", (8, 3)),
    ("7 kişiyiz, 2 çocuk var", (7, 2)),
    ("waxaan nahay 6 qof, 3 carruur ah", (6, 3)),
    ("6 ሰባት ኢና፡ 2 ቆልዑ", (6, 2)),
    ("7 ሰዎች ነን፣ 3 ልጆች", (7, 3)),
]


@pytest.mark.parametrize(("text", "expected"), PEOPLE_CASES)
def test_parse_people(text: str, expected: tuple[int | None, int | None]) -> None:
    assert parse_people(text) == expected


def test_parse_people_reads_long_messages_only_so_far() -> None:
    assert parse_people("we are 7. " + "x" * 10000 + " we are 9") == (7, None)


# --------------------------------------------------------------------------- number words and answers of every language

NUMBERS = load_vocabulary("numbers")
ANSWERS = load_vocabulary("answers")


@pytest.mark.parametrize("language", SERVED)
def test_every_language_spells_one_to_twenty(language: str) -> None:
    assert set(range(1, 21)) <= set(NUMBERS["numbers"][language])


@pytest.mark.parametrize("language", SERVED)
def test_every_number_word_reads_back(language: str) -> None:
    for value, spellings in NUMBERS["numbers"][language].items():
        for spelling in spellings.split("|"):
            assert parse_count(spelling) == value, spelling


@pytest.mark.parametrize("language", SERVED)
def test_every_language_says_yes_no_and_dont_know(language: str) -> None:
    for answer, by_language in ANSWERS["answers"].items():
        assert all(parse_yes_no(spelling) == answer for spelling in by_language[language].split("|")), answer


@pytest.mark.parametrize(("text", "expected"), [("dos", 2), ("no sé", None), ("on", 10), ("on the road", None)])
def test_ordinary_words_count_only_as_whole_answers(text: str, expected: int | None) -> None:
    assert parse_count(text) == expected


# --------------------------------------------------------------------------- tokens and phrases


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Help! We're lost", ["help", BREAK, "were", "lost"]),
        ("pas d'eau, l'asile", ["pas", "de", "eau", BREAK, "asile"]),
        ("Can I ask? yes", ["can", "i", "ask", QUESTION, "yes"]),
        ("¿Puedo pedir asilo?", [QUESTION, "puedo", "pedir", "asilo", QUESTION]),
        ("نحن هنا و١٠ رجال", ["نحن", "هنا", "و", "10", "رجال"]),
        ("phone 9%", ["phone", "9", "percent"]),
        ("see https://maps.google.com/?q=54.1,24.4 now", ["see", BREAK, "now"]),
        ("at 54.1234, 24.5678 ok", ["at", BREAK, BREAK, BREAK, "ok"]),
    ],
)
def test_tokens(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


LEXICON = Lexicon(
    [
        ("broken ~ leg*|arm", "broken"),
        ("blood", "blood"),
        ("no ~ medicine", "no_medicine"),
        ("<n> months old", "baby"),
        ("ماء", "water"),
        ("dix-sept", "seventeen"),
    ]
)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("his broken left legs", [(1, 4, "broken")]),
        ("broken arm", [(0, 2, "broken")]),
        ("broken, leg", []),
        ("broken a b c d leg", []),
        ("BLOOD", [(0, 1, "blood")]),
        ("no more medicine", [(0, 3, "no_medicine")]),
        ("10 months old", [(0, 3, "baby")]),
        ("30 months old", []),
        ("والماء", [(0, 1, "water")]),
        ("dix sept", [(0, 2, "seventeen")]),
    ],
)
def test_lexicon_finds_phrases(text: str, found: list[tuple[int, int, str]]) -> None:
    assert [(hit.start, hit.end, hit.value) for hit in LEXICON.find(tokens(text))] == found


def test_lexicon_prefers_the_exact_word() -> None:
    hits = Lexicon([("kişi*", "person"), ("kişiyle", "others")]).find(tokens("kişiyle"))
    assert sorted(hits, key=lambda hit: hit.value) == [Hit(0, 1, "others"), Hit(0, 1, "person", precise=False)]


@pytest.mark.parametrize("phrase", ["", "~ water", "water ~", "a|two-words", "x*|water"])
def test_lexicon_refuses_unusable_phrases(phrase: str) -> None:
    with pytest.raises(ValueError):
        Lexicon([(phrase, "value")])


# --------------------------------------------------------------------------- parse_choice


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", "food"),
        ("٢", "food"),
        ("۲", "food"),
        ("2.", "food"),
        ("(2)", "food"),
        (" 2 ", "food"),
        ("#3", "medical"),
        ("option 3", "medical"),
        ("water", "water"),
        ("WATER", "water"),
        ("eau", "water"),
        ("Médical help", "medical"),
        ("medical help", "medical"),
        ("we need water please", "water"),
        ("watr", "water"),
        ("medicl", "medical"),
        ("nourritur", "food"),
        ("very sick", "very_sick"),
        ("sick", "sick"),
    ],
)
def test_parse_choice(text: str, expected: str) -> None:
    assert parse_choice(text, OPTIONS) == expected


@pytest.mark.parametrize("text", ["", "0", "6", "99", "hello", "water and food", "1 2", "wa", "xyz"])
def test_parse_choice_none(text: str) -> None:
    assert parse_choice(text, OPTIONS) is None


def test_parse_choice_ambiguous_typo() -> None:
    options = [("a", ["injured"]), ("b", ["injures"])]
    assert parse_choice("injurex", options) is None
    assert parse_choice("anything", []) is None


# --------------------------------------------------------------------------- parse_many_choices


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 3 5", ["water", "medical", "sick"]),
        ("1,3", ["water", "medical"]),
        ("3, 1", ["water", "medical"]),
        ("١ ٢", ["water", "food"]),
        ("135", ["water", "medical", "sick"]),
        ("1 1 1", ["water"]),
        ("water and food", ["water", "food"]),
        ("food and water", ["water", "food"]),
        ("Eau, nourriture", ["water", "food"]),
        ("very sick and water", ["water", "very_sick"]),
        ("wter, food", ["water", "food"]),
        ("2 and water", ["water", "food"]),
        ("nothing", []),
        ("", []),
        ("9", []),
    ],
)
def test_parse_many_choices(text: str, expected: list[str]) -> None:
    assert parse_many_choices(text, OPTIONS) == expected


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_count_never_raises(text: str) -> None:
    count = parse_count(text)
    assert count is None or 0 <= count <= 500


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_yes_no_never_raises(text: str) -> None:
    assert parse_yes_no(text) in {"yes", "no", "unknown", None}


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_people_never_raises(text: str) -> None:
    total, children = parse_people(text)
    assert total is None or total >= 1
    assert children is None or children >= 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 ٣۵.,%:+°'\"weareandkids نفرбچهдетей"), max_size=200))
def test_parse_people_never_raises_on_count_soup(text: str) -> None:
    assert all(value is None or value >= 1 for value in parse_people(text))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalize_digits_never_raises(text: str) -> None:
    assert isinstance(normalize_digits(text), str)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_choice_never_raises(text: str) -> None:
    assert parse_choice(text, OPTIONS) in {None, *(value for value, _ in OPTIONS)}


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_many_choices_never_raises(text: str) -> None:
    picked = parse_many_choices(text, OPTIONS)
    values = [value for value, _ in OPTIONS]
    assert picked == [value for value in values if value in picked]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789.,;:-+ °'\"NSEWnsew/@?=&٫،۱۲٣"), max_size=200))
def test_parsers_never_raise_on_number_soup(text: str) -> None:
    for parse in ALL_PARSERS:
        parse(text)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=500), st.sampled_from(["{}", " {} ", "we are {}", "{} people", "{}."]))
def test_count_roundtrip(count: int, template: str) -> None:
    assert parse_count(template.format(count)) == count
    assert parse_count(template.format(str(count).translate(PERSIAN))) == count


@pytest.mark.parametrize("text", HUGE, ids=range(len(HUGE)))
def test_huge_inputs_are_fast(text: str) -> None:
    for parse in ALL_PARSERS:
        started = time.perf_counter()
        parse(text)
        assert time.perf_counter() - started < 0.5
