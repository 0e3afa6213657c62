"""Twilio webhooks: check the signature, store what came, answer fast. SMS replies go through the outbox.

Twilio signs ``HOTLINE_PUBLIC_URL`` + path (+ query) and every posted parameter, repeated keys
included; a request whose signature does not match gets 403 and nothing is stored. The voice
webhook answers with TwiML because a caller cannot wait for a worker. A key pressed on a page call
(``?page=<id>``, signed with the rest of the URL) is acted on at once, in one transaction: the
volunteer hears the outcome before hanging up, and a replayed request is answered again, not applied again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session
from starlette.datastructures import MultiDict
from twilio.request_validator import RequestValidator

from hotline.bot import calls, delivery, paging, twilio_events, voice
from hotline.bot.i18n import SOURCE_LANGUAGE
from hotline.bot.oncall import actions
from hotline.settings import Settings
from hotline.storage import outbox
from hotline.storage.db import Database
from hotline.storage.models import Incident, Page, Volunteer

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])
MAX_BODY = 64_000
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


async def signed_form(request: Request) -> MultiDict | None:
    """Return the posted form if Twilio's signature over URL and parameters is right, else ``None``."""
    settings = request.app.state.settings
    signature = request.headers.get("x-twilio-signature", "")
    if not settings.twilio_auth_token or not signature or not settings.public_url:
        return None
    body = await request.body()
    if len(body) > MAX_BODY:
        return None
    try:  # Twilio posts application/x-www-form-urlencoded; repeated keys are kept for the signature
        form = MultiDict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return None
    url = settings.public_url + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        valid = RequestValidator(settings.twilio_auth_token).validate(url, form, signature)
    except Exception:  # a malformed request must be a 403, never a 500
        log.warning("twilio signature check failed on a malformed request")
        return None
    if not valid or form.get("AccountSid", settings.twilio_account_sid) != settings.twilio_account_sid:
        return None
    return form


def _twiml(text: str) -> Response:
    return Response(content=text, media_type="text/xml")


def _fields(form: MultiDict) -> dict[str, str]:
    return {key: str(value) for key, value in form.multi_items()}


@router.post("/sms", include_in_schema=False)
async def sms_webhook(request: Request) -> Response:
    """Store one incoming SMS under its MessageSid and answer with empty TwiML."""
    form = await signed_form(request)
    if form is None:
        return Response(status_code=403)
    app = request.app
    stored = await run_in_threadpool(twilio_events.store_sms, app.state.database, _fields(form), app.state.clock())
    if stored is not None and app.state.runtime is not None:
        app.state.runtime.wake_inbox()
    return _twiml(EMPTY_TWIML)


@router.post("/status", include_in_schema=False)
async def status_webhook(request: Request) -> Response:
    """Record a delivery report; repeated and out-of-order reports are harmless."""
    form = await signed_form(request)
    if form is None:
        return Response(status_code=403)
    fields = _fields(form)
    sid, status = fields.get("MessageSid", ""), fields.get("MessageStatus", "")
    if sid and status:
        app = request.app
        await run_in_threadpool(
            _apply_status, app.state.database, sid, status, fields.get("ErrorCode"), app.state.clock()
        )
        if app.state.runtime is not None:
            app.state.runtime.wake_outbox()
    return Response(status_code=204)


def _apply_status(database: Database, sid: str, status: str, code: str | None, now: datetime) -> None:
    with database.session() as session:
        message = outbox.apply_delivery_status(
            session, channel="sms", provider_message_id=sid, status=status, error_code=code or None, now=now
        )
        if message is not None:
            delivery.after_status(session, message=message, code=code or None, now=now)


@router.post("/voice", include_in_schema=False)
async def voice_webhook(request: Request) -> Response:
    """Answer a call and each of its later steps with TwiML, every step stored once; or a key on a page call."""
    form = await signed_form(request)
    if form is None:
        return Response(status_code=403)
    page = request.query_params.get("page")
    if page is not None:
        return await _page_key(request, page, str(form.get("Digits", "")))
    app = request.app
    step = request.query_params.get("step", "")
    language = request.query_params.get("lang")
    twiml, stored = await run_in_threadpool(
        calls.answer_call_step, app.state.database, app.state.settings, _fields(form), step, language,
        app.state.clock(),
    )  # fmt: skip
    if stored is not None and app.state.runtime is not None:
        app.state.runtime.wake_inbox()
    return _twiml(twiml)


async def _page_key(request: Request, page: str, digits: str) -> Response:
    """Answer the key a volunteer pressed on a page call."""
    app = request.app
    twiml = await run_in_threadpool(
        answer_page_call, app.state.database, app.state.settings, _page_id(page), digits, app.state.clock()
    )
    if app.state.runtime is not None:  # taking a case sends its details; declining pages the next volunteer
        app.state.runtime.wake_outbox()
    return _twiml(twiml)


def answer_page_call(database: Database, settings: Settings, page_id: int, digits: str, now: datetime) -> str:
    """Act on the key a volunteer pressed on a page call (1 takes the case, 2 declines) and say the outcome."""
    with database.session() as session:
        paged = _paged(session, page_id)
        if paged is None:
            log.warning("a key was pressed on the call of unknown page %s", page_id)
            return voice.check_messages(language=SOURCE_LANGUAGE)
        volunteer, incident = paged
        language = paging.volunteer_language(volunteer)
        action = voice.action_for_key(digits)
        if action is None:
            return voice.page_prompt(language=language, action_url=voice.page_answer_url(settings.public_url, page_id))
        outcome = actions.act(
            session, database=database, settings=settings, volunteer=volunteer, incident=incident, action=action,
            via="call", now=now,
        )  # fmt: skip
    log.info("page %s: %s by key, changed: %s", page_id, action, outcome.changed)
    return voice.page_answered(text=outcome.text, language=language)


def _page_id(text: str) -> int:
    """Read the page id in a page call's URL; 0, which no page has, when it is not a sound id."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else 0


def _paged(session: Session, page_id: int) -> tuple[Volunteer, Incident] | None:
    """Return the volunteer and the incident of a page, or None when there is no such page."""
    page = session.get(Page, page_id) if page_id > 0 else None
    if page is None:
        return None
    volunteer, incident = session.get(Volunteer, page.volunteer_id), session.get(Incident, page.incident_id)
    return (volunteer, incident) if volunteer is not None and incident is not None else None
