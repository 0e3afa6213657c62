"""The outbox on SQLite and PostgreSQL: order per recipient, leases, retries and failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from hotline.bot.channels.base import PermanentFailure, TemporaryFailure
from hotline.bot.channels.fake import FakeChannel
from hotline.bot.sender import MAX_ATTEMPTS, OutboxSender, RateLimiter
from hotline.storage import outbox
from hotline.storage.db import Database
from hotline.storage.models import Message
from tests.conftest import FakeClock


def put(database: Database, clock: FakeClock, key: str, text: str) -> int:
    with database.session() as session:
        return (
            outbox.enqueue(
                session,
                kind="reply",
                channel="telegram",
                recipient_key=key,
                body={"to": key, "text": text},
                now=clock(),
            ).id
            or 0
        )


def claim(database: Database, clock: FakeClock, **options: object) -> list[str]:
    with database.session() as session:
        return [m.body["text"] for m in outbox.claim_due(session, channels=["telegram"], now=clock(), **options)]  # type: ignore[arg-type]


def status(database: Database, message_id: int) -> Message:
    with database.session() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message


def test_only_the_first_unsettled_message_of_a_recipient_can_be_claimed(database: Database, clock: FakeClock) -> None:
    for key, text in [("a", "a1"), ("b", "b1"), ("a", "a2"), ("b", "b2")]:
        put(database, clock, key, text)
    assert claim(database, clock) == ["a1", "b1"]
    assert claim(database, clock) == []
    with database.session() as session:
        for message in session.exec(select(Message).where(Message.status == "sending")).all():
            outbox.mark_sent(session, message_id=message.id or 0, provider_message_id="1", now=clock())
    assert claim(database, clock) == ["a2", "b2"]


def test_busy_recipients_are_skipped_without_blocking_others(database: Database, clock: FakeClock) -> None:
    put(database, clock, "a", "a1")
    put(database, clock, "b", "b1")
    assert claim(database, clock, skip_keys=["a"]) == ["b1"]


def test_a_dead_senders_lease_runs_out_and_the_message_goes_again_flagged(database: Database, clock: FakeClock) -> None:
    first = put(database, clock, "a", "a1")
    assert claim(database, clock) == ["a1"]
    clock.advance(seconds=10)
    with database.session() as session:
        assert outbox.release_expired_leases(session, now=clock()) == 0
    clock.advance(seconds=outbox.LEASE.total_seconds())
    with database.session() as session:
        assert outbox.release_expired_leases(session, now=clock()) == 1
    assert claim(database, clock) == ["a1"]
    message = status(database, first)
    assert message.resent_after_crash and message.attempts == 2


def sender(database: Database, clock: FakeClock, channel: FakeChannel) -> OutboxSender:
    return OutboxSender(
        database=database,
        channels={"telegram": channel},
        clock=clock,
        limiter=RateLimiter(per_chat_interval=0, per_second=1000),
    )


def test_a_temporary_failure_is_retried_after_the_providers_wait(database: Database, clock: FakeClock) -> None:
    channel = FakeChannel(name="telegram", failures=[TemporaryFailure("rate limited", retry_after=7)])
    message_id = put(database, clock, "a", "hello")
    assert asyncio.run(sender(database, clock, channel).send_due()) == 1
    message = status(database, message_id)
    assert message.status == "pending" and message.error == "rate limited"
    assert message.not_before == clock() + timedelta(seconds=7)
    assert asyncio.run(sender(database, clock, channel).send_due()) == 0
    clock.advance(seconds=7)
    assert asyncio.run(sender(database, clock, channel).send_due()) == 1
    assert status(database, message_id).status == "sent" and channel.texts() == ["hello"]


def test_a_permanent_failure_is_kept_visible_and_does_not_block_the_next_message(
    database: Database, clock: FakeClock
) -> None:
    channel = FakeChannel(name="telegram", failures=[PermanentFailure("forbidden")])
    failed = put(database, clock, "a", "one")
    put(database, clock, "a", "two")
    asyncio.run(sender(database, clock, channel).send_due())
    assert status(database, failed).status == "failed" and status(database, failed).error == "forbidden"
    asyncio.run(sender(database, clock, channel).send_due())
    assert channel.texts() == ["two"]


def test_an_unknown_error_is_never_taken_for_success(database: Database, clock: FakeClock) -> None:
    class Exploding(FakeChannel):
        async def send(self, address, message):  # type: ignore[no-untyped-def]
            raise OSError("socket closed")

    message_id = put(database, clock, "a", "hello")
    asyncio.run(sender(database, clock, Exploding(name="telegram")).send_due())
    assert status(database, message_id).status == "pending"


def test_a_message_is_given_up_after_the_last_attempt(database: Database, clock: FakeClock) -> None:
    channel = FakeChannel(name="telegram", failures=[TemporaryFailure("down") for _ in range(MAX_ATTEMPTS)])
    message_id = put(database, clock, "a", "hello")
    for _ in range(MAX_ATTEMPTS):
        clock.advance(seconds=600)
        asyncio.run(sender(database, clock, channel).send_due())
    message = status(database, message_id)
    assert message.status == "failed" and message.attempts == MAX_ATTEMPTS and channel.sent == []


async def test_the_rate_limiter_spaces_one_chat_and_lets_others_through() -> None:
    limiter = RateLimiter(per_chat_interval=0.2, per_second=1000)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await limiter.wait("a", chat_message=True)
    await limiter.wait("b", chat_message=True)
    assert loop.time() - start < 0.1
    assert limiter.busy_keys() == ["a", "b"]
    await limiter.wait("a", chat_message=True)
    assert loop.time() - start >= 0.19


async def test_the_rate_limiter_caps_the_overall_rate() -> None:
    limiter = RateLimiter(per_chat_interval=0, per_second=5)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n in range(6):
        await limiter.wait(f"chat{n}", chat_message=True)
    assert loop.time() - start >= 0.99


def test_an_edit_of_a_page_whose_outcome_is_unknown_is_never_sent_as_a_new_page(
    database: Database, clock: FakeClock
) -> None:
    page = put(database, clock, "v", "page #1")
    assert claim(database, clock) == ["page #1"]
    with database.session() as session:
        session.get(Message, page).kind = "page"  # type: ignore[union-attr]
        body = {"to": "v", "text": "page #1, 5 people"}
        edit = outbox.enqueue(
            session, kind="page_update", channel="telegram", recipient_key="v", body=body, now=clock(), edit_of_id=page
        )
    clock.advance(seconds=outbox.LEASE.total_seconds() + 1)  # the sender died mid-send: the page is "unknown"
    channel = FakeChannel(name="telegram")
    asyncio.run(sender(database, clock, channel).send_due())
    assert status(database, page).status == "unknown"
    assert status(database, edit.id or 0).status == "skipped" and channel.texts() == []
