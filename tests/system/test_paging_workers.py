"""Paging with several worker processes, one killed with SIGKILL mid-send: no page twice, no step skipped.

Four worker processes on PostgreSQL (one on SQLite, which allows a single process) each run the real
``Runtime``: dispatcher, escalation loop and outbox sender, talking to a fake Bot API on loopback.
Each worker has a Telegram token of its own, so the fake knows which process sent what. The policy
is short: primary, backup one second later, the two coordinators one second after that, the whole
list twice. Thirty people share a pin, one every 0.1 s, and nobody answers, so every step of every
incident must run.

Once ten reports are in, the fake kills the sender of the next page from inside the request: the
fake has the page, the worker never learns it. The worker is started again. Afterwards the
database and the fake must show:

- every (incident, step, repeat, volunteer, channel) paged once, and every step of the policy run
  for every incident, to the people on duty (or an audit ``no_one_on_duty``);
- the fake received each page at most once (Telegram pages carry ``ack:<page id>`` in a button);
- pages whose outcome is ``unknown`` were in ``sending`` when the worker died, and are never re-sent.

The outbox lease is cut from 30 s to 4 s in the workers so a dead sender's messages are released
within the run; the per-chat rate limit is lifted, since the fake does not enforce one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from statistics import median
from typing import Any

import pytest
import yaml
from sqlmodel import col, select

from hotline.bot.oncall.policy import page_steps, parse_policy
from hotline.clock import utcnow
from hotline.settings import Settings
from hotline.storage import db, inbox, outbox, staff
from hotline.storage.models import AuditEvent, InboundEvent, Incident, Message, Page
from tests.conftest import put_on_duty
from tests.fakes.telegram_api import Call, FakeBotAPI, page_id_of

PEOPLE = 30
STORE_EVERY = 0.1
KILL_AFTER_REPORTS = 10
LEASE_SECONDS = 4
SEND_DELAY = 0.05  # every sendMessage takes a little while, so a worker has several sends in flight
START_TIMEOUT = 30.0
QUIET_TIMEOUT = 45.0
STOP_TIMEOUT = 20.0
PRIMARY_CHAT, BACKUP_CHAT = "910001", "910002"
COORDINATOR_CHATS = ("910003", "910004")
PIN = {"lat": 54.6, "lon": 25.3, "live": False}
POLICY = """
name: workers-test
steps:
  - notify: primary
    by: [telegram]
    wait: 1
  - notify: backup
    by: [telegram]
    wait: 1
  - notify: coordinators
    by: [telegram]
    wait: 1
repeat: 2
"""

WORKER = """
import asyncio, sys
from datetime import timedelta
from pathlib import Path

from hotline import logs
from hotline.bot.sender import RateLimiter
from hotline.bot.service import Runtime
from hotline.settings import Settings
from hotline.storage import db, outbox

outbox.LEASE = timedelta(seconds=float(sys.argv[3]))
directory, name = Path(sys.argv[1]), sys.argv[2]


async def main():
    settings = Settings.from_env()
    logs.configure(settings.log_level)
    database = db.open_database(settings)
    runtime = Runtime(settings=settings, database=database)
    runtime.sender.limiter = RateLimiter(per_chat_interval=0, per_second=10_000)
    await runtime.start()
    (directory / f"ready-{name}").touch()
    while not (directory / "stop").exists():
        await asyncio.sleep(0.05)
    await runtime.stop()
    database.dispose()


asyncio.run(main())
"""


class Workers:
    """Worker processes, each known by the Telegram token it sends with."""

    def __init__(self, env: dict[str, str], directory: Path, log: Path) -> None:
        self.env, self.directory, self.log = env, directory, log
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.names: dict[str, str] = {}  # token -> worker name
        self.killed: list[str] = []

    def start(self, name: str) -> None:
        token = f"{1000 + len(self.procs)}:WORKER-{name}"
        env = {**self.env, "HOTLINE_TELEGRAM_TOKEN": token}
        with self.log.open("ab") as output:
            output.write(f"\n===== {name} =====\n".encode())
            output.flush()
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-c", WORKER, str(self.directory), name, str(LEASE_SECONDS)],
                env=env, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        self.names[token] = name

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        for name, proc in self.procs.items():
            while not (self.directory / f"ready-{name}").exists():
                assert proc.poll() is None, f"worker {name} exited before it was ready"
                assert time.monotonic() < deadline, f"worker {name} not ready within {START_TIMEOUT}s"
                time.sleep(0.02)

    def kill(self, token: str) -> str | None:
        """SIGKILL the worker that sends with this token and wait for it to be gone; return its name."""
        name = self.names.get(token)
        proc = self.procs.get(name or "")
        if name is None or proc is None or proc.poll() is not None:
            return None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        self.killed.append(name)
        return name

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            assert name in self.killed or proc.poll() is None, f"worker {name} died on its own ({proc.returncode})"

    def stop(self) -> None:
        (self.directory / "stop").touch()
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, proc in self.procs.items():
            if name in self.killed:
                continue
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            assert proc.returncode == 0, f"worker {name} exited with {proc.returncode}"

    def kill_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


class KillMidPage:
    """From inside the fake: once armed, SIGKILL the worker sending the next page before it hears back."""

    def __init__(self, workers: Workers) -> None:
        self.workers = workers
        self.armed = threading.Event()
        self.fired = threading.Event()
        self.page_id: int | None = None
        self.victim: str | None = None

    def __call__(self, call: Call) -> None:
        page_id = page_id_of(call)
        if page_id is None or call.failed or not self.armed.is_set():
            return
        self.armed.clear()
        self.victim = self.workers.kill(call.token)
        self.page_id = page_id
        self.fired.set()


@pytest.fixture
def telegram() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        # a killed worker's connection resets; expected here, not worth a traceback
        server._server.handle_error = lambda request, client_address: None  # type: ignore[union-attr,method-assign]
        server.delay("sendMessage", SEND_DELAY)
        yield server


@pytest.fixture
def env(settings_values: dict[str, str], telegram: FakeBotAPI, tmp_path: Path) -> dict[str, str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    values = {
        **settings_values,
        "HOTLINE_TELEGRAM_API_URL": telegram.url,
        "HOTLINE_PUBLIC_URL": "http://127.0.0.1:9",  # webhook mode: the workers do not poll the fake
        "HOTLINE_TELEGRAM_WEBHOOK_SECRET": "paging-workers-secret",
        "HOTLINE_ESCALATION_POLICY": str(policy),
        "HOTLINE_PAGE_ON_CONSOLE": "false",
        "HOTLINE_LOG_LEVEL": "WARNING",
    }
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("HOTLINE_")}
    return {**inherited, **values, "PYTHONUNBUFFERED": "1"}


def test_workers_killed_mid_send_page_each_step_once(env: dict[str, str], telegram: FakeBotAPI, tmp_path: Path) -> None:
    database = db.open_database(Settings.from_mapping(env))
    db.upgrade(database)
    team = register_team(database)
    count = 4 if database.is_postgres else 1  # SQLite: a single process by design
    directory = tmp_path / "workers"
    directory.mkdir()
    workers = Workers(env, directory, tmp_path / "workers.log")
    killer = KillMidPage(workers)
    telegram.on_call = killer
    started = time.monotonic()
    try:
        for n in range(count):
            workers.start(f"w{n + 1}")
        workers.wait_ready()
        sending_at_kill = report_and_kill(database, workers, killer)
        workers.start("restarted")
        workers.wait_ready()
        wait_until_quiet(database, workers)
        workers.stop()
        figures = check(database, telegram, team, killer, sending_at_kill)
        print_summary(figures, telegram, workers, killer, backend=f"{database.engine.dialect.name}, {count} processes")
        print(f"  in flight at the kill: {len(sending_at_kill)}; whole run {time.monotonic() - started:.1f}s")
    except BaseException:
        print(f"\npaging workers test failed; worker output:\n{workers.log.read_text(errors='replace')[-6000:]}")
        raise
    finally:
        telegram.on_call = None
        workers.kill_all()
        database.dispose()


def print_summary(
    figures: dict[str, Any], telegram: FakeBotAPI, workers: Workers, killer: KillMidPage, *, backend: str
) -> None:
    """Print what happened, for ``pytest -s``."""
    sends = Counter(workers.names.get(c.token, "?") for c in telegram.calls("sendMessage") if page_id_of(c))
    print(
        f"\npaging workers ({backend}): {PEOPLE} reports, {figures['pages']} pages, "
        f"{figures['received']} received by the fake, {figures['unknown']} unknown; "
        f"killed {killer.victim} sending page {killer.page_id}; {figures['retries']} pin retries"
    )
    print(f"  page messages received, by sending process: {dict(sorted(sends.items()))}")
    print(f"  page lateness (created - due): median {figures['late_median']:.0f} ms, max {figures['late_max']:.0f} ms")


def register_team(database: db.Database) -> dict[str, Any]:
    """Put a primary and a backup on duty and register two coordinators; return their ids."""
    since = utcnow() - timedelta(days=1)
    primary = put_on_duty(database, chat=PRIMARY_CHAT, name="Pri", since=since)
    backup = put_on_duty(database, chat=BACKUP_CHAT, name="Bak", layer="backup", since=since)
    with database.session() as session:
        coordinators = {
            staff.add_volunteer(
                session, keyring=database.keyring, name=f"Coord {chat}", telegram_chat=chat, phone=None,
                languages="en", now=since, role="coordinator",
            ).id
            for chat in COORDINATOR_CHATS
        }  # fmt: skip
    return {"primary": {primary}, "backup": {backup}, "coordinators": coordinators}


def report_and_kill(database: db.Database, workers: Workers, killer: KillMidPage) -> set[int]:
    """Store one pin per person over a few seconds, arming the kill on the way; return the messages in flight then."""
    for n in range(PEOPLE):
        with database.session() as session:
            inbox.store_event(
                session, keyring=database.keyring, channel="telegram", provider_id=f"pin-{n}",
                address=str(700_001 + n), kind="location", payload=PIN, now=utcnow(),
            )  # fmt: skip
        if n + 1 == KILL_AFTER_REPORTS:
            killer.armed.set()
        time.sleep(STORE_EVERY)
    assert killer.fired.wait(timeout=20), "no page was sent after the kill was armed"
    assert killer.victim is not None, "the page's sender was not one of the workers"
    with database.session() as session:  # the dead worker's claims stay `sending` until their lease runs out
        return {m for m in session.exec(select(Message.id).where(Message.status == "sending")).all() if m}


def wait_until_quiet(database: db.Database, workers: Workers) -> None:
    """Wait until every pin is processed, every escalation has run out and the outbox is empty."""
    deadline = time.monotonic() + QUIET_TIMEOUT
    while True:
        workers.check_alive()
        with database.session() as session:
            pending = inbox.pending_count(session)
            incidents = session.exec(select(Incident)).all()
            running = sum(1 for i in incidents if i.due_at is not None)
            unsent = len(session.exec(select(Message.id).where(col(Message.status).in_(outbox.UNSETTLED))).all())
        if pending == 0 and len(incidents) == PEOPLE and running == 0 and unsent == 0:
            return
        assert time.monotonic() < deadline, (
            f"not quiet after {QUIET_TIMEOUT}s: {pending} events pending, {len(incidents)} incidents "
            f"({running} still escalating), {unsent} messages unsent"
        )
        time.sleep(0.2)


def check(
    database: db.Database, telegram: FakeBotAPI, team: dict[str, Any], killer: KillMidPage, sending_at_kill: set[int]
) -> dict[str, Any]:
    """Assert the end state; return figures for the summary."""
    with database.session() as session:
        incidents = list(session.exec(select(Incident)).all())
        pages = list(session.exec(select(Page)).all())
        messages = {m.id or 0: m for m in session.exec(select(Message).where(Message.kind == "page")).all()}
        audits = list(session.exec(select(AuditEvent)).all())
        events = list(session.exec(select(InboundEvent)).all())
    assert [e.status for e in events] == ["done"] * PEOPLE, "a pin was not processed"
    identities = Counter((p.incident_id, p.step, p.repeat, p.volunteer_id, p.channel) for p in pages)
    assert all(n == 1 for n in identities.values()), "a page identity occurs twice"
    check_every_step_ran(incidents, pages, audits, team)
    received = Counter(page_id for page_id in map(page_id_of, telegram.calls("sendMessage")) if page_id is not None)
    unknown = check_deliveries(pages, messages, received, sending_at_kill)
    killed = next(p for p in pages if p.id == killer.page_id)
    assert killed.message_id in unknown and received[killed.id or 0] == 1, "the page sent as the worker died"
    lateness = [(p.created_at - p.due_at).total_seconds() * 1000 for p in pages]
    return {
        "pages": len(pages),
        "received": sum(received.values()),
        "unknown": len(unknown),
        "retries": sum(e.attempts for e in events),
        "late_median": median(lateness),
        "late_max": max(lateness),
    }


def check_every_step_ran(
    incidents: list[Incident], pages: list[Page], audits: list[AuditEvent], team: dict[str, Any]
) -> None:
    """Each incident ran each step of each repeat, paging each person of that step once, and then stopped."""
    assert len(incidents) == PEOPLE
    paged: dict[tuple[int, int, int], list[int]] = {}
    for page in pages:
        paged.setdefault((page.incident_id, page.repeat, page.step), []).append(page.volunteer_id)
    nobody = {a.report_id for a in audits if a.action == "no_one_on_duty"}
    exhausted = Counter(a.report_id for a in audits if a.action == "escalation_exhausted")
    policy = parse_policy(yaml.safe_load(POLICY))
    expected = set()
    for incident in incidents:
        assert incident.policy == policy, f"incident {incident.id} runs another policy: {incident.policy['name']}"
        assert incident.status == "paging" and incident.due_at is None, f"incident {incident.id} did not run out"
        assert exhausted[incident.report_id] == 1, f"incident {incident.id} ran out {exhausted[incident.report_id]}x"
        for repeat in range(int(policy["repeat"])):
            for step in page_steps(policy):
                key = (incident.id or 0, repeat, step.index)
                expected.add(key)
                assert key in paged or incident.report_id in nobody, f"incident {incident.id}: step skipped {key}"
                wanted = sorted(team[step.target])
                assert sorted(paged.get(key, wanted)) == wanted, f"step {key} paged {paged[key]}, not {wanted}"
    assert set(paged) <= expected, f"pages of steps that do not exist: {set(paged) - expected}"


def check_deliveries(
    pages: list[Page], messages: dict[int, Message], received: Counter[int], sending_at_kill: set[int]
) -> set[int]:
    """Each page reached the fake at most once, every page recorded sent exactly once; return the unknown ones."""
    twice = {page_id: n for page_id, n in received.items() if n > 1}
    assert not twice, f"pages the fake received more than once (page id: times): {twice}"
    assert set(received) <= {p.id for p in pages}, "the fake received a page with no page row"
    unknown = set()
    for page in pages:
        message = messages[page.message_id or 0]
        if message.status == "sent":
            assert received[page.id or 0] == 1, f"page {page.id} recorded sent, received {received[page.id or 0]}x"
            continue
        assert message.status == "unknown", f"page {page.id}: message {message.id} is {message.status}"
        assert message.attempts == 1, f"page {page.id}: a page of unknown outcome was tried again"
        unknown.add(message.id or 0)
    assert unknown <= sending_at_kill, f"unknown pages that were not in flight at the kill: {unknown - sending_at_kill}"
    return unknown
