"""The provincial vehicle registry on loopback, for tests and the demo.

It speaks the protocol documented in vehicles/client.py and checks requests the way the
gateway does (app key, timestamp window, nonce replay, HMAC-SHA256 signature). It computes
the signature with its own code, written from that protocol description, never with the
client's: a mistake in our signing would otherwise be mirrored here and go unnoticed.

    with FakeProvincialRegistry(app_key="k", secret="s") as fake:
        fake.vehicle_add(hphm="浙J12345", hpzl="02", syr="王小明", sjhm="13800000001")
        settings.VEHICLE_REGISTRY_URL = fake.query_url

Outages for tests: `outage(503)` answers every request with 503 until `restore()`;
`fail_next(n, status)` only the next n; `delay_seconds = 3` answers after the client's read
timeout; `refuse_connections()` closes the listening socket (connection refused) until
`restore()` listens on the same port again. `manage.py registry_fake` serves one in the
foreground for the demo.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from civicloop.firelane.vehicles.client import (
    CODE_BAD_REQUEST,
    CODE_BAD_SIGNATURE,
    CODE_NONCE_REPLAYED,
    CODE_NOT_FOUND,
    CODE_OK,
    CODE_STALE_TIMESTAMP,
    CODE_UNAVAILABLE,
    CODE_UNKNOWN_KEY,
    RegistryVehicle,
)
from civicloop.notify.fakes import FakeServer, JsonAnswer, JsonRequestHandler, RecordedRequest

QUERY_PATH = "/api/v1/vehicle/query"
# The gateway's header names, as the protocol spells them (compared lower-cased).
_KEY, _TIMESTAMP, _NONCE, _SIGNATURE = "x-ca-key", "x-ca-timestamp", "x-ca-nonce", "x-ca-signature"


def registry_signature(
    *, secret: str, method: str, path: str, app_key: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """The X-Ca-Signature the gateway expects, written from the protocol description:
    base64(HMAC-SHA256(secret, the lines METHOD, PATH, app key, timestamp, nonce and the
    hex SHA-256 of the body joined by newlines)). Independent of the client's signing code
    on purpose."""
    lines = [method.upper(), path or "/", app_key, timestamp, nonce]
    lines.append(hashlib.sha256(body).hexdigest())
    mac = hmac.new(secret.encode("utf-8"), "\n".join(lines).encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


class _CloseHandler(JsonRequestHandler):
    # One request per connection: a kept-alive socket would outlive refuse_connections().
    def end_headers(self) -> None:
        self.send_header("Connection", "close")
        super().end_headers()


class FakeProvincialRegistry(FakeServer):
    """The registry's query interface on 127.0.0.1 (a free port unless `port` is given;
    the port is kept when `restore` listens again)."""

    handler_class = _CloseHandler

    def __init__(
        self,
        *,
        app_key: str = "demo-app-key",
        secret: str = "demo-secret",  # noqa: S107 (fake loopback credential)
        host: str = "127.0.0.1",
        port: int = 0,
        tolerance_s: int = 300,
        delay_seconds: float = 0.0,
    ) -> None:
        super().__init__(delay_seconds=delay_seconds)
        self.app_key = app_key
        self.secret = secret
        self.host = host
        self._port = port
        self.tolerance_s = tolerance_s
        self.outage_status: int | None = None
        self._vehicles: dict[tuple[str, str], RegistryVehicle] = {}
        self._nonces: dict[str, float] = {}
        self.answered: list[tuple[int, str]] = []  # (HTTP status, code) of every answer

    # -- data ------------------------------------------------------------------------------

    def vehicle_add(
        self, *, hphm: str, hpzl: str, syr: str, sjhm: str, clpp: str = "", cllx: str = ""
    ) -> None:
        """Register a vehicle (replacing one with the same plate and kind)."""
        with self._lock:
            self._vehicles[(hphm, hpzl)] = RegistryVehicle(hphm, hpzl, syr, sjhm, clpp, cllx)

    # -- lifecycle and outages ------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self._port}"

    @property
    def query_url(self) -> str:
        """The URL to set as VEHICLE_REGISTRY_URL."""
        return f"{self.url}{QUERY_PATH}"

    def outage(self, status: int = 503) -> None:
        """Answer every request with `status` until `restore()`."""
        self.outage_status = status

    def refuse_connections(self) -> None:
        """Close the listening socket: clients get "connection refused" until `restore()`."""
        self.stop()

    def restore(self) -> None:
        """End every outage mode: listen again on the same port, answer normally, at once."""
        self.outage_status = None
        self.delay_seconds = 0.0
        with self._lock:
            self._failures.clear()
        self.start()

    # -- the interface ---------------------------------------------------------------------

    def failure_body(self, status: int) -> dict[str, Any]:
        return {"code": CODE_UNAVAILABLE, "msg": "服务暂不可用", "data": None}

    def handle(self, request: RecordedRequest) -> JsonAnswer:
        status, answer = self._answer(request)
        with self._lock:
            self.answered.append((status, str(answer.get("code", ""))))
        return status, answer

    def _answer(self, request: RecordedRequest) -> JsonAnswer:
        if self.outage_status is not None:
            return self.outage_status, self.failure_body(self.outage_status)
        if request.method != "POST" or request.path != QUERY_PATH:
            return 404, {"code": "404", "msg": "no such interface", "data": None}
        refusal = self._verify(request)
        if refusal is not None:
            return refusal
        try:
            query = request.json()
            hphm = str(query["hphm"])
            hpzl = str(query.get("hpzl") or "")
        except (ValueError, KeyError, TypeError):
            return 400, {"code": CODE_BAD_REQUEST, "msg": "参数错误：hphm", "data": None}
        with self._lock:
            if hpzl:
                vehicle = self._vehicles.get((hphm, hpzl))
            else:
                kinds = sorted(k for (p, k) in self._vehicles if p == hphm)
                vehicle = self._vehicles[(hphm, kinds[0])] if kinds else None
        if vehicle is None:
            return 200, {"code": CODE_NOT_FOUND, "msg": "未查询到车辆信息", "data": None}
        data = {
            "hphm": vehicle.hphm,
            "hpzl": vehicle.hpzl,
            "syr": vehicle.syr,
            "sjhm": vehicle.sjhm,
            "clpp": vehicle.clpp,
            "cllx": vehicle.cllx,
        }
        return 200, {"code": CODE_OK, "msg": "ok", "data": data}

    def _verify(self, request: RecordedRequest) -> JsonAnswer | None:
        headers = request.headers
        app_key = headers.get(_KEY, "")
        timestamp = headers.get(_TIMESTAMP, "")
        nonce = headers.get(_NONCE, "")
        given = headers.get(_SIGNATURE, "")
        if not hmac.compare_digest(app_key, self.app_key):
            return _refused(CODE_UNKNOWN_KEY, "应用标识无效")
        try:
            skew = abs(time.time() - int(timestamp) / 1000)
        except ValueError:
            return _refused(CODE_STALE_TIMESTAMP, "时间戳无效")
        if skew > self.tolerance_s:
            return _refused(CODE_STALE_TIMESTAMP, "时间戳超出有效期")
        expected = registry_signature(
            secret=self.secret,
            method=request.method,
            path=request.path,
            app_key=app_key,
            timestamp=timestamp,
            nonce=nonce,
            body=request.body,
        )
        if not nonce or not hmac.compare_digest(given, expected):
            return _refused(CODE_BAD_SIGNATURE, "签名错误")
        now = time.time()
        with self._lock:
            # Nonces only need remembering for as long as their timestamp is accepted.
            self._nonces = {n: t for n, t in self._nonces.items() if now - t <= self.tolerance_s}
            if nonce in self._nonces:
                return _refused(CODE_NONCE_REPLAYED, "请求重放")
            self._nonces[nonce] = now
        return None


def _refused(code: str, msg: str) -> JsonAnswer:
    return 401, {"code": code, "msg": msg, "data": None}


def demo_vehicles() -> list[dict[str, str]]:
    """The demo's registered cars (names and numbers are made up)."""
    rows = [
        ("浙J12345", "02", "王小明", "13800000001", "大众", "小型轿车"),
        ("浙JD12345", "52", "李红", "13800000002", "比亚迪", "小型轿车"),
        ("浙J6789挂", "15", "温岭市顺达物流有限公司", "13800000003", "中集", "重型半挂车"),
        ("浙J88888", "01", "陈建国", "13800000004", "解放", "重型货车"),
    ]
    keys = ("hphm", "hpzl", "syr", "sjhm", "clpp", "cllx")
    return [dict(zip(keys, row, strict=True)) for row in rows]
