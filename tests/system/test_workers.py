"""Four dispatcher processes on one PostgreSQL inbox: every event once, each contact's events in order.

The inbox is filled first (40 people, 8 events each, interleaved), then four worker processes
start together and drain it. Each worker slows the flow engine a little so that they really
overlap. Afterwards the database must show every event processed exactly once, in its contact's
order, one report per person, and the work spread over more than one process.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from hotline.clock import utcnow
from hotline.settings import Settings
from hotline.storage import db, inbox, rota, staff
from hotline.storage.models import Contact, Conversation, InboundEvent, Message, Report

WORKERS = 4
CONTACTS = 40
START_TIMEOUT = 30.0
RUN_TIMEOUT = 60.0

WORKER = """
import json, os, sys, time
from pathlib import Path

from hotline.bot.dispatcher import Dispatcher
from hotline.clock import utcnow
from hotline.flows import engine
from hotline.flows.model import load_flows
from hotline.settings import Settings
from hotline.storage import db

original = engine.step

def slow_step(*args, **kwargs):
    time.sleep(0.005)
    return original(*args, **kwargs)

engine.step = slow_step
directory = Path(sys.argv[1])
settings = Settings.from_env()
database = db.open_database(settings)
dispatcher = Dispatcher(database=database, settings=settings, flows=load_flows(), clock=utcnow)
database.engine.connect().close()
(directory / f"ready-{os.getpid()}").touch()
deadline = time.monotonic() + 30
while not (directory / "go").exists() and time.monotonic() < deadline:
    time.sleep(0.01)
processed, idle_since = 0, None
while True:
    done = dispatcher.drain(limit=10)
    processed += done
    if done:
        idle_since = None
        continue
    idle_since = idle_since or time.monotonic()
    if time.monotonic() - idle_since > 1.0:
        break
    time.sleep(0.02)
database.dispose()
(directory / f"result-{os.getpid()}.json").write_text(json.dumps({"pid": os.getpid(), "processed": processed}))
"""


def person_events(n: int) -> list[tuple[str, dict[str, Any]]]:
    """The distress path of one person as stored inbox events (kind, payload)."""
    lat, lon = 54.0 + n * 0.05, 24.0 + n * 0.05
    return [
        ("command", {"text": "/start", "language_code": "en"}),
        ("location", {"lat": lat, "lon": lon, "live": False}),
        ("text", {"text": "5"}),
        ("text", {"text": "1"}),
        ("button", {"data": "a:pregnant:no", "callback_query_id": f"cq-{n}", "message_id": 3}),
        ("text", {"text": "no"}),
        ("text", {"text": "yes"}),
        ("text", {"text": "water"}),
    ]


def fill_inbox(database: db.Database, rng: random.Random) -> int:
    """Store every person's events, interleaved at random, each person's in order; return how many."""
    queues = {f"8000{n:02d}": person_events(n) for n in range(CONTACTS)}
    stored = 0
    with database.session() as session:
        volunteer = staff.add_volunteer(
            session, keyring=database.keyring, name="Vol", telegram_chat=None, phone=None, languages="en", now=utcnow()
        )
        rota.cover_now(session, volunteer_id=volunteer.id or 0, now=utcnow(), created_by="test")
        while any(queues.values()):
            address = rng.choice([a for a, q in queues.items() if q])
            kind, payload = queues[address].pop(0)
            event_id = inbox.store_event(
                session,
                keyring=database.keyring,
                channel="telegram",
                provider_id=f"w{stored}",
                address=address,
                kind=kind,
                payload=payload,
                now=utcnow(),
            )
            assert event_id is not None
            stored += 1
    return stored


def run_workers(env: dict[str, str], directory: Path, log: Path) -> list[dict[str, int]]:
    """Start the workers, let them go at once, wait for them; return what each reported."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with log.open("ab") as output:
            for _ in range(WORKERS):
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-c", WORKER, str(directory)],
                        env=env,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                )
        deadline = time.monotonic() + START_TIMEOUT
        while len(list(directory.glob("ready-*"))) < WORKERS:
            assert all(p.poll() is None for p in procs), "a worker exited before it was ready"
            assert time.monotonic() < deadline, f"workers not ready within {START_TIMEOUT}s"
            time.sleep(0.02)
        (directory / "go").touch()
        for proc in procs:
            proc.wait(timeout=max(1.0, deadline + RUN_TIMEOUT - time.monotonic()))
            assert proc.returncode == 0, f"worker {proc.pid} exited with {proc.returncode}"
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    return [json.loads(path.read_text()) for path in directory.glob("result-*.json")]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_four_workers_process_every_event_once_in_each_contacts_order(
    settings_values: dict[str, str], tmp_path: Path
) -> None:
    settings = Settings.from_mapping(settings_values)
    database = db.open_database(settings)
    db.upgrade(database)
    directory = tmp_path / "workers"
    directory.mkdir()
    log = tmp_path / "workers.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOTLINE_")}
    env.update(settings_values, HOTLINE_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    seed = random.SystemRandom().randrange(1, 2**31)
    started = time.monotonic()
    try:
        stored = fill_inbox(database, random.Random(seed))
        results = run_workers(env, directory, log)
        check(database, stored, results)
        print(
            f"\nworkers seed={seed}: {stored} events by {[r['processed'] for r in results]} "
            f"in {time.monotonic() - started:.1f}s"
        )
    except BaseException:
        print(f"\nworkers test failed (seed {seed}); worker output:\n{log.read_text(errors='replace')[-6000:]}")
        raise
    finally:
        database.dispose()


def check(database: db.Database, stored: int, results: list[dict[str, int]]) -> None:
    assert len(results) == WORKERS, f"{len(results)} of {WORKERS} workers reported"
    with database.session() as session:
        events = {e.id: e for e in session.exec(select(InboundEvent)).all()}
        logged = session.exec(select(Message).where(Message.direction == "in").order_by(col(Message.id))).all()
        contacts = session.exec(select(Contact)).all()
        reports = session.exec(select(Report)).all()
        conversations = session.exec(select(Conversation)).all()

    assert len(events) == stored
    unfinished = [(e.id, e.status, e.attempts, e.error) for e in events.values() if e.status != "done" or e.attempts]
    assert not unfinished, f"events not done cleanly (id, status, attempts, error): {unfinished}"

    times = Counter(m.inbound_event_id for m in logged)
    assert set(times) == set(events), "some events have no inbound log row"
    assert all(n == 1 for n in times.values()), f"processed twice: {[e for e, n in times.items() if n > 1]}"

    order: dict[int, list[int]] = defaultdict(list)
    for message in logged:
        order[events[message.inbound_event_id].contact_id].append(message.inbound_event_id or 0)
    out_of_order = {contact: ids for contact, ids in order.items() if ids != sorted(ids)}
    assert not out_of_order, f"contacts whose events ran out of order: {out_of_order}"
    assert len(order) == len(contacts) == CONTACTS

    per_contact = Counter(r.contact_id for r in reports)
    assert len(reports) == CONTACTS and set(per_contact.values()) == {1}, f"reports per contact: {per_contact}"
    for report in reports:
        assert report.people == {"total": 5, "children": 1, "pregnant": False}, report.people
        assert report.needs == ["water"] and report.asylum_intent == "yes"
    assert sorted(c.node for c in conversations) == ["done"] * CONTACTS

    assert sum(r["processed"] for r in results) == stored
    busy = [r for r in results if r["processed"] > 0]
    assert len(busy) >= 2, f"only one worker did any work: {results}"
