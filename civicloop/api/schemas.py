"""The JSON shapes of the API (Pydantic, through django-ninja)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema
from pydantic import field_validator

# Shared with the modules' routers, so it lives in core.
from civicloop.core.api_schemas import ErrorOut as ErrorOut


def coordinate_not_boolean(value: object) -> object:
    """`"lng": false` is a client's bug, not the longitude 0 (a schema's `lat`/`lng`
    validator, mode "before")."""
    if isinstance(value, bool):
        raise ValueError("a coordinate is a number, not true/false")
    return value


class CategoryOut(Schema):
    code: str
    name: str


class ChannelOut(Schema):
    code: str
    name: str
    description: str
    number_prefix: str
    categories: list[CategoryOut]
    open311: bool
    # How cases may enter: "api" (POST /api/v1/cases), "open311", "module" (only the
    # module's own pages and devices).
    intakes: list[str]


class UnitRefOut(Schema):
    code: str
    name: str


class AreaRefOut(Schema):
    code: str
    name: str
    path: str


class CaseSummaryOut(Schema):
    number: str
    channel: str
    title: str
    category: str
    state: str
    state_label: str
    area: AreaRefOut | None
    holder_unit: UnitRefOut | None
    owner_unit: UnitRefOut | None
    due_at: datetime | None
    due_provisional: bool = Field(
        False, description="the deadline crosses a year whose holidays are not confirmed yet"
    )
    overdue: bool
    created_at: datetime
    closed_at: datetime | None


class CasePageOut(Schema):
    count: int
    page: int
    page_size: int
    items: list[CaseSummaryOut]


class ContactOut(Schema):
    """The submitter's contact, masked (张**, 139****0001)."""

    name: str
    phone: str


class ActionOut(Schema):
    code: str
    label: str


class CaseDetailOut(CaseSummaryOut):
    body: str
    address: str
    lat: float | None
    lng: float | None
    grade: str
    rating: str
    result: str
    round: int
    anonymous: bool
    source: str
    contact: ContactOut
    actions: list[ActionOut]
    updated_at: datetime


class TransitionIn(Schema):
    """An action on a case, with what it requires (see the workflow template)."""

    action: str = Field(..., min_length=1, max_length=32)
    note: str = Field("", max_length=5000)
    unit_code: str = Field("", max_length=64)
    grade: str = Field("", max_length=16)
    rating: str = Field("", max_length=16)
    due_at: datetime | None = None
    merge_into: str = Field("", max_length=32)
    idempotency_key: str = Field("", max_length=64)


class CaseIn(Schema):
    """A case submitted by an integration. A location is required: lat+lng, an
    address naming a town or village, or an area code."""

    channel: str = Field(..., min_length=1, max_length=32)
    body: str = Field(..., min_length=1, max_length=5000)
    title: str = Field("", max_length=200)
    category: str = Field("", max_length=64)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    address: str = Field("", max_length=255)
    area_code: str = Field("", max_length=32)
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)
    submission_key: str = Field("", max_length=64)

    _coordinates = field_validator("lat", "lng", mode="before")(coordinate_not_boolean)


class CaseCreatedOut(Schema):
    number: str
    state: str
    owner_unit: UnitRefOut | None
    due_at: datetime | None
