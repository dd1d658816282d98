"""The address of the client a request came from, for rate limits and address allowlists.

Behind nginx, REMOTE_ADDR is nginx's own address and the client's is in X-Forwarded-For,
which anyone can also write. So the header is believed only when the request came from
one of `settings.TRUSTED_PROXIES` (addresses or CIDR networks of our own proxies), and
only as far as our proxies wrote it: each proxy appends the address it was contacted
from, so we walk the list from the right past our own proxies, and the first address
that is not one of them is the client. Whatever a client wrote further left is ignored.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def ip_parse(value: object) -> IPAddress | None:
    """`value` as an IP address, or None when it is not one. Accepts what proxies and
    servers write: surrounding spaces, an IPv4 "addr:port", a bracketed "[v6]:port", an
    IPv6 zone; an IPv4-mapped IPv6 address is given as the IPv4 address it maps."""
    text = str(value or "").strip()
    if text.startswith("["):  # "[2001:db8::1]:443"
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=32)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    networks: list[IPNetwork] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            # A typo in one entry must not take the site down; it trusts nobody.
            logger.warning("ignoring %r: not an IP address or network", entry)
    return tuple(networks)


def ip_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """The networks that `entries` (addresses or CIDR networks, as text) name; entries
    that are neither are logged and left out, never raised."""
    return _networks(tuple(e for e in entries if e and e.strip()))


def ip_in(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    """Whether `address` lies in one of `networks` (an address of the other IP version
    never does)."""
    return any(address.version == n.version and address in n for n in networks)


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address, as text, or None when the server gave none that is valid.

    Guarantees: REMOTE_ADDR unless it is one of `settings.TRUSTED_PROXIES`; only then the
    first address of X-Forwarded-For, from the right, that is not a trusted proxy. A client
    cannot choose its address by writing the header: from an untrusted peer the header is
    ignored, and behind a trusted proxy only what our proxies appended is read. Where the
    walk meets a value that is not an address, the hop that passed it on is the client.
    Never raises on what a request contains."""
    peer = ip_parse(request.META.get("REMOTE_ADDR"))
    if peer is None:
        return None
    trusted = ip_networks(getattr(settings, "TRUSTED_PROXIES", ()) or ())
    if not trusted or not ip_in(peer, trusted):
        return str(peer)
    # Several X-Forwarded-For headers reach WSGI joined by commas, in order.
    hops = str(request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")
    client = peer
    for hop in reversed(hops):
        if not hop.strip():
            continue
        address = ip_parse(hop)
        if address is None:
            break
        client = address
        if not ip_in(address, trusted):
            break
    return str(client)
