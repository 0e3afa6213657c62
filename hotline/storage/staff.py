"""Volunteers and API tokens (stored only as hashes). Who is on duty when is the rota's business."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlmodel import Session, col, select

from hotline.storage.crypto import KeyRing
from hotline.storage.inbox import address_key
from hotline.storage.models import ApiToken, Volunteer

ROLES = ("volunteer", "coordinator")


def add_volunteer(
    session: Session,
    *,
    keyring: KeyRing,
    name: str,
    telegram_chat: str | None,
    phone: str | None,
    languages: str,
    now: datetime,
    role: str = "volunteer",
    quiet: str | None = None,
) -> Volunteer:
    """Register a volunteer; their Telegram chat and phone are findable only through keyed hashes.

    ``quiet`` lists channels not to use at some local hours ("call 23:00-07:00; sms 01:00-06:00").
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if quiet is not None and len(quiet) > 200:
        raise ValueError("quiet rules are at most 200 characters")
    index = keyring.blind_index(address_key("telegram", telegram_chat)) if telegram_chat else None
    phone = normalize_phone(phone) if phone else None
    phone_index = keyring.blind_index(address_key("sms", phone)) if phone else None
    volunteer = Volunteer(
        name=name, telegram_chat=telegram_chat, telegram_index=index, phone=phone, phone_index=phone_index,
        languages=languages, role=role, quiet=quiet or None, created_at=now,
    )  # fmt: skip
    session.add(volunteer)
    session.flush()
    return volunteer


def list_volunteers(session: Session, *, include_inactive: bool = False) -> list[Volunteer]:
    """Return the volunteers by id."""
    query = select(Volunteer).order_by(col(Volunteer.id))
    if not include_inactive:
        query = query.where(col(Volunteer.active).is_(True))
    return list(session.exec(query).all())


def find_volunteer_by_chat(session: Session, *, keyring: KeyRing, chat_id: str) -> Volunteer | None:
    """Find the active volunteer who writes from a Telegram chat."""
    indexes = keyring.blind_indexes(address_key("telegram", chat_id))
    query = select(Volunteer).where(col(Volunteer.telegram_index).in_(indexes), col(Volunteer.active).is_(True))
    return session.exec(query).first()


def find_volunteer_by_phone(session: Session, *, keyring: KeyRing, phone: str) -> Volunteer | None:
    """Find the active volunteer who writes or calls from a phone number."""
    indexes = keyring.blind_indexes(address_key("sms", normalize_phone(phone)))
    query = select(Volunteer).where(col(Volunteer.phone_index).in_(indexes), col(Volunteer.active).is_(True))
    return session.exec(query).first()


def normalize_phone(text: str) -> str:
    """Return a phone number in the E.164 form Twilio uses: '+' and digits ('00' counts as '+')."""
    digits = "".join(ch for ch in text if ch.isdigit())
    plus = text.strip().startswith("+") or digits.startswith("00")
    return "+" + digits.removeprefix("00") if plus else digits


def hash_token(token: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, name: str, role: str, now: datetime, volunteer_id: int | None = None) -> str:
    """Create an API token and return it; only its hash is kept. ``volunteer_id`` ties it to one volunteer."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if volunteer_id is not None and session.get(Volunteer, volunteer_id) is None:
        raise ValueError(f"no volunteer {volunteer_id}")
    token = "hl_" + secrets.token_urlsafe(32)
    record = ApiToken(name=name, role=role, token_hash=hash_token(token), volunteer_id=volunteer_id, created_at=now)
    session.add(record)
    return token


def find_token(session: Session, *, token: str) -> ApiToken | None:
    """Return the live token record for a presented token."""
    query = select(ApiToken).where(ApiToken.token_hash == hash_token(token), col(ApiToken.revoked_at).is_(None))
    return session.exec(query).first()
