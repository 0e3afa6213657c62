"""Every SMS the bot can send a person fits the budget: one segment in English and French, two elsewhere."""

from __future__ import annotations

import pytest

from hotline.bot import languages, sms_cost


@pytest.mark.parametrize("code", languages.CODES)
def test_every_sms_fits_the_budget(code: str) -> None:
    costs = sms_cost.sms_costs(code)
    over = [
        f"{c.what}: {c.segments} ({c.encoding}, {len(c.text)} chars)\n{c.text}"
        for c in costs
        if c.segments > sms_cost.budget_of(c)
    ]
    assert not over, f"{code}: over budget:\n" + "\n---\n".join(over)


def test_the_walk_covers_every_question_and_the_first_message() -> None:
    whats = {c.what for c in sms_cost.sms_costs("en")}
    assert "first message" in whats
    for node in ("people", "children", "pregnant", "medical", "medical_details", "asylum", "needs"):
        assert f"{node}: asked again" in whats and f"{node}: moved on" in whats


def test_french_sms_is_sent_in_gsm7() -> None:
    assert {c.encoding for c in sms_cost.sms_costs("fr")} == {"GSM-7"}


def test_sms_questions_carry_numbered_options_and_no_buttons_words() -> None:
    first_yes_no = next(c for c in sms_cost.sms_costs("en") if c.what == "pregnant: asked again")
    assert "1. Yes\n2. No\n3. Don't know" in first_yes_no.text
    assert "Talk to a person" not in first_yes_no.text and "button" not in first_yes_no.text.lower()
