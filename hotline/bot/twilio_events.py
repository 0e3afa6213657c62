"""What Twilio posts to us, turned into inbox events: texts, opt-outs, calls, dial outcomes and voicemails.

A phone number is one contact on the ``sms`` channel whether it texts or calls, so a caller who
later writes continues the same case. Event ids come from Twilio (``MessageSid``, ``CallSid``,
``RecordingSid``), so a retried or replayed webhook is stored once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hotline.storage import inbox, staff
from hotline.storage.db import Database

log = logging.getLogger(__name__)

CHANNEL = "sms"
MAX_TEXT = 10_000  # a concatenated SMS is at most a few thousand characters; anything longer is not an SMS
# Words the carrier and Twilio act on themselves; we only record them and never answer (Twilio does).
OPT_OUT_WORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"}
OPT_IN_WORDS = {"start", "unstop"}
MEDIA_LIMIT = 10


def sms_event(form: Mapping[str, str]) -> tuple[str, str, dict[str, Any]]:
    """Return the kind, the sender and the payload of an incoming SMS or MMS."""
    body = str(form.get("Body", ""))[:MAX_TEXT]
    opt = str(form.get("OptOutType", "")).upper()
    word = body.strip().lower()
    payload: dict[str, Any] = {
        "text": body,
        "segments": to_int(form.get("NumSegments")),
        "country": form.get("FromCountry"),
    }
    media = [
        {"url": form[f"MediaUrl{i}"], "mime_type": form.get(f"MediaContentType{i}")}
        for i in range(min(to_int(form.get("NumMedia")) or 0, MEDIA_LIMIT))
        if form.get(f"MediaUrl{i}")
    ]
    if opt == "STOP" or word in OPT_OUT_WORDS:
        kind = "opt_out"
    elif opt == "START" or word in OPT_IN_WORDS:
        kind = "opt_in"
    elif media:
        kind, payload["media"] = "sms_media", media
    else:
        kind = "text"
    return kind, staff.normalize_phone(str(form.get("From", ""))), payload


def store_sms(database: Database, form: Mapping[str, str], now: datetime) -> int | None:
    """Store one incoming SMS under its ``MessageSid``; ``None`` for a replay or a form without one."""
    sid = str(form.get("MessageSid") or form.get("SmsSid") or "")
    kind, sender, payload = sms_event(form)
    if not sid or not sender:
        log.warning("twilio sms without a MessageSid or sender; dropped")
        return None
    return _store(database, provider_id=sid, address=sender, kind=kind, payload=payload, now=now)


def store_call_event(
    database: Database, form: Mapping[str, str], *, kind: str, suffix: str, payload: dict[str, Any], now: datetime
) -> int | None:
    """Store one moment of a call (``call``, ``call_answered``, ``call_missed``, ``voicemail``) once."""
    sid = str(form.get("CallSid", ""))
    caller = staff.normalize_phone(str(form.get("From", "")))
    if not sid or not caller:
        log.warning("twilio call request without a CallSid or caller; dropped")
        return None
    provider_id = f"{sid}:{suffix}" if suffix else sid
    return _store(database, provider_id=provider_id, address=caller, kind=kind, payload=payload, now=now)


def _store(
    database: Database, *, provider_id: str, address: str, kind: str, payload: dict[str, Any], now: datetime
) -> int | None:
    with database.session() as session:
        return inbox.store_event(
            session, keyring=database.keyring, channel=CHANNEL, provider_id=provider_id[:64], address=address,
            kind=kind, payload=payload, now=now,
        )  # fmt: skip


def to_int(value: Any) -> int | None:
    """Read a number Twilio sent as text; ``None`` when it is missing or not a number."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
