"""Sealing of the mirror's owner data (name and phone), fast enough for a 20-million-row import.

Why not the project's Fernet fields (civicloop.core.accounts.crypto): Fernet costs ~20 µs a
value in Python (AES-CBC + HMAC + base64 of a 100-byte token), i.e. 40 million values take
longer than the whole import may. Here each row costs one AES-256-GCM call (~1 µs):

* one seal per row holds both name and phone (joined by U+001F), so one call, one tag;
* the plate and its kind are the associated data: a sealed blob copied onto another
  plate's row does not open;
* every import gets its own data key, HKDF-SHA256(FIELD_ENCRYPTION_KEYS[0], salt=8 random
  bytes, info=INFO). With random 96-bit nonces AES-GCM is safe up to 2^32 seals per key;
  one key per import keeps that bound per 20-million-row file instead of across every
  re-import of the mirror;
* the token is base64(version ‖ salt ‖ nonce ‖ ciphertext+tag): a lookup derives the key
  from the salt it finds (cached), trying each configured key so FIELD_ENCRYPTION_KEY can
  be rotated like the Fernet fields (the next full import re-seals with the new key).
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

VERSION = b"\x01"
SALT_BYTES = 8
NONCE_BYTES = 12
INFO = b"civicloop.firelane.vehicle-mirror.v1"
SEPARATOR = "\x1f"
_HEADER = len(VERSION) + SALT_BYTES


class SealBroken(Exception):
    """A sealed value does not open with any configured key (wrong key or altered data)."""


def _master(fernet_key: str) -> bytes:
    # A Fernet key is 32 url-safe-base64 bytes; all of them feed HKDF.
    return base64.urlsafe_b64decode(fernet_key.encode("ascii"))


def _derive(fernet_key: str, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=INFO).derive(
        _master(fernet_key)
    )


@lru_cache(maxsize=64)
def _data_key(fernet_key: str, salt: bytes) -> AESGCM:
    return AESGCM(_derive(fernet_key, salt))


def new_salt() -> bytes:
    """A fresh salt for one import's data key."""
    return os.urandom(SALT_BYTES)


class Sealer:
    """Seals the rows of one import under its data key. Picklable for worker processes:
    what travels is the derived data key of this import, never FIELD_ENCRYPTION_KEY."""

    def __init__(self, *, data_key: bytes, salt: bytes) -> None:
        self._build(data_key, salt)

    def _build(self, data_key: bytes, salt: bytes) -> None:
        self._data_key = data_key
        self._prefix = VERSION + salt
        self._aead = AESGCM(data_key)

    def __getstate__(self) -> tuple[bytes, bytes]:
        return (self._data_key, self._prefix[len(VERSION) :])

    def __setstate__(self, state: tuple[bytes, bytes]) -> None:
        self._build(*state)

    @property
    def prefix(self) -> bytes:
        """What every token of this import starts with (version and salt)."""
        return self._prefix

    def encrypt(self, nonce: bytes, clear: bytes, aad: bytes) -> bytes:
        """Raw AES-GCM; the import's hot loop builds tokens itself (see `seal`)."""
        return self._aead.encrypt(nonce, clear, aad)

    def seal(self, *, plate: str, kind: str, name: str, phone: str) -> str:
        """One token: base64(prefix ‖ nonce ‖ AES-GCM(name U+001F phone, aad(plate, kind)))."""
        nonce = os.urandom(NONCE_BYTES)
        clear = (name + SEPARATOR + phone).encode("utf-8")
        sealed = self._aead.encrypt(nonce, clear, aad(plate, kind))
        return base64.b64encode(self._prefix + nonce + sealed).decode("ascii")


def aad(plate: str, kind: str) -> bytes:
    """The associated data binding a token to its row: "plate TAB kind TAB" in UTF-8 (the
    import reuses these bytes as the start of the row's COPY line)."""
    return f"{plate}\t{kind}\t".encode()


def sealer_new(*, salt: bytes) -> Sealer:
    """A sealer under the newest FIELD_ENCRYPTION_KEY and `salt`."""
    return Sealer(data_key=_derive(settings.FIELD_ENCRYPTION_KEYS[0], salt), salt=salt)


def owner_open(*, plate: str, kind: str, token: str) -> tuple[str, str]:
    """Open one sealed token of `plate`/`kind`: (name, phone). Raises SealBroken."""
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise SealBroken("not a sealed value") from exc
    if raw[:1] != VERSION or len(raw) < _HEADER + NONCE_BYTES + 16:
        raise SealBroken("unknown seal version")
    salt = raw[1:_HEADER]
    nonce = raw[_HEADER : _HEADER + NONCE_BYTES]
    body = raw[_HEADER + NONCE_BYTES :]
    for fernet_key in settings.FIELD_ENCRYPTION_KEYS:
        try:
            clear = (
                _data_key(fernet_key, salt).decrypt(nonce, body, aad(plate, kind)).decode("utf-8")
            )
        except InvalidTag:
            continue
        name, _sep, phone = clear.partition(SEPARATOR)
        return name, phone
    raise SealBroken("no configured FIELD_ENCRYPTION_KEY opens this value")
