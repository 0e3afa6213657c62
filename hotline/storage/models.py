"""The tables. Every field that says something about a person is an ``EncryptedJSON`` column.

Left in clear, on purpose: ids, timestamps, statuses, the channel name, the report's language and
urgency flag (needed to route and sort), and keyed hashes used to find a contact by address.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint, text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from hotline.storage.types import EncryptedBytes, EncryptedJSON


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and read back as aware UTC, the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _time(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def _sealed(purpose: str) -> Any:
    return Field(default=None, sa_column=Column(EncryptedJSON(purpose), nullable=True))


class Contact(SQLModel, table=True):
    """One address on one channel (a Telegram chat, a phone number, a console session)."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    address_index: str = Field(max_length=64, unique=True)
    address: Any = _sealed("contact.address")
    profile: Any = _sealed("contact.profile")
    language: str | None = Field(default=None, max_length=16)
    created_at: datetime = _time()
    last_seen_at: datetime = _time()
    opted_out_at: datetime | None = _time(nullable=True)  # the number texted STOP: the carrier blocks our SMS


class InboundEvent(SQLModel, table=True):
    """The inbox: one row per provider update, stored before the provider gets its 2xx."""

    __tablename__ = "inbound_event"
    __table_args__ = (
        UniqueConstraint("channel", "provider_id", name="uq_inbound_event_provider"),
        Index("ix_inbound_event_pending", "status", "id"),
        Index("ix_inbound_event_contact", "contact_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    provider_id: str = Field(max_length=64)
    contact_id: int = Field(foreign_key="contact.id")
    kind: str = Field(max_length=24)
    payload: Any = _sealed("inbound_event.payload")
    status: str = Field(default="pending", max_length=12)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=120)
    received_at: datetime = _time()
    processed_at: datetime | None = _time(nullable=True)


class Conversation(SQLModel, table=True):
    """Where a contact is in a flow, and what the flow remembers."""

    contact_id: int = Field(foreign_key="contact.id", primary_key=True)
    flow: str = Field(max_length=32)
    node: str = Field(max_length=64)
    state: Any = _sealed("conversation.state")
    report_id: int | None = Field(default=None, foreign_key="report.id")
    updated_at: datetime = _time()


class Report(SQLModel, table=True):
    """A case: what a person or relative told us, saved answer by answer."""

    __table_args__ = (Index("ix_report_kind_created", "kind", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=16, unique=True)
    kind: str = Field(max_length=24)
    status: str = Field(default="open", max_length=16)
    channel: str = Field(max_length=16)
    language: str | None = Field(default=None, max_length=16)
    contact_id: int = Field(foreign_key="contact.id")
    last_contact_id: int | None = Field(default=None, foreign_key="contact.id")  # where the person last wrote from
    urgent: bool = False
    location: Any = _sealed("report.location")
    people: Any = _sealed("report.people")
    medical: Any = _sealed("report.medical")
    asylum_intent: Any = _sealed("report.asylum_intent")
    needs: Any = _sealed("report.needs")
    notes: Any = _sealed("report.notes")
    reported_by: str | None = Field(default=None, max_length=16)  # person, relative or resident
    reporter: Any = _sealed("report.reporter")  # who wrote to us about others: name, relation, contact
    details: Any = _sealed("report.details")  # the other flows' answers: tracing, testimony, assistance
    group_id: int | None = Field(default=None, index=True)  # reports about the same people share the first's id
    paged_at: datetime | None = _time(nullable=True)
    acknowledged_at: datetime | None = _time(nullable=True)
    acknowledged_by: int | None = Field(default=None, foreign_key="volunteer.id")
    created_at: datetime = _time()
    updated_at: datetime = _time()


class Message(SQLModel, table=True):
    """The encrypted log of what was said, and the outbox of what is still to be sent."""

    __table_args__ = (
        Index("ix_message_outbox", "status", "not_before", "id"),
        Index("ix_message_recipient", "recipient_key", "status", "id"),
        Index("ix_message_provider", "channel", "provider_message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    direction: str = Field(max_length=4)
    kind: str = Field(max_length=24)
    channel: str = Field(max_length=16)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    volunteer_id: int | None = Field(default=None, foreign_key="volunteer.id")
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    inbound_event_id: int | None = Field(default=None, foreign_key="inbound_event.id")
    edit_of_id: int | None = Field(default=None, foreign_key="message.id")
    recipient_key: str | None = Field(default=None, max_length=64)
    body: Any = _sealed("message.body")
    status: str = Field(max_length=12)
    attempts: int = 0
    resent_after_crash: bool = False
    not_before: datetime | None = _time(nullable=True)
    sent_at: datetime | None = _time(nullable=True)
    provider_message_id: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, max_length=120)
    delivery_status: str | None = Field(default=None, max_length=16)  # what the provider reported later
    delivery_updated_at: datetime | None = _time(nullable=True)
    fallback_of_id: int | None = Field(default=None, foreign_key="message.id")  # resent on another channel
    created_at: datetime = _time()


class Volunteer(SQLModel, table=True):
    """A person who can be paged."""

    id: int | None = Field(default=None, primary_key=True)
    name: Any = _sealed("volunteer.name")
    telegram_chat: Any = _sealed("volunteer.telegram_chat")
    telegram_index: str | None = Field(default=None, max_length=64, unique=True)
    phone: Any = _sealed("volunteer.phone")
    phone_index: str | None = Field(default=None, max_length=64, unique=True)
    languages: str = Field(default="en", max_length=120)
    role: str = Field(default="volunteer", max_length=16)  # coordinators are the rota's final fallback
    quiet: str | None = Field(default=None, max_length=200)  # e.g. "call 23:00-07:00": channels not used then
    active: bool = True
    created_at: datetime = _time()


class Rotation(SQLModel, table=True):
    """One layer of the rota: members take turns, handing over at local wall-clock times."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    layer: str = Field(max_length=16)  # primary or backup
    every: str = Field(max_length=8)  # day or week
    handoffs: str = Field(max_length=120)  # local hand-over times, "09:00" or "08:00,20:00"
    weekday: int | None = None  # for weekly turns: 0 is Monday
    members: str = Field(max_length=400)  # volunteer ids in turn order, "3,1,2"
    starts_on: str = Field(max_length=10)  # the local date of the first turn, "2026-11-23"
    time_zone: str = Field(default="Europe/Vilnius", max_length=64)
    active: bool = True
    created_at: datetime = _time()


class Override(SQLModel, table=True):
    """A volunteer covering one layer for a while ("I cover Tuesday night"); no end means until replaced."""

    id: int | None = Field(default=None, primary_key=True)
    layer: str = Field(max_length=16)
    volunteer_id: int = Field(foreign_key="volunteer.id")
    starts_at: datetime = _time()
    ends_at: datetime | None = _time(nullable=True)
    created_by: str = Field(max_length=64)
    created_at: datetime = _time()
    cancelled_at: datetime | None = _time(nullable=True)


OPEN = text("status <> 'resolved'")


OPEN = text("status <> 'resolved'")


class Incident(SQLModel, table=True):
    """The paging of one report: the policy copied when paging began, the next step due, who answered.

    ``alert`` is the short number volunteers text back ("3a"); it is unique among unresolved incidents
    and is handed out again only after a cool-down once its incident is resolved.
    """

    __table_args__ = (
        Index("ix_incident_due", "status", "due_at"),
        Index("uq_incident_open_alert", "alert", unique=True, postgresql_where=OPEN, sqlite_where=OPEN),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", unique=True)
    status: str = Field(default="paging", max_length=16)  # paging, acknowledged, resolved
    alert: int
    policy: Any = Field(default=None, sa_column=Column(JSON, nullable=False))
    urgent: bool = False
    step: int = 0  # the next step of the policy to run
    cycle: int = 0  # counts repeats and re-pages; part of every page's identity
    repeats_done: int = 0
    cycle_started_at: datetime = _time()
    due_at: datetime | None = _time(nullable=True)
    started_at: datetime = _time()
    first_paged_at: datetime | None = _time(nullable=True)
    acknowledged_at: datetime | None = _time(nullable=True)
    acknowledged_by: int | None = Field(default=None, foreign_key="volunteer.id")
    resolved_at: datetime | None = _time(nullable=True)
    resolved_by: str | None = Field(default=None, max_length=64)
    updated_at: datetime = _time()


class Page(SQLModel, table=True):
    """One volunteer paged on one channel by one step of an incident's escalation; it exists at most once."""

    __table_args__ = (
        UniqueConstraint("incident_id", "step", "repeat", "volunteer_id", "channel", name="uq_page_step"),
        Index("ix_page_report", "report_id", "volunteer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    report_id: int = Field(foreign_key="report.id")
    step: int
    repeat: int
    volunteer_id: int = Field(foreign_key="volunteer.id")
    channel: str = Field(max_length=16)  # telegram, sms, call, pager
    message_id: int | None = Field(default=None, foreign_key="message.id")
    status: str = Field(default="sent", max_length=16)  # sent, acknowledged, declined
    due_at: datetime = _time()  # when the policy said to send it: lateness is created_at - due_at
    created_at: datetime = _time()
    acknowledged_at: datetime | None = _time(nullable=True)


class AuditEvent(SQLModel, table=True):
    """Who did what and when. Never holds personal data: ids and codes only."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _time()
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    detail: str | None = Field(default=None, max_length=200)


class ApiToken(SQLModel, table=True):
    """A bearer token for the API, stored only as its SHA-256 hash."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    role: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    volunteer_id: int | None = Field(default=None, foreign_key="volunteer.id")  # whose hand acts through it
    created_at: datetime = _time()
    revoked_at: datetime | None = _time(nullable=True)
    last_used_at: datetime | None = _time(nullable=True)


class Attachment(SQLModel, table=True):
    """A photo, voice note or call recording a person sent; the content is sealed like every personal field."""

    __table_args__ = (UniqueConstraint("inbound_event_id", "kind", name="uq_attachment_event_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    contact_id: int = Field(foreign_key="contact.id")
    inbound_event_id: int | None = Field(default=None, foreign_key="inbound_event.id")
    kind: str = Field(max_length=16)
    source: Any = _sealed("attachment.source")  # where to fetch it: a Telegram file id or a provider URL
    content: Any = Field(default=None, sa_column=Column(EncryptedBytes("attachment.content"), nullable=True))
    mime_type: str | None = Field(default=None, max_length=64)
    size: int | None = None
    duration: int | None = None
    status: str = Field(default="pending", max_length=12)  # pending, stored, failed
    attempts: int = 0
    not_before: datetime | None = _time(nullable=True)
    error: str | None = Field(default=None, max_length=120)
    created_at: datetime = _time()
    stored_at: datetime | None = _time(nullable=True)
