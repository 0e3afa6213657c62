"""Key rotation: re-seal every encrypted column with the newest key and recompute the blind indexes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, LargeBinary, Table, select, type_coerce, update
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from hotline.storage.db import Database
from hotline.storage.inbox import address_key
from hotline.storage.models import Contact, Volunteer
from hotline.storage.types import Sealed


def rotate_keys(database: Database) -> int:
    """Re-encrypt everything not yet sealed with the newest key; return how many values changed."""
    changed = 0
    with database.engine.begin() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, Sealed):
                    changed += _reseal_column(database, connection, table, column)
        _reindex(database, connection)
    return changed


def _reseal_column(database: Database, connection: Connection, table: Table, column: Column[Any]) -> int:
    keyring, purpose = database.keyring, column.type.purpose  # type: ignore[attr-defined]
    primary = next(iter(table.primary_key.columns))
    raw = type_coerce(column, LargeBinary)
    rows = connection.execute(select(primary, raw).where(column.is_not(None))).all()
    changed = 0
    for key, sealed in rows:
        if keyring.is_current(bytes(sealed)):
            continue
        resealed = keyring.seal(keyring.open(bytes(sealed), purpose), purpose)
        statement = update(table).where(primary == key).values({column.name: type_coerce(resealed, LargeBinary)})
        connection.execute(statement)
        changed += 1
    return changed


def _reindex(database: Database, connection: Connection) -> None:
    keyring = database.keyring
    for contact_id, channel, address in connection.execute(select(Contact.id, Contact.channel, Contact.address)).all():  # type: ignore[call-overload]
        index = keyring.blind_index(address_key(channel, address))
        connection.execute(update(Contact).where(Contact.id == contact_id).values(address_index=index))  # type: ignore[arg-type]
    rows = connection.execute(select(Volunteer.id, Volunteer.telegram_chat, Volunteer.phone)).all()  # type: ignore[call-overload]
    for volunteer_id, chat, phone in rows:
        values = {}
        if chat:
            values["telegram_index"] = keyring.blind_index(address_key("telegram", str(chat)))
        if phone:
            values["phone_index"] = keyring.blind_index(address_key("sms", str(phone)))
        if values:
            connection.execute(update(Volunteer).where(Volunteer.id == volunteer_id).values(**values))  # type: ignore[arg-type]
