"""Authenticated encryption of personal data and keyed blind indexes, with a key list for rotation.

A sealed value is ``version(1) | key id(4) | nonce(12) | AES-256-GCM ciphertext+tag``. The key id
names which key sealed it, so old data stays readable while the newest key seals new data. The
purpose (for example ``contact.address``) is bound as associated data: a ciphertext copied into
another column does not decrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
NONCE_SIZE = 12


class DecryptionError(Exception):
    """A sealed value cannot be opened with any known key."""


class KeyRing:
    """The encryption keys, newest first; the newest seals, any of them opens."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._keys = {_key_id(key): key for key in keys}
        self._newest = keys[0]
        self._index_keys = [_derive(key, b"blind-index") for key in keys]

    @property
    def newest_id(self) -> bytes:
        return _key_id(self._newest)

    def seal(self, plaintext: bytes, purpose: str) -> bytes:
        """Encrypt bytes with the newest key, bound to a purpose."""
        nonce = os.urandom(NONCE_SIZE)
        sealed = AESGCM(self._newest).encrypt(nonce, plaintext, purpose.encode())
        return bytes([VERSION]) + _key_id(self._newest) + nonce + sealed

    def open(self, sealed: bytes, purpose: str) -> bytes:
        """Decrypt bytes sealed by any key of the ring for the same purpose."""
        if len(sealed) < 1 + 4 + NONCE_SIZE + 16 or sealed[0] != VERSION:
            raise DecryptionError("not a sealed value")
        key = self._keys.get(bytes(sealed[1:5]))
        if key is None:
            raise DecryptionError("sealed with an unknown key")
        nonce, body = sealed[5 : 5 + NONCE_SIZE], sealed[5 + NONCE_SIZE :]
        try:
            return AESGCM(key).decrypt(nonce, body, purpose.encode())
        except InvalidTag as exc:
            raise DecryptionError("sealed value is damaged or has another purpose") from exc

    def is_current(self, sealed: bytes) -> bool:
        """Tell whether a sealed value already uses the newest key."""
        return bytes(sealed[1:5]) == self.newest_id

    def blind_index(self, value: str) -> str:
        """Return the newest key's keyed hash of a value, for exact-match lookups."""
        return _hmac(self._index_keys[0], value)

    def blind_indexes(self, value: str) -> list[str]:
        """Return the value's keyed hash under every key, newest first (lookups during rotation)."""
        return [_hmac(key, value) for key in self._index_keys]


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"hotline-key-id" + key).digest()[:4]


def _derive(key: bytes, label: bytes) -> bytes:
    return hmac.new(key, label, hashlib.sha256).digest()


def _hmac(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
