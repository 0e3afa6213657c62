"""Language detection of first messages, locales and phone numbers (hotline.flows.detect)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.flows.detect import SERVED, detect_language, language_from_code, language_from_phone

CORPUS: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "first_messages.yaml").read_text(encoding="utf-8"))
MESSAGES: list[dict[str, str]] = CORPUS["messages"]
UNDETERMINED: list[str] = CORPUS["undetermined"]


def test_corpus_covers_every_served_language() -> None:
    counts = Counter(message["lang"] for message in MESSAGES)
    assert len(MESSAGES) >= 150
    assert set(counts) == set(SERVED)
    assert min(counts.values()) >= 6, counts


def test_accuracy_overall_and_per_language() -> None:
    got = [(message, detect_language(message["text"])) for message in MESSAGES]
    confusions = [f"{m['text']!r}: expected {m['lang']}, got {g}" for m, g in got if g != m["lang"]]
    right = Counter(m["lang"] for m, g in got if g == m["lang"])
    weak = {lang: right[lang] for lang in SERVED if right[lang] < 4}
    accuracy = 1 - len(confusions) / len(MESSAGES)
    report = "\n".join(confusions)
    assert accuracy >= 0.9, f"accuracy {accuracy:.1%}\n{report}"
    assert not weak, f"languages with fewer than 4 right: {weak}\n{report}"


@pytest.mark.parametrize("text", UNDETERMINED)
def test_too_little_to_tell(text: str) -> None:
    assert detect_language(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SOS", None),
        ("سلام", None),
        ("help 54.6871, 25.2797", "en"),
        ("мы в лесу 🆘🆘 https://maps.example/?q=54.6,25.2", "ru"),
        ("ساعدونا we are in forest نحن في الغابة", "ar"),
    ],
)
def test_noise_and_mixed_scripts(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("fa-IR", "fa"),
        ("prs", "fa"),
        ("ku", "kmr"),
        ("ku-Arab-IQ", "ckb"),
        ("ckb", "ckb"),
        ("en-US", "en"),
        ("en_GB", "en"),
        ("ar-SY", "ar"),
        ("RU", "ru"),
        ("be-BY", "be"),
        ("ti-ER", "ti"),
        ("pbt", "ps"),
        ("de", None),
        ("zz", None),
        ("", None),
        (None, None),
    ],
)
def test_language_from_code(code: str | None, expected: str | None) -> None:
    assert language_from_code(code) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+370 600 00000", "lt"),
        ("+48-500-000-000", "pl"),
        ("+371 20000000", None),
        ("+372 5000 0000", None),
        ("+375 29 000 00 00", "ru"),
        ("+7 900 000 00 00", "ru"),
        ("+380 50 000 0000", "uk"),
        ("00964 750 000 0000", "ar"),
        ("+20 100 000 0000", "ar"),
        ("+212 600 000000", "ar"),
        ("+98 912 000 0000", "fa"),
        ("+93 70 000 0000", "fa"),
        ("+92 300 0000000", "ur"),
        ("+91 90000 00000", "hi"),
        ("+94 77 000 0000", "si"),
        ("+90 500 000 00 00", "tr"),
        ("+252 61 000 0000", "so"),
        ("+291 7 000 000", "ti"),
        ("+251 91 000 0000", "am"),
        ("+243 81 000 0000", "fr"),
        ("+237 6 00 00 00 00", "fr"),
        ("+53 5 000 0000", "es"),
        ("+1 (555) 000-0000", "en"),
        ("+234 800 000 0000", "en"),
        ("37060000000", "lt"),
        ("+49 30 000000", None),
        ("8 600 00000", None),
        ("060000000", None),
        ("+", None),
        ("call me", None),
        ("", None),
    ],
)
def test_language_from_phone(number: str, expected: str | None) -> None:
    assert language_from_phone(number) == expected


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_detect_language_never_raises(text: str) -> None:
    assert detect_language(text) in (*SERVED, None)
