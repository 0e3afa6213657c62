#!/usr/bin/env python
"""Benchmark of the hotline's spine: webhook -> inbox -> dispatcher -> outbox -> fake Bot API.

Starts ``hotline serve`` as a subprocess against a fake Telegram Bot API on loopback, plays N
concurrent distress conversations through ``POST /webhooks/telegram`` and PRINTS figures:

1. webhook acknowledgement latency (p50/p99/max),
2. inbound events fully processed per second, and outbox throughput (Bot API sends per second),
3. paging latency: "first fact -> page" and "last answer -> page updated".

Run from the repository root::

    .venv/bin/python bench/bench_spine.py [--backend sqlite|postgresql|both] [--conversations N]
                                          [--postgres-url URL]

This is not a test: it asserts nothing beyond sanity checks and never exits non-zero for slow
figures. See bench/README.md for what each figure means and its caveats.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlmodel import select  # noqa: E402

from hotline.settings import Settings, generate_key  # noqa: E402
from hotline.storage import db  # noqa: E402
from hotline.storage.models import Contact, Report  # noqa: E402
from tests.conftest import put_on_duty  # noqa: E402
from tests.fakes.telegram_api import (  # noqa: E402
    Call,
    FakeBotAPI,
    callback_update,
    command_update,
    location_update,
    text_update,
)

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
VOLUNTEER_CHAT = 900001
FIRST_PERSON_CHAT = 710001
WARM_UP_CHAT = 709999
TOKEN = "7000000001:BENCHTOKEN"
SECRET = "bench-webhook-secret-" + secrets.token_hex(8)
REFERENCE_RE = re.compile(r"report ([A-Z0-9]{3}-[A-Z0-9]{3})")
FINAL_PAGE_MARK = "People: 5, children: 1"
SEND_METHODS = ("sendMessage", "editMessageText", "sendLocation", "answerCallbackQuery")

# One conversation, in order: (step name, update builder for a chat id).
SCRIPT: list[tuple[str, Callable[[int], dict[str, Any]]]] = [
    ("start", lambda chat: command_update(None, chat, "/start")),
    ("pin", lambda chat: location_update(None, chat, 54.1 + (chat % 97) / 1000, 24.4 + (chat % 89) / 1000)),
    ("people", lambda chat: text_update(None, chat, "5")),
    ("children", lambda chat: text_update(None, chat, "1")),
    ("pregnant", lambda chat: callback_update(None, chat, "a:pregnant:no")),
    ("medical", lambda chat: text_update(None, chat, "no")),
    ("asylum", lambda chat: text_update(None, chat, "yes")),
    ("needs", lambda chat: text_update(None, chat, "water")),
]
FIRST_FACT, LAST_ANSWER = "pin", "needs"


# --------------------------------------------------------------------------- small helpers


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.1f} ms"


def secs(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:,.2f} s"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", flush=True)


def machine_info() -> list[tuple[str, str]]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        ("cpu", model),
        ("cores (os.cpu_count / usable)", f"{os.cpu_count()} / {usable}"),
        ("memory", memory),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("platform", platform.platform()),
        ("sqlite", sqlite3.sqlite_version),
    ]


# --------------------------------------------------------------------------- recording fake calls


@dataclass(frozen=True)
class Seen:
    """A Bot API call as the fake answered it, timestamped by ``on_call`` with ``time.monotonic()``."""

    at: float
    method: str
    chat: int | None
    text: str
    failed: bool


class Recorder:
    """Collects the fake's calls through its ``on_call`` hook (called from the fake's server threads)."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._lock = threading.Lock()

    def __call__(self, call: Call) -> None:
        now = time.monotonic()
        chat = call.params.get("chat_id")
        try:
            chat_id = int(chat) if chat is not None else None
        except (TypeError, ValueError):
            chat_id = None
        seen = Seen(now, call.method, chat_id, str(call.params.get("text", "")), call.failed)
        with self._lock:
            self.seen.append(seen)

    def snapshot(self) -> list[Seen]:
        with self._lock:
            return list(self.seen)


# --------------------------------------------------------------------------- databases


@dataclass
class Backend:
    name: str
    url: str
    cleanup: Callable[[], None] = lambda: None
    server_version: str = ""


@contextlib.contextmanager
def sqlite_backend(workdir: Path) -> Iterator[Backend]:
    yield Backend("sqlite", f"sqlite:///{workdir / 'hotline.db'}", server_version=f"SQLite {sqlite3.sqlite_version}")


@contextlib.contextmanager
def postgres_backend(base: str) -> Iterator[Backend]:
    base = db.normalize_url(base)
    schema = f"b_{secrets.token_hex(6)}"
    with psycopg.connect(libpq(base), autocommit=True, connect_timeout=5) as connection:
        version = str(connection.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        connection.execute(f"CREATE SCHEMA {schema}")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    try:
        log(f"created schema {schema}")
        yield Backend("postgresql", url, server_version=f"PostgreSQL {version.split()[0]}")
    finally:
        try:
            with psycopg.connect(libpq(base), autocommit=True, connect_timeout=5) as connection:
                connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            log(f"dropped schema {schema}")
        except psycopg.Error as exc:
            print(f"  WARNING: could not drop schema {schema}: {exc}", file=sys.stderr)


def postgres_reachable(url: str) -> str | None:
    """Return None when reachable, else the reason."""
    try:
        with psycopg.connect(libpq(db.normalize_url(url)), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__


def count_scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())


# --------------------------------------------------------------------------- the server under test


class Server:
    """``hotline serve`` in a subprocess of its own process group; always stopped by ``stop()``."""

    def __init__(self, env: dict[str, str], log_path: Path, port: int) -> None:
        self.env, self.log_path, self.port = env, log_path, port
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    def start(self) -> None:
        self._log_file = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hotline", "serve"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def log_problems(self) -> list[str]:
        with contextlib.suppress(OSError):
            return [
                line
                for line in self.log_path.read_text(errors="replace").splitlines()
                if " WARNING " in line or " ERROR " in line or "Traceback" in line
            ]
        return []


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


# --------------------------------------------------------------------------- load


@dataclass
class LoadResult:
    started: float = 0.0
    finished: float = 0.0
    latencies: list[float] = field(default_factory=list)
    returned: dict[tuple[int, str], float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


async def play(port: int, chats: list[int], clients: int, timeout: float, think: float = 0.0) -> LoadResult:
    """Play every conversation at once; a chat's next update goes only after its previous POST returned."""
    result = LoadResult()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    limits = httpx.Limits(max_connections=max(8, len(chats)), max_keepalive_connections=max(8, len(chats)))
    pool = [
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30.0, limits=limits)
        for _ in range(max(1, clients))
    ]

    async def conversation(index: int, chat: int) -> None:
        client = pool[index % len(pool)]
        for number, (step, build) in enumerate(SCRIPT):
            if think and number:
                await asyncio.sleep(think)
            update = build(chat)
            sent = time.monotonic()
            try:
                response = await client.post("/webhooks/telegram", json=update, headers=headers)
            except httpx.HTTPError as exc:
                result.errors.append(f"chat {chat} {step}: {exc.__class__.__name__}")
                return
            back = time.monotonic()
            if response.status_code != 200:
                result.errors.append(f"chat {chat} {step}: HTTP {response.status_code}")
                return
            result.latencies.append(back - sent)
            result.returned[(chat, step)] = back

    result.started = time.monotonic()
    try:
        await asyncio.wait_for(asyncio.gather(*(conversation(i, c) for i, c in enumerate(chats))), timeout)
    except TimeoutError:
        result.errors.append(f"load did not finish within {timeout:.0f}s")
    finally:
        result.finished = time.monotonic()
        for client in pool:
            await client.aclose()
    return result


class DonePoller:
    """Polls ``inbound_event`` in a thread and notes when every stored event is ``done``."""

    def __init__(self, engine: Engine, total: int, *, baseline: int = 0, interval: float = 0.02) -> None:
        self.engine, self.total, self.baseline, self.interval = engine, total, baseline, interval
        self.all_done_at: float | None = None
        self.last_count = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-done-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self.engine.connect() as connection:
                    query = text("SELECT status, count(*) FROM inbound_event GROUP BY status")
                    rows: dict[str, int] = {str(k): int(v) for k, v in connection.execute(query).all()}
                now = time.monotonic()
            except Exception:  # a busy moment; try again
                time.sleep(self.interval)
                continue
            self.last_count = int(rows.get("done", 0)) - self.baseline
            self.failed = int(rows.get("failed", 0))
            if self.last_count >= self.total:
                self.all_done_at = now
                return
            time.sleep(self.interval)

    def wait(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return self.all_done_at is not None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def warm_up(port: int, probe: Engine, fake: FakeBotAPI) -> None:
    """One ``/start`` from a chat outside the measured set (no fact, so no page): warms every path once."""
    response = httpx.post(
        f"http://127.0.0.1:{port}/webhooks/telegram",
        json=command_update(None, WARM_UP_CHAT, "/start"),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        timeout=30,
    )
    if response.status_code != 200:
        raise RuntimeError(f"warm-up update got HTTP {response.status_code}")
    if not wait_until(lambda: any(c.method == "sendMessage" for c in fake.calls()), 15, 0.05):
        raise RuntimeError("warm-up reply never reached the fake Bot API")
    done = "SELECT count(*) FROM inbound_event WHERE status = 'done'"
    if not wait_until(lambda: count_scalar(probe, done) == 1, 10, 0.05):
        raise RuntimeError("warm-up event was not processed")


# --------------------------------------------------------------------------- one backend


@dataclass
class Figures:
    backend: str
    server_version: str = ""
    conversations: int = 0
    events: int = 0
    wall: float = 0.0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ack: list[float] = field(default_factory=list)
    load_seconds: float | None = None
    done_at_load_end: int = 0
    processing_seconds: float | None = None
    events_per_second: float | None = None
    send_message_count: int = 0
    send_message_rate: float | None = None
    person_rate: float | None = None
    person_span: float | None = None
    all_sends_rate: float | None = None
    peak_window: int = 0
    volunteer_calls: int = 0
    volunteer_span: float | None = None
    outbox_empty_after: float | None = None
    first_fact_to_page: list[float] = field(default_factory=list)
    last_answer_to_page: list[float] = field(default_factory=list)
    pages_missing: int = 0
    final_pages_missing: int = 0
    complete_reports: int = 0
    timeline: list[tuple[int, int, int, int]] = field(default_factory=list)
    reply_latency: list[float] = field(default_factory=list)
    replies_missing: int = 0


def run_backend(backend: Backend, args: argparse.Namespace, workdir: Path) -> Figures:
    figures = Figures(backend=backend.name, server_version=backend.server_version, conversations=args.conversations)
    began = time.monotonic()
    key = generate_key()
    port = free_port()
    values = {
        "HOTLINE_DATABASE_URL": backend.url,
        "HOTLINE_ENCRYPTION_KEYS": key,
        "HOTLINE_TELEGRAM_TOKEN": TOKEN,
        "HOTLINE_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "HOTLINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HOTLINE_PORT": str(port),
        "HOTLINE_HOST": "127.0.0.1",
        "HOTLINE_VAR_DIR": str(workdir / "var"),
        "HOTLINE_LOG_LEVEL": "WARNING",
        "HOTLINE_NGO_NAME": "Bench Hotline",
    }
    recorder = Recorder()
    chats = [FIRST_PERSON_CHAT + i for i in range(args.conversations)]
    total_events = len(chats) * len(SCRIPT)
    figures.events = total_events

    with FakeBotAPI(TOKEN) as fake:
        fake.on_call = recorder
        values["HOTLINE_TELEGRAM_API_URL"] = fake.url
        settings = Settings.from_mapping(values)
        database = db.open_database(settings)
        try:
            db.upgrade(database)
            volunteer_id = put_on_duty(database, chat=str(VOLUNTEER_CHAT), name="Bench Volunteer")
            log(f"{backend.name}: migrated, volunteer {volunteer_id} on duty (chat {VOLUNTEER_CHAT})")

            env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
            env.update(values)
            server = Server(env, workdir / f"serve-{backend.name}.log", port)
            probe = (
                create_engine(db.normalize_url(backend.url), pool_size=2, max_overflow=2)
                if backend.name == "postgresql"
                else create_engine(backend.url, connect_args={"timeout": 30})
            )
            poller: DonePoller | None = None
            try:
                server.start()
                ready = wait_until(lambda: not server.alive() or healthy(port), args.startup_timeout, 0.1)
                if not ready or not server.alive():
                    raise RuntimeError(f"hotline serve did not come up:\n{server.log_tail()}")
                if not wait_until(lambda: bool(fake.calls("setWebhook")), 15, 0.05):
                    raise RuntimeError(f"the runtime never registered its webhook:\n{server.log_tail()}")
                pid = server.process.pid if server.process else "?"
                log(f"{backend.name}: hotline serve up on port {port} (pid {pid}); webhook registered")
                warm_up(port, probe, fake)
                fake.clear()

                poller = DonePoller(probe, total_events, baseline=1)
                poller.start()
                load = asyncio.run(play(port, chats, args.clients, args.load_timeout, args.think_time))
                figures.done_at_load_end = poller.last_count
                figures.errors += load.errors
                figures.ack = load.latencies
                figures.load_seconds = load.finished - load.started
                log(
                    f"{backend.name}: {len(load.latencies)} updates acknowledged in {secs(figures.load_seconds)}"
                    f" ({figures.done_at_load_end} already done)"
                )
                if not poller.wait(args.process_timeout):
                    figures.errors.append(
                        f"only {poller.last_count}/{total_events} events done after {args.process_timeout:.0f}s"
                        f" ({poller.failed} failed)"
                    )
                if poller.all_done_at is not None:
                    figures.processing_seconds = poller.all_done_at - load.started
                    figures.events_per_second = total_events / figures.processing_seconds
                    log(f"{backend.name}: all {total_events} events done after {secs(figures.processing_seconds)}")

                outbox_sql = "SELECT count(*) FROM message WHERE direction = 'out' AND status IN ('pending', 'sending')"
                settled = wait_until(lambda: count_scalar(probe, outbox_sql) == 0, args.settle_timeout, 0.1)
                figures.outbox_empty_after = time.monotonic() - load.started if settled else None
                if settled:
                    log(f"{backend.name}: outbox empty {secs(figures.outbox_empty_after)} after the first POST")
                else:
                    left = count_scalar(probe, outbox_sql)
                    figures.errors.append(
                        f"outbox still had {left} unsent messages after the settle timeout"
                        f" ({args.settle_timeout:.0f}s); figures below cover what arrived"
                    )
                failed_sql = "SELECT count(*) FROM message WHERE direction = 'out' AND status = 'failed'"
                failed_out = count_scalar(probe, failed_sql)
                if failed_out:
                    figures.errors.append(f"{failed_out} outbox messages failed")
            finally:
                if poller is not None:
                    poller.stop()
                server.stop()
                problems = server.log_problems()
                if problems:
                    figures.notes.append(
                        f"server log had {len(problems)} WARNING/ERROR lines, e.g.: {problems[0][:200]}"
                    )
                probe.dispose()

            references, figures.complete_reports = report_references(database)
        finally:
            database.dispose()

    analyse(figures, recorder.snapshot(), load, references, chats)
    figures.wall = time.monotonic() - began
    return figures


def report_references(database: db.Database) -> tuple[dict[int, str], int]:
    """Map each person chat to its report reference (decrypting the contact address); count complete reports."""
    mapping: dict[int, str] = {}
    complete = 0
    with database.session() as session:
        for report, contact in session.exec(select(Report, Contact).where(Report.contact_id == Contact.id)).all():
            with contextlib.suppress(TypeError, ValueError):
                mapping[int(contact.address)] = report.reference
            people, needs = report.people or {}, report.needs or []
            if (
                people.get("total") == 5
                and people.get("children") == 1
                and people.get("pregnant") is False
                and report.asylum_intent == "yes"
                and needs == ["water"]
            ):
                complete += 1
    return mapping, complete


def analyse(figures: Figures, seen: list[Seen], load: LoadResult, references: dict[int, str], chats: list[int]) -> None:
    ok = [s for s in seen if not s.failed]
    send_messages = [s for s in ok if s.method == "sendMessage"]
    figures.send_message_count = len(send_messages)
    if send_messages:
        span = max(s.at for s in send_messages) - load.started
        figures.send_message_rate = len(send_messages) / span if span > 0 else None
    person_set = set(chats)
    person = [s for s in ok if s.method in SEND_METHODS and s.chat in person_set]
    if person:
        figures.person_span = max(s.at for s in person) - load.started
        figures.person_rate = len(person) / figures.person_span
    sends = sorted(s.at for s in ok if s.method in SEND_METHODS)
    if sends:
        figures.all_sends_rate = len(sends) / (sends[-1] - load.started)
        j = 0
        for i, at in enumerate(sends):
            while sends[j] <= at - 1.0:
                j += 1
            figures.peak_window = max(figures.peak_window, i - j + 1)
    volunteer = [s for s in ok if s.chat == VOLUNTEER_CHAT and s.method in ("sendMessage", "editMessageText")]
    figures.volunteer_calls = len(volunteer)
    if volunteer:
        figures.volunteer_span = max(s.at for s in volunteer) - min(s.at for s in volunteer)

    buckets: dict[int, list[int]] = {}
    for call in ok:
        if call.method in SEND_METHODS and call.at >= load.started:
            bucket = buckets.setdefault(int(call.at - load.started), [0, 0, 0])
            if call.chat == VOLUNTEER_CHAT:
                bucket[2] += 1
            elif call.method == "answerCallbackQuery":
                bucket[1] += 1
            else:
                bucket[0] += 1
    if buckets:
        figures.timeline = [(second, *buckets.get(second, [0, 0, 0])) for second in range(max(buckets) + 1)]  # type: ignore[misc]

    # Every update of the script gets exactly one chat message back (button answers are separate calls),
    # delivered in order per chat, so the i-th sendMessage to a chat answers its i-th update.
    replies: dict[int, list[float]] = {}
    for call in send_messages:
        if call.chat in person_set:
            replies.setdefault(call.chat, []).append(call.at)
    for chat in chats:
        answers = sorted(replies.get(chat, []))
        for index, (step, _) in enumerate(SCRIPT):
            back = load.returned.get((chat, step))
            if back is None:
                continue
            if index < len(answers):
                figures.reply_latency.append(answers[index] - back)
            else:
                figures.replies_missing += 1

    by_reference: dict[str, list[Seen]] = {}
    for call in volunteer:
        found = REFERENCE_RE.search(call.text)
        if found:
            by_reference.setdefault(found.group(1), []).append(call)
    for chat in chats:
        reference = references.get(chat)
        calls = sorted(by_reference.get(reference or "", []), key=lambda s: s.at)
        pin_back = load.returned.get((chat, FIRST_FACT))
        first_page = next((s for s in calls if s.method == "sendMessage"), None)
        if pin_back is not None and first_page is not None:
            figures.first_fact_to_page.append(first_page.at - pin_back)
        elif pin_back is not None:
            figures.pages_missing += 1
        last_back = load.returned.get((chat, LAST_ANSWER))
        final = calls[-1] if calls else None
        if last_back is not None and final is not None and final.at >= last_back and FINAL_PAGE_MARK in final.text:
            figures.last_answer_to_page.append(final.at - last_back)
        elif last_back is not None:
            figures.final_pages_missing += 1


# --------------------------------------------------------------------------- printing


Formatter = Callable[[float | None], str]


def stats_row(values: list[float], fmt: Formatter) -> tuple[str, str, str, str]:
    if not values:
        return "-", "-", "-", "n=0"
    return fmt(percentile(values, 50)), fmt(percentile(values, 99)), fmt(max(values)), f"n={len(values)}"


def print_timeline(figures: Figures) -> None:
    print(
        f"\nBot API sends per second after the first POST ({figures.backend}):"
        " person-chat messages / button answers / volunteer-chat pages+edits"
    )
    for second, person, buttons, volunteer in figures.timeline:
        bar = "#" * person + "+" * buttons + "V" * volunteer
        print(f"  {second:>3}s {person:>3} {buttons:>3} {volunteer:>2}  {bar}")


def print_figures(all_figures: list[Figures]) -> None:
    names = [f.backend for f in all_figures]
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, values: list[str]) -> None:
        rows.append((label, values))

    def add_spread(prefix: str, label: str, pick: Callable[[Figures], list[float]], fmt: Formatter) -> None:
        stats = [stats_row(pick(f), fmt) for f in all_figures]
        add(f"{prefix:3}{label} p50", [row[0] for row in stats])
        add(f"   {label} p99", [row[1] for row in stats])
        add(f"   {label} max", [f"{row[2]} ({row[3]})" for row in stats])

    add("database", [f.server_version for f in all_figures])
    add("conversations x updates", [f"{f.conversations} x {len(SCRIPT)} = {f.events}" for f in all_figures])
    add("", ["" for _ in all_figures])
    add_spread("1.", "webhook ack latency", lambda f: f.ack, ms)
    add("   all updates acknowledged after", [secs(f.load_seconds) for f in all_figures])
    add("   events already done by then", [f"{f.done_at_load_end}/{f.events}" for f in all_figures])
    add("", ["" for _ in all_figures])
    add(
        "2. events fully processed / s",
        [f"{f.events_per_second:,.1f} /s" if f.events_per_second else "-" for f in all_figures],
    )
    add("   first POST -> all events done", [secs(f.processing_seconds) for f in all_figures])
    add("   sendMessage calls (all chats)", [str(f.send_message_count) for f in all_figures])
    add(
        "   sendMessage / s (first POST->last)",
        [f"{f.send_message_rate:,.1f} /s" if f.send_message_rate else "-" for f in all_figures],
    )
    add(
        "   person-chat sends / s",
        [f"{f.person_rate:,.1f} /s over {secs(f.person_span)}" if f.person_rate else "-" for f in all_figures],
    )
    add(
        "   all Bot API sends / s (incl. edits,",
        [f"{f.all_sends_rate:,.1f} /s" if f.all_sends_rate else "-" for f in all_figures],
    )
    add("     button answers, locations)", ["" for _ in all_figures])
    add("   peak sends in any 1 s window", [str(f.peak_window) for f in all_figures])
    add("   volunteer-chat calls (1 chat)", [f"{f.volunteer_calls} over {secs(f.volunteer_span)}" for f in all_figures])
    add("   first POST -> outbox empty", [secs(f.outbox_empty_after) for f in all_figures])
    add("", ["" for _ in all_figures])
    add_spread("3.", "update acked -> bot reply", lambda f: f.reply_latency, secs)
    add("   replies missing", [str(f.replies_missing) for f in all_figures])
    add("", ["" for _ in all_figures])
    add_spread("4.", "first fact -> page", lambda f: f.first_fact_to_page, secs)
    add_spread("", "last answer -> page updated", lambda f: f.last_answer_to_page, secs)
    add("   pages / final pages missing", [f"{f.pages_missing} / {f.final_pages_missing}" for f in all_figures])
    add("   complete reports in DB", [f"{f.complete_reports}/{f.conversations}" for f in all_figures])
    add("", ["" for _ in all_figures])
    add("wall time for this backend", [secs(f.wall) for f in all_figures])

    label_width = max(len(label) for label, _ in rows) + 2
    widths = [max(len(name), *(len(values[i]) for _, values in rows)) + 2 for i, name in enumerate(names)]
    line = "-" * (label_width + sum(widths) + 3 * len(widths))
    print()
    print(line)
    print("".ljust(label_width) + "".join(" | " + name.ljust(w) for name, w in zip(names, widths, strict=True)))
    print(line)
    for label, values in rows:
        print(label.ljust(label_width) + "".join(" | " + v.ljust(w) for v, w in zip(values, widths, strict=True)))
    print(line)
    for figures in all_figures:
        for error in figures.errors:
            print(f"  ! {figures.backend}: {error}")
        for note in figures.notes:
            print(f"  * {figures.backend}: {note}")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--conversations", type=int, default=50, help="concurrent chats (default 50)")
    parser.add_argument("--clients", type=int, default=8, help="httpx.AsyncClient instances sharing the chats")
    parser.add_argument("--postgres-url", default=os.environ.get("HOTLINE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)
    parser.add_argument("--startup-timeout", type=float, default=30.0)
    parser.add_argument("--load-timeout", type=float, default=90.0, help="bound on the whole POST phase")
    parser.add_argument("--process-timeout", type=float, default=60.0, help="bound on waiting for all events done")
    parser.add_argument(
        "--settle-timeout",
        type=float,
        default=90.0,
        help="bound on waiting for the outbox to empty (the volunteer chat drains at 1 msg/s)",
    )
    parser.add_argument(
        "--think-time",
        type=float,
        default=0.0,
        help="pause per chat between updates (default 0: next update as soon as the POST returns)",
    )
    parser.add_argument("--timeline", action="store_true", help="also print Bot API sends per second")
    args = parser.parse_args(argv)
    if args.conversations < 1:
        parser.error("--conversations must be at least 1")

    print("Border Hotline spine benchmark")
    for label, value in machine_info():
        print(f"  {label:<30} {value}")
    print(
        f"  {'conversations':<30} {args.conversations} chats x {len(SCRIPT)} updates, {args.clients} HTTP clients,"
        f" think time {args.think_time:g} s"
    )
    print(f"  {'sender limits (product)':<30} 1 msg/s per chat, 30 msg/s overall; ONE volunteer chat gets every page")
    print(flush=True)

    wanted = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: list[Figures] = []
    for name in wanted:
        with tempfile.TemporaryDirectory(prefix=f"hotline-bench-{name}-") as tmp:
            workdir = Path(tmp)
            if name == "postgresql":
                reason = postgres_reachable(args.postgres_url)
                if reason is not None:
                    message = f"PostgreSQL at {args.postgres_url} unreachable ({reason}); skipped"
                    print(f"  {message}", flush=True)
                    if args.backend == "postgresql":
                        return 2
                    continue
                context = postgres_backend(args.postgres_url)
            else:
                context = sqlite_backend(workdir)
            try:
                with context as backend:
                    log(f"--- {name} ---")
                    results.append(run_backend(backend, args, workdir))
            except Exception as exc:  # report and go on to the next backend
                print(f"  {name}: benchmark failed: {exc.__class__.__name__}: {exc}", flush=True)
                failed = Figures(backend=name, conversations=args.conversations)
                failed.errors.append(f"{exc.__class__.__name__}: {str(exc)[:2000]}")
                results.append(failed)
    if args.timeline:
        for figures in results:
            print_timeline(figures)
    if results:
        print_figures(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
