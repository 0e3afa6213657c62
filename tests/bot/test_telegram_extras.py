"""Telegram files, live locations and erasing messages, through the real ``telegram.Bot`` and the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from hotline.bot.channels import telegram
from hotline.bot.channels.base import Button, Delivery, Outgoing, PermanentFailure, TemporaryFailure
from hotline.bot.channels.telegram import TelegramChannel, make_bot, parse_update
from tests.fakes.telegram_api import (
    FakeBotAPI,
    JSONDict,
    live_location_update,
    location_update,
    media_update,
    photo_update,
    text_update,
    voice_update,
)

TOKEN = "123456:TEST-token"
CHAT = 424242
SENT_AT = 1_768_446_000  # 2026-01-15 03:00:00 UTC
MOVED_AT = SENT_AT + 300


@pytest.fixture
async def channel(fake: FakeBotAPI) -> AsyncIterator[TelegramChannel]:
    """A Telegram channel whose bot talks to the fake Bot API."""
    async with make_bot(TOKEN, fake.url) as bot:
        yield TelegramChannel(bot)


def parsed(update: JSONDict) -> tuple[str, dict[str, Any]]:
    inbound = parse_update(update)
    assert inbound is not None and inbound.address == str(CHAT)
    return inbound.kind, inbound.payload


# --------------------------------------------------------------------------- parsing


def test_a_photo_becomes_media_with_its_largest_size() -> None:
    kind, payload = parsed(photo_update(1, CHAT, "photo-big", caption="we are here", message_id=31, language_code="ar"))
    assert kind == "media"
    assert payload == {
        "media": "photo",
        "file_id": "photo-big",
        "file_unique_id": payload["file_unique_id"],
        "size": 120_000,
        "duration": None,
        "mime_type": None,
        "caption": "we are here",
        "message_id": "31",
        "language_code": "ar",
    }


def test_a_voice_note_carries_duration_and_type() -> None:
    kind, payload = parsed(voice_update(2, CHAT, "voice-1", duration=42, message_id=7))
    assert kind == "media"
    assert (payload["media"], payload["file_id"], payload["duration"]) == ("voice", "voice-1", 42)
    assert (payload["mime_type"], payload["size"], payload["caption"], payload["message_id"]) == (
        "audio/ogg",
        24_000,
        "",
        "7",
    )


@pytest.mark.parametrize(
    ("media", "mime_type", "duration"),
    [
        ("audio", "audio/mpeg", 30),
        ("video", "video/mp4", 12),
        ("video_note", None, 9),
        ("document", "application/pdf", None),
    ],
)
def test_other_files_become_media(media: str, mime_type: str | None, duration: int | None) -> None:
    kind, payload = parsed(media_update(3, CHAT, media, f"{media}-1", file_size=5000))
    assert kind == "media"
    assert (payload["media"], payload["file_id"], payload["size"]) == (media, f"{media}-1", 5000)
    assert (payload["mime_type"], payload["duration"]) == (mime_type, duration)


def test_an_edited_file_is_media_marked_edited() -> None:
    kind, payload = parsed(media_update(4, CHAT, "photo", "photo-2", caption="fixed", edited=True, message_id=8))
    assert kind == "media" and payload["edited"] is True and payload["caption"] == "fixed"


def test_a_sticker_stays_unsupported_with_its_message_id() -> None:
    update = text_update(5, CHAT, "x")
    message = update["message"]
    del message["text"]
    message["sticker"] = {"file_id": "st", "file_unique_id": "stu", "type": "regular", "width": 1, "height": 1,
                          "is_animated": False, "is_video": False}  # fmt: skip
    kind, payload = parsed(update)
    assert kind == "unsupported" and payload["type"] == "sticker"
    assert payload["message_id"] == str(message["message_id"])


def test_texts_and_edited_texts_carry_their_message_id() -> None:
    update = text_update(6, CHAT, "help", language_code="fa")
    assert parsed(update) == (
        "text",
        {"text": "help", "message_id": str(update["message"]["message_id"]), "language_code": "fa"},
    )
    edited = {"update_id": 7, "edited_message": {**update["message"], "text": "help us", "edit_date": SENT_AT}}
    kind, payload = parsed(edited)
    assert (kind, payload["text"], payload["message_id"]) == (
        "edited_text",
        "help us",
        str(update["message"]["message_id"]),
    )


def test_a_pin_is_not_live_and_fixed_when_sent() -> None:
    update = location_update(8, CHAT, 54.61, 25.02)
    update["message"]["date"] = SENT_AT
    kind, payload = parsed(update)
    assert kind == "location"
    assert payload["live"] is False and "live_period" not in payload
    assert payload["fix_at"] == "2026-01-15T03:00:00+00:00"
    assert payload["message_id"] == str(update["message"]["message_id"])


def test_a_live_location_reports_its_period() -> None:
    kind, payload = parsed(live_location_update(9, CHAT, 54.61, 25.02, live_period=3600, date=SENT_AT, message_id=12))
    assert kind == "location"
    assert (payload["live"], payload["live_period"], payload["message_id"]) == (True, 3600, "12")
    assert datetime.fromisoformat(payload["fix_at"]) == datetime.fromtimestamp(SENT_AT, UTC)


def test_a_moved_live_location_is_fixed_at_its_edit() -> None:
    update = live_location_update(10, CHAT, 54.62, 25.03, date=SENT_AT, edit_date=MOVED_AT, message_id=12)
    kind, payload = parsed(update)
    assert kind == "location" and payload["live"] is True and payload["message_id"] == "12"
    assert (payload["lat"], payload["lon"]) == (54.62, 25.03)
    assert payload["fix_at"] == "2026-01-15T03:05:00+00:00"


# --------------------------------------------------------------------------- erasing messages


async def test_deleting_many_messages_goes_in_batches_of_a_hundred(fake: FakeBotAPI, channel: TelegramChannel) -> None:
    ids = tuple(str(n) for n in range(1, 251))
    assert await channel.send(str(CHAT), Outgoing(delete_message_ids=ids)) == Delivery()
    batches = [call.params["message_ids"] for call in fake.calls("deleteMessages")]
    assert [len(batch) for batch in batches] == [100, 100, 50]
    assert [n for batch in batches for n in batch] == list(range(1, 251))
    assert fake.calls("sendMessage") == []


async def test_messages_that_cannot_be_deleted_are_no_failure(fake: FakeBotAPI, channel: TelegramChannel) -> None:
    fake.forbid_deleting(5)
    ids = tuple(str(n) for n in range(1, 151))
    assert await channel.send(str(CHAT), Outgoing(delete_message_ids=ids)) == Delivery()
    calls = fake.calls("deleteMessages")
    assert [call.failed for call in calls] == [True, False]
    assert (CHAT, 150) in fake.deleted and (CHAT, 5) not in fake.deleted


async def test_a_deletion_in_an_unknown_chat_fails_for_good(fake: FakeBotAPI, channel: TelegramChannel) -> None:
    fake.fail_next("deleteMessages", status=400)
    with pytest.raises(PermanentFailure):
        await channel.send(str(CHAT), Outgoing(delete_message_ids=("1",)))


# --------------------------------------------------------------------------- sending files


async def test_a_photo_goes_by_file_id_with_its_caption(fake: FakeBotAPI, channel: TelegramChannel) -> None:
    message = Outgoing(text="The photo you sent", media=("photo", "photo-big"), buttons=((Button("OK", "ok"),),))
    delivery = await channel.send(str(CHAT), message)
    params = fake.calls("sendPhoto")[0].params
    assert (params["photo"], params["caption"]) == ("photo-big", "The photo you sent")
    assert params["reply_markup"] == {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    assert delivery.provider_message_id == "1" and fake.calls("sendMessage") == []


@pytest.mark.parametrize("text", ["x" * 1025, "🆘" * 600])
async def test_a_caption_too_long_follows_as_a_message(fake: FakeBotAPI, channel: TelegramChannel, text: str) -> None:
    delivery = await channel.send(str(CHAT), Outgoing(text=text, media=("voice", "voice-1")))
    voice = fake.calls("sendVoice")[0].params
    assert voice["voice"] == "voice-1" and "caption" not in voice
    assert fake.calls("sendMessage")[0].params["text"] == text
    assert delivery.provider_message_id == "2"


async def test_a_caption_at_the_limit_stays_a_caption(fake: FakeBotAPI, channel: TelegramChannel) -> None:
    await channel.send(str(CHAT), Outgoing(text="y" * 1024, media=("document", "doc-1")))
    assert fake.calls("sendDocument")[0].params["caption"] == "y" * 1024
    assert fake.calls("sendMessage") == []


@pytest.mark.parametrize(
    ("kind", "method"),
    [("audio", "sendAudio"), ("video", "sendVideo"), ("video_note", "sendVideoNote"), ("document", "sendDocument")],
)
async def test_each_kind_uses_its_method(fake: FakeBotAPI, channel: TelegramChannel, kind: str, method: str) -> None:
    await channel.send(str(CHAT), Outgoing(media=(kind, f"{kind}-1")))
    assert fake.calls(method)[0].params[kind] == f"{kind}-1"


async def test_a_video_note_cannot_carry_text(fake: FakeBotAPI, channel: TelegramChannel) -> None:
    delivery = await channel.send(str(CHAT), Outgoing(text="short", media=("video_note", "vn-1")))
    assert "caption" not in fake.calls("sendVideoNote")[0].params
    assert fake.calls("sendMessage")[0].params["text"] == "short"
    assert delivery.provider_message_id == "2"


async def test_an_unknown_media_kind_fails_for_good(channel: TelegramChannel) -> None:
    with pytest.raises(PermanentFailure):
        await channel.send(str(CHAT), Outgoing(media=("sticker", "st-1")))


# --------------------------------------------------------------------------- downloading


async def test_download_returns_the_bytes_and_a_type(fake: FakeBotAPI, channel: TelegramChannel) -> None:
    fake.add_file("voice-1", b"OggS fictional voice", file_path="voice/file_1.oga")
    assert await channel.download("voice-1") == (b"OggS fictional voice", "audio/ogg")
    assert fake.calls("getFile")[0].params["file_id"] == "voice-1"
    assert fake.calls("download")[0].params["file_path"] == "voice/file_1.oga"


async def test_files_telegram_will_not_hand_out_are_refused(fake: FakeBotAPI, channel: TelegramChannel) -> None:
    fake.add_file("video-1", b"tiny", file_path="videos/file_2.mp4", reported_size=25 * 1024 * 1024)
    with pytest.raises(PermanentFailure, match="too big"):
        await channel.download("video-1")
    assert fake.calls("download") == []


async def test_files_over_twenty_megabytes_are_not_downloaded(fake: FakeBotAPI, channel: TelegramChannel) -> None:
    size = 20 * 1024 * 1024 + 1
    fake.set_handler(
        "getFile", lambda params: {"file_id": "big", "file_unique_id": "b", "file_size": size, "file_path": "b"}
    )
    with pytest.raises(PermanentFailure, match="too big"):
        await channel.download("big")
    assert fake.calls("download") == []


async def test_a_download_bigger_than_announced_is_refused(
    fake: FakeBotAPI, channel: TelegramChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telegram, "MAX_DOWNLOAD", 10)
    fake.add_file("doc-1", b"eleven byte", file_path="documents/a.pdf")
    fake.set_handler(
        "getFile", lambda params: {"file_id": "doc-1", "file_unique_id": "d", "file_path": "documents/a.pdf"}
    )
    with pytest.raises(PermanentFailure, match="too big"):
        await channel.download("doc-1")
    assert len(fake.calls("download")) == 1


async def test_an_unknown_file_id_fails_for_good(channel: TelegramChannel) -> None:
    with pytest.raises(PermanentFailure):
        await channel.download("no-such-file")


async def test_a_server_error_while_downloading_is_temporary(fake: FakeBotAPI, channel: TelegramChannel) -> None:
    fake.add_file("photo-1", b"\xff\xd8 fictional jpeg", file_path="photos/file_3.jpg")
    fake.fail_next("download", status=502)
    with pytest.raises(TemporaryFailure):
        await channel.download("photo-1")
    assert await channel.download("photo-1") == (b"\xff\xd8 fictional jpeg", "image/jpeg")
