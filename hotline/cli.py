"""The ``hotline`` command: serve, chat, and the operations (db, keys, volunteers, the on-call rota, tokens)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlmodel import Session

from hotline import logs
from hotline.bot.oncall import rota
from hotline.clock import utcnow
from hotline.settings import Settings, SettingsError, generate_key
from hotline.storage import db, groups, reports, staff
from hotline.storage import rota as rota_store
from hotline.storage.rotation import rotate_keys


def _settings() -> Settings:
    try:
        settings = Settings.from_env()
        settings.check()
        return settings.with_development_key()
    except (SettingsError, ValueError) as exc:
        raise click.ClickException(f"refusing to start: {exc}") from exc


def _database(*, migrate: bool = False) -> db.Database:
    settings = _settings()
    database = db.open_database(settings)
    if migrate and not settings.production:
        db.upgrade(database)
    return database


@contextmanager
def _transaction() -> Iterator[tuple[db.Database, Session]]:
    """Open the database and one transaction; a refused input becomes a clear error, not a traceback."""
    database = _database(migrate=True)
    try:
        with database.session() as session:
            yield database, session
    except (ValueError, LookupError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        database.dispose()


@click.group()
@click.option("--log-level", default=None, help="Override HOTLINE_LOG_LEVEL.")
def main(log_level: str | None) -> None:
    """Border Hotline: a multilingual crisis hotline over Telegram and SMS."""
    level = log_level or Settings.from_env().log_level
    logs.configure(level)


@main.command()
def serve() -> None:
    """Run the API, workers, outbox sender and Telegram connection in one process."""
    import uvicorn

    from hotline.api.app import create_app

    settings = _settings()
    try:
        app = create_app(settings)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    if not settings.telegram_enabled:
        click.echo("No HOTLINE_TELEGRAM_TOKEN: Telegram is off and pages are printed here.")
        click.echo("Talk to the bot with `hotline chat` in another terminal.")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(), access_log=False)


@main.command()
@click.option(
    "--channel", "style", type=click.Choice(["telegram", "sms"]), default="telegram", help="How replies are rendered."
)
@click.option("--lang", default=None, help="Language code to answer in (BCP 47).")
@click.option("--from", "address", default=None, help="Your address; reuse one to continue a conversation.")
def chat(style: str, lang: str | None, address: str | None) -> None:
    """Talk to the bot in the terminal as a person would."""
    from hotline.bot.chat import run_chat

    settings = _settings()
    if logging.getLogger().level < logging.WARNING:  # keep the conversation readable
        logging.getLogger().setLevel(logging.WARNING)
    database = _database(migrate=True)
    asyncio.run(run_chat(settings, database, style=style, language=lang, address=address))


@main.group(name="db")
def db_group() -> None:
    """Database operations."""


@db_group.command()
def upgrade() -> None:
    """Apply pending migrations."""
    db.upgrade(_database())
    click.echo("database is up to date")


@main.group()
def keys() -> None:
    """Encryption keys."""


@keys.command()
def generate() -> None:
    """Print a new key; put it first in HOTLINE_ENCRYPTION_KEYS."""
    click.echo(generate_key())


@keys.command()
def rotate() -> None:
    """Re-encrypt all personal data with the newest key (the first in HOTLINE_ENCRYPTION_KEYS)."""
    changed = rotate_keys(_database())
    click.echo(f"re-encrypted {changed} values; older keys can be removed once every process runs with the new list")


@main.group()
def volunteer() -> None:
    """Volunteers who can be paged."""


@volunteer.command("add")
@click.option("--name", required=True, help="Name shown to coordinators (stored encrypted).")
@click.option("--telegram-chat", default=None, help="Telegram chat id that receives pages.")
@click.option("--phone", default=None, help="Phone number for SMS and calls (stored encrypted).")
@click.option("--lang", "languages", default="en", help="Languages spoken, comma-separated.")
@click.option(
    "--role", type=click.Choice(list(staff.ROLES)), default="volunteer", help="Coordinators are the final fallback."
)
@click.option(
    "--quiet", default=None, help='Channels not used at some local hours: "call 23:00-07:00; sms 01:00-06:00".'
)
def volunteer_add(
    name: str, telegram_chat: str | None, phone: str | None, languages: str, role: str, quiet: str | None
) -> None:
    """Register a volunteer."""
    wrong = rota.invalid_quiet_rules(quiet or "")
    if wrong:
        hint = "write CHANNEL HH:MM-HH:MM, channels among telegram, sms, call"
        raise click.BadParameter(f"not a quiet rule: {'; '.join(wrong)} ({hint})", param_hint="--quiet")
    with _transaction() as (database, session):
        record = staff.add_volunteer(
            session, keyring=database.keyring, name=name, telegram_chat=telegram_chat, phone=phone,
            languages=languages, now=utcnow(), role=role, quiet=quiet,
        )  # fmt: skip
    click.echo(f"volunteer {record.id} added")


@volunteer.command("list")
def volunteer_list() -> None:
    """List the active volunteers: role, languages, which channels reach them, quiet hours."""
    with _transaction() as (_, session):
        click.echo("id\tname\trole\tlanguages\ttelegram\tphone\tquiet")
        for person in staff.list_volunteers(session):
            reach = "\t".join("yes" if channel else "no" for channel in (person.telegram_chat, person.phone))
            click.echo(f"{person.id}\t{person.name}\t{person.role}\t{person.languages}\t{reach}\t{person.quiet or '-'}")


@main.command()
@click.option("--days", type=click.IntRange(1, 3660), default=30, show_default=True, help="How many days back.")
def stats(days: int) -> None:
    """Print people and groups reported in danger, each group counted once, and how they were counted."""
    now = utcnow()
    with _transaction() as (_, session):
        figures = groups.count_people(session, since=now - timedelta(days=days), until=now).json()
    for key, value in figures.items():
        click.echo(f"{key}: {value}")


@main.group()
def oncall() -> None:
    """Who is on duty: rotations, overrides and the coordinators behind them (times are Europe/Vilnius)."""


@oncall.command("set")
@click.argument("volunteer_id", type=int)
@click.option("--layer", type=click.Choice(rota.LAYERS), default="primary", help="Which layer to cover.")
def oncall_set(volunteer_id: int, layer: str) -> None:
    """Put one volunteer on a layer from now until replaced (an open-ended override)."""
    with _transaction() as (_, session):
        cover = rota_store.cover_now(session, volunteer_id=volunteer_id, now=utcnow(), created_by="cli", layer=layer)
        _audit(session, "override_added", f"override {cover.id} volunteer {volunteer_id} {layer}")
    click.echo(f"volunteer {volunteer_id} is on {layer} duty from now until replaced")


@oncall.command("show")
@click.option("--days", type=click.IntRange(1, 62), default=7, show_default=True, help="How many days to show.")
@click.option("--from", "first_day", default=None, help="Local date to start from, YYYY-MM-DD (default: now).")
def oncall_show(days: int, first_day: str | None) -> None:
    """Show who is on duty when, per layer, and flag uncovered time; exit 1 if primary is uncovered in 48 hours."""
    now = utcnow()
    start, end = _show_range(now, first_day, days)
    with _transaction() as (_, session):
        shifts = rota.schedule(session, start=start, end=end)
        names = {person.id: person.name for person in staff.list_volunteers(session, include_inactive=True)}
        fallback = rota.coordinators(session)
        gaps = rota.uncovered(session, start=now, end=now + rota.WARNING_HORIZON)
    click.echo(f"On duty from {rota.local_text(start)} to {rota.local_text(end)} ({rota_store.DEFAULT_TIME_ZONE})")
    for layer in rota.LAYERS:
        click.echo(f"{layer}:")
        for shift in (shift for shift in shifts if shift.layer == layer):
            click.echo("  " + _shift_line(shift, names))
    click.echo("coordinators (final fallback): " + (", ".join(f"{p.id} {p.name}" for p in fallback) or "none"))
    if gaps:
        spans = ", ".join(f"{rota.local_text(max(a, now))} → {rota.local_text(b)}" for a, b in gaps)
        click.echo(f"primary is UNCOVERED within the next 48 hours: {spans}", err=True)
        sys.exit(1)


def _show_range(now: datetime, first_day: str | None, days: int) -> tuple[datetime, datetime]:
    if first_day is None:
        return now, now + timedelta(days=days)
    try:
        day = rota_store.parse_date(first_day)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--from") from exc
    zone = ZoneInfo(rota_store.DEFAULT_TIME_ZONE)
    start, end = (datetime.combine(d, time()) for d in (day, day + timedelta(days=days)))
    return rota.local_to_utc(start, zone), rota.local_to_utc(end, zone)


def _shift_line(shift: rota.Shift, names: dict[int | None, Any]) -> str:
    span = f"{rota.local_text(shift.starts_at)} → {rota.local_text(shift.ends_at)}"
    if shift.source == "uncovered":
        return f"{span}  UNCOVERED"
    people = ", ".join(f"{i} {names.get(i, '?')}" for i in shift.volunteer_ids)
    return f"{span}  {people} ({shift.source})"


@oncall.group()
def rotation() -> None:
    """Rotations: members take turns on a layer, handing over at local times."""


@rotation.command("add")
@click.option("--name", required=True, help="What the rotation is called.")
@click.option("--layer", type=click.Choice(rota.LAYERS), default="primary", show_default=True, help="Layer covered.")
@click.option("--every", type=click.Choice(rota_store.EVERY), default="day", show_default=True, help="Turn length.")
@click.option(
    "--handoffs", default="09:00", show_default=True, help='Local hand-over times, comma-separated: "08:00,20:00".'
)
@click.option("--weekday", type=click.IntRange(0, 6), default=None, help="Weekly: hand-over day, 0 Monday to 6 Sunday.")
@click.option("--members", required=True, help="Volunteer ids in turn order, comma-separated: 3,1,2.")
@click.option("--starts-on", default=None, help="Local date of the first turn, YYYY-MM-DD (default: today).")
@click.option("--time-zone", default=rota_store.DEFAULT_TIME_ZONE, show_default=True, help="Time zone of the times.")
def rotation_add(
    name: str, layer: str, every: str, handoffs: str, weekday: int | None, members: str, starts_on: str | None,
    time_zone: str,
) -> None:  # fmt: skip
    """Add a rotation; its first turn begins at its first hand-over on or after the start date."""
    today = utcnow().astimezone(ZoneInfo(rota_store.DEFAULT_TIME_ZONE)).date().isoformat()
    with _transaction() as (_, session):
        record = rota_store.add_rotation(
            session, name=name, layer=layer, every=every, handoffs=handoffs, members=members,
            starts_on=starts_on or today, now=utcnow(), weekday=weekday, time_zone=time_zone,
        )  # fmt: skip
        _audit(session, "rotation_added", f"rotation {record.id}")
    click.echo(f"rotation {record.id} added")


@rotation.command("list")
def rotation_list() -> None:
    """List the active rotations."""
    with _transaction() as (_, session):
        click.echo("id\tname\tlayer\tevery\thandoffs\tweekday\tmembers\tstarts_on\ttime_zone")
        for r in rota_store.list_rotations(session):
            weekday = "-" if r.weekday is None else r.weekday
            click.echo(
                f"{r.id}\t{r.name}\t{r.layer}\t{r.every}\t{r.handoffs}\t{weekday}\t{r.members}\t{r.starts_on}\t{r.time_zone}"
            )


@rotation.command("remove")
@click.argument("rotation_id", type=int)
def rotation_remove(rotation_id: int) -> None:
    """Stop a rotation (it stays on record)."""
    with _transaction() as (_, session):
        rota_store.deactivate_rotation(session, rotation_id=rotation_id)
        _audit(session, "rotation_removed", f"rotation {rotation_id}")
    click.echo(f"rotation {rotation_id} removed")


@oncall.group()
def override() -> None:
    """Overrides: one volunteer covers a layer for a while ("I cover Tuesday night")."""


LOCAL_HELP = 'Local time in Europe/Vilnius, "YYYY-MM-DD HH:MM".'


@override.command("add")
@click.argument("volunteer_id", type=int)
@click.option("--from", "starts", required=True, callback=lambda _c, _p, v: _local_time(v, "--from"), help=LOCAL_HELP)
@click.option(
    "--to", "ends", default=None, callback=lambda _c, _p, v: _local_time(v, "--to"), help=LOCAL_HELP + " Default: open."
)
@click.option("--layer", type=click.Choice(rota.LAYERS), default="primary", show_default=True, help="Layer covered.")
def override_add(volunteer_id: int, starts: datetime, ends: datetime | None, layer: str) -> None:
    """Put a volunteer on a layer from one local time to another; without --to, until replaced."""
    with _transaction() as (_, session):
        record = rota_store.add_override(
            session, layer=layer, volunteer_id=volunteer_id, starts_at=starts, ends_at=ends, created_by="cli",
            now=utcnow(),
        )  # fmt: skip
        _audit(session, "override_added", f"override {record.id} volunteer {volunteer_id} {layer}")
    until = f"to {rota.local_text(ends)}" if ends else "until replaced"
    click.echo(
        f"override {record.id} added: volunteer {volunteer_id} on {layer} from {rota.local_text(starts)} {until}"
    )


@override.command("list")
def override_list() -> None:
    """List the overrides in force now or later."""
    with _transaction() as (_, session):
        click.echo("id\tlayer\tvolunteer\tfrom\tto\tcreated_by")
        for o in rota_store.list_overrides(session, now=utcnow()):
            until = rota.local_text(o.ends_at) if o.ends_at else "until replaced"
            click.echo(f"{o.id}\t{o.layer}\t{o.volunteer_id}\t{rota.local_text(o.starts_at)}\t{until}\t{o.created_by}")


@override.command("cancel")
@click.argument("override_id", type=int)
def override_cancel(override_id: int) -> None:
    """Cancel an override (it stays on record)."""
    with _transaction() as (_, session):
        rota_store.cancel_override(session, override_id=override_id, now=utcnow())
        _audit(session, "override_cancelled", f"override {override_id}")
    click.echo(f"override {override_id} cancelled")


def _local_time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        wall = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError as exc:
        raise click.BadParameter(f"write a local time as YYYY-MM-DD HH:MM, not {text!r}", param_hint=option) from exc
    return rota.local_to_utc(wall, ZoneInfo(rota_store.DEFAULT_TIME_ZONE))


def _audit(session: Session, action: str, detail: str) -> None:
    reports.audit(session, actor="cli", action=action, detail=detail, now=utcnow())


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--name", required=True, help="What the token is for.")
@click.option("--role", type=click.Choice(list(staff.ROLES)), default="volunteer", help="What the token may do.")
@click.option("--volunteer", "volunteer_id", type=int, default=None, help="The volunteer who acts through it.")
def token_create(name: str, role: str, volunteer_id: int | None) -> None:
    """Create an API token; it is shown once and stored only as a hash."""
    with _transaction() as (_, session):
        value = staff.create_token(session, name=name, role=role, now=utcnow(), volunteer_id=volunteer_id)
    click.echo(value)


if __name__ == "__main__":
    main()
