"""Sealing, opening, rotation and blind indexes."""

from __future__ import annotations

import pytest

from hotline.settings import decode_key, generate_key
from hotline.storage.crypto import DecryptionError, KeyRing

OLD, NEW = decode_key(generate_key()), decode_key(generate_key())


def test_a_sealed_value_opens_with_its_purpose_only() -> None:
    ring = KeyRing([NEW])
    sealed = ring.seal(b"54.1,24.2", "report.location")
    assert b"54.1" not in sealed
    assert ring.open(sealed, "report.location") == b"54.1,24.2"
    with pytest.raises(DecryptionError):
        ring.open(sealed, "report.notes")


def test_sealing_twice_gives_different_ciphertexts() -> None:
    ring = KeyRing([NEW])
    assert ring.seal(b"same", "p") != ring.seal(b"same", "p")


def test_a_tampered_value_is_refused() -> None:
    ring = KeyRing([NEW])
    sealed = bytearray(ring.seal(b"secret", "p"))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionError):
        ring.open(bytes(sealed), "p")


@pytest.mark.parametrize("garbage", [b"", b"\x01", b"\x02" + b"x" * 40, b"\x01" + b"\x00" * 40])
def test_garbage_is_refused_cleanly(garbage: bytes) -> None:
    with pytest.raises(DecryptionError):
        KeyRing([NEW]).open(garbage, "p")


def test_the_newest_key_seals_and_older_keys_still_open() -> None:
    old_ring, both = KeyRing([OLD]), KeyRing([NEW, OLD])
    sealed_old = old_ring.seal(b"kept", "p")
    assert both.open(sealed_old, "p") == b"kept"
    assert not both.is_current(sealed_old)
    sealed_new = both.seal(b"kept", "p")
    assert both.is_current(sealed_new)
    with pytest.raises(DecryptionError):
        old_ring.open(sealed_new, "p")


def test_blind_indexes_are_keyed_stable_and_cover_every_key() -> None:
    both = KeyRing([NEW, OLD])
    assert both.blind_index("telegram:42") == KeyRing([NEW]).blind_index("telegram:42")
    assert both.blind_indexes("telegram:42") == [
        KeyRing([NEW]).blind_index("telegram:42"),
        KeyRing([OLD]).blind_index("telegram:42"),
    ]
    assert both.blind_index("telegram:42") != both.blind_index("telegram:43")


def test_an_empty_ring_is_refused() -> None:
    with pytest.raises(ValueError):
        KeyRing([])
