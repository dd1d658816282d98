"""Loopback fakes of Aliyun SMS, DingTalk and a webhook receiver, for tests and local runs.

Each fake is a ThreadingHTTPServer on 127.0.0.1 (port 0: the OS picks a free one) served by a
daemon thread. They speak the real wire protocols and check signatures the way the real
services do, each with its own code written from the provider's published rule (never our
clients' signing code, whose mistakes a fake must not mirror), so a test that passes
against a fake has exercised our real signing code:

    with FakeAliyunSms(access_key_id="ak", access_key_secret="sk") as fake:
        settings.ALIYUN_SMS_ENDPOINT = fake.endpoint      # "127.0.0.1:PORT"
        ...
        assert fake.accepted_keys()["outbox-1"] == 1

Common to all fakes:

* `.requests`: every raw request, in arrival order (`RecordedRequest`).
* `.received`: the parsed messages accepted, only the first of each idempotency key;
  `.duplicates`: the parsed messages accepted again under a key already seen;
  `.accepted_keys()`: Counter of key -> how many times it was accepted.
* `delay_seconds`: sleep before answering, to simulate a slow provider (client timeouts).
* `fail_next(n, status)`: answer the next n requests with `status` and the provider's error
  body, to simulate an outage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

JsonAnswer = tuple[int, dict[str, Any]]


@dataclass
class RecordedRequest:
    """One raw HTTP request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    received_at: float = field(default_factory=time.time)

    def json(self) -> Any:
        """The body parsed as JSON (ValueError if it is not JSON)."""
        return json.loads(self.body.decode("utf-8"))


class LoopbackHTTPServer(ThreadingHTTPServer):
    # Handler threads must not keep stop() waiting while a slow answer sleeps.
    daemon_threads = True
    block_on_close = False
    fake: Any  # the LoopbackServer whose handler answers


class LoopbackServer:
    """An HTTP server on host:port (port 0: a free one, kept for a restart) answered by
    `handler_class`, served from a daemon thread: the lifecycle every fake shares."""

    handler_class: type[BaseHTTPRequestHandler]

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._port = port
        self._server: LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Listen and serve from a daemon thread; return self."""
        if self._server is not None:
            return self
        server = LoopbackHTTPServer((self.host, self._port), self.handler_class)
        server.fake = self
        self._server = server
        self._port = int(server.server_address[1])
        # A short poll interval keeps stop() (which waits for one poll) fast in tests.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port. Safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port listened on (the server must be started)."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return int(self._server.server_address[1])


class JsonRequestHandler(BaseHTTPRequestHandler):
    """Records each request and answers with the fake's JSON (`FakeServer._dispatch`)."""

    server: LoopbackHTTPServer
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urllib.parse.urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query=dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        status, answer = self.server.fake._dispatch(request)
        data = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _handle
    do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:
        # Test output stays readable; `.requests` is the log.
        pass


class FakeServer(LoopbackServer):
    """Base of the JSON fakes: recording, deduplication, delays and outages."""

    handler_class = JsonRequestHandler

    def __init__(self, *, delay_seconds: float = 0.0) -> None:
        super().__init__()
        self.delay_seconds = delay_seconds
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._received: list[dict[str, Any]] = []
        self._duplicates: list[dict[str, Any]] = []
        self._accepted: Counter[str] = Counter()
        self._answers_by_key: dict[str, JsonAnswer] = {}
        self._failures: list[int] = []

    @property
    def endpoint(self) -> str:
        """ "127.0.0.1:PORT", the form Aliyun SDK endpoints take."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """ "http://127.0.0.1:PORT", without a trailing slash."""
        return f"http://{self.endpoint}"

    # -- what was received -------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every raw request received, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def received(self) -> list[dict[str, Any]]:
        """A copy of the accepted messages, the first of each idempotency key only."""
        with self._lock:
            return list(self._received)

    @property
    def duplicates(self) -> list[dict[str, Any]]:
        """A copy of the messages accepted again under an already seen key."""
        with self._lock:
            return list(self._duplicates)

    def accepted_keys(self) -> Counter[str]:
        """How many times each idempotency key was accepted (2+ means duplicates)."""
        with self._lock:
            return Counter(self._accepted)

    # -- fault injection ---------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        """Answer the next `n` requests with HTTP `status` and the provider's error body."""
        with self._lock:
            self._failures.extend([status] * n)

    # -- for subclasses ----------------------------------------------------------------------

    def _dispatch(self, request: RecordedRequest) -> JsonAnswer:
        with self._lock:
            self._requests.append(request)
            failure = self._failures.pop(0) if self._failures else None
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if failure is not None:
            return failure, self.failure_body(failure)
        return self.handle(request)

    def _accept(self, key: str, message: dict[str, Any], answer: JsonAnswer) -> JsonAnswer:
        """Record an accepted message; a repeated key gets the first answer again."""
        with self._lock:
            self._accepted[key] += 1
            if key in self._answers_by_key:
                self._duplicates.append(message)
                return self._answers_by_key[key]
            self._answers_by_key[key] = answer
            self._received.append(message)
            return answer

    def failure_body(self, status: int) -> dict[str, Any]:
        """The JSON body sent with an injected failure."""
        return {"error": "injected failure", "status": status}

    def handle(self, request: RecordedRequest) -> JsonAnswer:
        """Answer one request: (status, JSON object)."""
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# Aliyun SMS
# ---------------------------------------------------------------------------------------------

_AUTHORIZATION = re.compile(
    r"^(?P<algorithm>\S+) Credential=(?P<key_id>[^,]+),"
    r"SignedHeaders=(?P<signed>[^,]+),Signature=(?P<signature>[0-9a-f]+)$"
)
_REQUIRED_SIGNED = {
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
}
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def acs3_canonical_request(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], signed: list[str]
) -> str:
    """The V3 (ACS3) canonical request, as Aliyun's signature spec defines it.

    Method, URI, sorted RFC 3986-encoded query, the signed headers lower-cased, trimmed and
    sorted as "name:value\\n", their names joined by ";", then the hex SHA-256 of the body
    (taken from x-acs-content-sha256, which the caller must check against the body).
    """

    def encode(value: str) -> str:
        return urllib.parse.quote(value, safe="~")

    canonical_query = "&".join(f"{encode(k)}={encode(query[k])}" for k in sorted(query))
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed)
    return "\n".join(
        [
            method.upper(),
            path or "/",
            canonical_query,
            canonical_headers,
            ";".join(signed),
            headers.get("x-acs-content-sha256", ""),
        ]
    )


def acs3_signature(secret: str, canonical_request: str) -> str:
    """Hex HMAC-SHA256, keyed by the AccessKey secret, of the ACS3 string to sign."""
    hashed = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    string_to_sign = f"ACS3-HMAC-SHA256\n{hashed}"
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


class FakeAliyunSms(FakeServer):
    """Aliyun SendSms (API 2017-05-25) on loopback, verifying the ACS3-HMAC-SHA256 signature.

    Answers like Aliyun: 200 {"Code": "OK", "Message": "OK", "BizId", "RequestId"} on success;
    200 with an "isv.*" Code for business refusals (bad number, unknown template...); 400
    "SignatureDoesNotMatch" for a wrong signature; 404 "InvalidAccessKeyId.NotFound" for an
    unknown AccessKey id. `reject_next(n, code)` makes the next n well-signed sends answer
    200 with `code` (default isv.BUSINESS_LIMIT_CONTROL, Aliyun's flow control).
    `template_codes`, when given, is the set of approved codes; otherwise any "SMS_" code is.
    """

    def __init__(
        self,
        *,
        access_key_id: str = "test-access-key-id",
        access_key_secret: str = "test-access-key-secret",  # noqa: S107 (fake loopback credential)
        template_codes: set[str] | None = None,
        delay_seconds: float = 0.0,
    ) -> None:
        super().__init__(delay_seconds=delay_seconds)
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.template_codes = template_codes
        self._rejections: list[str] = []
        self._nonces: set[str] = set()

    def reject_next(self, n: int = 1, code: str = "isv.BUSINESS_LIMIT_CONTROL") -> None:
        """Answer the next `n` valid sends with HTTP 200 and Code `code`."""
        with self._lock:
            self._rejections.extend([code] * n)

    def failure_body(self, status: int) -> dict[str, Any]:
        """Aliyun's error body for an injected HTTP failure."""
        return {
            "Code": "ServiceUnavailable",
            "Message": "The request has failed due to a temporary failure of the server.",
            "RequestId": _request_id(),
        }

    def handle(self, request: RecordedRequest) -> JsonAnswer:
        """Verify the signature, then validate and accept a SendSms."""
        refusal = self._verify(request)
        if refusal is not None:
            return refusal
        params = dict(request.query)
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(urllib.parse.parse_qsl(request.body.decode(), keep_blank_values=True))
        action = request.headers.get("x-acs-action")
        version = request.headers.get("x-acs-version")
        if action != "SendSms" or version != "2017-05-25":
            return 400, _aliyun_error("InvalidAction.NotFound", f"{action} {version}")
        return self._send_sms(params)

    def _verify(self, request: RecordedRequest) -> JsonAnswer | None:
        match = _AUTHORIZATION.match(request.headers.get("authorization", ""))
        if match is None or match["algorithm"] != "ACS3-HMAC-SHA256":
            return 400, _aliyun_error("IncompleteSignature", "bad Authorization header")
        if match["key_id"] != self.access_key_id:
            return 404, _aliyun_error(
                "InvalidAccessKeyId.NotFound", "Specified access key is not found."
            )
        signed = match["signed"].split(";")
        if signed != sorted(signed) or not set(signed) >= _REQUIRED_SIGNED:
            return 400, _aliyun_error("IncompleteSignature", "required headers are not signed")
        body_hash = hashlib.sha256(request.body).hexdigest()
        if request.headers.get("x-acs-content-sha256") != body_hash:
            return 400, _aliyun_error("SignatureDoesNotMatch", "x-acs-content-sha256 mismatch")
        try:
            signed_at = datetime.strptime(request.headers["x-acs-date"], "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return 400, _aliyun_error("InvalidTimeStamp.Format", "bad x-acs-date")
        if abs(datetime.now(UTC).replace(tzinfo=None) - signed_at).total_seconds() > 15 * 60:
            return 400, _aliyun_error("InvalidTimeStamp.Expired", "x-acs-date is stale")
        canonical = acs3_canonical_request(
            request.method, request.path, request.query, request.headers, signed
        )
        expected = acs3_signature(self.access_key_secret, canonical)
        if not hmac.compare_digest(expected, match["signature"]):
            return 400, _aliyun_error(
                "SignatureDoesNotMatch",
                "Specified signature does not match our calculation.",
            )
        nonce = request.headers["x-acs-signature-nonce"]
        with self._lock:
            if nonce in self._nonces:
                return 400, _aliyun_error("SignatureNonceUsed", "nonce already used")
            self._nonces.add(nonce)
        return None

    def _send_sms(self, params: dict[str, str]) -> JsonAnswer:
        phones = params.get("PhoneNumbers", "")
        if not phones or not all(_MOBILE.match(p) for p in phones.split(",")):
            return 200, _aliyun_code("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if not params.get("SignName"):
            return 200, _aliyun_code("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        code = params.get("TemplateCode", "")
        known = (
            code in self.template_codes
            if self.template_codes is not None
            else code.startswith("SMS_")
        )
        if not known:
            return 200, _aliyun_code("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            template_param = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return 200, _aliyun_code("isv.INVALID_JSON_PARAM", "JSON参数不合法")
        with self._lock:
            rejection = self._rejections.pop(0) if self._rejections else None
        if rejection is not None:
            return 200, _aliyun_code(rejection, "触发流控")
        out_id = params.get("OutId", "")
        biz_id = f"{secrets.randbelow(10**6):06d}^{secrets.randbelow(10**12):012d}"
        message = {
            "phone": phones,
            "sign_name": params["SignName"],
            "template_code": code,
            "template_param": template_param,
            "out_id": out_id,
            "idempotency_key": out_id,
            "biz_id": biz_id,
        }
        answer = {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": _request_id()}
        # No OutId means no way to recognize a repeat; give each such send its own key.
        key = out_id or f"no-out-id-{biz_id}"
        return self._accept(key, message, (200, answer))


def _request_id() -> str:
    raw = secrets.token_hex(16).upper()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def _aliyun_code(code: str, message: str) -> dict[str, Any]:
    return {"Code": code, "Message": message, "RequestId": _request_id()}


def _aliyun_error(code: str, message: str) -> dict[str, Any]:
    return {
        "RequestId": _request_id(),
        "HostId": "dysmsapi.aliyuncs.com",
        "Code": code,
        "Message": message,
        "Recommend": "https://api.aliyun.com/troubleshoot",
    }


# ---------------------------------------------------------------------------------------------
# DingTalk
# ---------------------------------------------------------------------------------------------


class FakeDingTalk(FakeServer):
    """DingTalk's custom robot and work-notice APIs on loopback.

    * POST /robot/send?access_token=&timestamp=&sign=: checks the robot token, that the
      timestamp is within one hour of now and that `sign` is base64 HMAC-SHA256 of
      "timestamp\\nsecret" (errcode 310000 otherwise, as DingTalk answers).
    * GET /gettoken?appkey=&appsecret=: issues an access token valid `token_ttl` seconds.
    * POST /topapi/message/corpconversation/asyncsend_v2?access_token=: checks the token
      (40014 unknown, 42001 expired) and the body; answers a task_id.

    `expire_tokens()` expires every token issued so far, to test refreshing. Point
    settings.DINGTALK_API_BASE at `.url` and the robot URL at `.robot_url`.
    """

    def __init__(
        self,
        *,
        robot_access_token: str = "test-robot-token",  # noqa: S107 (fake loopback credential)
        robot_secret: str = "SECtest-robot-secret",  # noqa: S107 (fake loopback credential)
        app_key: str = "test-app-key",
        app_secret: str = "test-app-secret",  # noqa: S107 (fake loopback credential)
        agent_id: str = "1000001",
        token_ttl: int = 7200,
        delay_seconds: float = 0.0,
    ) -> None:
        super().__init__(delay_seconds=delay_seconds)
        self.robot_access_token = robot_access_token
        self.robot_secret = robot_secret
        self.app_key = app_key
        self.app_secret = app_secret
        self.agent_id = agent_id
        self.token_ttl = token_ttl
        self._tokens: dict[str, float] = {}
        self._task_ids = iter(range(256_271_667_000, 10**15))
        self.tokens_issued = 0

    @property
    def robot_url(self) -> str:
        """The robot webhook URL, as DingTalk shows it in the group settings."""
        return f"{self.url}/robot/send?access_token={self.robot_access_token}"

    def expire_tokens(self) -> None:
        """Make every access token issued so far expired."""
        with self._lock:
            for token in self._tokens:
                self._tokens[token] = 0.0

    def failure_body(self, status: int) -> dict[str, Any]:
        """DingTalk's "system busy" body for an injected failure."""
        return {"errcode": -1, "errmsg": "系统繁忙"}

    def handle(self, request: RecordedRequest) -> JsonAnswer:
        """Route to the robot, gettoken or work-notice endpoint."""
        if request.path == "/robot/send" and request.method == "POST":
            return self._robot(request)
        if request.path == "/gettoken" and request.method == "GET":
            return self._gettoken(request)
        if (
            request.path == "/topapi/message/corpconversation/asyncsend_v2"
            and request.method == "POST"
        ):
            return self._asyncsend(request)
        return 404, {"errcode": 404, "errmsg": "请求的URI地址不存在"}

    def _key(self, request: RecordedRequest) -> str:
        # DingTalk has no idempotency key; ours rides in a header it ignores.
        return request.headers.get("idempotency-key") or hashlib.sha256(request.body).hexdigest()

    def _robot(self, request: RecordedRequest) -> JsonAnswer:
        if request.query.get("access_token") != self.robot_access_token:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        if self.robot_secret:
            timestamp = request.query.get("timestamp", "")
            sign = request.query.get("sign", "")
            if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3_600_000:
                return 200, {"errcode": 310000, "errmsg": "sign not match, more: timestamp"}
            string_to_sign = f"{timestamp}\n{self.robot_secret}".encode()
            digest = hmac.new(self.robot_secret.encode(), string_to_sign, hashlib.sha256).digest()
            if not hmac.compare_digest(base64.b64encode(digest).decode(), sign):
                return 200, {"errcode": 310000, "errmsg": "sign not match, more: sign"}
        try:
            body = request.json()
            markdown = body["markdown"]
            message = {
                "kind": "robot",
                "msgtype": body["msgtype"],
                "title": markdown["title"],
                "text": markdown["text"],
                "at_mobiles": body.get("at", {}).get("atMobiles", []),
            }
        except (ValueError, KeyError, TypeError, AttributeError):
            return 200, {"errcode": 40035, "errmsg": "缺少参数 json"}
        key = self._key(request)
        message["idempotency_key"] = key
        return self._accept(key, message, (200, {"errcode": 0, "errmsg": "ok"}))

    def _gettoken(self, request: RecordedRequest) -> JsonAnswer:
        if (
            request.query.get("appkey") != self.app_key
            or request.query.get("appsecret") != self.app_secret
        ):
            return 200, {"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = time.time() + self.token_ttl
            self.tokens_issued += 1
        answer = {"errcode": 0, "access_token": token, "errmsg": "ok", "expires_in": self.token_ttl}
        return 200, answer

    def _asyncsend(self, request: RecordedRequest) -> JsonAnswer:
        token = request.query.get("access_token", "")
        with self._lock:
            expires_at = self._tokens.get(token)
        if expires_at is None:
            return 200, {"errcode": 40014, "errmsg": "不合法的access_token"}
        if expires_at <= time.time():
            return 200, {"errcode": 42001, "errmsg": "access_token超时"}
        try:
            body = request.json()
            userids = [u for u in str(body["userid_list"]).split(",") if u]
            msg = body["msg"]
            message = {
                "kind": "work_notice",
                "agent_id": str(body["agent_id"]),
                "userids": userids,
                "msgtype": msg["msgtype"],
                "title": msg["markdown"]["title"],
                "text": msg["markdown"]["text"],
            }
        except (ValueError, KeyError, TypeError):
            return 200, {"errcode": 40035, "errmsg": "缺少参数"}
        if message["agent_id"] != self.agent_id:
            return 200, {"errcode": 40056, "errmsg": "不合法的agentid"}
        if not userids:
            return 200, {"errcode": 40031, "errmsg": "不合法的员工列表"}
        key = self._key(request)
        message["idempotency_key"] = key
        with self._lock:
            task_id = next(self._task_ids)
        message["task_id"] = task_id
        answer = {
            "errcode": 0,
            "errmsg": "ok",
            "task_id": task_id,
            "request_id": secrets.token_hex(6),
        }
        return self._accept(key, message, (200, answer))


# ---------------------------------------------------------------------------------------------
# Webhook receiver
# ---------------------------------------------------------------------------------------------


class FakeWebhookReceiver(FakeServer):
    """A receiver of our signed webhooks, verifying X-Civicloop-Signature.

    401 for a missing, stale (beyond `tolerance` seconds) or wrong signature; 400 without an
    Idempotency-Key or with a body that is not JSON; otherwise 200 {"id": ...}, the same id
    again for a repeated key. POST to any path of `.url`.
    """

    def __init__(self, *, secret: str, tolerance: int = 300, delay_seconds: float = 0.0) -> None:
        super().__init__(delay_seconds=delay_seconds)
        self.secret = secret
        self.tolerance = tolerance

    def _signature_valid(self, request: RecordedRequest) -> bool:
        # Our webhook rule as a receiver reads it in the notify/webhook.py docstring:
        # X-Civicloop-Signature = "sha256=" + hex HMAC-SHA256(secret, f"{timestamp}." + body),
        # X-Civicloop-Timestamp in Unix seconds; written here again, not imported.
        timestamp = request.headers.get("x-civicloop-timestamp", "")
        given = request.headers.get("x-civicloop-signature", "")
        if not timestamp.isascii() or not timestamp.isdigit():
            return False
        if abs(time.time() - int(timestamp)) > self.tolerance:
            return False
        message = timestamp.encode("ascii") + b"." + request.body
        digest = hmac.new(self.secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
        return hmac.compare_digest(f"sha256={digest}", given)

    def handle(self, request: RecordedRequest) -> JsonAnswer:
        """Verify and accept one webhook POST."""
        if request.method != "POST":
            return 405, {"error": "method not allowed"}
        if not self._signature_valid(request):
            return 401, {"error": "bad signature"}
        key = request.headers.get("idempotency-key", "")
        if not key:
            return 400, {"error": "missing Idempotency-Key"}
        try:
            body = request.json()
        except ValueError:
            return 400, {"error": "body is not JSON"}
        event_id = f"evt_{secrets.token_hex(8)}"
        message = {"path": request.path, "body": body, "idempotency_key": key, "id": event_id}
        return self._accept(key, message, (200, {"id": event_id}))
