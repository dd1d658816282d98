"""Who owns a plate: the local mirror first, then the provincial registry.

    owner_lookup(plate="浙J12345", color="blue") -> OwnerLookup

What it guarantees:
* a plate from another province is answered at once (reason "other_province"), nothing is
  queried: the Zhejiang registry has no record of it;
* a mirror hit costs one indexed read and one decryption (p99 well under 2 ms);
* on a mirror miss the provincial interface is asked, when VEHICLE_REGISTRY_URL is set;
* "not found" is only answered when every configured source said so; if the provincial
  registry cannot answer (outage, open breaker, refusal), or the mirror cannot be
  decrypted (a key removed from FIELD_ENCRYPTION_KEY), RegistryUnavailable is raised so
  the caller keeps its warning pending and tries again: delayed, never lost.

The colour settles which vehicle is meant when one number is registered under two kinds
(01 yellow and 02 blue); if it does not (no colour, or none of the mirror's kinds has that
colour) the mirror's answer is used only when it is the plate's single vehicle and no
colour contradicts it; otherwise the provincial registry is asked with the kind the
colour implies. We would rather not warn than text the wrong person.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from django.conf import settings

from civicloop.firelane.plates.normalize import plate_spelling
from civicloop.firelane.vehicles.client import (
    HPZL_COLOR,
    ProvincialClient,
    RegistryRefused,
    RegistryUnavailable,
    hpzl_for,
)
from civicloop.firelane.vehicles.crypto import SealBroken
from civicloop.firelane.vehicles.mirror import MirrorOwner, mirror_owners

log = logging.getLogger("civicloop.firelane.vehicles")

__all__ = [
    "OwnerLookup",
    "RegistryRefused",
    "RegistryUnavailable",
    "owner_lookup",
    "registry_client",
]


@dataclass(frozen=True)
class OwnerLookup:
    found: bool
    name: str = ""
    phone: str = ""
    source: str = ""  # "mirror" | "provincial" | ""
    reason: str = ""  # "" | "not_found" | "other_province"


NOT_FOUND = OwnerLookup(found=False, reason="not_found")
OTHER_PROVINCE = OwnerLookup(found=False, reason="other_province")

_clients: dict[tuple[object, ...], ProvincialClient] = {}
_clients_lock = threading.Lock()


def registry_client() -> ProvincialClient | None:
    """The provincial client for the current settings (None: mirror only).

    One per configuration and process, so its connection pool and circuit breaker are
    shared by every lookup of the process."""
    url = settings.VEHICLE_REGISTRY_URL
    if not url:
        return None
    config = (
        url,
        settings.VEHICLE_REGISTRY_APP_KEY,
        settings.VEHICLE_REGISTRY_SECRET,
        settings.VEHICLE_REGISTRY_CONNECT_TIMEOUT,
        settings.VEHICLE_REGISTRY_READ_TIMEOUT,
        settings.VEHICLE_REGISTRY_RETRIES,
        settings.VEHICLE_REGISTRY_BACKOFF_SECONDS,
        settings.VEHICLE_REGISTRY_BREAKER_FAILURES,
        settings.VEHICLE_REGISTRY_BREAKER_RESET_SECONDS,
    )
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            client = _clients[config] = ProvincialClient(
                url=url,
                app_key=settings.VEHICLE_REGISTRY_APP_KEY,
                secret=settings.VEHICLE_REGISTRY_SECRET,
                connect_timeout=settings.VEHICLE_REGISTRY_CONNECT_TIMEOUT,
                read_timeout=settings.VEHICLE_REGISTRY_READ_TIMEOUT,
                retries=settings.VEHICLE_REGISTRY_RETRIES,
                backoff_s=settings.VEHICLE_REGISTRY_BACKOFF_SECONDS,
                breaker_failures=settings.VEHICLE_REGISTRY_BREAKER_FAILURES,
                breaker_reset_s=settings.VEHICLE_REGISTRY_BREAKER_RESET_SECONDS,
            )
        return client


def _mirror_choice(owners: list[MirrorOwner], *, plate: str, color: str) -> MirrorOwner | None:
    if not owners:
        return None
    kind = hpzl_for(plate=plate, color=color)
    if kind:
        exact = [o for o in owners if o.plate_kind == kind]
        if exact:
            return exact[0]
    if color:
        same_colour = [o for o in owners if HPZL_COLOR.get(o.plate_kind) == color]
        return same_colour[0] if len(same_colour) == 1 else None
    return owners[0] if len(owners) == 1 else None


def owner_lookup(*, plate: str, color: str = "") -> OwnerLookup:
    """The registered owner of `plate` (see the module docstring for the guarantees).

    Raises RegistryUnavailable when the mirror has no answer and the provincial registry
    cannot give one now."""
    plate = plate_spelling(plate)
    if not plate:
        return NOT_FOUND
    if not plate.startswith("浙"):
        return OTHER_PROVINCE
    try:
        owners = mirror_owners(plate=plate)
    except SealBroken as exc:
        # FIELD_ENCRYPTION_KEY changed without the old key kept: fix the configuration (or
        # re-import); until then warnings wait rather than go to nobody.
        log.error("vehicle registry mirror cannot be decrypted: %s", exc)
        raise RegistryUnavailable("mirror cannot be decrypted with FIELD_ENCRYPTION_KEY") from exc
    chosen = _mirror_choice(owners, plate=plate, color=color)
    if chosen is not None:
        return OwnerLookup(found=True, name=chosen.name, phone=chosen.phone, source="mirror")
    client = registry_client()
    if client is None:
        if owners:
            log.info(
                "vehicle registry: %d mirror rows for a plate, none fits the colour", len(owners)
            )
        return NOT_FOUND
    vehicle = client.vehicle_query(hphm=plate, hpzl=hpzl_for(plate=plate, color=color))
    if vehicle is None:
        return NOT_FOUND
    return OwnerLookup(found=True, name=vehicle.syr, phone=vehicle.sjhm, source="provincial")
