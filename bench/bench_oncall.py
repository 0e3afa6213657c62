#!/usr/bin/env python
"""Benchmark of paging: time from a report to its first page, and each escalation step's lateness.

Runs the real ``Runtime`` of ``hotline serve`` (dispatcher, escalation loop, outbox sender) in this
process against a fake Telegram Bot API on loopback, with a short escalation policy (primary, then
backup, then the coordinators, a few seconds apart, the whole list twice). N people share a
location pin at random moments over a stretch of time; nobody answers, so every step of every
incident runs. It PRINTS:

1. report committed -> first page received by the fake (median, p90, max in ms);
2. each step's lateness against its due time: page row ``created_at - due_at`` (the engine) and
   the fake's receive time ``- due_at`` (engine and sender), per (repeat, step).

Run from the repository root::

    .venv/bin/python bench/bench_oncall.py [--reports N] [--over SECONDS] [--wait SECONDS]
                                           [--database-url URL]

SQLite in a temporary directory by default; a PostgreSQL URL gets a schema of its own, dropped at
the end. This is not a test: slow figures never make it fail. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import secrets
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session as OrmSession  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from hotline import logs  # noqa: E402
from hotline.bot.oncall.metrics import summary  # noqa: E402
from hotline.bot.oncall.policy import PageStep, page_steps  # noqa: E402
from hotline.bot.sender import RateLimiter  # noqa: E402
from hotline.bot.service import Runtime  # noqa: E402
from hotline.clock import utcnow  # noqa: E402
from hotline.settings import Settings, generate_key  # noqa: E402
from hotline.storage import db, inbox, outbox, staff  # noqa: E402
from hotline.storage.models import Contact, Incident, Message, Page, Report  # noqa: E402
from tests.conftest import put_on_duty  # noqa: E402
from tests.fakes.telegram_api import Call, FakeBotAPI, page_id_of  # noqa: E402

TOKEN = "7000000001:ONCALLBENCH"
FIRST_PERSON = 720001
TEAM = {"primary": "930001", "backup": "930002"}
COORDINATORS = ("930003", "930004")
POLICY = """
name: bench
steps:
  - notify: primary
    by: [telegram]
    wait: {wait}
  - notify: backup
    by: [telegram]
    wait: {wait}
  - notify: coordinators
    by: [telegram]
    wait: {wait}
repeat: {repeat}
"""


# --------------------------------------------------------------------------- what is measured


class CommitStamps:
    """Notes, through SQLAlchemy session events, the moment each transaction that opened an incident commits."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}  # incident id -> time.monotonic() of the commit
        self._lock = threading.Lock()

    def __enter__(self) -> CommitStamps:
        event.listen(OrmSession, "after_flush", self._after_flush)
        event.listen(OrmSession, "after_commit", self._after_commit)
        return self

    def __exit__(self, *exc_info: object) -> None:
        event.remove(OrmSession, "after_flush", self._after_flush)
        event.remove(OrmSession, "after_commit", self._after_commit)

    def _after_flush(self, session: OrmSession, _context: Any) -> None:
        opened = [obj.id for obj in session.new if isinstance(obj, Incident) and obj.id is not None]
        if opened:
            session.info.setdefault("bench_incidents", []).extend(opened)

    def _after_commit(self, session: OrmSession) -> None:
        opened = session.info.pop("bench_incidents", [])
        if opened:
            now = time.monotonic()
            with self._lock:
                self.at.update(dict.fromkeys(opened, now))


class PageArrivals:
    """The fake's ``on_call`` hook: when each page message arrived, by page id (read from its buttons)."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self.twice: list[int] = []

    def __call__(self, call: Call) -> None:
        page_id = page_id_of(call)
        if page_id is None or call.failed:
            return
        if page_id in self.at:
            self.twice.append(page_id)
        self.at.setdefault(page_id, call.at)


@dataclass
class Clock:
    """One moment read on both clocks, to turn the fake's monotonic stamps into UTC."""

    wall: datetime = field(default_factory=utcnow)
    mono: float = field(default_factory=time.monotonic)

    def utc(self, mono: float) -> datetime:
        return self.wall + timedelta(seconds=mono - self.mono)


# --------------------------------------------------------------------------- backends


@contextlib.contextmanager
def backend(url: str | None, workdir: Path) -> Iterator[str]:
    """Yield a fresh database URL: a SQLite file, or a PostgreSQL schema of its own (dropped afterwards)."""
    if not url:
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    url = db.normalize_url(url)
    if make_url(url).get_backend_name() != "postgresql":
        yield url
        return
    schema = f"b_{secrets.token_hex(6)}"
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


def settings_for(url: str, fake: FakeBotAPI, workdir: Path, args: argparse.Namespace) -> Settings:
    """Write the short policy and return settings pointing Telegram at the fake."""
    policy = workdir / "policy.yaml"
    policy.write_text(POLICY.format(wait=args.wait, repeat=args.repeat), encoding="utf-8")
    return Settings.from_mapping(
        {
            "HOTLINE_DATABASE_URL": url,
            "HOTLINE_ENCRYPTION_KEYS": generate_key(),
            "HOTLINE_VAR_DIR": str(workdir / "var"),
            "HOTLINE_TELEGRAM_TOKEN": TOKEN,
            "HOTLINE_TELEGRAM_API_URL": fake.url,
            "HOTLINE_PUBLIC_URL": "http://127.0.0.1:9",  # webhook mode: nobody long-polls the fake
            "HOTLINE_TELEGRAM_WEBHOOK_SECRET": "bench-oncall-secret",
            "HOTLINE_ESCALATION_POLICY": str(policy),
            "HOTLINE_PAGE_ON_CONSOLE": "false",
            "HOTLINE_POLL_INTERVAL": str(args.poll_interval),
            "HOTLINE_LOG_LEVEL": "WARNING",
        }
    )


def register_team(database: db.Database) -> None:
    """A primary and a backup on duty, two coordinators."""
    since = utcnow() - timedelta(days=1)
    for layer, chat in TEAM.items():
        put_on_duty(database, chat=chat, name=layer.title(), layer=layer, since=since)
    with database.session() as session:
        for chat in COORDINATORS:
            staff.add_volunteer(
                session, keyring=database.keyring, name=f"Coordinator {chat}", telegram_chat=chat, phone=None,
                languages="en", now=since, role="coordinator",
            )  # fmt: skip


# --------------------------------------------------------------------------- one run


@dataclass
class Run:
    """What one run collected."""

    stored: dict[str, float] = field(default_factory=dict)  # person chat -> pin stored (monotonic)
    settled_after: float | None = None
    load_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def store_pin(database: db.Database, chat: str, n: int) -> None:
    """Store a location pin as the webhook would."""
    with database.session() as session:
        inbox.store_event(
            session, keyring=database.keyring, channel="telegram", provider_id=f"bench-{n}", address=chat,
            kind="location", payload={"lat": 54.5 + n / 1000, "lon": 25.1, "live": False}, now=utcnow(),
        )  # fmt: skip


def quiet(database: db.Database, reports: int) -> bool:
    """Tell whether every report has an incident that has run out of steps and the outbox is empty."""
    with database.session() as session:
        incidents = session.exec(select(Incident.due_at)).all()
        unsent = session.exec(select(Message.id).where(col(Message.status).in_(outbox.UNSETTLED)).limit(1)).first()
    return len(incidents) >= reports and all(due is None for due in incidents) and unsent is None


async def run(database: db.Database, settings: Settings, args: argparse.Namespace) -> Run:
    """Start the runtime, let the reports arrive, wait for every escalation to run out."""
    result = Run()
    runtime = Runtime(settings=settings, database=database)
    runtime.sender.limiter = RateLimiter(per_chat_interval=args.per_chat_interval, per_second=30)
    rng = random.Random(args.seed)
    arrivals = sorted(rng.uniform(0, args.over) for _ in range(args.reports))
    await runtime.start()
    try:
        began = time.monotonic()
        for n, offset in enumerate(arrivals):
            await asyncio.sleep(max(0.0, began + offset - time.monotonic()))
            chat = str(FIRST_PERSON + n)
            await asyncio.to_thread(store_pin, database, chat, n)
            result.stored[chat] = time.monotonic()
            runtime.wake_inbox()
        result.load_seconds = time.monotonic() - began
        deadline = time.monotonic() + args.settle_timeout
        while not await asyncio.to_thread(quiet, database, args.reports):
            if time.monotonic() > deadline:
                result.problems.append(f"not every escalation had run out {args.settle_timeout:.0f}s after the load")
                break
            await asyncio.sleep(0.25)
        else:
            result.settled_after = time.monotonic() - began
    finally:
        await runtime.stop()
    return result


# --------------------------------------------------------------------------- figures


def figures(
    database: db.Database, result: Run, commits: CommitStamps, arrivals: PageArrivals, clock: Clock
) -> dict[str, Any]:
    """Work the measurements out of the database and the stamps."""
    with database.session() as session:
        rows = session.exec(
            select(Incident, Contact)
            .join(Report, col(Report.id) == col(Incident.report_id))
            .join(Contact, col(Contact.id) == col(Report.contact_id))
        ).all()
        pages = list(session.exec(select(Page)).all())
        messages = {m.id: m for m in session.exec(select(Message).where(Message.kind == "page")).all()}
    first_pages = {p.incident_id: p for p in pages if p.step == p.repeat == 0}
    to_first, to_claim, stored_to_commit = [], [], []
    for incident, contact in rows:
        committed, page = commits.at.get(incident.id or 0), first_pages.get(incident.id or 0)
        if committed is None or page is None:
            continue
        if page.id in arrivals.at:
            to_first.append((arrivals.at[page.id] - committed) * 1000)
        claim = claimed_at(messages[page.message_id])
        if claim is not None:
            to_claim.append((claim - clock.utc(committed)).total_seconds() * 1000)
        if str(contact.address) in result.stored:
            stored_to_commit.append((committed - result.stored[str(contact.address)]) * 1000)
    return {
        "incidents": len(rows),
        "pages": len(pages),
        "received": len(arrivals.at),
        "twice": len(arrivals.twice),
        "not_sent": sum(1 for m in messages.values() if m.status != "sent"),
        "to_first_page": summary(to_first),
        "to_claim": summary(to_claim),
        "stored_to_commit": summary(stored_to_commit),
        "lateness": step_lateness(pages, rows[0][0].policy if rows else None, arrivals, clock),
    }


def step_lateness(
    pages: list[Page], policy: dict[str, Any] | None, arrivals: PageArrivals, clock: Clock
) -> list[tuple[tuple[int, int], PageStep, dict[str, Any], dict[str, Any]]]:
    """Per (repeat, step): the step, and summaries of created - due_at and received - due_at in ms."""
    created: dict[tuple[int, int], list[float]] = {}
    received: dict[tuple[int, int], list[float]] = {}
    for page in pages:
        key = (page.repeat, page.step)
        created.setdefault(key, []).append((page.created_at - page.due_at).total_seconds() * 1000)
        if page.id in arrivals.at:
            late = clock.utc(arrivals.at[page.id]) - page.due_at
            received.setdefault(key, []).append(late.total_seconds() * 1000)
    steps = page_steps(policy) if policy else []
    return [(key, steps[key[1]], summary(created[key]), summary(received.get(key, []))) for key in sorted(created)]


def claimed_at(message: Message) -> datetime | None:
    """Return when the sender claimed a message sent at its first try (a claim sets ``not_before`` a lease ahead)."""
    if message.attempts != 1 or message.status != "sent" or message.not_before is None:
        return None
    return message.not_before - outbox.LEASE


def fmt(stats: dict[str, Any]) -> str:
    if not stats["count"]:
        return f"{'-':>8} {'-':>8} {'-':>8}"
    return f"{stats['median']:>8.1f} {stats['p90']:>8.1f} {stats['max']:>8.1f}"


def print_figures(found: dict[str, Any], result: Run, wall: float) -> None:
    print()
    print(f"incidents {found['incidents']}, page rows {found['pages']}, pages received by the fake {found['received']}")
    print(f"pages received twice {found['twice']}, page messages not 'sent' {found['not_sent']}")
    print()
    print(f"{'(ms)':<46} {'median':>8} {'p90':>8} {'max':>8}  n")
    first, stored = found["to_first_page"], found["stored_to_commit"]
    print(f"{'1. report committed -> first page at the fake':<46} {fmt(first)}  {first['count']}")
    claim = found["to_claim"]
    print(f"{'   (report committed -> page claimed to send)':<46} {fmt(claim)}  {claim['count']}")
    print(f"{'   (pin stored -> report committed)':<46} {fmt(stored)}  {stored['count']}")
    print()
    print("2. lateness against due_at, per step (ms)")
    print(f"   {'repeat step target':<26} {'offset':>6}   {'created - due_at':^26}   {'received - due_at':^26}  n")
    print(f"   {'':<26} {'':>6}   {'median':>8} {'p90':>8} {'max':>8}   {'median':>8} {'p90':>8} {'max':>8}")
    for (repeat, index), step, made, got in found["lateness"]:
        label = f"{repeat:>6} {index:>4} {step.target}"
        print(f"   {label:<26} {step.offset:>5.0f}s   {fmt(made)}   {fmt(got)}  {made['count']}")
    print()
    settled = "-" if result.settled_after is None else f"{result.settled_after:.1f} s"
    print(f"load {result.load_seconds:.1f} s; every escalation run out and outbox empty after {settled}")
    print(f"wall time {wall:.1f} s")
    for problem in result.problems:
        print(f"  ! {problem}")


def header(args: argparse.Namespace, url: str) -> None:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    limit = "lifted" if args.per_chat_interval == 0 else f"{args.per_chat_interval:g} s between messages to a chat"
    print("Border Hotline paging benchmark")
    print(f"  {'python / platform':<26} {platform.python_version()} / {platform.platform()}")
    print(f"  {'cores (all / usable)':<26} {os.cpu_count()} / {usable}")
    name = make_url(url).get_backend_name()
    print(f"  {'database':<26} {name}{f' {sqlite3.sqlite_version}' if name == 'sqlite' else ''}")
    print(f"  {'reports':<26} {args.reports} pins at random moments over {args.over:g} s (seed {args.seed})")
    print(
        f"  {'policy':<26} primary, backup +{args.wait:g} s, coordinators +{2 * args.wait:g} s, "
        f"all by Telegram, {args.repeat} times round"
    )
    print(f"  {'team':<26} 1 primary, 1 backup, {len(COORDINATORS)} coordinators (one chat each)")
    print(f"  {'per-chat rate limit':<26} {limit}; poll interval {args.poll_interval:g} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=50, help="how many reports (default 50)")
    parser.add_argument("--over", type=float, default=20.0, help="seconds over which they arrive (default 20)")
    parser.add_argument("--wait", type=float, default=3.0, help="seconds between notify steps (default 3)")
    parser.add_argument("--repeat", type=int, default=2, help="times round the policy (default 2)")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite in a temporary dir)")
    parser.add_argument(
        "--per-chat-interval", type=float, default=0.0, help="seconds between messages to one chat (product: 1)"
    )
    parser.add_argument("--poll-interval", type=float, default=2.0, help="HOTLINE_POLL_INTERVAL (default 2)")
    parser.add_argument("--settle-timeout", type=float, default=40.0)
    parser.add_argument("--seed", type=int, default=20260115)
    args = parser.parse_args(argv)
    if args.reports < 1 or args.wait < 1 or args.repeat < 1:
        parser.error("--reports, --wait and --repeat must be at least 1")
    logs.configure("ERROR")  # not the per-incident "nobody answered" warnings: every incident ends so here
    began = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="hotline-bench-oncall-") as tmp,
        backend(args.database_url, Path(tmp)) as url,
    ):
        header(args, url)
        arrivals = PageArrivals()
        with FakeBotAPI(TOKEN) as fake, CommitStamps() as commits:
            fake.on_call = arrivals
            settings = settings_for(url, fake, Path(tmp), args)
            database = db.open_database(settings)
            try:
                db.upgrade(database)
                register_team(database)
                with database.session() as session:  # warm the connection and the mappers
                    session.execute(text("SELECT 1"))
                clock = Clock()
                result = asyncio.run(run(database, settings, args))
                found = figures(database, result, commits, arrivals, clock)
            finally:
                database.dispose()
    print_figures(found, result, time.monotonic() - began)
    return 0


if __name__ == "__main__":
    sys.exit(main())
