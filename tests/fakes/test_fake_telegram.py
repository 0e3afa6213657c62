"""Tests for the fake Telegram Bot API, driven by the real python-telegram-bot ``telegram.Bot``."""

from __future__ import annotations

import datetime as dtm
import threading
import time
import warnings
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, EndPointNotFound, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, CommandHandler, ContextTypes

from tests.fakes.telegram_api import (
    FakeBotAPI,
    callback_update,
    command_update,
    edited_location_update,
    location_update,
    text_update,
)

TOKEN = "123456:TEST-token"
CHAT_ID = 424242


@pytest.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    """A real, initialized ``telegram.Bot`` pointed at the fake."""
    async with Bot(TOKEN, base_url=f"{fake.url}/bot") as real_bot:
        yield real_bot


def _retry_seconds(error: RetryAfter) -> float:
    """Read RetryAfter.retry_after as seconds whether PTB returns int or timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_initialize_calls_get_me_and_records_token(fake: FakeBotAPI, bot: Bot) -> None:
    """``async with bot`` hits getMe and the bot identity comes from the token."""
    assert [call.method for call in fake.calls()] == ["getMe"]
    assert fake.calls("getMe")[0].token == TOKEN
    assert fake.tokens == [TOKEN]
    assert bot.id == 123456
    assert bot.username == "border_hotline_test_bot"


async def test_send_message_with_inline_keyboard(fake: FakeBotAPI, bot: Bot) -> None:
    """Inline markup is recorded as a dict and echoed back in the Message."""
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="safe:yes")]])
    message = await bot.send_message(CHAT_ID, "Are you safe?", reply_markup=markup)

    params = fake.calls("sendMessage")[0].params
    assert params["chat_id"] == CHAT_ID
    assert params["text"] == "Are you safe?"
    assert params["reply_markup"] == {"inline_keyboard": [[{"text": "Yes", "callback_data": "safe:yes"}]]}
    assert message.message_id == 1
    assert message.chat.id == CHAT_ID
    assert message.from_user is not None and message.from_user.is_bot
    assert message.reply_markup == markup


async def test_send_message_ids_increment_per_chat(bot: Bot) -> None:
    """message_id counts up independently for each chat."""
    first = await bot.send_message(CHAT_ID, "one")
    second = await bot.send_message(CHAT_ID, "two")
    other = await bot.send_message(CHAT_ID + 1, "other")
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)


async def test_send_message_with_location_request_keyboard(fake: FakeBotAPI, bot: Bot) -> None:
    """A reply keyboard with request_location is recorded but, like Telegram, not echoed."""
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("Share location", request_location=True)]], one_time_keyboard=True)
    message = await bot.send_message(CHAT_ID, "Where are you?", reply_markup=keyboard)

    markup = fake.calls("sendMessage")[0].params["reply_markup"]
    assert markup["keyboard"] == [[{"text": "Share location", "request_location": True}]]
    assert markup["one_time_keyboard"] is True
    assert message.reply_markup is None


async def test_edit_message_text_and_reply_markup(fake: FakeBotAPI, bot: Bot) -> None:
    """Edits update the stored message and return it."""
    sent = await bot.send_message(CHAT_ID, "Draft")
    edited = await bot.edit_message_text("Final", chat_id=CHAT_ID, message_id=sent.message_id)
    assert not isinstance(edited, bool)
    assert edited.text == "Final"
    assert edited.message_id == sent.message_id
    assert edited.edit_date is not None

    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Call", callback_data="call")]])
    with_markup = await bot.edit_message_reply_markup(CHAT_ID, sent.message_id, reply_markup=markup)
    assert not isinstance(with_markup, bool)
    assert with_markup.reply_markup == markup
    assert with_markup.text == "Final"
    assert fake.calls("editMessageText")[0].params == {"chat_id": CHAT_ID, "message_id": 1, "text": "Final"}


async def test_send_location(fake: FakeBotAPI, bot: Bot) -> None:
    """sendLocation returns a Message carrying the location."""
    message = await bot.send_location(CHAT_ID, latitude=41.9028, longitude=12.4964, live_period=600)
    assert message.location is not None
    assert message.location.latitude == pytest.approx(41.9028)
    assert message.location.longitude == pytest.approx(12.4964)
    params = fake.calls("sendLocation")[0].params
    assert params["latitude"] == pytest.approx(41.9028)
    assert params["live_period"] == 600


async def test_answer_callback_query_and_deletes(fake: FakeBotAPI, bot: Bot) -> None:
    """Boolean methods return True and record their params."""
    assert await bot.answer_callback_query("cbq-1", text="Noted") is True
    assert await bot.delete_message(CHAT_ID, 5) is True
    assert await bot.delete_messages(CHAT_ID, [6, 7]) is True
    assert fake.calls("answerCallbackQuery")[0].params == {"callback_query_id": "cbq-1", "text": "Noted"}
    assert fake.calls("deleteMessages")[0].params["message_ids"] == [6, 7]


async def test_set_webhook_records_secret_and_info(fake: FakeBotAPI, bot: Bot) -> None:
    """setWebhook stores url/secret/allowed_updates; getWebhookInfo reports them."""
    url = "https://hotline.example.test/telegram/webhook"
    assert await bot.set_webhook(url, secret_token="s3cret-Token_1", allowed_updates=["message", "callback_query"])

    params = fake.calls("setWebhook")[0].params
    assert params["secret_token"] == "s3cret-Token_1"
    assert params["allowed_updates"] == ["message", "callback_query"]
    assert fake.webhook["url"] == url
    info = await bot.get_webhook_info()
    assert info.url == url
    assert info.allowed_updates == ("message", "callback_query")

    assert await bot.delete_webhook() is True
    assert (await bot.get_webhook_info()).url == ""


async def test_set_webhook_with_certificate_is_multipart(fake: FakeBotAPI, bot: Bot) -> None:
    """Uploads arrive as multipart and are parsed into file dicts."""
    await bot.set_webhook("https://hotline.example.test/hook", certificate=b"-----FAKE CERT-----")
    params = fake.calls("setWebhook")[0].params
    assert params["url"] == "https://hotline.example.test/hook"
    assert params["certificate"]["data"] == b"-----FAKE CERT-----"
    assert (await bot.get_webhook_info()).has_custom_certificate is True


async def test_get_updates_returns_pushed_and_honours_offset(fake: FakeBotAPI, bot: Bot) -> None:
    """Queued updates come back; confirming an offset drops older ones."""
    fake.push_update(text_update(10, CHAT_ID, "hello"))
    fake.push_update(text_update(11, CHAT_ID, "help"))

    updates = await bot.get_updates(timeout=0)
    assert [update.update_id for update in updates] == [10, 11]
    assert updates[0].message is not None and updates[0].message.text == "hello"

    later = await bot.get_updates(offset=11, timeout=0)
    assert [update.update_id for update in later] == [11]
    assert await bot.get_updates(offset=12, timeout=0) == ()
    assert fake.pending_updates() == []


async def test_get_updates_long_polls_until_update_arrives(fake: FakeBotAPI, bot: Bot) -> None:
    """A waiting getUpdates returns as soon as an update is pushed."""
    timer = threading.Timer(0.2, fake.push_update, args=(text_update(20, CHAT_ID, "late"),))
    timer.start()
    started = time.monotonic()
    updates = await bot.get_updates(timeout=10)
    elapsed = time.monotonic() - started
    timer.join()
    assert [update.update_id for update in updates] == [20]
    assert 0.1 < elapsed < 2.0


async def test_get_updates_wait_is_capped(fake: FakeBotAPI, bot: Bot) -> None:
    """An empty long poll returns after at most max_poll_wait."""
    fake.max_poll_wait = 0.3
    started = time.monotonic()
    assert await bot.get_updates(timeout=30) == ()
    assert 0.25 < time.monotonic() - started < 1.5


async def test_get_updates_conflicts_with_active_webhook(bot: Bot) -> None:
    """Like Telegram, getUpdates is refused while a webhook is set."""
    await bot.set_webhook("https://hotline.example.test/hook")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)


async def test_application_long_polling_end_to_end(fake: FakeBotAPI) -> None:
    """A real PTB Application polls the fake, handles /start and replies."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "Welcome")

    app = Application.builder().token(TOKEN).base_url(f"{fake.url}/bot").build()
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        fake.push_update(command_update(100, CHAT_ID, "/start"))
        reply = await fake.wait_for_async(lambda c: c.method == "sendMessage", timeout=5)
        await app.updater.stop()
        await app.stop()
    assert reply.params == {"chat_id": CHAT_ID, "text": "Welcome"}
    assert fake.calls("deleteWebhook")
    assert fake.pending_updates() == []


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_429_raises_retry_after(fake: FakeBotAPI, bot: Bot) -> None:
    """fail_next(status=429) yields RetryAfter with the given delay, then recovers."""
    fake.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT_ID, "x")
    assert _retry_seconds(caught.value) == 7
    assert (await bot.send_message(CHAT_ID, "y")).text == "y"
    assert [call.failed for call in fake.calls("sendMessage")] == [True, False]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_429_default_retry_after(fake: FakeBotAPI, bot: Bot) -> None:
    """Without retry_after a 429 says 'retry after 3'."""
    fake.fail_next("sendMessage", status=429)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT_ID, "x")
    assert _retry_seconds(caught.value) == 3


async def test_injected_403_raises_forbidden(fake: FakeBotAPI, bot: Bot) -> None:
    """A 403 maps to Forbidden with Telegram's description."""
    fake.fail_next("sendMessage", status=403)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT_ID, "x")


async def test_injected_400_and_500_with_count(fake: FakeBotAPI, bot: Bot) -> None:
    """count=N fails N calls; 400 is BadRequest and 500 a NetworkError."""
    fake.fail_next("sendLocation", status=400)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_location(CHAT_ID, latitude=1.0, longitude=2.0)
    fake.fail_next("sendMessage", status=500, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(CHAT_ID, "x")
    assert (await bot.send_message(CHAT_ID, "ok")).text == "ok"


async def test_delay_slows_method(fake: FakeBotAPI, bot: Bot) -> None:
    """delay() makes only the given method slow."""
    fake.delay("sendMessage", 0.3)
    started = time.monotonic()
    await bot.send_message(CHAT_ID, "slow")
    assert time.monotonic() - started >= 0.3
    fake.delay("sendMessage", 0)
    started = time.monotonic()
    await bot.send_message(CHAT_ID, "fast")
    assert time.monotonic() - started < 0.3


async def test_unknown_method_is_404(fake: FakeBotAPI, bot: Bot) -> None:
    """Unknown methods answer 404 Not Found and are recorded as failed."""
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendHologram", api_kwargs={"chat_id": CHAT_ID})
    assert fake.calls("sendHologram")[0].failed is True


async def test_wrong_token_is_unauthorized() -> None:
    """With an expected token, other tokens get 401."""
    with FakeBotAPI(token=TOKEN) as strict:
        with pytest.raises(InvalidToken):
            async with Bot("999:WRONG", base_url=f"{strict.url}/bot"):
                pass
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{strict.url}/bot999:WRONG/getMe")
        assert response.status_code == 401
        assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        async with Bot(TOKEN, base_url=f"{strict.url}/bot") as good:
            assert good.id == 123456


def test_json_body_and_wait_for(fake: FakeBotAPI) -> None:
    """application/json bodies are accepted; wait_for finds calls or raises with method names."""
    threading.Timer(
        0.1,
        httpx.post,
        args=(f"{fake.url}/bot1:x/sendMessage",),
        kwargs={
            "json": {"chat_id": CHAT_ID, "text": "json body"},
        },
    ).start()
    call = fake.wait_for(lambda c: c.method == "sendMessage" and c.params["text"] == "json body", timeout=3)
    assert call.params["chat_id"] == CHAT_ID
    with pytest.raises(AssertionError, match="sendMessage"):
        fake.wait_for("deleteMessage", timeout=0.1)
    fake.clear()
    assert fake.calls() == []


async def test_wait_for_async(fake: FakeBotAPI, bot: Bot) -> None:
    """wait_for_async does not block the event loop."""
    await bot.send_message(CHAT_ID, "hi")
    call = await fake.wait_for_async("sendMessage", timeout=1)
    assert call.params["text"] == "hi"


def test_text_and_command_builders_parse(fake: FakeBotAPI) -> None:
    """text/command updates parse into Message with text, user and bot_command entity."""
    bot = Bot(TOKEN, base_url=f"{fake.url}/bot")
    update = Update.de_json(text_update(1, CHAT_ID, "I need help", language_code="uk"), bot)
    assert update.update_id == 1
    assert update.message is not None and update.message.text == "I need help"
    assert update.effective_user is not None and update.effective_user.language_code == "uk"
    assert update.effective_chat is not None and update.effective_chat.type == "private"

    command = Update.de_json(command_update(None, CHAT_ID, "/start ref-42"), bot)
    assert command.message is not None
    assert command.message.parse_entities() == {command.message.entities[0]: "/start"}
    assert command.update_id > 1


def test_location_builders_parse(fake: FakeBotAPI) -> None:
    """Location and edited live-location updates carry coordinates and live_period."""
    bot = Bot(TOKEN, base_url=f"{fake.url}/bot")
    first = Update.de_json(location_update(2, CHAT_ID, 45.07, 7.69, live_period=900), bot)
    assert first.message is not None and first.message.location is not None
    assert first.message.location.latitude == pytest.approx(45.07)

    moved = Update.de_json(edited_location_update(3, CHAT_ID, 45.08, 7.70, message_id=first.message.message_id), bot)
    assert moved.edited_message is not None and moved.edited_message.location is not None
    assert moved.edited_message.location.longitude == pytest.approx(7.70)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        live_period = moved.edited_message.location.live_period
    assert live_period in (900, dtm.timedelta(seconds=900))
    assert moved.edited_message.edit_date is not None


def test_callback_builder_parses(fake: FakeBotAPI) -> None:
    """callback updates parse into a CallbackQuery on an accessible bot message."""
    bot = Bot(TOKEN, base_url=f"{fake.url}/bot")
    update = Update.de_json(callback_update(4, CHAT_ID, "lang:ar", message_id=9), bot)
    query = update.callback_query
    assert query is not None
    assert query.data == "lang:ar"
    assert query.from_user.id == CHAT_ID
    assert query.message is not None and query.message.message_id == 9
    assert update.effective_chat is not None and update.effective_chat.id == CHAT_ID
