"""The JSON shapes every API router shares, core's and modules' alike: one error shape,
so a refusal reads the same whichever router answered it."""

from __future__ import annotations

from ninja import Schema


class ErrorOut(Schema):
    """Every refusal: a stable `code` for programs and a `detail` for people."""

    code: str
    detail: str
    field: str = ""
