"""The two codes (代表码 and 联络站码): issuing, revoking, resolving and drawing them.

A code encodes SITE_URL + /q/<slug>/. Slugs are never deleted or reused, so a printed
poster keeps working for ever: an active deputy code leads to the deputy, a revoked one
(or one whose deputy left office) leads to the deputy's station, and whatever is sent
through it reaches the station instead of the deputy.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from civicloop.core import posters
from civicloop.opinions.errors import OpinionError, OpinionErrorCode
from civicloop.opinions.models import Code, CodeKind, Deputy, Station

if TYPE_CHECKING:
    from civicloop.core.accounts.models import User
    from civicloop.core.units.models import Unit

CODE_BORDER_MODULES = posters.QR_QUIET_MODULES


@dataclass(frozen=True)
class CodeTarget:
    """Where a scanned slug leads."""

    code: Code
    station: Station
    deputy: Deputy | None  # None when the code is a station code or no longer the deputy's

    @property
    def path(self) -> str:
        if self.deputy is not None:
            return reverse("opinions_public:deputy_detail", kwargs={"key": self.deputy.pk})
        return reverse("opinions_public:station_detail", kwargs={"pk": self.station.pk})


def code_path(code: Code) -> str:
    return reverse("opinions_public:code_resolve", kwargs={"slug": code.slug})


def code_url(code: Code) -> str:
    """The absolute URL the QR code encodes (host from settings.SITE_URL)."""
    return settings.SITE_URL + code_path(code)


def code_png(code: Code, *, scale: int = 8, border: int = CODE_BORDER_MODULES) -> bytes:
    """The code as a black-on-white PNG; `scale` is the size of one module in pixels."""
    return posters.qr_png(code_url(code), scale=scale, border=border)


def code_svg(code: Code, *, scale: int = 8) -> str:
    """The code as a standalone SVG document (scalable for print)."""
    buffer = io.BytesIO()
    posters.qr_code(code_url(code)).save(
        buffer,
        kind="svg",
        scale=scale,
        border=CODE_BORDER_MODULES,
        xmldecl=True,
        title=code_url(code),
        unit="px",
    )
    return buffer.getvalue().decode("utf-8")


def code_matrix(code: Code) -> tuple[tuple[int, ...], ...]:
    """The module matrix without quiet zone (1 = dark), for drawing onto a poster."""
    return posters.qr_matrix(code_url(code))


def code_active_for(*, deputy: Deputy | None = None, station: Station | None = None) -> Code | None:
    """The holder's active code, if any."""
    codes = Code.objects.filter(revoked_at__isnull=True)
    if deputy is not None:
        return codes.filter(deputy=deputy).order_by("-issued_at").first()
    if station is not None:
        return codes.filter(station=station).order_by("-issued_at").first()
    raise ValueError("deputy or station is required")


def code_issue(*, deputy: Deputy | None = None, station: Station | None = None) -> Code:
    """Return the holder's active code, issuing a new one when it has none.

    Idempotent: calling it twice gives the same code.
    """
    if (deputy is None) == (station is None):
        raise ValueError("exactly one of deputy or station is required")
    with transaction.atomic():
        # Lock the holder so two concurrent calls cannot both issue a code.
        if deputy is not None:
            Deputy.objects.select_for_update().filter(pk=deputy.pk).first()
        else:
            assert station is not None
            Station.objects.select_for_update().filter(pk=station.pk).first()
        existing = code_active_for(deputy=deputy, station=station)
        if existing is not None:
            return existing
        if deputy is not None:
            return Code.objects.create(kind=CodeKind.DEPUTY, deputy=deputy)
        return Code.objects.create(kind=CodeKind.STATION, station=station)


def code_revoke(*, code: Code, reason: str) -> Code:
    """Revoke a code. Its slug keeps resolving (to the station), so posters never break."""
    reason = reason.strip()
    if not reason:
        raise OpinionError(OpinionErrorCode.REVOKE_REASON, field="reason")
    with transaction.atomic():
        locked = Code.objects.select_for_update().get(pk=code.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_reason = reason[:200]
            locked.save(update_fields=["revoked_at", "revoked_reason"])
    code.refresh_from_db()
    return code


def code_reissue(*, code: Code, reason: str) -> Code:
    """Revoke `code` (if still active) and issue its holder a new code with a new slug."""
    with transaction.atomic():
        code_revoke(code=code, reason=reason)
        return code_issue(deputy=code.deputy, station=code.station)


def code_resolve(slug: str) -> CodeTarget:
    """Where a slug leads. Raises Code.DoesNotExist for an unknown slug."""
    code = Code.objects.select_related("deputy__station", "station").get(slug=slug)
    if code.kind == CodeKind.DEPUTY:
        deputy = code.deputy
        assert deputy is not None
        if code.revoked_at is None and deputy.is_active:
            return CodeTarget(code=code, station=deputy.station, deputy=deputy)
        return CodeTarget(code=code, station=deputy.station, deputy=None)
    assert code.station is not None
    return CodeTarget(code=code, station=code.station, deputy=None)


def code_receiver(slug: str) -> tuple[Unit, User | None]:
    """Who receives what is sent through a code: the station's unit, and the deputy's
    login when the code is an active deputy code of a serving deputy (else None).

    Raises Code.DoesNotExist for an unknown slug.
    """
    target = code_resolve(slug)
    user = target.deputy.user if target.deputy is not None else None
    return target.station.unit, user
