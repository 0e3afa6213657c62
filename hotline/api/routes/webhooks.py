"""Webhooks: authenticate, store in the inbox, answer 2xx only after the commit. Nothing else happens here."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from hotline.bot.service import store_telegram_update

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks", tags=["webhooks"])
MAX_BODY = 1_000_000


@router.post("/telegram", include_in_schema=False)
async def telegram_webhook(request: Request) -> Response:
    """Store one Telegram update; 403 without the right secret token."""
    expected: str = request.app.state.telegram_secret
    given = request.headers.get("x-telegram-bot-api-secret-token", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return Response(status_code=403)
    body = await request.body()
    if len(body) > MAX_BODY:
        return Response(status_code=413)
    try:
        data: Any = json.loads(body)
    except ValueError:
        return Response(status_code=400)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return Response(status_code=400)
    app = request.app
    stored = await run_in_threadpool(store_telegram_update, app.state.database, data, app.state.clock())
    if stored is not None and app.state.runtime is not None:
        app.state.runtime.wake_inbox()
    return Response(status_code=200)
