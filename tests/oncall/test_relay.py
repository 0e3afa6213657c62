"""A rescue exchange with no shared language: the volunteer reads English, the person Arabic or Persian.

The phrasebook reaches the person in their language, their answers come back already read ("7",
"yes"), the volunteer's own words go through marked as untranslated, and nothing of the volunteer
(name, chat, number) reaches the person.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hotline.bot.i18n import translate, use_locale
from hotline.bot.oncall import phrasebook, relay
from hotline.storage.db import Database
from tests.conftest import FakeClock, put_on_duty
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.oncall.rig import Rig, Seen, Want, rig_settings

VOLUNTEER_CHAT, VOLUNTEER_PHONE = "900001", "+37060000001"
ARABIC_CHAT = "500010"
PERSIAN_PHONE = "+989000000001"  # fictional


@pytest.fixture
async def rig(
    database: Database, settings_values: dict[str, str], clock: FakeClock, fake: FakeBotAPI, twilio: FakeTwilioAPI
) -> AsyncIterator[Rig]:
    put_on_duty(database, chat=VOLUNTEER_CHAT, phone=VOLUNTEER_PHONE, name="Ona Volunteer", languages="en")
    value = Rig(database, rig_settings(settings_values, fake, twilio), clock, fake, twilio, {VOLUNTEER_CHAT})
    await value.start()
    yield value
    await value.close()


def phrase_in(language: str, key: str, **params: object) -> str:
    """The phrase as the person must read it; it must really be translated."""
    phrase = phrasebook.find(key)
    assert phrase is not None
    with use_locale(language):
        text = translate(phrase.text, **params)
    with use_locale("en"):
        assert text != translate(phrase.text, **params)
    return text


async def take_the_case(rig: Rig, page: Seen) -> list[str]:
    """Acknowledge the page; return the phrasebook buttons' data under the case details."""
    await rig.press(VOLUNTEER_CHAT, next(d for d in page.data if d.startswith("ack:")))
    details = Want("message", VOLUNTEER_CHAT, "is yours")
    seen = rig.expect(
        Want("toast", "", "You have this case"), Want("pin", VOLUNTEER_CHAT), details, Want("edit", VOLUNTEER_CHAT)
    )
    return list(seen[2].data)


async def test_a_rescue_exchange_in_arabic_over_telegram(rig: Rig) -> None:
    await rig.write(ARABIC_CHAT, "ساعدونا نحن في الغابة")
    (page,) = rig.expect(Want("message", VOLUNTEER_CHAT, "Distress report"))
    await rig.pin(ARABIC_CHAT, 54.55, 25.11)
    rig.expect(Want("edit", VOLUNTEER_CHAT, "Location: pin"))
    buttons = await take_the_case(rig, page)
    say = {d.split(":")[2]: d for d in buttons if d.startswith("say:") and d.count(":") == 2}

    await rig.press(VOLUNTEER_CHAT, say["howmany"])
    rig.expect(Want("toast", "", "Sent to case"))
    assert rig.sent_to(ARABIC_CHAT)[-1].endswith(phrase_in("ar", "howmany"))
    await rig.write(ARABIC_CHAT, "٧")
    rig.expect(Want("message", VOLUNTEER_CHAT, "”: 7"))

    await rig.press(VOLUNTEER_CHAT, say["injured"])
    rig.expect(Want("toast", "", "Sent to case"))
    question = [c for c in rig.telegram.calls("sendMessage") if c.params["chat_id"] == int(ARABIC_CHAT)][-1]
    assert phrase_in("ar", "injured") in question.params["text"]
    answers = [b["callback_data"] for row in question.params["reply_markup"]["inline_keyboard"] for b in row]
    assert answers == ["answer:injured:yes", "answer:injured:no", "answer:injured:unknown"]
    await rig.press(ARABIC_CHAT, "answer:injured:yes")
    rig.expect(Want("message", VOLUNTEER_CHAT, "Anyone injured or ill?”: yes"))

    await rig.press(VOLUNTEER_CHAT, next(d for d in buttons if d.endswith(":coming:30")))
    rig.expect(Want("toast", "", "Sent to case"))
    assert (
        "30" in rig.sent_to(ARABIC_CHAT)[-1] and phrase_in("ar", "coming", minutes=30) in rig.sent_to(ARABIC_CHAT)[-1]
    )

    await rig.write(VOLUNTEER_CHAT, "/stay")
    rig.expect(Want("message", VOLUNTEER_CHAT, "Sent to case"))
    assert rig.sent_to(ARABIC_CHAT)[-1].endswith(phrase_in("ar", "stay"))

    await rig.write(VOLUNTEER_CHAT, "Ok, we see you on the map")
    rig.expect(Want("message", VOLUNTEER_CHAT, "as written: they read العربية"))
    last = rig.sent_to(ARABIC_CHAT)[-1]
    with use_locale("ar"):
        assert last.startswith(translate(relay.UNTRANSLATED)) and last.endswith("Ok, we see you on the map")
    assert not any("Ona" in text or VOLUNTEER_PHONE in text for text in rig.sent_to(ARABIC_CHAT))


async def test_a_rescue_exchange_in_persian_over_sms(rig: Rig) -> None:
    await rig.text(PERSIAN_PHONE, "کمک! ما در جنگل هستیم، ۵ نفر")
    (page,) = rig.expect(Want("message", VOLUNTEER_CHAT, "Distress report"))
    await rig.press(VOLUNTEER_CHAT, next(d for d in page.data if d.startswith("ack:")))
    rig.expect(Want("toast", "", "You have this case"), Want("message", VOLUNTEER_CHAT, "is yours"),
               Want("edit", VOLUNTEER_CHAT, "Taken by"))  # fmt: skip

    await rig.write(VOLUNTEER_CHAT, "/location")
    rig.expect(Want("message", VOLUNTEER_CHAT, "Sent to case"))
    assert phrase_in("fa", "location") in rig.sent_to(PERSIAN_PHONE)[-1]
    await rig.text(PERSIAN_PHONE, "۵۴٫۶۱۲ ۲۵٫۰۴۱")
    rig.expect(Want("pin", VOLUNTEER_CHAT), Want("message", VOLUNTEER_CHAT, "New location: 54.612000, 25.041000"),
               Want("edit", VOLUNTEER_CHAT, "Location: written coordinates"))  # fmt: skip

    await rig.write(VOLUNTEER_CHAT, "/asylum")
    rig.expect(Want("message", VOLUNTEER_CHAT, "Sent to case"))
    question = rig.sent_to(PERSIAN_PHONE)[-1]
    assert phrase_in("fa", "asylum") in question and "1" in question and "2" in question
    await rig.text(PERSIAN_PHONE, "۱")
    rig.expect(Want("message", VOLUNTEER_CHAT, "Want to ask for asylum?”: yes"))

    await rig.write(VOLUNTEER_CHAT, "/battery")
    rig.expect(Want("message", VOLUNTEER_CHAT, "Sent to case"))
    assert phrase_in("fa", "battery") in rig.sent_to(PERSIAN_PHONE)[-1]
    assert not any("Ona" in text or VOLUNTEER_PHONE in text for text in rig.sent_to(PERSIAN_PHONE))
