"""Tests for hotline.flows.extract: facts read from one message, per language, plus property tests."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.flows.detect import SERVED
from hotline.flows.extract import NEEDS, RED_FLAGS, Facts, extract
from hotline.flows.geo import Point
from hotline.flows.parsers import load_vocabulary

FACTS = load_vocabulary("facts")
# (message, the facts it must give); attributes not named are not checked
CASES: list[tuple[str, dict[str, Any]]] = [
    # English
    ("my uncle passed out and is not breathing", {"red_flags": ("unconscious",), "medical": True}),
    ("no one is bleeding, we are fine", {"red_flags": (), "medical": False}),
    ("his arm is broken and he can't walk", {"red_flags": ("broken_bone", "cannot_walk")}),
    ("the kids are shivering, lips are blue", {"red_flags": ("hypothermia",)}),
    ("my toes are black from the cold", {"red_flags": ("frostbite",)}),
    ("my wife is pregnant and has strong pain", {"pregnant": True, "red_flags": ("pregnancy_pain",)}),
    ("we have a newborn with us", {"red_flags": ("baby",), "children": 1}),
    ("the little one is 10 months old", {"red_flags": ("baby",)}),
    ("she is 7 months pregnant", {"red_flags": (), "pregnant": True}),
    ("he is diabetic and his insulin ran out", {"red_flags": ("diabetes", "no_medicine"), "needs": ("medicine",)}),
    ("we want asylum", {"asylum": "yes"}),
    ("we don't want asylum here", {"asylum": "no"}),
    ("how do I ask for asylum?", {"asylum": None, "help": False}),
    ("we need water, food, blankets, dry socks and a charger", {"needs": NEEDS[:5]}),
    ("battery 3%", {"needs": ("power_bank",)}),
    ("thanks a lot for your help", {"help": False}),
    ("SOS we are lost in the forest", {"help": True}),
    ("nobody is pregnant", {"pregnant": False}),
    ("my brother is sick with fever", {"medical": True, "red_flags": ()}),
    ("it is very cold here", {"red_flags": (), "medical": None}),
    # Arabic
    ("ساعدونا، في واحد فاقد الوعي ونزيف", {"help": True, "red_flags": ("unconscious", "bleeding")}),
    ("ما في نزيف، كلنا بخير", {"red_flags": (), "medical": False}),
    ("زوجتي حامل وعندها ألم", {"pregnant": True, "red_flags": ("pregnancy_pain",)}),
    ("بدنا مي واكل وبطانيات", {"needs": ("water", "food", "warm_clothes")}),
    ("نريد اللجوء", {"asylum": "yes"}),
    ("لا نريد اللجوء", {"asylum": "no"}),
    ("عنده سكري وخلص الدوا", {"red_flags": ("diabetes", "no_medicine")}),
    # Persian / Dari
    ("کمک کنید، یک نفر بیهوش است", {"help": True, "red_flags": ("unconscious",)}),
    ("پایش شکسته و نمی‌تواند راه برود", {"red_flags": ("broken_bone", "cannot_walk")}),
    ("ما پناهندگی می‌خواهیم", {"asylum": "yes"}),
    ("آب و غذا نداریم", {"needs": ("water", "food")}),
    ("هیچکس زخمی نیست", {"medical": False}),
    # Pashto, Sorani, Kurmanji
    ("مرسته وکړئ، اوبه او ډوډۍ نه لرو", {"help": True, "needs": ("water", "food")}),
    ("موږ پناه غواړو", {"asylum": "yes"}),
    ("یارمەتی، ئاو و نانمان نییە", {"help": True, "needs": ("water", "food")}),
    ("ژنەکەم سکپڕە و خوێنی لێ دێت", {"pregnant": True, "red_flags": ("bleeding", "pregnancy_pain")}),
    ("Alîkarî! Ava me tune, zarok dilerizin", {"help": True, "needs": ("water",), "red_flags": ("hypothermia",)}),
    ("Em penaberiyê dixwazin", {"asylum": "yes"}),
    # Urdu, Hindi, Tamil, Sinhala
    ("مدد کریں، وہ بے ہوش ہے", {"help": True, "red_flags": ("unconscious",)}),
    ("मदद करो, हमें पानी और खाना चाहिए", {"help": True, "needs": ("water", "food")}),
    ("वह गर्भवती है और उसे दर्द है", {"pregnant": True, "red_flags": ("pregnancy_pain",)}),
    ("உதவி! தண்ணீர் இல்லை", {"help": True, "needs": ("water",)}),
    ("උදව් කරන්න, වතුර නැහැ", {"help": True, "needs": ("water",)}),
    # French, Spanish
    ("au secours, il saigne et ne répond plus", {"help": True, "red_flags": ("unconscious", "bleeding")}),
    ("nous voulons demander l'asile", {"asylum": "yes"}),
    ("nous ne voulons pas l'asile", {"asylum": "no"}),
    ("personne n'est malade", {"medical": False}),
    ("on a besoin d'eau et de chaussures", {"needs": ("water", "shoes")}),
    ("ayuda, tiene la pierna rota y no puede caminar", {"help": True, "red_flags": ("broken_bone", "cannot_walk")}),
    ("queremos pedir asilo", {"asylum": "yes"}),
    ("estamos temblando y sin comida", {"red_flags": ("hypothermia",), "needs": ("food",)}),
    # Russian, Ukrainian, Belarusian
    ("помогите, у мужчины кровотечение", {"help": True, "red_flags": ("bleeding",)}),
    ("никто не ранен", {"medical": False}),
    ("хотим просить убежище", {"asylum": "yes"}),
    ("допоможіть, дружина вагітна, почалися перейми", {"pregnant": True, "red_flags": ("pregnancy_pain",)}),
    ("дапамажыце, ён без прытомнасці", {"help": True, "red_flags": ("unconscious",)}),
    # Lithuanian, Polish, Turkish
    ("padėkite, jis be sąmonės", {"help": True, "red_flags": ("unconscious",)}),
    ("pomocy, ma złamaną nogę", {"help": True, "red_flags": ("broken_bone",)}),
    ("chcemy azylu", {"asylum": "yes"}),
    ("yardım edin, kanaması var", {"help": True, "red_flags": ("bleeding",)}),
    ("kanama yok", {"red_flags": (), "medical": False}),
    ("iltica istiyoruz", {"asylum": "yes"}),
    ("sığınma istemiyoruz", {"asylum": "no"}),
    # Somali, Tigrinya, Amharic
    ("na caawiya, biyo iyo cunto ma haysanno", {"help": True, "needs": ("water", "food")}),
    ("waxaan rabnaa magangelyo", {"asylum": "yes"}),
    ("ሓግዙና፡ ማይ የብልናን", {"help": True, "needs": ("water",)}),
    ("እርዱን፣ ምግብ የለንም", {"help": True, "needs": ("food",)}),
    ("ዑቕባ ንደሊ", {"asylum": "yes"}),
    ("ጥገኝነት እንፈልጋለን", {"asylum": "yes"}),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_extract(text: str, expected: dict[str, Any]) -> None:
    facts = extract(text)
    assert {name: getattr(facts, name) for name in expected} == expected


def test_extract_reads_location_and_head_count() -> None:
    facts = extract("help!! we are 6, 2 kids, no water. 54.1234, 24.5678")
    assert facts.location == Point(54.1234, 24.5678)
    assert (facts.people_total, facts.children, facts.needs, facts.help) == (6, 2, ("water",), True)


@pytest.mark.parametrize("text", ["", "hello", "thank you!", "Is this the hotline?", "Can I apply for asylum here?"])
def test_nothing_to_extract(text: str) -> None:
    facts = extract(text)
    assert facts == Facts(asylum=None) and not facts.looks_like_distress() and facts.fields() == {}


def test_fields_speak_the_flows_names() -> None:
    facts = extract("we are 5 with 1 child, my wife is pregnant, my friend cannot walk, we want asylum, no food")
    assert facts.fields() == {
        "people.total": 5,
        "people.children": 1,
        "people.pregnant": True,
        "medical.emergency": True,
        "asylum_intent": "yes",
        "needs": ["food"],
        "medical.flags": ["cannot_walk"],
    }


def test_a_need_alone_is_distress() -> None:
    assert extract("no water").looks_like_distress()


def test_long_messages_are_read_only_so_far() -> None:
    assert extract("x " * 3000 + "we are bleeding").red_flags == ()


# --------------------------------------------------------------------------- every language has the words


@pytest.mark.parametrize("language", SERVED)
def test_every_language_names_every_red_flag_and_need(language: str) -> None:
    assert [code for code in RED_FLAGS if language not in FACTS["red_flags"][code]] == []
    assert [code for code in NEEDS if language not in FACTS["needs"][code]] == []


@pytest.mark.parametrize("language", SERVED)
@pytest.mark.parametrize("category", ["pregnant", "pain", "medical", "healthy", "asylum", "help", "thanks", "baby_age"])
def test_every_language_has_the_other_words(language: str, category: str) -> None:
    assert FACTS[category][language]


def test_vocabulary_only_names_served_languages() -> None:
    languages = {language for section in FACTS["red_flags"].values() for language in section}
    assert languages <= set(SERVED)


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_extract_never_raises_and_is_deterministic(text: str) -> None:
    facts = extract(text)
    assert facts == extract(text)
    assert list(facts.red_flags) == [code for code in RED_FLAGS if code in facts.red_flags]
    assert list(facts.needs) == [code for code in NEEDS if code in facts.needs]
    assert facts.asylum in (None, "yes", "no")
    assert not facts.red_flags or facts.medical is True


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([word for phrase, _ in CASES for word in phrase.split()] + ["54.1", "7", "?", "."])))
def test_extract_never_raises_on_word_soup(words: list[str]) -> None:
    text = " ".join(words)
    assert extract(text) == extract(text)


@pytest.mark.parametrize("text", ["1" * 20000, "a" * 20000, "ال" * 10000, "no " * 5000, "%" * 10000, "9% " * 5000])
def test_huge_inputs_give_facts(text: str) -> None:
    assert isinstance(extract(text), Facts)
