"""A loopback stand-in for Alipay's gateway, for tests and the demo.

It speaks the protocol of provider.py's `AlipayProvider` and checks it the way Alipay does:

* `GET|POST /gateway.do` with `method=alipay.trade.wap.pay`: the request must be signed
  (RSA2) with the app private key that goes with `app_public_key`, else an error page
  (HTTP 400, "isv.invalid-signature"). Shows a small phone cashier (收银台) with the
  amount, 确认付款 and 取消.
* `POST /cashier/pay` (the 确认付款 button): marks the trade TRADE_SUCCESS, sends the
  signed asynchronous notify to `notify_url` from a background thread, and redirects the
  browser to `return_url` with the signed return parameters. The notify is resent up to
  `notify_attempts` times, `notify_interval_s` apart, until the answer is exactly
  `success`; with `resend_after_success` once more after that (replays, as Alipay does);
  with `lose_notifies` never (for reconciliation).
* `POST /cashier/cancel` (取消): back to `quit_url` without paying.
* `alipay.trade.query`: the trade's status as a signed JSON answer, or ACQ.TRADE_NOT_EXIST.

    keys = fake_keys_generate()
    with FakeAlipay(app_id=keys.app_id, app_public_key=keys.app_public_key,
                    private_key=keys.fake_private_key) as fake:
        ...                      # fake.url, fake.trades(), fake.notify_log(), ...
        fake.wait_for_notifies()

The fake signs and verifies with its own code (`_alipay_sign_content`, `_rsa2_sign`,
`_rsa2_verify`), written from Alipay's published rule, never with provider.py's: a mistake
in our signing would otherwise be mirrored by the fake and every test would still pass.

The fake keeps its own private key; our side gets its public key (`FakeKeys`). The texts of
the cashier are the provider's own (Alipay's cashier is Chinese only), not civicloop's UI,
so they are not translated.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
import json
import os
import secrets
import tempfile
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from civicloop.firelane.payments.provider import (
    BEIJING,
    MAX_AMOUNT_FEN,
    MIN_AMOUNT_FEN,
    QUERY_METHOD,
    SUCCESS_CODE,
    TRADE_NOT_EXIST,
    WAP_PAY_METHOD,
    alipay_time,
    fen_to_yuan,
    parse_alipay_time,
    yuan_to_fen,
)
from civicloop.notify.fakes import LoopbackHTTPServer, LoopbackServer

# Sandbox-style identifiers: obviously not a production app or seller.
DEFAULT_APP_ID = "9021000000000001"
SELLER_ID = "2088000000000001"
BUYER_ID = "2088000000000002"
WAP_PRODUCT_CODES = frozenset({"QUICK_WAP_WAY", "QUICK_WAP_PAY"})
# Alipay refuses a request whose timestamp is far from its clock.
TIMESTAMP_TOLERANCE = timedelta(minutes=15)


# --------------------------------------------------------------------------- RSA2, Alipay's rule


def _alipay_sign_content(
    params: dict[str, str], *, drop: tuple[str, ...], keep_empty: bool = False
) -> str:
    """Alipay's 待签名字符串 (开放平台 "自行实现签名" / "异步通知验签"): leave out the
    `drop`ped keys (a request: `sign`; a notify or return: `sign` and `sign_type`), sort
    the rest by key, join "key=value" with "&", values not URL-encoded. A request leaves
    out its empty values; what the provider sends is signed with them (`keep_empty`)."""
    kept = {
        key: value
        for key, value in params.items()
        if key not in drop and (keep_empty or value != "")
    }
    return "&".join(f"{key}={kept[key]}" for key in sorted(kept))


def _private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the fake's private key must be an RSA key")
    return key


def _public_pem(private_pem: str) -> str:
    return (
        _private_key(private_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def _rsa2_sign(content: str, private_pem: str) -> str:
    """RSA2 as Alipay defines it: SHA256withRSA (PKCS#1 v1.5) over the UTF-8 bytes, base64."""
    raw = _private_key(private_pem).sign(
        content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
    )
    return base64.b64encode(raw).decode("ascii")


def _rsa2_verify(content: str, signature: str, public_pem: str) -> bool:
    try:
        key = serialization.load_pem_public_key(public_pem.encode("ascii"))
        if not isinstance(key, rsa.RSAPublicKey):
            return False
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class FakeKeys:
    """Development keys for the fake: our app's pair and the fake provider's pair."""

    app_id: str
    app_private_key: str
    app_public_key: str
    fake_private_key: str
    fake_public_key: str


def private_key_generate() -> str:
    """A new RSA-2048 private key as PKCS#8 PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def fake_keys_generate(*, app_id: str = DEFAULT_APP_ID) -> FakeKeys:
    """Fresh key pairs for our app and for the fake provider."""
    app_private, fake_private = private_key_generate(), private_key_generate()
    return FakeKeys(
        app_id=app_id,
        app_private_key=app_private,
        app_public_key=_public_pem(app_private),
        fake_private_key=fake_private,
        fake_public_key=_public_pem(fake_private),
    )


def fake_keys_load_or_create(*, path: Path | str) -> FakeKeys:
    """The fake's development keys from `path`, created (mode 0600) on first use.

    Both the web process and `manage.py payment_fake` call this; creation goes through a
    temporary file and an atomic link, so two processes starting together agree on one
    set of keys. Never used with PAYMENT_PROVIDER=alipay."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = fake_keys_generate()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".payment-fake-keys-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(asdict(keys), out)
            # If another process won the race, its keys are the ones used.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    data = json.loads(path.read_text(encoding="utf-8"))
    return FakeKeys(**{k: str(data[k]) for k in FakeKeys.__dataclass_fields__})


# --------------------------------------------------------------------------- state


@dataclass
class FakeTrade:
    """One trade as the fake provider holds it."""

    out_trade_no: str
    total_amount: str
    subject: str
    notify_url: str
    return_url: str
    quit_url: str
    token: str
    status: str = "WAIT_BUYER_PAY"
    trade_no: str = ""
    gmt_create: str = ""
    gmt_payment: str = ""


@dataclass(frozen=True)
class NotifyAttempt:
    """One POST of an asynchronous notify and what our server answered."""

    out_trade_no: str
    notify_id: str
    url: str
    status: int | None
    answer: str
    error: str = ""
    at: float = field(default_factory=time.time)
    params: dict[str, str] = field(default_factory=dict)  # what was POSTed, signed

    @property
    def acknowledged(self) -> bool:
        return self.answer == "success"


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    location: str = ""


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackHTTPServer
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        if self.command == "POST" and self.headers.get("Content-Type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            form = body.decode("utf-8", "replace")
            params.update(urllib.parse.parse_qsl(form, keep_blank_values=True))
        answer = self.server.fake._dispatch(self.command, split.path, params)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.send_header("Cache-Control", "no-store")
        if answer.location:
            self.send_header("Location", answer.location)
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = _handle
    do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet in tests; the fake's own logs (trades, notify_log) say what happened.
        pass


# --------------------------------------------------------------------------- the fake


class FakeAlipay(LoopbackServer):
    """Alipay's gateway and cashier on 127.0.0.1 (port 0: a free one), served by a
    daemon thread. See the module docstring for what it answers."""

    handler_class = _Handler

    def __init__(
        self,
        *,
        app_public_key: str,
        private_key: str | None = None,
        app_id: str = DEFAULT_APP_ID,
        host: str = "127.0.0.1",
        port: int = 0,
        notify_attempts: int = 3,
        notify_interval_s: float = 0.05,
        notify_delay_s: float = 0.0,
        notify_timeout_s: float = 10.0,
        resend_after_success: bool = False,
        lose_notifies: bool = False,
    ) -> None:
        self.app_id = app_id
        self.app_public_key = app_public_key
        self.private_key = private_key or private_key_generate()
        self.public_key = _public_pem(self.private_key)
        super().__init__(host=host, port=port)
        self.notify_attempts = notify_attempts
        self.notify_interval_s = notify_interval_s
        self.notify_delay_s = notify_delay_s
        self.notify_timeout_s = notify_timeout_s
        self.resend_after_success = resend_after_success
        self.lose_notifies = lose_notifies
        self._lock = threading.Lock()
        self._trades: dict[str, FakeTrade] = {}
        self._notify_log: list[NotifyAttempt] = []
        self._calls: list[str] = []
        self._notify_threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop serving, wait for notifies in flight, free the port. Safe to call twice."""
        self.wait_for_notifies(timeout=5)
        super().stop()

    @property
    def url(self) -> str:
        """ "http://127.0.0.1:PORT", without a trailing slash (PAYMENT_FAKE_URL)."""
        return f"http://{self.host}:{self.port}"

    @property
    def gateway_url(self) -> str:
        return f"{self.url}/gateway.do"

    # -- what happened -----------------------------------------------------------------------

    def trades(self) -> dict[str, FakeTrade]:
        """A copy of every trade, by out_trade_no."""
        with self._lock:
            return {k: replace(v) for k, v in self._trades.items()}

    def notify_log(self) -> list[NotifyAttempt]:
        """Every notify POST so far, in order."""
        with self._lock:
            return list(self._notify_log)

    def calls(self) -> list[str]:
        """The Alipay method (or cashier path) of every request, in order."""
        with self._lock:
            return list(self._calls)

    def wait_for_notifies(self, timeout: float = 10.0) -> None:
        """Block until every notify thread started so far has finished."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._notify_threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- signing, for tests too --------------------------------------------------------------

    def sign_incoming(self, params: dict[str, str]) -> dict[str, str]:
        """Sign what the provider sends to the merchant (notify, return): every key but
        `sign` and `sign_type`, with the fake's private key."""
        params = {k: v for k, v in params.items() if k != "sign"}
        params["sign_type"] = "RSA2"
        content = _alipay_sign_content(params, drop=("sign", "sign_type"), keep_empty=True)
        params["sign"] = _rsa2_sign(content, self.private_key)
        return params

    def signed_notify(
        self,
        *,
        out_trade_no: str,
        total_amount: str,
        trade_no: str = "",
        trade_status: str = "TRADE_SUCCESS",
        app_id: str | None = None,
        notify_id: str = "",
        subject: str = "",
    ) -> dict[str, str]:
        """A notify exactly as the fake would send it, signed (the trade need not exist)."""
        now = datetime.now(BEIJING)
        params = {
            "notify_time": alipay_time(now),
            "notify_type": "trade_status_sync",
            "notify_id": notify_id or secrets.token_hex(16),
            "app_id": self.app_id if app_id is None else app_id,
            "auth_app_id": self.app_id if app_id is None else app_id,
            "charset": "utf-8",
            "version": "1.0",
            "trade_no": trade_no or _trade_no(now),
            "out_trade_no": out_trade_no,
            "out_biz_no": "",
            "trade_status": trade_status,
            "total_amount": total_amount,
            "receipt_amount": total_amount,
            "invoice_amount": total_amount,
            "buyer_pay_amount": total_amount,
            "point_amount": "0.00",
            "subject": subject,
            "seller_id": SELLER_ID,
            "buyer_id": BUYER_ID,
            "buyer_logon_id": "159****5620",
            "gmt_create": alipay_time(now),
            "gmt_payment": alipay_time(now),
            # A JSON value inside a signed parameter, as Alipay sends it.
            "fund_bill_list": json.dumps(
                [{"amount": total_amount, "fundChannel": "ALIPAYACCOUNT"}],
                separators=(",", ":"),
            ),
        }
        return self.sign_incoming(params)

    # -- HTTP --------------------------------------------------------------------------------

    def _dispatch(self, verb: str, path: str, params: dict[str, str]) -> _Answer:
        with self._lock:
            self._calls.append(params.get("method", "") if path == "/gateway.do" else path)
        if path == "/gateway.do" and verb in ("GET", "POST"):
            method = params.get("method", "")
            if method == WAP_PAY_METHOD:
                return self._wap_pay(params)
            if method == QUERY_METHOD:
                return self._query(params)
            return _json_answer(
                "error_response",
                _failure("40002", "Invalid Arguments", "isv.invalid-method", "不存在的方法名"),
            )
        if path == "/cashier/pay" and verb == "POST":
            return self._pay(params)
        if path == "/cashier/cancel" and verb == "POST":
            return self._cancel(params)
        return _page(404, "页面不存在", "<p>页面不存在。</p>")

    def _request_refusal(self, params: dict[str, str]) -> tuple[str, str] | None:
        """(sub_code, sub_msg) when a merchant request is not properly signed."""
        if params.get("app_id") != self.app_id:
            return "isv.invalid-app-id", "无效的AppID参数"
        if params.get("sign_type") != "RSA2":
            return "isv.invalid-signature-type", "无效签名类型"
        if not params.get("sign"):
            return "isv.missing-signature", "缺少签名参数"
        # A merchant's request signs everything but `sign` (its sign_type included).
        content = _alipay_sign_content(params, drop=("sign",))
        if not _rsa2_verify(content, params["sign"], self.app_public_key):
            return "isv.invalid-signature", "验签出错"
        sent = parse_alipay_time(params.get("timestamp", ""))
        if sent is None or abs(datetime.now(BEIJING) - sent) > TIMESTAMP_TOLERANCE:
            return "isv.invalid-timestamp", "非法的时间戳参数"
        if params.get("charset", "utf-8").lower() != "utf-8":
            return "isv.invalid-charset", "字符集错误"
        return None

    def _wap_pay(self, params: dict[str, str]) -> _Answer:
        refusal = self._request_refusal(params)
        if refusal is not None:
            return _error_page(*refusal)
        try:
            biz = json.loads(params.get("biz_content", ""))
            out_trade_no = str(biz["out_trade_no"])
            total_amount = str(biz["total_amount"])
            subject = str(biz["subject"])
            amount_fen = yuan_to_fen(total_amount)
            product_code = str(biz.get("product_code", ""))
        except (ValueError, KeyError, TypeError):
            return _error_page("isv.invalid-parameter", "参数无效")
        if not (MIN_AMOUNT_FEN <= amount_fen <= MAX_AMOUNT_FEN):
            return _error_page("isv.invalid-total-amount", "订单金额超出范围")
        if product_code not in WAP_PRODUCT_CODES:
            return _error_page("isv.invalid-product-code", "产品码无效")
        if not out_trade_no or len(out_trade_no) > 64 or not subject:
            return _error_page("isv.invalid-parameter", "参数无效")
        notify_url = params.get("notify_url", "")
        return_url = params.get("return_url", "")
        if not (_is_http_url(notify_url) and _is_http_url(return_url)):
            return _error_page("isv.invalid-parameter", "通知地址或返回地址无效")
        with self._lock:
            trade = self._trades.get(out_trade_no)
            if trade is not None and (trade.total_amount, trade.subject) != (
                total_amount,
                subject,
            ):
                # The same order number with other contents: Alipay refuses it.
                return _error_page("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
            if trade is not None and trade.status != "WAIT_BUYER_PAY":
                return _page(200, "订单已支付", "<p>该订单已支付，无需重复付款。</p>")
            if trade is None:
                trade = FakeTrade(
                    out_trade_no=out_trade_no,
                    total_amount=total_amount,
                    subject=subject,
                    notify_url=notify_url,
                    return_url=return_url,
                    quit_url=str(biz.get("quit_url") or return_url),
                    token=secrets.token_urlsafe(16),
                    gmt_create=alipay_time(datetime.now(BEIJING)),
                )
                self._trades[out_trade_no] = trade
            else:
                trade.notify_url, trade.return_url = notify_url, return_url
            token = trade.token
        return _cashier_page(
            out_trade_no=out_trade_no, token=token, amount_fen=amount_fen, subject=subject
        )

    def _trade_by_form(self, params: dict[str, str]) -> FakeTrade | None:
        trade = self._trades.get(params.get("out_trade_no", ""))
        if trade is None or not secrets.compare_digest(trade.token, params.get("token", "")):
            return None
        return trade

    def _pay(self, params: dict[str, str]) -> _Answer:
        with self._lock:
            trade = self._trade_by_form(params)
            if trade is None:
                return _error_page("ACQ.TRADE_NOT_EXIST", "交易不存在")
            first_payment = trade.status == "WAIT_BUYER_PAY"
            if first_payment:
                now = datetime.now(BEIJING)
                trade.status = "TRADE_SUCCESS"
                trade.trade_no = _trade_no(now)
                trade.gmt_payment = alipay_time(now)
            snapshot = replace(trade)
        if first_payment and not self.lose_notifies:
            notify = self.signed_notify(
                out_trade_no=snapshot.out_trade_no,
                total_amount=snapshot.total_amount,
                trade_no=snapshot.trade_no,
                subject=snapshot.subject,
            )
            thread = threading.Thread(
                target=self._notify_loop,
                args=(snapshot.notify_url, notify),
                name=f"FakeAlipay-notify-{snapshot.out_trade_no}",
                daemon=True,
            )
            with self._lock:
                self._notify_threads.append(thread)
            thread.start()
        back = self.sign_incoming(
            {
                "method": "alipay.trade.wap.pay.return",
                "charset": "utf-8",
                "out_trade_no": snapshot.out_trade_no,
                "trade_no": snapshot.trade_no,
                "total_amount": snapshot.total_amount,
                "seller_id": SELLER_ID,
                "auth_app_id": self.app_id,
                "app_id": self.app_id,
                "version": "1.0",
                "timestamp": alipay_time(datetime.now(BEIJING)),
            }
        )
        return _redirect(_with_query(snapshot.return_url, back))

    def _cancel(self, params: dict[str, str]) -> _Answer:
        with self._lock:
            trade = self._trade_by_form(params)
            if trade is None:
                return _error_page("ACQ.TRADE_NOT_EXIST", "交易不存在")
            quit_url = trade.quit_url
        return _redirect(quit_url)

    def _notify_loop(self, url: str, params: dict[str, str]) -> None:
        """Send until `success`, as Alipay does (it spaces them over 25 hours; the fake
        over `notify_interval_s`), then once more when `resend_after_success`."""
        time.sleep(self.notify_delay_s)  # the real provider's notify comes seconds later
        for attempt in range(self.notify_attempts):
            if attempt:
                time.sleep(self.notify_interval_s)
            if self._notify_once(url, params):
                if self.resend_after_success:
                    time.sleep(self.notify_interval_s)
                    self._notify_once(url, params)
                return

    def _notify_once(self, url: str, params: dict[str, str]) -> bool:
        status: int | None = None
        answer = error = ""
        try:
            response = requests.post(
                url,
                data=urllib.parse.urlencode(params).encode("ascii"),
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                timeout=self.notify_timeout_s,
                allow_redirects=False,
            )
            status, answer = response.status_code, response.text.strip()
        except requests.RequestException as exc:
            error = str(exc)
        attempt = NotifyAttempt(
            out_trade_no=params["out_trade_no"],
            notify_id=params["notify_id"],
            url=url,
            status=status,
            answer=answer[:200],
            error=error,
            params=dict(params),
        )
        with self._lock:
            self._notify_log.append(attempt)
        return attempt.acknowledged

    def _query(self, params: dict[str, str]) -> _Answer:
        node = "alipay_trade_query_response"
        refusal = self._request_refusal(params)
        if refusal is not None:
            # Alipay does not sign an answer to a request it could not authenticate.
            return _json_answer(node, _failure("40002", "Invalid Arguments", *refusal))
        try:
            biz = json.loads(params.get("biz_content", ""))
            out_trade_no = str(biz.get("out_trade_no", ""))
        except (ValueError, AttributeError):
            return _json_answer(
                node, _failure("40002", "Invalid Arguments", "isv.invalid-parameter", "参数无效")
            )
        with self._lock:
            trade = self._trades.get(out_trade_no)
            snapshot = replace(trade) if trade is not None else None
        if snapshot is None:
            body: dict[str, Any] = {
                **_failure("40004", "Business Failed", TRADE_NOT_EXIST, "交易不存在"),
                "out_trade_no": out_trade_no,
                "buyer_pay_amount": "0.00",
                "invoice_amount": "0.00",
                "point_amount": "0.00",
                "receipt_amount": "0.00",
            }
        else:
            paid = snapshot.status != "WAIT_BUYER_PAY"
            body = {
                "code": SUCCESS_CODE,
                "msg": "Success",
                "out_trade_no": snapshot.out_trade_no,
                "trade_no": snapshot.trade_no,
                "trade_status": snapshot.status,
                "total_amount": snapshot.total_amount,
                "buyer_pay_amount": snapshot.total_amount if paid else "0.00",
                "receipt_amount": snapshot.total_amount if paid else "0.00",
                "buyer_logon_id": "159****5620" if paid else "",
                "buyer_user_id": BUYER_ID if paid else "",
            }
            if paid:
                body["send_pay_date"] = snapshot.gmt_payment
        return _json_answer(node, body, private_key=self.private_key)


# --------------------------------------------------------------------------- helpers


def _trade_no(now: datetime) -> str:
    # Alipay's trade numbers are 28 digits beginning with the date.
    return (
        now.strftime("%Y%m%d") + "22001" + "".join(secrets.choice("0123456789") for _ in range(15))
    )


def _is_http_url(url: str) -> bool:
    split = urllib.parse.urlsplit(url)
    return split.scheme in ("http", "https") and bool(split.netloc)


def _with_query(url: str, params: dict[str, str]) -> str:
    joiner = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{joiner}{urllib.parse.urlencode(params)}"


def _failure(code: str, msg: str, sub_code: str, sub_msg: str) -> dict[str, Any]:
    return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}


def _json_answer(node: str, body: dict[str, Any], *, private_key: str = "") -> _Answer:
    """Alipay's synchronous answer: the signature is over the node's JSON text."""
    node_text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    text = f'{{"{node}":{node_text}'
    if private_key:
        text += f',"sign":{json.dumps(_rsa2_sign(node_text, private_key))}'
    text += "}"
    return _Answer(200, text.encode("utf-8"), "application/json;charset=utf-8")


def _redirect(location: str) -> _Answer:
    return _Answer(302, b"", location=location)


_STYLE = (
    "body{margin:0;font:16px/1.5 -apple-system,'PingFang SC','Microsoft YaHei',sans-serif;"
    "background:#f5f5f5;color:#333}header{background:#1677ff;color:#fff;padding:12px 16px;"
    "font-size:17px}main{max-width:480px;margin:0 auto;padding:16px}.card{background:#fff;"
    "border-radius:8px;padding:20px;text-align:center}.amount{font-size:36px;font-weight:600;"
    "margin:8px 0}.subject{color:#666;word-break:break-all}button{display:block;width:100%;"
    "margin-top:12px;padding:12px;font-size:17px;border-radius:6px;border:1px solid #1677ff}"
    ".pay{background:#1677ff;color:#fff}.cancel{background:#fff;color:#1677ff}"
)


def _page(status: int, title: str, body_html: str) -> _Answer:
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><header>支付宝（模拟）</header><main>{body_html}</main></body></html>"
    )
    return _Answer(status, page.encode("utf-8"))


def _error_page(sub_code: str, sub_msg: str) -> _Answer:
    body = (
        '<div class="card"><p>支付请求有误，请返回商户重新发起。</p>'
        f'<p class="subject">错误代码 <code id="error-code">{html.escape(sub_code)}</code>'
        f"：{html.escape(sub_msg)}</p></div>"
    )
    return _page(400, "支付请求有误", body)


def _cashier_page(*, out_trade_no: str, token: str, amount_fen: int, subject: str) -> _Answer:
    body = (
        '<form class="card" method="post" action="/cashier/pay">'
        f'<p class="subject">{html.escape(subject)}</p>'
        f'<p class="amount" id="amount">¥{fen_to_yuan(amount_fen)}</p>'
        f'<input type="hidden" name="out_trade_no" value="{html.escape(out_trade_no)}">'
        f'<input type="hidden" name="token" value="{html.escape(token)}">'
        '<button class="pay" type="submit">确认付款</button>'
        '<button class="cancel" type="submit" formaction="/cashier/cancel">取消</button>'
        "</form>"
    )
    return _page(200, "支付宝收银台", body)
