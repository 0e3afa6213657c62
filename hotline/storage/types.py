"""Column types that encrypt on the way into the database and decrypt on the way out.

The key ring belongs to the engine (``attach_keyring``), not to the process, so two databases with
two key sets can live side by side (tests do this).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.types import TypeDecorator

from hotline.storage.crypto import KeyRing

KEYRING_ATTRIBUTE = "hotline_keyring"


def attach_keyring(engine: Engine, keyring: KeyRing) -> None:
    """Make an engine's encrypted columns use a key ring."""
    setattr(engine.dialect, KEYRING_ATTRIBUTE, keyring)


def dialect_keyring(dialect: Dialect) -> KeyRing:
    """Return the key ring attached to a dialect, failing loudly when there is none."""
    keyring = getattr(dialect, KEYRING_ATTRIBUTE, None)
    if keyring is None:
        raise RuntimeError("no encryption keys attached to this database engine")
    return keyring  # type: ignore[no-any-return]


class Sealed(TypeDecorator[Any]):
    """A value sealed with AES-GCM; the purpose (``table.column``) is bound to the ciphertext."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose


class EncryptedBytes(Sealed):
    """Raw bytes (a photo, a voice note, a recording), sealed."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return dialect_keyring(dialect).seal(bytes(value), self.purpose)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return dialect_keyring(dialect).open(bytes(value), self.purpose)


class EncryptedJSON(Sealed):
    """Any JSON value, sealed."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        plaintext = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return dialect_keyring(dialect).seal(plaintext, self.purpose)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(dialect_keyring(dialect).open(bytes(value), self.purpose))
