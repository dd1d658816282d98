"""Adapter for the Zhejiang provincial vehicle registry query interface (车辆登记信息查询).

The wire protocol, as our loopback fake (vehicles/fake.py) and the adapter both speak it:

    POST {VEHICLE_REGISTRY_URL}                 e.g. https://gateway.example/api/v1/vehicle/query
    Content-Type: application/json;charset=utf-8
    X-Ca-Key:        the application key issued to us (VEHICLE_REGISTRY_APP_KEY)
    X-Ca-Timestamp:  milliseconds since the epoch; refused when more than 5 minutes off
    X-Ca-Nonce:      32 random hex characters; refused when seen again within the window
    X-Ca-Signature:  base64(HMAC-SHA256(secret, canonical string))

    canonical string = "\\n".join([METHOD, PATH, app key, timestamp, nonce, hex SHA-256 of body])

    body: {"hphm": "浙J12345", "hpzl": "02"}   GA/T field names; hpzl optional (without it
                                               the registry answers the first kind registered)

    200 {"code": "0", "msg": "ok",
         "data": {"hphm", "hpzl", "syr" 所有人, "sjhm" 手机号码, "clpp" 品牌, "cllx" 车辆类型}}
    200 {"code": "1001", "msg": "未查询到车辆信息", "data": null}          not found
    401 {"code": "4001" bad signature | "4002" stale timestamp | "4003" nonce replayed |
         "4004" unknown app key, "msg": ...}
    400 {"code": "4000", "msg": ...}                                    malformed request
    503 {"code": "5003", "msg": "服务暂不可用"}                          outage

What the adapter guarantees: connect and read timeouts on every call; connect errors and
502/503/504 are retried a few times with exponential back-off (a query is a read, so a retry
is harmless); a read timeout is not retried (a slow registry is only made slower by more
load). Outages count towards a circuit breaker (pybreaker): once open, calls fail at once
with RegistryUnavailable until the reset timeout lets one trial call through. A refusal
(401/400: our key or request is wrong) is RegistryRefused, a RegistryUnavailable too (the
caller retries later either way) but it does not open the breaker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pybreaker
import requests

log = logging.getLogger("civicloop.firelane.vehicles")

HEADER_KEY = "X-Ca-Key"
HEADER_TIMESTAMP = "X-Ca-Timestamp"
HEADER_NONCE = "X-Ca-Nonce"
HEADER_SIGNATURE = "X-Ca-Signature"

CODE_OK = "0"
CODE_NOT_FOUND = "1001"
CODE_BAD_REQUEST = "4000"
CODE_BAD_SIGNATURE = "4001"
CODE_STALE_TIMESTAMP = "4002"
CODE_NONCE_REPLAYED = "4003"
CODE_UNKNOWN_KEY = "4004"
CODE_UNAVAILABLE = "5003"

RETRY_STATUSES = frozenset({502, 503, 504})

# 号牌种类 (GA 24.7) → the plate's colour as our cameras report it (firelane.PlateColor).
# 51 大型新能源 is yellow-green; cameras read it as either, "green" is its distinctive part.
HPZL_COLOR = {
    "01": "yellow",  # 大型汽车
    "02": "blue",  # 小型汽车
    "03": "black",  # 使馆汽车
    "04": "black",  # 领馆汽车
    "05": "black",  # 境外汽车
    "06": "black",  # 外籍汽车
    "07": "yellow",  # 普通摩托车
    "08": "blue",  # 轻便摩托车
    "13": "yellow",  # 低速车
    "15": "yellow",  # 挂车
    "16": "yellow",  # 教练汽车
    "23": "white",  # 警用汽车
    "51": "green",  # 大型新能源汽车
    "52": "green",  # 小型新能源汽车
}
HPZL_CODE = re.compile(r"^\d{2}$")

# 浙 + issuing-office letter + 5 characters (6 for new-energy plates, or 4 and a suffix such as
# 挂/学/警). I and O are never used on plates.
ZHEJIANG_PLATE = re.compile(r"^浙[A-HJ-NP-Z](?:[A-HJ-NP-Z0-9]{5,6}|[A-HJ-NP-Z0-9]{4}[挂学警])$")


def plate_is_zhejiang(plate: str) -> bool:
    """A well-formed 浙 plate (spelled by `plates.plate_spelling`)."""
    return ZHEJIANG_PLATE.match(plate) is not None


def hpzl_for(*, plate: str, color: str) -> str:
    """The 号牌种类 a camera's plate and colour imply, or "" when they do not settle it."""
    if len(plate) == 8:  # new energy: D/F right after the letter is small, at the end large
        return "52" if plate[2] in "DF" else "51"
    if plate.endswith("挂"):
        return "15"
    if plate.endswith("学"):
        return "16"
    if plate.endswith("警"):
        return "23"
    return {"blue": "02", "yellow": "01"}.get(color, "")


def canonical_string(
    *, method: str, path: str, app_key: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """The string the signature covers (see the module docstring)."""
    return "\n".join(
        [method.upper(), path or "/", app_key, timestamp, nonce, hashlib.sha256(body).hexdigest()]
    )


def signature(*, secret: str, canonical: str) -> str:
    """base64(HMAC-SHA256(secret, canonical))."""
    digest = hmac.new(secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class RegistryUnavailable(Exception):
    """The provincial registry could not answer now (outage, timeout, open breaker,
    refusal): the caller keeps what it was doing pending and tries again later."""


class RegistryRefused(RegistryUnavailable):
    """The registry refused our request (signature, key, malformed): a configuration
    problem, logged as an error; not counted as an outage by the breaker."""


class _Outage(Exception):
    """Internal: one failed attempt that may be retried."""


@dataclass(frozen=True)
class RegistryVehicle:
    """One vehicle as the registry answers it (GA/T field names)."""

    hphm: str
    hpzl: str
    syr: str
    sjhm: str
    clpp: str = ""
    cllx: str = ""


class ProvincialClient:
    """Signed queries to the provincial registry; one instance per configuration (it
    holds the HTTP session and the circuit breaker, both meant to be shared)."""

    def __init__(
        self,
        *,
        url: str,
        app_key: str,
        secret: str,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        retries: int = 2,
        backoff_s: float = 0.2,
        breaker_failures: int = 5,
        breaker_reset_s: float = 60.0,
    ) -> None:
        self.url = url
        self.path = urlsplit(url).path or "/"
        self.app_key = app_key
        self._secret = secret
        self.timeout = (connect_timeout, read_timeout)
        self.retries = retries
        self.backoff_s = backoff_s
        self.session = requests.Session()
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=breaker_failures,
            reset_timeout=breaker_reset_s,
            exclude=[RegistryRefused],
            # The call that trips the breaker reports its own failure, not "breaker open".
            throw_new_error_on_trip=False,
            name="vehicle-registry",
        )

    def vehicle_query(self, *, hphm: str, hpzl: str = "") -> RegistryVehicle | None:
        """The registered vehicle of `hphm` (of kind `hpzl` when given), or None if the
        registry has none. Raises RegistryUnavailable (fast while the breaker is open)."""
        try:
            result: RegistryVehicle | None = self.breaker.call(self._query, hphm, hpzl)
        except pybreaker.CircuitBreakerError as exc:
            raise RegistryUnavailable("vehicle registry circuit open") from exc
        return result

    def _query(self, hphm: str, hpzl: str) -> RegistryVehicle | None:
        payload: dict[str, str] = {"hphm": hphm}
        if hpzl:
            payload["hpzl"] = hpzl
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        attempt = 0
        while True:
            try:
                return self._attempt(body)
            except _Outage as exc:
                if attempt >= self.retries:
                    raise RegistryUnavailable(str(exc)) from exc
                # Exponential back-off with jitter, so many workers do not retry in step.
                delay = self.backoff_s * (2**attempt) * (0.5 + secrets.randbelow(1000) / 1000)
                log.info("vehicle registry: %s; retry %d in %.2fs", exc, attempt + 1, delay)
                time.sleep(delay)
                attempt += 1

    def _attempt(self, body: bytes) -> RegistryVehicle | None:
        timestamp = str(int(time.time() * 1000))
        nonce = secrets.token_hex(16)
        canonical = canonical_string(
            method="POST",
            path=self.path,
            app_key=self.app_key,
            timestamp=timestamp,
            nonce=nonce,
            body=body,
        )
        headers = {
            "Content-Type": "application/json;charset=utf-8",
            HEADER_KEY: self.app_key,
            HEADER_TIMESTAMP: timestamp,
            HEADER_NONCE: nonce,
            HEADER_SIGNATURE: signature(secret=self._secret, canonical=canonical),
        }
        try:
            response = self.session.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.ConnectionError as exc:  # includes ConnectTimeout
            raise _Outage(f"connect failed: {type(exc).__name__}") from exc
        except requests.Timeout as exc:  # read timeout: not retried
            raise RegistryUnavailable("vehicle registry read timeout") from exc
        except requests.RequestException as exc:
            raise RegistryUnavailable(f"vehicle registry request failed: {exc}") from exc
        if response.status_code in RETRY_STATUSES:
            raise _Outage(f"HTTP {response.status_code}")
        answer = _json(response)
        code = str(answer.get("code", ""))
        if response.status_code in (400, 401, 403):
            log.error(
                "vehicle registry refused our request: HTTP %s code %s %s",
                response.status_code,
                code,
                answer.get("msg", ""),
            )
            raise RegistryRefused(f"refused: HTTP {response.status_code} code {code}")
        if response.status_code != 200:
            raise RegistryUnavailable(f"HTTP {response.status_code}")
        if code == CODE_NOT_FOUND:
            return None
        if code != CODE_OK or not isinstance(answer.get("data"), dict):
            raise RegistryRefused(f"unexpected answer code {code!r}")
        data = answer["data"]
        return RegistryVehicle(
            hphm=str(data.get("hphm", "")),
            hpzl=str(data.get("hpzl", "")),
            syr=str(data.get("syr", "")),
            sjhm=str(data.get("sjhm", "")),
            clpp=str(data.get("clpp", "") or ""),
            cllx=str(data.get("cllx", "") or ""),
        )


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError as exc:
        raise RegistryUnavailable(f"HTTP {response.status_code}: not JSON") from exc
    if not isinstance(answer, dict):
        raise RegistryUnavailable(f"HTTP {response.status_code}: not a JSON object")
    return answer
