"""The ``hotline`` command: serve, chat, and the operations (db, keys, volunteers, on-call, tokens)."""

from __future__ import annotations

import asyncio
import logging
import sys

import click

from hotline import logs
from hotline.clock import utcnow
from hotline.settings import Settings, SettingsError, generate_key
from hotline.storage import db, staff
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
def volunteer_add(name: str, telegram_chat: str | None, phone: str | None, languages: str) -> None:
    """Register a volunteer."""
    database = _database(migrate=True)
    with database.session() as session:
        record = staff.add_volunteer(
            session,
            keyring=database.keyring,
            name=name,
            telegram_chat=telegram_chat,
            phone=phone,
            languages=languages,
            now=utcnow(),
        )
        click.echo(f"volunteer {record.id} added")


@main.group()
def oncall() -> None:
    """Who is on duty."""


@oncall.command("set")
@click.argument("volunteer_id", type=int)
def oncall_set(volunteer_id: int) -> None:
    """Put one volunteer on duty (everyone else off)."""
    database = _database(migrate=True)
    try:
        with database.session() as session:
            staff.set_on_duty(session, volunteer_id=volunteer_id)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"volunteer {volunteer_id} is on duty")


@oncall.command("show")
def oncall_show() -> None:
    """Show who is on duty now."""
    database = _database(migrate=True)
    with database.session() as session:
        people = staff.on_duty(session)
        for person in people:
            click.echo(f"{person.id}\t{person.name}\t{person.languages}")
    if not people:
        click.echo("nobody is on duty: reports will not be paged", err=True)
        sys.exit(1)


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--name", required=True, help="What the token is for.")
@click.option("--role", type=click.Choice(list(staff.ROLES)), default="volunteer")
def token_create(name: str, role: str) -> None:
    """Create an API token; it is shown once and stored only as a hash."""
    database = _database(migrate=True)
    with database.session() as session:
        value = staff.create_token(session, name=name, role=role, now=utcnow())
    click.echo(value)


if __name__ == "__main__":
    main()
