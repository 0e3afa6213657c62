"""Catalogues: the templates match the code and the flows, and every served language is complete."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from hotline.bot import languages
from hotline.bot.i18n import catalogue, translate, use_locale
from hotline.catalogues import TARGETS, Problem, _check_one, check, extract, read, template_path, write


def msgids(catalog: Catalog) -> set[str]:
    return {str(message.id) for message in catalog if message.id}


@pytest.mark.parametrize("domain", sorted(TARGETS))
def test_the_template_is_up_to_date_with_the_code_and_the_flows(domain: str) -> None:
    assert msgids(extract(domain)) == msgids(read(template_path(domain))), "run scripts/update-catalogues"


def test_the_person_template_has_flow_texts_and_code_texts_but_no_volunteer_texts() -> None:
    texts = msgids(read(template_path("messages")))
    assert "How many people are with you, counting yourself?" in texts
    assert "Please send just a number, for example 5." in texts
    assert "Acknowledge" not in texts and "Acknowledge" in msgids(read(template_path("volunteer")))


def test_every_served_language_is_complete() -> None:
    problems = check()
    assert problems == [], "\n".join(map(str, problems[:40]))


def test_every_person_language_and_lithuanian_volunteers_are_covered() -> None:
    assert set(TARGETS["messages"]) | {"en"} == set(languages.CODES)
    assert "lt" in TARGETS["volunteer"]


@pytest.mark.parametrize("code", [c for c in languages.CODES if c != "en"])
def test_translations_are_really_in_that_language(code: str) -> None:
    with use_locale(code):
        translated = translate("How many people are with you, counting yourself?")
    assert translated.strip(" \u200f") and "How many" not in translated


def test_the_check_finds_what_is_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = Catalog(locale="fr", fuzzy=False)
    catalog.add("Hello {reference}", "Bonjour {référence}")
    catalog.add("Untouched", "")
    catalog.add("Gone", "Parti")
    catalog.add("Unsure", "Pas sûr", flags=["fuzzy"])
    path = tmp_path / "fr" / "LC_MESSAGES" / "messages.po"
    write(catalog, path, header=True)
    monkeypatch.setattr("hotline.catalogues.catalogue_path", lambda domain, language: path)
    found = {
        (p.message, p.what) for p in _check_one("messages", "fr", {"Hello {reference}", "Untouched", "Unsure", "New"})
    }
    assert found == {
        ("Hello {reference}", "placeholders differ"),
        ("Untouched", "untranslated"),
        ("Gone", "stale (no longer in the template)"),
        ("Unsure", "fuzzy"),
        ("New", "not in the catalogue"),
    }
    assert isinstance(next(iter(_check_one("messages", "fr", set()))), Problem)


def test_a_missing_catalogue_falls_back_to_english() -> None:
    with use_locale("xx"):
        assert translate("Done") == "Done"
    assert catalogue("xx").gettext("Done") == "Done"
