"""Encryption at rest for personal data, and the lookup digest that lets us find a
record by phone without storing the phone in clear.

Keys come from FIELD_ENCRYPTION_KEY (comma-separated Fernet keys, newest first), so a
key can be rotated: new writes use the first key, reads try each.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:  # a wrong key is a configuration error, not bad data
        raise RuntimeError(
            "Cannot decrypt personal data: FIELD_ENCRYPTION_KEY does not match the stored data."
        ) from exc


def lookup_digest(value: str) -> str:
    """A keyed digest for equality lookups (phone → records) that reveals nothing alone."""
    key = hashlib.sha256(("lookup:" + settings.FIELD_ENCRYPTION_KEYS[-1]).encode()).digest()
    return hmac.new(key, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; Python code sees the clear text.

    It cannot be filtered on; store a `lookup_digest` beside it where lookups are needed.
    """

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value in (None, ""):
            return value
        return decrypt(value)


class EncryptedJSONField(models.TextField):
    """A JSON value stored as the Fernet token of its text; Python code sees the value.

    The same keys (and rotation) as EncryptedTextField. NULL in the column reads as an
    empty dict, so a payload cleared by a retention sweep is still a dict to the code.
    Like EncryptedTextField it cannot be filtered on: keep what lookups need beside it.
    """

    # For django-stubs: the value is any JSON value, read and written.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value in (None, ""):
            return {}
        return json.loads(decrypt(value))

    def to_python(self, value: Any) -> Any:
        return value

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj), ensure_ascii=False)
