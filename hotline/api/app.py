"""``create_app(settings)``: the FastAPI application, with the background runtime in its lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI

from hotline.api.routes import health, incidents, oncall, reports, twilio, webhooks
from hotline.bot.service import Runtime, telegram_webhook_secret
from hotline.clock import utcnow
from hotline.logs import hold_back_talkative_libraries
from hotline.settings import Settings, SettingsError
from hotline.storage import db

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    database: db.Database | None = None,
    run_workers: bool = True,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """Build the app; with ``run_workers`` the dispatcher, sender and Telegram loops run beside it."""
    settings.check()
    hold_back_talkative_libraries()
    owns_database = database is None
    database = database or db.open_database(settings)
    prepare_database(settings, database)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.runtime is not None:
            await app.state.runtime.start()
        try:
            yield
        finally:
            if app.state.runtime is not None:
                await app.state.runtime.stop()
            if owns_database:
                app.state.database.dispose()

    app = FastAPI(title="Border Hotline", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.database = database
    app.state.clock = clock
    app.state.telegram_secret = telegram_webhook_secret(settings, database) if settings.telegram_enabled else ""
    app.state.runtime = Runtime(settings=settings, database=database, clock=clock) if run_workers else None
    for module in (health, webhooks, twilio, reports, incidents, oncall):
        app.include_router(module.router)
    return app


def prepare_database(settings: Settings, database: db.Database) -> None:
    """Migrate in development; in production refuse to run on an unmigrated database."""
    if not settings.production:
        db.upgrade(database)
    elif not db.migrations_current(database):
        raise SettingsError("the database is not migrated: run `hotline db upgrade` first")
