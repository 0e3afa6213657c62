"""The dispatcher on SQLite and PostgreSQL: a whole distress report, paging, acknowledgement, failures."""

from __future__ import annotations

import pytest
from sqlmodel import select

from hotline.bot.dispatcher import Dispatcher
from hotline.storage import reports
from hotline.storage.models import AuditEvent, Conversation, InboundEvent, Message, Page, Report
from tests.bot.conftest import Harness

PERSON = "700100"
VOLUNTEER = "900001"


def only_report(harness: Harness) -> Report:
    with harness.database.session() as session:
        found = session.exec(select(Report)).all()
    assert len(found) == 1
    return found[0]


def pages_to(harness: Harness, chat: str) -> list[str]:
    return [m.text for a, m in harness.telegram.sent if a == chat and m.callback_query_id is None]


def test_a_whole_distress_report_is_saved_answer_by_answer(harness: Harness) -> None:
    harness.add_volunteer(VOLUNTEER)
    first = harness.start(PERSON)
    assert "Send your location" in first
    assert "How many people" in harness.pin(PERSON, 54.1234, 24.4567)
    assert "How many of them are children" in harness.say(PERSON, "we are 7")
    assert "pregnant" in harness.say(PERSON, "2")
    assert any("doctor" in m.text for m in harness.press(PERSON, "a:pregnant:yes") if m.callback_query_id is None)
    assert "What is wrong" in harness.say(PERSON, "yes")
    assert "asylum" in harness.say(PERSON, "my sister has a fever")
    assert "What do you need" in harness.say(PERSON, "yes")
    final = harness.say(PERSON, "water, food")
    report = only_report(harness)
    assert report.reference in final and "Stay where you are" in final
    assert report.location["lat"] == pytest.approx(54.1234) and report.location["source"] == "pin"
    assert report.people == {"total": 7, "children": 2, "pregnant": True}
    assert report.medical == {"emergency": True, "details": "my sister has a fever"}
    assert report.asylum_intent == "yes"
    assert report.needs == ["water", "food"]
    assert report.urgent


def test_the_volunteer_is_paged_at_the_first_fact_and_the_page_is_edited_after(harness: Harness) -> None:
    harness.add_volunteer(VOLUNTEER)
    harness.start(PERSON)
    assert pages_to(harness, VOLUNTEER) == []
    harness.pin(PERSON, 54.5, 25.1)
    pages = [m for a, m in harness.telegram.sent if a == VOLUNTEER]
    assert len(pages) == 1 and pages[0].edit_message_id is None
    assert pages[0].buttons[0][0].label == "Acknowledge"
    assert "54.5" not in pages[0].text and "25.1" not in pages[0].text
    harness.say(PERSON, "4")
    edits = [m for a, m in harness.telegram.sent if a == VOLUNTEER][1:]
    assert len(edits) == 1 and edits[0].edit_message_id is not None
    assert "People: 4" in edits[0].text


def test_a_battery_that_dies_after_two_answers_still_leaves_a_report_and_a_page(harness: Harness) -> None:
    harness.add_volunteer(VOLUNTEER)
    harness.say(PERSON, "help us please we are in the forest")
    harness.say(PERSON, "54.32 24.11")
    report = only_report(harness)
    assert report.location["source"] == "text"
    assert report.notes[0]["text"] == "help us please we are in the forest"
    assert report.paged_at is not None
    assert any("Distress report" in text for text in pages_to(harness, VOLUNTEER))


def test_acknowledgement_first_wins_and_sends_the_details(harness: Harness) -> None:
    harness.add_volunteer(VOLUNTEER)
    harness.start(PERSON)
    harness.pin(PERSON, 54.2, 24.9)
    with harness.database.session() as session:
        page = session.exec(select(Page)).one()
    sent = harness.press(VOLUNTEER, f"ack:{page.id}")
    assert any(m.callback_query_id and "You have this case" in m.text for m in sent)
    assert any(m.location == (54.2, 24.9) for m in sent)
    assert any("54.200000, 24.900000" in m.text for m in sent)
    again = harness.press(VOLUNTEER, f"ack:{page.id}")
    assert [m.text for m in again if m.callback_query_id] == ["You already have this case."]
    report = only_report(harness)
    assert report.status == "acknowledged" and report.acknowledged_at is not None
    with harness.database.session() as session:
        actions = [a.action for a in session.exec(select(AuditEvent)).all()]
    assert actions.count("acknowledged") == 1


def test_unreadable_answers_are_asked_again_once_then_kept_as_notes(harness: Harness) -> None:
    harness.start(PERSON)
    harness.pin(PERSON, 54.2, 24.9)
    assert "just a number" in harness.say(PERSON, "many of us")
    moved_on = harness.say(PERSON, "lots and lots")
    assert "kept what you wrote" in moved_on and "children" in moved_on
    report = only_report(harness)
    assert [(n["field"], n["text"]) for n in report.notes] == [
        ("people.total", "many of us"),
        ("people.total", "lots and lots"),
    ]


def test_asking_for_a_person_pages_even_before_any_fact(harness: Harness) -> None:
    harness.add_volunteer(VOLUNTEER)
    harness.start(PERSON)
    reply = harness.press(PERSON, "h")
    assert any("volunteer has been told" in m.text for m in reply)
    assert any("Asked to talk to a person" in text for text in pages_to(harness, VOLUNTEER))


def test_a_fresh_location_replaces_the_old_one_at_any_point(harness: Harness) -> None:
    harness.start(PERSON)
    harness.pin(PERSON, 54.2, 24.9)
    harness.say(PERSON, "3")
    reply = harness.pin(PERSON, 54.3, 25.0)
    assert "location is updated" in reply and "children" in reply
    assert only_report(harness).location["lat"] == pytest.approx(54.3)


def test_duplicate_provider_ids_are_stored_once(harness: Harness) -> None:
    assert harness.store(PERSON, "text", {"text": "hi"}, provider_id="42") is not None
    assert harness.store(PERSON, "text", {"text": "hi"}, provider_id="42") is None
    with harness.database.session() as session:
        assert len(session.exec(select(InboundEvent)).all()) == 1


def test_a_crash_mid_event_keeps_nothing_and_the_event_is_retried(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.start(PERSON)
    harness.store(PERSON, "location", {"lat": 54.2, "lon": 24.9, "live": False})
    calls = {"n": 0}
    original = reports.save_field

    def crash_once(report: Report, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("power cut")
        original(report, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reports, "save_field", crash_once)
    assert harness.dispatcher.process_next()
    assert only_report(harness).location is None
    assert harness.dispatcher.process_next()
    assert only_report(harness).location["lat"] == pytest.approx(54.2)
    with harness.database.session() as session:
        event = session.exec(select(InboundEvent).order_by(InboundEvent.id.desc())).first()  # type: ignore[union-attr]
        assert event is not None and event.status == "done" and event.attempts == 1


def test_an_event_that_always_fails_is_set_aside_and_the_person_is_told(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.start(PERSON)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(Dispatcher, "_person_event", broken)
    replies = harness.say(PERSON, "hello?")
    assert "something went wrong on our side" in replies
    with harness.database.session() as session:
        event = session.exec(select(InboundEvent).where(InboundEvent.status == "failed")).one()
        assert event.attempts == 3 and event.error == "RuntimeError"


def test_every_message_is_logged_encrypted_and_the_state_is_kept(harness: Harness) -> None:
    harness.start(PERSON)
    harness.say(PERSON, "near the big lake")
    with harness.database.session() as session:
        inbound = session.exec(select(Message).where(Message.direction == "in")).all()
        conversation = session.exec(select(Conversation)).one()
    assert [m.body.get("text") for m in inbound if m.kind != "button"] == ["/start", "near the big lake"]
    assert conversation.node == "people"


def test_a_needs_button_pressed_after_the_end_adds_to_the_saved_needs(harness: Harness) -> None:
    harness.start(PERSON)
    for answer in ("54.2 24.9", "3", "0", "no", "no", "no", "water and food"):
        harness.say(PERSON, answer)
    assert only_report(harness).needs == ["water", "food"]
    harness.press(PERSON, "a:needs:shoes")
    assert only_report(harness).needs == ["water", "food", "shoes"]


def acknowledge(harness: Harness) -> None:
    with harness.database.session() as session:
        page = session.exec(select(Page)).one()
    harness.press(VOLUNTEER, f"ack:{page.id}")


def test_after_acknowledgement_the_owner_gets_each_new_pin_and_new_words(harness: Harness) -> None:
    harness.add_volunteer(VOLUNTEER)
    harness.start(PERSON)
    harness.pin(PERSON, 54.5, 25.1)
    acknowledge(harness)
    before = len(harness.telegram.sent)
    harness.pin(PERSON, 54.9, 25.9)
    harness.say(PERSON, "we moved to the river")
    news = [m for a, m in harness.telegram.sent[before:] if a == VOLUNTEER and m.edit_message_id is None]
    assert any(m.location == (54.9, 25.9) for m in news)
    assert any("we moved to the river" in m.text and only_report(harness).reference in m.text for m in news)


def test_asking_for_a_person_after_the_first_page_rings_again_instead_of_a_silent_edit(harness: Harness) -> None:
    harness.add_volunteer(VOLUNTEER)
    harness.start(PERSON)
    harness.pin(PERSON, 54.5, 25.1)
    before = len(harness.telegram.sent)
    harness.press(PERSON, "h")
    fresh = [m for a, m in harness.telegram.sent[before:] if a == VOLUNTEER and m.edit_message_id is None]
    assert len(fresh) == 1 and "Asked to talk to a person" in fresh[0].text
    assert fresh[0].buttons[0][0].label == "Acknowledge"


def test_the_details_fit_in_one_telegram_message_however_much_was_written(harness: Harness) -> None:
    harness.add_volunteer(VOLUNTEER)
    harness.say(PERSON, "help " * 900)
    harness.say(PERSON, "near the lake " * 300)
    harness.pin(PERSON, 54.5, 25.1)
    acknowledge(harness)
    details = [m for a, m in harness.telegram.sent if a == VOLUNTEER and "is yours" in m.text]
    assert len(details) == 1 and len(details[0].text) <= 4096 and "54.500000, 25.100000" in details[0].text


def test_a_message_set_aside_pages_the_volunteer_with_a_note(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    harness.add_volunteer(VOLUNTEER)
    monkeypatch.setattr("hotline.bot.dispatcher.RETRY_PAUSE", 0)
    harness.start(PERSON)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(Dispatcher, "_person_event", broken)
    harness.say(PERSON, "54.5 25.1")
    report = only_report(harness)
    assert any(note["field"] == "unprocessed" for note in report.notes)
    assert any(report.reference in text for text in pages_to(harness, VOLUNTEER))


def test_the_language_menu_is_sent_once(harness: Harness) -> None:
    first = harness.send(PERSON, "command", {"text": "/start", "language_code": "de"})
    second = harness.send(PERSON, "location", {"lat": 54.5, "lon": 25.1, "live": False})
    assert len(first[0].buttons) == 7 and all(len(m.buttons) != 7 for m in second)


def test_live_location_ticks_update_the_report_without_messages(harness: Harness) -> None:
    harness.start(PERSON)
    harness.pin(PERSON, 54.5, 25.1)
    sent = harness.send(PERSON, "location", {"lat": 54.51, "lon": 25.11, "live": True})
    assert sent == []
    assert only_report(harness).location["source"] == "live"


def test_with_nobody_on_duty_it_is_recorded_once_per_report(harness: Harness) -> None:
    for text in ("/start", "54.5 25.1", "3", "1"):
        harness.say(PERSON, text)
    with harness.database.session() as session:
        actions = [a.action for a in session.exec(select(AuditEvent)).all()]
    assert actions.count("no_one_on_duty") == 1 and "paged" not in actions
