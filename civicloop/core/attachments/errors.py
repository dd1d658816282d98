"""Why an upload was refused, in words that tell a citizen or a clerk what to do next."""

from __future__ import annotations

import enum
from typing import Any

from django.utils.functional import Promise


class AttachmentErrorCode(enum.StrEnum):
    """Stable machine-readable reasons; API clients switch on these, not on the text."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    TOO_MANY = "too_many"
    UNSUPPORTED_TYPE = "unsupported_type"
    KIND_NOT_ALLOWED = "kind_not_allowed"
    CONTENT_MISMATCH = "content_mismatch"
    CORRUPT_IMAGE = "corrupt_image"
    IMAGE_TOO_MANY_PIXELS = "image_too_many_pixels"
    CORRUPT_AUDIO = "corrupt_audio"
    STORAGE_FAILED = "storage_failed"


class AttachmentError(ValueError):
    """An upload that cannot be accepted.

    `code` is for programs; `message` is the Chinese sentence for the person who
    uploaded the file. The template is a lazy translation and is only rendered when
    `message` is read, so it follows the language active where it is shown (a
    request, an API response), not where it was raised.
    """

    def __init__(self, code: AttachmentErrorCode, template: str | Promise, **params: Any) -> None:
        self.code = code
        self.template = template
        self.params = params
        super().__init__(code.value)

    @property
    def message(self) -> str:
        text = str(self.template)
        return text % self.params if self.params else text

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"AttachmentError({self.code.value!r}, {self.message!r})"
