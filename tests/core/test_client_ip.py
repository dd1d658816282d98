"""The client's address behind our reverse proxies (core/client_ip.py), and the places
that must see it: the camera allowlist of the ISAPI push and the rate limits."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory

from civicloop.core.client_ip import client_ip, ip_parse

PROXY = "10.0.0.2"
CLIENT = "203.0.113.7"


def request_from(remote_addr: str, forwarded_for: str | None = None) -> Any:
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **extra)


@pytest.fixture
def behind_nginx(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "127.0.0.1"]


def test_without_trusted_proxies_the_header_is_ignored(settings: Any) -> None:
    # Given no trusted proxy configured
    settings.TRUSTED_PROXIES = []
    # When a client writes X-Forwarded-For itself
    # Then its own address counts, not the one it wrote
    assert client_ip(request_from(CLIENT, "1.2.3.4")) == CLIENT


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(behind_nginx: None) -> None:
    # Given trusted proxies, and a peer that is not one of them
    # When it sends X-Forwarded-For naming a trusted proxy or another client
    # Then the peer's own address counts
    assert client_ip(request_from(CLIENT, "10.0.0.3")) == CLIENT
    assert client_ip(request_from(CLIENT, "198.51.100.1, 10.0.0.3")) == CLIENT


def test_a_trusted_proxy_chain_gives_the_first_untrusted_address(behind_nginx: None) -> None:
    # Given a request through nginx (127.0.0.1) and a load balancer (10.0.0.5), where the
    # client had written its own X-Forwarded-For to pose as someone else
    request = request_from("127.0.0.1", f"6.6.6.6, {CLIENT}, 10.0.0.5")
    # When its client is asked for
    # Then it is the address our first proxy saw, not what the client wrote
    assert client_ip(request) == CLIENT
    # And several headers joined by the server read the same way
    assert client_ip(request_from(PROXY, f"6.6.6.6,{CLIENT}")) == CLIENT


def test_a_request_from_a_proxy_itself_is_that_proxy(behind_nginx: None) -> None:
    # Given a health check nginx makes itself (no header, or only proxies in it)
    # Then the address is the proxy's
    assert client_ip(request_from(PROXY)) == PROXY
    assert client_ip(request_from("127.0.0.1", "10.0.0.9")) == "10.0.0.9"


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "expected"),
    [
        ("", None, None),
        ("not-an-ip", "1.2.3.4", None),
        (PROXY, "garbage", PROXY),  # the hop that passed it on is the client
        (PROXY, f"{CLIENT}, junk", PROXY),
        (PROXY, f"{CLIENT}, , ", CLIENT),
        (PROXY, "[2001:db8::1]:443", "2001:db8::1"),
        (PROXY, f"{CLIENT}:51234", CLIENT),
        ("::ffff:" + CLIENT, None, CLIENT),
    ],
)
def test_invalid_values_never_crash(
    behind_nginx: None, remote_addr: str, forwarded_for: str | None, expected: str | None
) -> None:
    assert client_ip(request_from(remote_addr, forwarded_for)) == expected


def test_a_bad_trusted_proxies_entry_trusts_nobody_and_does_not_crash(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["nginx.local", "10.0.0.0/33"]
    assert client_ip(request_from(PROXY, CLIENT)) == PROXY


def test_ip_parse_refuses_what_is_not_an_address() -> None:
    assert ip_parse(None) is None and ip_parse("1.2.3") is None and ip_parse("[::1") is None
    assert str(ip_parse(" 192.0.2.1 ")) == "192.0.2.1"


# --------------------------------------------------------------------------- rate limits


@pytest.mark.django_db
def test_a_rate_limit_is_keyed_by_the_real_client(
    settings: Any, monkeypatch: pytest.MonkeyPatch, behind_nginx: None
) -> None:
    import civicloop.core.accounts.services as accounts

    # Given one SMS code an hour per client address, and every request through nginx
    monkeypatch.setattr(accounts, "SMS_CODES_PER_IP_PER_HOUR", 1)
    nginx = Client(REMOTE_ADDR="127.0.0.1")

    def send(phone: str, forwarded_for: str, client: Client = nginx) -> str:
        response = client.post(
            "/citizen/", {"send": "1", "phone": phone}, HTTP_X_FORWARDED_FOR=forwarded_for
        )
        assert response.status_code < 500
        return response.content.decode()

    # When one client has used its code
    send("13800000001", CLIENT)
    # Then it is held back, even with a new address written in front of ours
    assert "频繁" in send("13800000002", f"6.6.6.6, {CLIENT}")
    # And another client behind the same proxy is not
    assert "频繁" not in send("13800000003", "198.51.100.20")
    # And from an untrusted peer the header cannot pick a fresh address
    direct = Client(REMOTE_ADDR="198.51.100.30")
    send("13800000004", "", client=direct)
    assert "频繁" in send("13800000005", "192.0.2.99", client=direct)
