"""Checking a submission from an integration (Open311 or the JSON API) and handing it to
core's `case_submit`.

Everything a client sends is checked here first, so a bad value is a 400 with a message
naming the field, never a 500: the channel and category, the location (lat/long, an
address or an area code), the phone (a mainland mobile) and the lengths.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from civicloop.api.errors import ApiError, ApiErrorCode
from civicloop.core import registry
from civicloop.core.areas.models import Area
from civicloop.core.areas.services import area_from_address, area_nearest
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import CaseDraft, case_submit
from civicloop.notify.phones import mainland_mobile

BODY_MAX_CHARS = 5000
TITLE_MAX_CHARS = 200
NAME_MAX_CHARS = 50
ADDRESS_MAX_CHARS = 255
# Control characters (other than tab and newlines) are dropped: PostgreSQL refuses NUL
# and XML 1.0 cannot carry them.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plain_text(value: str | None) -> str:
    """The value without control characters, stripped."""
    return CONTROL_CHARS.sub("", value or "").strip()


@dataclass(frozen=True)
class Location:
    """Where a submission is: the area that routes it and what the client said."""

    area: Area | None
    lat: Decimal | None
    lng: Decimal | None
    address: str


def open311_channel(code: str) -> registry.Channel:
    """The registered channel offered as an Open311 service, or ApiError."""
    try:
        channel = registry.channel(code)
    except registry.RegistryError:
        channel = None
    if channel is None or not channel.open311:
        raise ApiError(ApiErrorCode.UNKNOWN_SERVICE, field="service_code")
    return channel


def any_channel(code: str) -> registry.Channel:
    """A registered channel that takes cases through the generic API, or ApiError.
    A channel whose cases only its module's own service may open (a fire-lane violation
    needs a camera's stay and evidence) is refused here as if it did not exist."""
    try:
        channel = registry.channel(code)
    except registry.RegistryError:
        channel = None
    if channel is None or not channel.accepts(registry.Intake.API):
        raise ApiError(ApiErrorCode.UNKNOWN_CHANNEL, field="channel")
    return channel


def coordinate_parse(value: Any, *, field: str, limit: float) -> Decimal:
    """A latitude or longitude within ±limit, rounded to the stored six decimals. A JSON
    true/false is refused, not read as 1/0."""
    try:
        number = math.nan if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or abs(number) > limit:
        raise ApiError(ApiErrorCode.INVALID_LOCATION, field=field)
    return Decimal(str(round(number, 6)))


def location_resolve(
    *,
    lat: Any = None,
    lng: Any = None,
    address: str = "",
    area_code: str = "",
    required: bool = True,
) -> Location:
    """The area of a submission: by an area code, else by lat/long (the nearest town,
    `area_nearest`), else by the address text (the most specific area named in it). At
    least one of the three is required; coordinates outside the city are refused
    (OUT_OF_AREA) whatever else was given, so they are never stored on a case. Where the
    channel routes by something else (`required=False`: a studio chosen by the citizen),
    no location gives a Location without an area."""
    address = plain_text(address)[:ADDRESS_MAX_CHARS]
    area_code = plain_text(area_code)
    has_lat, has_lng = lat not in (None, ""), lng not in (None, "")
    if has_lat != has_lng:
        raise ApiError(
            ApiErrorCode.INVALID_LOCATION,
            _("纬度和经度须同时提供。"),
            field="lat" if has_lng else "long",
        )
    if not (has_lat or address or area_code):
        if not required:
            return Location(area=None, lat=None, lng=None, address="")
        raise ApiError(ApiErrorCode.MISSING_LOCATION, field="location")
    dec_lat = coordinate_parse(lat, field="lat", limit=90) if has_lat else None
    dec_lng = coordinate_parse(lng, field="long", limit=180) if has_lng else None
    area: Area | None = None
    if area_code:
        area = Area.objects.filter(code=area_code).first()
        if area is None:
            raise ApiError(ApiErrorCode.INVALID_LOCATION, _("区域编码不存在。"), field="address_id")
    if dec_lat is not None and dec_lng is not None:
        nearest = area_nearest(lat=float(dec_lat), lng=float(dec_lng))
        if nearest is None:
            raise ApiError(ApiErrorCode.OUT_OF_AREA, field="lat")
        area = area or nearest
    if area is None and address:
        area = area_from_address(address=address)
    if area is None:
        raise ApiError(ApiErrorCode.UNROUTABLE, field="location")
    return Location(area=area, lat=dec_lat, lng=dec_lng, address=address)


def phone_clean(phone: str) -> str:
    """A mainland mobile number without spaces or +86, or '' when none was given."""
    phone = plain_text(phone)
    if not phone:
        return ""
    number = mainland_mobile(phone)
    if number is None:
        raise ApiError(ApiErrorCode.INVALID_PHONE, field="phone")
    return number


def email_clean(email: str) -> str:
    email = plain_text(email)
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            raise ApiError(ApiErrorCode.INVALID_EMAIL, field="email") from None
    return email


def media_url_clean(url: str) -> str:
    url = plain_text(url)
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except DjangoValidationError:
            raise ApiError(ApiErrorCode.INVALID_MEDIA_URL, field="media_url") from None
    return url


def text_clean(value: str, *, field: str, max_chars: int, required: bool = False) -> str:
    value = plain_text(value)
    if required and not value:
        raise ApiError(ApiErrorCode.MISSING, field=field)
    if len(value) > max_chars:
        raise ApiError(ApiErrorCode.TOO_LONG, field=field, max=max_chars)
    return value


def category_clean(channel: registry.Channel, category: str) -> str:
    category = plain_text(category)
    if category and category not in {code for code, _label in channel.categories}:
        raise ApiError(ApiErrorCode.INVALID_CATEGORY, field="category")
    return category


@dataclass(frozen=True)
class Submission:
    """A checked submission, ready for `case_submit`."""

    channel: registry.Channel
    title: str
    body: str
    category: str
    location: Location
    contact_name: str
    contact_phone: str
    media_url: str = ""


def submission_check(
    *,
    channel: registry.Channel,
    body: str,
    title: str = "",
    category: str = "",
    lat: Any = None,
    lng: Any = None,
    address: str = "",
    area_code: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    email: str = "",
    media_url: str = "",
) -> Submission:
    """Check every field of a submission; raises ApiError naming the first bad one."""
    body = text_clean(body, field="description", max_chars=BODY_MAX_CHARS, required=True)
    title = text_clean(title, field="title", max_chars=TITLE_MAX_CHARS)
    contact_name = text_clean(contact_name, field="name", max_chars=NAME_MAX_CHARS)
    contact_phone = phone_clean(contact_phone)
    email_clean(email)
    media_url = media_url_clean(media_url)
    category = category_clean(channel, category)
    location = location_resolve(
        lat=lat,
        lng=lng,
        address=address,
        area_code=area_code,
        required=not channel.open311_prepare,
    )
    return Submission(
        channel=channel,
        title=title,
        body=body,
        category=category,
        location=location,
        contact_name=contact_name,
        contact_phone=contact_phone,
        media_url=media_url,
    )


def submission_create(
    submission: Submission,
    *,
    source: str,
    submission_key: str | None = None,
    attributes: dict[str, str] | None = None,
) -> Case:
    """Create the case through core (which picks the receiving unit), after the
    channel's `open311_prepare` has checked `attributes` and completed the draft.
    Raises CaseError (or the preparing module's DomainError)."""
    loc = submission.location
    data: dict[str, Any] = {}
    if submission.media_url:
        data["media_url"] = submission.media_url
    draft = CaseDraft(
        channel=submission.channel.code,
        title=submission.title,
        body=submission.body,
        category=submission.category,
        area=loc.area,
        lat=loc.lat,
        lng=loc.lng,
        address=loc.address,
        contact_name=submission.contact_name,
        contact_phone=submission.contact_phone,
        source=source,
        submission_key=submission_key or None,
        data=data,
    )
    if submission.channel.open311_prepare:
        prepare = import_string(submission.channel.open311_prepare)
        draft = prepare(draft, {k: plain_text(v) for k, v in (attributes or {}).items()})
    return case_submit(draft=draft)
