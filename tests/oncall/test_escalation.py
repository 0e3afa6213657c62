"""Paging end to end with the shipped escalation policy: who is paged, on which channel, when, and never twice.

The policy: primary by Telegram at once, by SMS after 1 minute, by phone after 2; backup at 5 minutes
(same ladder); coordinators at 10; the whole list again at 20 and 40 minutes. Urgent reports halve
every wait. A taken case that is not closed within 2 hours is paged again.

Ana is primary (Telegram and phone), Bo is backup (Telegram and phone), Cy is the coordinator
(Telegram only). Every test says what volunteers receive and fails on anything else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from hotline.storage import rota, staff
from hotline.storage.db import Database
from hotline.storage.models import AuditEvent, Incident, Message, Page, Volunteer
from tests.conftest import FakeClock, put_on_duty
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.oncall.rig import Rig, Want, rig_settings

ANA_CHAT, ANA_PHONE = "900001", "+37060000001"
BO_CHAT, BO_PHONE = "900002", "+37060000002"
CY_CHAT = "900003"
SMS_ONLY_PHONE = "+37060000004"
PERSON = "500001"
PIN = (54.61, 25.02)


@pytest.fixture
async def rig(
    database: Database, settings_values: dict[str, str], clock: FakeClock, fake: FakeBotAPI, twilio: FakeTwilioAPI
) -> AsyncIterator[Rig]:
    settings = rig_settings(settings_values, fake, twilio)
    put_on_duty(database, chat=ANA_CHAT, phone=ANA_PHONE, name="Ana")
    put_on_duty(database, chat=BO_CHAT, phone=BO_PHONE, name="Bo", layer="backup")
    register(database, chat=CY_CHAT, name="Cy", role="coordinator")
    value = Rig(database, settings, clock, fake, twilio, volunteers={ANA_CHAT, ANA_PHONE, BO_CHAT, BO_PHONE, CY_CHAT})
    await value.start()
    yield value
    await value.close()


def register(
    database: Database, *, chat: str | None, name: str, phone: str | None = None, role: str = "volunteer"
) -> int:
    """Add a volunteer who is on no rota layer (a coordinator, or someone an override will bring in)."""
    with database.session() as session:
        volunteer = staff.add_volunteer(session, keyring=database.keyring, name=name, telegram_chat=chat, phone=phone,
                                        languages="en", now=datetime(2026, 1, 1, tzinfo=UTC), role=role)  # fmt: skip
        return volunteer.id or 0


def page(to: str, text: str = "Distress report") -> Want:
    return Want("message", to, text)


def sms_page(to: str, code: str = "1A") -> Want:
    return Want("sms", to, f"Reply {code} to take this case")


def call(to: str) -> Want:
    return Want("call", to, "Press 1 to take the case")


def toast(text: str) -> Want:
    return Want("toast", "", text)


def ack_data(seen_page: object) -> str:
    data: tuple[str, ...] = seen_page.data  # type: ignore[attr-defined]
    return next(d for d in data if d.startswith("ack:"))


async def report(rig: Rig) -> None:
    await rig.pin(PERSON, *PIN)


async def test_a_report_pages_the_primary_at_once_without_the_location(rig: Rig) -> None:
    await report(rig)
    (seen,) = rig.expect(page(ANA_CHAT))
    assert "#1" in seen.text and "54.61" not in seen.text and "Ana" not in seen.text
    assert seen.data[0].startswith("ack:") and seen.data[1].startswith("decline:")


async def test_nobody_answers_so_every_step_runs_once_in_order_and_the_whole_list_repeats(rig: Rig) -> None:
    await report(rig)
    rig.expect(page(ANA_CHAT))
    await rig.wait(seconds=59)
    rig.expect()
    await rig.wait(seconds=1)
    rig.expect(sms_page(ANA_PHONE))
    await rig.wait(seconds=60)
    rig.expect(call(ANA_PHONE))
    await rig.wait(seconds=180)
    rig.expect(page(BO_CHAT))
    await rig.wait(seconds=60)
    rig.expect(sms_page(BO_PHONE))
    await rig.wait(seconds=60)
    rig.expect(call(BO_PHONE))
    await rig.wait(seconds=180)
    rig.expect(page(CY_CHAT))
    await rig.wait(seconds=600)
    rig.expect(page(ANA_CHAT))  # the second time round
    await rig.wait(seconds=3600)  # catching up after a long pause sends each missed step once, not more
    seen = rig.seen()
    assert len([s for s in seen if s.kind == "message" and s.to == CY_CHAT]) == 2
    await rig.wait(hours=5)
    rig.expect()  # three times round, then it stops (and coordinators were told three times)
    with rig.database.session() as session:
        actions = [a.action for a in session.exec(select(AuditEvent)).all()]
        pages = session.exec(select(Page)).all()
    assert actions.count("escalation_exhausted") == 1
    identities = [(p.incident_id, p.step, p.repeat, p.volunteer_id, p.channel) for p in pages]
    assert len(identities) == len(set(identities)) == 3 * 7


async def test_acknowledged_by_button_the_case_details_follow_and_paging_stops(rig: Rig) -> None:
    await report(rig)
    (seen,) = rig.expect(page(ANA_CHAT))
    await rig.press(ANA_CHAT, ack_data(seen))
    details = rig.expect(toast("You have this case"), Want("pin", ANA_CHAT), Want("message", ANA_CHAT, "54.610000"),
                         Want("edit", ANA_CHAT, "Taken by Ana"))  # fmt: skip
    assert any(d.startswith("say:") for d in details[2].data) and any(d.startswith("resolve:") for d in details[2].data)
    await rig.wait(minutes=119)
    rig.expect()  # no SMS, no call, no backup: someone has it


async def test_a_second_acknowledgement_is_told_who_has_it(rig: Rig) -> None:
    await report(rig)
    (ana_page,) = rig.expect(page(ANA_CHAT))
    await rig.wait(minutes=5)
    bo_page = rig.expect(sms_page(ANA_PHONE), call(ANA_PHONE), page(BO_CHAT))[2]
    await rig.press(BO_CHAT, ack_data(bo_page))
    rig.expect(toast("You have this case"), Want("pin", BO_CHAT), Want("message", BO_CHAT, "is yours"),
               Want("edit", BO_CHAT, "Taken by Bo"), Want("edit", ANA_CHAT, "Taken by Bo"))  # fmt: skip
    await rig.press(ANA_CHAT, ack_data(ana_page))
    rig.expect(toast("Bo has already taken this case"))


async def test_acknowledged_by_sms_code_with_arabic_digits_and_spaces(rig: Rig) -> None:
    await report(rig)
    await rig.wait(minutes=1)
    rig.expect(page(ANA_CHAT), sms_page(ANA_PHONE))
    await rig.text(ANA_PHONE, " ١ A ")
    rig.expect(Want("pin", ANA_CHAT), Want("message", ANA_CHAT, "is yours"), Want("edit", ANA_CHAT, "Taken by Ana"))
    await rig.text(ANA_PHONE, "1a")
    rig.expect(Want("sms", ANA_PHONE, "You already have this case"))


async def test_an_unknown_sms_gets_the_open_codes_and_a_closed_alert_changes_nothing(rig: Rig) -> None:
    await report(rig)
    await rig.wait(minutes=1)
    rig.expect(page(ANA_CHAT), sms_page(ANA_PHONE))
    await rig.text(ANA_PHONE, "what is this?")
    (answer,) = rig.expect(Want("sms", ANA_PHONE, "Open alerts: 1 "))
    assert "(waiting)" in answer.text
    await rig.text(ANA_PHONE, "7a")
    rig.expect(Want("sms", ANA_PHONE, "There is no alert 7."))
    await rig.text(ANA_PHONE, "1c")  # nobody has taken it: a paged volunteer may close it (a false alarm)
    rig.expect(Want("sms", ANA_PHONE, "is closed"), Want("edit", ANA_CHAT, "Closed"))
    await rig.text(ANA_PHONE, "1a")
    rig.expect(Want("sms", ANA_PHONE, "already closed"))
    await rig.wait(hours=3)
    rig.expect()


async def test_acknowledged_by_keypress_on_the_page_call(rig: Rig) -> None:
    await report(rig)
    await rig.wait(minutes=2)
    rig.expect(page(ANA_CHAT), sms_page(ANA_PHONE), call(ANA_PHONE))
    twiml = await rig.keypress(ANA_PHONE, "1")
    assert "You have this case" in twiml
    rig.expect(Want("pin", ANA_CHAT), Want("message", ANA_CHAT, "is yours"), Want("edit", ANA_CHAT, "Taken by Ana"))
    await rig.wait(minutes=30)
    rig.expect()
    with rig.database.session() as session:
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "acknowledged")).one()
    assert audit.actor.startswith("volunteer:") and audit.detail == "alert 1 via call"


async def test_a_decline_pages_the_backup_at_once_and_leaves_the_decliner_out(rig: Rig) -> None:
    await report(rig)
    (seen,) = rig.expect(page(ANA_CHAT))
    decline = next(d for d in seen.data if d.startswith("decline:"))
    await rig.press(ANA_CHAT, decline)
    rig.expect(toast("Declined"), page(BO_CHAT), Want("edit", ANA_CHAT, "Distress report"))
    await rig.wait(minutes=1)
    rig.expect(sms_page(BO_PHONE))  # Bo's ladder goes on; Ana gets no SMS and no call
    await rig.wait(minutes=1)
    rig.expect(call(BO_PHONE))


async def test_escalate_and_close_from_the_case_buttons(rig: Rig) -> None:
    await report(rig)
    (seen,) = rig.expect(page(ANA_CHAT))
    await rig.press(ANA_CHAT, ack_data(seen))
    details = rig.expect(toast("You have"), Want("pin", ANA_CHAT), Want("message", ANA_CHAT, "is yours"),
                         Want("edit", ANA_CHAT, "Taken by Ana"))[2]  # fmt: skip
    escalate = next(d for d in details.data if d.startswith("escalate:"))
    await rig.press(ANA_CHAT, escalate)  # the owner wants more hands: the backup is paged now
    rig.expect(toast("being paged now"), page(BO_CHAT), Want("edit", ANA_CHAT, "Distress report"))
    await rig.press(ANA_CHAT, next(d for d in details.data if d.startswith("resolve:")))
    rig.expect(toast("is closed"), Want("edit", ANA_CHAT, "Closed"), Want("edit", BO_CHAT, "Closed"))
    await rig.wait(hours=3)
    rig.expect()


async def test_a_taken_case_not_closed_in_two_hours_is_paged_again(rig: Rig) -> None:
    await report(rig)
    (seen,) = rig.expect(page(ANA_CHAT))
    await rig.press(ANA_CHAT, ack_data(seen))
    rig.expect(toast("You have"), Want("pin", ANA_CHAT), Want("message", ANA_CHAT), Want("edit", ANA_CHAT))
    await rig.wait(hours=2)
    (again,) = rig.expect(page(ANA_CHAT, "not closed yet"))
    await rig.press(ANA_CHAT, ack_data(again))  # still on it: taken again, the clock starts over
    rig.expect(toast("You have"), Want("pin", ANA_CHAT), Want("message", ANA_CHAT), Want("edit", ANA_CHAT))
    await rig.wait(minutes=119)
    rig.expect()


async def test_an_urgent_report_halves_every_wait(rig: Rig) -> None:
    await rig.write(PERSON, "help")  # a cry for help is enough to page
    rig.expect(page(ANA_CHAT))
    await rig.pin(PERSON, *PIN)
    rig.expect(Want("edit", ANA_CHAT, "Location: pin"))
    await rig.write(PERSON, "5")
    rig.expect(Want("edit", ANA_CHAT, "People: 5"))
    await rig.write(PERSON, "2")  # two children: urgent, so the page rings again
    rig.expect(page(ANA_CHAT, "URGENT: children"))
    await rig.wait(seconds=30)
    rig.expect(sms_page(ANA_PHONE))
    await rig.wait(seconds=120)
    rig.expect(call(ANA_PHONE), page(BO_CHAT))


async def test_a_volunteer_with_only_a_phone_is_paged_by_sms_at_once_and_never_twice(
    rig: Rig, database: Database, clock: FakeClock
) -> None:
    with database.session() as session:
        rota.cover_now(session, volunteer_id=_only_phone(database), now=clock(), created_by="test")
    rig.volunteers.add(SMS_ONLY_PHONE)
    await report(rig)
    rig.expect(sms_page(SMS_ONLY_PHONE))
    await rig.wait(minutes=1)
    rig.expect()  # the SMS step finds the SMS already sent in this round
    await rig.wait(minutes=1)
    rig.expect(call(SMS_ONLY_PHONE))


def _only_phone(database: Database) -> int:
    return register(database, chat=None, phone=SMS_ONLY_PHONE, name="Di")


async def test_an_override_pages_whoever_covers_the_night(rig: Rig, database: Database, clock: FakeClock) -> None:
    di = register(database, chat="900004", name="Di")
    rig.volunteers.add("900004")
    start = clock() + timedelta(hours=1)
    with database.session() as session:
        end = start + timedelta(hours=8)
        rota.add_override(
            session, layer="primary", volunteer_id=di, starts_at=start, ends_at=end, created_by="test", now=clock()
        )
    await report(rig)
    rig.expect(page(ANA_CHAT))
    await rig.text(ANA_PHONE, "1c")
    rig.expect(Want("sms", ANA_PHONE, "is closed"), Want("edit", ANA_CHAT, "Closed"))
    clock.advance(hours=1)
    await rig.pin("500002", *PIN)
    rig.expect(page("900004", "#2"))  # Di covers the night; Ana is not woken
    await rig.write("900004", "2c")
    rig.expect(Want("message", "900004", "is closed"), Want("edit", "900004", "Closed"))
    clock.advance(hours=8)
    await rig.pin("500003", *PIN)
    rig.expect(page(ANA_CHAT, "#3"))  # the morning: Ana again; alerts 1 and 2 rest 12 hours before reuse


@pytest.mark.parametrize(
    ("local_day", "offset"), [("2027-03-28", 3), ("2027-10-31", 2)], ids=["spring-forward", "fall-back"]
)
async def test_a_daily_rota_hands_over_at_nine_on_the_wall_clock_on_dst_days(
    rig: Rig, database: Database, clock: FakeClock, local_day: str, offset: int
) -> None:
    """The turn that began at 09:00 the day before ends at 09:00 local time, whatever the clocks did at night."""
    day = datetime.fromisoformat(local_day).replace(tzinfo=UTC)
    ana, bo = _ids(database)
    with database.session() as session:
        for cover in rota.list_overrides(session, now=clock(), layer="primary"):
            rota.cancel_override(session, override_id=cover.id or 0, now=clock())
        rota.add_rotation(session, name="days", layer="primary", every="day", handoffs="09:00", members=f"{ana},{bo}",
                          starts_on=(day - timedelta(days=1)).date().isoformat(), now=clock())  # fmt: skip
    clock.now = day + timedelta(hours=9 - offset, minutes=-1)  # 08:59 local
    await report(rig)
    (seen,) = rig.expect(page(ANA_CHAT))
    await rig.press(ANA_CHAT, ack_data(seen))
    rig.expect(toast("You have"), Want("pin", ANA_CHAT), Want("message", ANA_CHAT), Want("edit", ANA_CHAT))
    clock.now = day + timedelta(hours=9 - offset, minutes=1)  # 09:01 local: Bo's turn
    await rig.pin("500002", *PIN)
    rig.expect(page(BO_CHAT, "#2"))


def _ids(database: Database) -> tuple[int, int]:
    with database.session() as session:
        chats = {str(v.telegram_chat): v.id or 0 for v in session.exec(select(Volunteer)).all()}
    return chats[ANA_CHAT], chats[BO_CHAT]


async def test_incidents_are_listed_with_their_paging_history(rig: Rig) -> None:
    await report(rig)
    (seen,) = rig.expect(page(ANA_CHAT))
    await rig.wait(minutes=1)
    await rig.press(ANA_CHAT, ack_data(seen))
    with rig.database.session() as session:
        incident = session.exec(select(Incident)).one()
        pages = session.exec(select(Page).order_by(Page.id)).all()  # type: ignore[arg-type]
    assert incident.status == "acknowledged" and incident.first_paged_at == incident.started_at
    assert [(p.channel, p.status) for p in pages] == [("telegram", "acknowledged"), ("sms", "acknowledged")]


async def test_the_api_lists_paging_history_takes_actions_and_reports_metrics(rig: Rig, database: Database) -> None:
    ana, bo = _ids(database)
    with database.session() as session:
        coordinator = staff.create_token(session, name="desk", role="coordinator", now=rig.clock())
        bo_token = staff.create_token(session, name="bo", role="volunteer", now=rig.clock(), volunteer_id=bo)
    await report(rig)
    rig.expect(page(ANA_CHAT))
    await rig.wait(minutes=1)
    rig.expect(sms_page(ANA_PHONE))
    transport = httpx.ASGITransport(app=rig.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        listed = (await client.get("/api/v1/incidents", headers=_bearer(coordinator))).json()
        assert [(p["channel"], p["volunteer"]["name"], p["step"]) for p in listed[0]["pages"]] == [
            ("telegram", "Ana", 0), ("sms", "Ana", 1),
        ]  # fmt: skip
        hidden = (await client.get("/api/v1/incidents?status=open", headers=_bearer(bo_token))).json()
        assert hidden[0]["pages"][0]["volunteer"] == {"id": ana, "name": None}
        taken = await client.post("/api/v1/incidents/1/acknowledge", headers=_bearer(bo_token))
        assert taken.json() == {
            "changed": True,
            "message": "You have this case. Details follow.",
            "status": "acknowledged",
        }
        again = await client.post(
            "/api/v1/incidents/1/acknowledge", headers=_bearer(coordinator), json={"volunteer_id": ana}
        )
        assert again.json()["message"] == "Bo has already taken this case." and not again.json()["changed"]
        refused = await client.post(
            "/api/v1/incidents/1/resolve", headers=_bearer(bo_token), json={"volunteer_id": ana}
        )
        assert refused.status_code == 403
        figures = (await client.get("/api/v1/metrics", headers=_bearer(bo_token))).json()
    await rig.tick()
    rig.expect(Want("pin", BO_CHAT), Want("message", BO_CHAT, "is yours"), Want("edit", ANA_CHAT, "Taken by Bo"))
    assert figures["incidents"] == 1 and figures["time_to_first_page_s"]["max"] == 0
    assert figures["time_to_acknowledgement_s"] == {"count": 1, "median": 60.0, "p90": 60.0, "max": 60.0}
    assert figures["pages"] == 2 and figures["page_lateness_s"]["max"] == 0


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_page_cut_off_by_a_crash_is_not_sent_again_as_an_edit(rig: Rig, database: Database) -> None:
    await report(rig)
    rig.expect(page(ANA_CHAT))
    with database.session() as session:  # as release_expired_leases leaves a page whose send was cut off
        message = session.exec(select(Message).where(Message.kind == "page")).one()
        message.status = "unknown"
        session.add(message)
    await rig.write(PERSON, "5")
    rig.expect()  # no edit, which would have gone out as a second copy; the SMS step covers it
    await rig.wait(minutes=1)
    rig.expect(sms_page(ANA_PHONE))
