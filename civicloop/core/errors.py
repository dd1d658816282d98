"""One way to refuse. Every domain raises a subclass of `DomainError` from its own
`errors.py`: a `code` from the domain's enum (for programs), a translatable `message`
(for people), the form `field` it concerns, and a `refusal`, the kind of refusal.

The kind is what maps to an answer, once: `REFUSAL_STATUS` is the one map from a kind to
an HTTP status (the API, Open311, the camera intake and the web middleware all read it),
and `refusal_show` is the one way a refusal becomes a page message.

Exceptions that are not a refusal to a person (a provider outage, a broken seal, a missing
setting) are not DomainErrors: they are faults, answered as such where they are caught.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar

from django.contrib import messages
from django.forms import BaseForm
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext

Text = str | Promise


class Refusal(StrEnum):
    """The kind of a refusal: what the person (or program) asked cannot be done, because ..."""

    INVALID = "invalid"  # ... what was sent is wrong or incomplete
    UNAUTHORIZED = "unauthorized"  # ... who sent it is not known
    FORBIDDEN = "forbidden"  # ... who sent it may not do this
    NOT_FOUND = "not_found"  # ... what it names does not exist (for them)
    CONFLICT = "conflict"  # ... the thing is not in a state that allows it
    TOO_LARGE = "too_large"  # ... what was sent is too big
    UNPROCESSABLE = "unprocessable"  # ... well-formed, but refused by a rule (camera times)
    RATE_LIMITED = "rate_limited"  # ... too many attempts; try again later
    UNAVAILABLE = "unavailable"  # ... the platform cannot do it now (not their fault)


# The one map from a kind of refusal to an HTTP status (RFC 9110 §15.5, RFC 6585 §4).
REFUSAL_STATUS: Mapping[Refusal, int] = {
    Refusal.INVALID: 400,
    Refusal.UNAUTHORIZED: 401,
    Refusal.FORBIDDEN: 403,
    Refusal.NOT_FOUND: 404,
    Refusal.CONFLICT: 409,
    Refusal.TOO_LARGE: 413,
    Refusal.UNPROCESSABLE: 422,
    Refusal.RATE_LIMITED: 429,
    Refusal.UNAVAILABLE: 503,
}


class DomainError(Exception):
    """A refusal of one domain. Each domain's base sets, once for all its errors:

    - `codes`: its code enum (a StrEnum; the values are what clients see),
    - `messages`: the default message of every code (lazy translations),
    - `refusals`: the kind of every code that is not `Refusal.INVALID`.

    `message` may be given to say more than the default; `params` fill its %-placeholders;
    `retry_after` (seconds) tells the client when a limit lets it try again.
    The message is kept lazy and rendered when read, so it is in the language of whoever
    reads it (a request, an API response), not of the place that raised it.
    """

    codes: ClassVar[type[StrEnum]]
    messages: ClassVar[Mapping[Any, Text]] = {}
    refusals: ClassVar[Mapping[Any, Refusal]] = {}

    def __init__(
        self,
        code: StrEnum | str,
        message: Text | None = None,
        /,
        *,
        field: str = "",
        retry_after: int = 0,
        **params: Any,
    ) -> None:
        self.code: StrEnum = self.codes(code)
        self.field = field
        self.retry_after = retry_after
        self.params = params
        self._message: Text = message if message is not None else self.messages[self.code]
        super().__init__(str(self.code))

    @property
    def refusal(self) -> Refusal:
        return self.refusals.get(self.code, Refusal.INVALID)

    @property
    def status(self) -> int:
        """The HTTP status of this refusal (from the one map)."""
        return REFUSAL_STATUS[self.refusal]

    @property
    def message(self) -> str:
        # A message rendered eagerly where it was raised (`_("...") % {...}` gives a str)
        # is a Chinese msgid or text; look it up again in the reader's language.
        text = str(self._message)
        text = gettext(text) if text else text  # gettext("") is the catalog's header
        return text % self.params if self.params else text

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.code)!r}, {self.message!r})"


def refusal_show(request: HttpRequest, exc: DomainError, *, form: BaseForm | None = None) -> None:
    """Show a refusal to the person: on the form shown again (on the field it concerns,
    else on the whole form), or, with no form, as a message on the next page."""
    if form is not None:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    else:
        messages.error(request, exc.message)
