"""SMS answers, commands, one case across channels, the Telegram-to-SMS fallback, photos and live locations."""

from __future__ import annotations

from sqlmodel import select

from hotline.bot.channels.base import PermanentFailure
from hotline.bot.i18n import translate, use_locale
from hotline.storage import reports
from hotline.storage.models import Attachment, AuditEvent, Contact, Message, Report
from tests.bot.conftest import Harness

CHAT = "700042"
PHONE = "+447700900002"  # fictional UK number: English


def all_reports(harness: Harness) -> list[Report]:
    with harness.database.session() as session:
        return list(session.exec(select(Report).order_by(Report.id)).all())  # type: ignore[arg-type]


def start_on_telegram(harness: Harness) -> Report:
    harness.say(CHAT, "/start")
    harness.pin(CHAT, 54.61, 25.02)
    harness.say(CHAT, "3")
    return all_reports(harness)[0]


def test_a_case_started_on_telegram_continues_over_sms_with_its_code(harness: Harness) -> None:
    report = start_on_telegram(harness)
    spoken = report.reference.lower().replace("-", " ")
    asked = harness.send(PHONE, "text", {"text": f"my phone died, case {spoken}"}, channel="sms")
    assert report.reference in asked[-1].text and [b.label for row in asked[-1].buttons for b in row] == ["Yes", "No"]
    assert len(all_reports(harness)) == 1  # asking creates no second case
    assert "You are now on case" in harness.text(PHONE, "1")
    reply = harness.text(PHONE, "2")  # the children question, where the Telegram conversation stopped
    assert "pregnant" in reply.lower()
    (joined,) = all_reports(harness)
    assert joined.people == {"total": 3, "children": 2}
    with harness.database.session() as session:
        assert reports.channels_of(session, report_id=joined.id or 0) == ["sms", "telegram"]
        phone = session.exec(select(Contact).where(Contact.channel == "sms")).one()
        assert joined.last_contact_id == phone.id
        actions = [a.action for a in session.exec(select(AuditEvent)).all()]
        assert "joined_from_sms" in actions


def test_saying_no_keeps_the_cases_apart(harness: Harness) -> None:
    report = start_on_telegram(harness)
    harness.text(PHONE, f"case {report.reference}")
    assert "separate" in harness.text(PHONE, "2")
    harness.text(PHONE, "we are lost 54.7 25.3")
    assert len(all_reports(harness)) == 2


def test_a_failed_telegram_reply_goes_out_by_sms_when_the_case_has_a_phone(harness: Harness) -> None:
    report = start_on_telegram(harness)
    harness.text(PHONE, report.reference)
    harness.text(PHONE, "1")
    harness.telegram.failures.append(PermanentFailure("forbidden"))
    harness.say(CHAT, "no")  # answer on Telegram; Telegram refuses the reply
    fallback = harness.sms.texts(PHONE)[-1]
    assert "pregnant" in fallback.lower() or "doctor" in fallback.lower()
    with harness.database.session() as session:
        copy = session.exec(select(Message).where(Message.channel == "sms", Message.fallback_of_id.is_not(None))).one()  # type: ignore[union-attr]
        assert session.get(Message, copy.fallback_of_id).status == "failed"  # type: ignore[union-attr]


def test_sms_numbers_answer_questions_in_any_script_and_zero_asks_for_a_person(harness: Harness) -> None:
    harness.text(PHONE, "help")
    harness.text(PHONE, "54.6, 25.1")
    harness.text(PHONE, "5")
    harness.text(PHONE, "٢")  # two children, in Arabic-Indic digits
    assert "doctor" in harness.text(PHONE, "2").lower()  # pregnant: 2 = No
    assert "volunteer has been told" in harness.text(PHONE, "0")
    (report,) = all_reports(harness)
    assert report.people == {"total": 5, "children": 2, "pregnant": False}
    assert any(note["field"] == "handoff" for note in report.notes)


def test_sms_language_menu_is_answered_with_a_number(harness: Harness) -> None:
    harness.text(PHONE, "help")
    menu = harness.send(PHONE, "text", {"text": "language"}, channel="sms")[-1]
    labels = [b.label for row in menu.buttons for b in row]
    assert labels[6] == "Français"
    assert "Merci" in harness.text(PHONE, "7")
    (report,) = all_reports(harness)
    assert report.language == "fr"


def test_status_help_and_erase(harness: Harness) -> None:
    report = start_on_telegram(harness)
    assert f"Your case {report.reference} is open" in harness.say(CHAT, "/status")
    assert "/erase" in harness.say(CHAT, "/help")
    sent_before = [m for a, m in harness.telegram.sent if a == CHAT and m.text]
    harness.say(CHAT, "/erase")
    erase = next(m for a, m in harness.telegram.sent if a == CHAT and m.delete_message_ids)
    assert len(erase.delete_message_ids) >= len(sent_before)
    assert "deleted" in harness.telegram.texts(CHAT)[-1]
    assert "cannot delete SMS" in harness.text(PHONE, "/erase")


def test_an_older_live_location_fix_never_replaces_a_fresher_one(harness: Harness) -> None:
    harness.say(CHAT, "/start")
    fresh = {"lat": 54.62, "lon": 25.03, "live": True, "fix_at": "2026-01-01T10:05:00+00:00"}
    late = {"lat": 54.50, "lon": 25.00, "live": True, "fix_at": "2026-01-01T10:01:00+00:00"}
    harness.send(CHAT, "location", fresh)
    harness.send(CHAT, "location", late)
    (report,) = all_reports(harness)
    assert (report.location["lat"], report.location["lon"]) == (54.62, 25.03)


def test_a_photo_is_kept_for_the_case_and_answered(harness: Harness) -> None:
    start_on_telegram(harness)
    photo = {
        "media": "photo",
        "file_id": "file-abc",
        "size": 1234,
        "caption": "this is where we are",
        "message_id": "9",
    }
    reply = harness.send(CHAT, "media", photo)
    assert "saved this for the volunteer" in reply[-1].text
    with harness.database.session() as session:
        attachment = session.exec(select(Attachment)).one()
        assert (attachment.kind, attachment.source, attachment.status) == (
            "photo",
            {"channel": "telegram", "file_id": "file-abc"},
            "pending",
        )
    (report,) = all_reports(harness)
    assert {"field": "media", "text": "this is where we are"}.items() <= report.notes[-1].items()


def test_help_in_any_language_starts_the_questions_in_that_language(harness: Harness) -> None:
    where = "Where are you? Send the coordinates or a map link."
    for phone, word, code in (
        ("+447700900003", "HELP", "en"),
        ("+34600000003", "ayuda", "es"),
        ("+9647700000003", "مساعدة", "ar"),
    ):
        reply = harness.text(phone, word)
        with use_locale(code):
            assert translate(where) in reply, (code, reply)
