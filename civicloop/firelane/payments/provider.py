"""Payment providers: the protocol our services speak, and Alipay's implementation of it.

The flow is Alipay's (手机网站支付): we sign an `alipay.trade.wap.pay` request and send the
owner's browser to the provider's cashier with it; the provider later POSTs a signed
asynchronous notify to our `notify_url` (and resends it until we answer `success`); when a
notify is lost we ask with `alipay.trade.query`.

RSA2 is implemented here with `cryptography` (already a dependency) rather than an SDK: the
rule is twenty lines, the official `alipay-sdk-python` pulls in pycryptodome and a second
RSA library, and owning the code lets the loopback fake (fake.py) share the exact same
canonical string, so a test that passes against the fake has exercised our real signing.

The rule (Alipay 开放平台 "签名/验签"): sort by key, join `key=value` with `&` (values raw,
not URL-encoded), SHA256withRSA (PKCS#1 v1.5), base64. What is left out differs by
direction: a request we sign drops `sign` and the empty values; a notify or return Alipay
sent is verified over every parameter but `sign` and `sign_type`, empty values included
("异步通知验签": the official SDKs' getSignCheckContentV1 keeps them), so an empty field
the notify carries is vouched for by the signature too.

Amounts are integers in fen everywhere in our code; Alipay's wire format is a yuan string
with two decimals ("200.00"). `fen_to_yuan` and `yuan_to_fen` convert exactly, never
through a float.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import requests
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings

# Alipay's timestamps (request `timestamp`, notify `gmt_payment`...) are Beijing time.
BEIJING = ZoneInfo("Asia/Shanghai")
ALIPAY_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# The statuses that mean the money arrived (TRADE_FINISHED: no refund possible any more).
PAID_STATUSES = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
# alipay.trade.wap.pay: total_amount "取值范围[0.01,100000000]" yuan.
MIN_AMOUNT_FEN = 1
MAX_AMOUNT_FEN = 100_000_000 * 100
WAP_PRODUCT_CODE = "QUICK_WAP_WAY"
WAP_PAY_METHOD = "alipay.trade.wap.pay"
QUERY_METHOD = "alipay.trade.query"
SUCCESS_CODE = "10000"
TRADE_NOT_EXIST = "ACQ.TRADE_NOT_EXIST"

# ASCII digits only: `\d` would also accept full-width and other Unicode digits.
_YUAN = re.compile(r"(0|[1-9][0-9]{0,8})(?:\.([0-9]{1,2}))?", re.ASCII)


class ProviderError(Exception):
    """The provider could not be asked, or its answer cannot be trusted (unsigned,
    signature wrong, malformed, or a business error other than "no such trade")."""


# --------------------------------------------------------------------------- amounts


def fen_to_yuan(fen: int) -> str:
    """1 -> "0.01", 50000 -> "500.00": Alipay's total_amount, exactly."""
    if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
        raise ValueError(f"an amount in fen must be a non-negative int, not {fen!r}")
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_to_fen(amount: str) -> int:
    """Yuan text to fen: "200.00" -> 20000. Refuses (ValueError) anything but plain ASCII digits with at
    most two decimals: no sign, exponent, spaces, separators or leading zeros."""
    match = _YUAN.fullmatch(amount) if isinstance(amount, str) else None
    if match is None:
        raise ValueError(f"not a yuan amount: {amount!r}")
    return int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))


# --------------------------------------------------------------------------- RSA2


def sign_content(
    params: Mapping[str, str], *, exclude: Collection[str] = ("sign",), keep_empty: bool = False
) -> str:
    """The canonical string Alipay signs: sorted `k=v` joined by `&`, the `exclude`d keys
    left out, values as they are (not URL-encoded). Empty values are left out too (what a
    request signs) unless `keep_empty` (what a notify or return is verified over)."""
    return "&".join(
        f"{key}={params[key]}"
        for key in sorted(params)
        if key not in exclude and (keep_empty or params[key])
    )


def _pem_text(key: str) -> str:
    # Env files often carry PEMs on one line with literal "\n".
    return key.replace("\\n", "\n").strip()


@lru_cache(maxsize=16)
def load_private_key(key: str) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM (PKCS#1 or PKCS#8), or from the bare base64 body
    that Alipay's key tool prints."""
    text = _pem_text(key)
    try:
        if text.startswith("-----BEGIN"):
            loaded = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            loaded = serialization.load_der_private_key(
                base64.b64decode("".join(text.split())), password=None
            )
    except (ValueError, TypeError, binascii.Error, UnsupportedAlgorithm) as exc:
        raise ValueError("not a usable RSA private key") from exc
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError("the private key is not an RSA key")
    return loaded


@lru_cache(maxsize=16)
def load_public_key(key: str) -> rsa.RSAPublicKey:
    """An RSA public key from PEM (SubjectPublicKeyInfo), or from the bare base64 body
    that Alipay's console shows as 支付宝公钥."""
    text = _pem_text(key)
    try:
        if text.startswith("-----BEGIN"):
            loaded = serialization.load_pem_public_key(text.encode())
        else:
            loaded = serialization.load_der_public_key(base64.b64decode("".join(text.split())))
    except (ValueError, TypeError, binascii.Error, UnsupportedAlgorithm) as exc:
        raise ValueError("not a usable RSA public key") from exc
    if not isinstance(loaded, rsa.RSAPublicKey):
        raise ValueError("the public key is not an RSA key")
    return loaded


def public_key_pem(private_key: str) -> str:
    """The PEM public key that goes with a private key (handed to the other side)."""
    public = load_private_key(private_key).public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def rsa2_sign(content: str, private_key: str) -> str:
    """base64(SHA256withRSA(content as UTF-8))."""
    signature = load_private_key(private_key).sign(
        content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
    )
    return base64.b64encode(signature).decode("ascii")


def rsa2_verify(content: str, signature: str, public_key: str) -> bool:
    """Whether `signature` (base64) is the SHA256withRSA of `content` under the key.
    Never raises for a malformed signature: it just does not verify."""
    try:
        raw = base64.b64decode(signature, validate=True)
        load_public_key(public_key).verify(
            raw, content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def alipay_time(moment: datetime) -> str:
    """Alipay's time text, e.g. "2026-05-01 09:30:00" (Beijing time)."""
    return moment.astimezone(BEIJING).strftime(ALIPAY_TIME_FORMAT)


def parse_alipay_time(value: str) -> datetime | None:
    """An aware datetime from Alipay's Beijing-time text, or None if it is not one."""
    try:
        return datetime.strptime(value, ALIPAY_TIME_FORMAT).replace(tzinfo=BEIJING)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- the protocol


@dataclass(frozen=True)
class TradeQuery:
    """What `alipay.trade.query` said about one of our trades (its signature checked)."""

    out_trade_no: str
    found: bool
    trade_status: str = ""  # WAIT_BUYER_PAY | TRADE_CLOSED | TRADE_SUCCESS | TRADE_FINISHED
    trade_no: str = ""
    total_amount: str = ""
    send_pay_date: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def paid(self) -> bool:
        return self.found and self.trade_status in PAID_STATUSES


class PaymentProvider(Protocol):
    """What the payment services need from a provider."""

    code: str
    app_id: str

    def pay_url(
        self,
        *,
        out_trade_no: str,
        amount_fen: int,
        subject: str,
        return_url: str,
        notify_url: str,
        quit_url: str = "",
    ) -> str:
        """The signed URL of the provider's cashier for this trade (a GET redirect)."""
        ...

    def verify_notify(self, params: Mapping[str, str]) -> bool:
        """Whether an asynchronous notify carries the provider's valid signature."""
        ...

    def verify_return(self, params: Mapping[str, str]) -> bool:
        """Whether the parameters on the browser's return carry a valid signature."""
        ...

    def trade_query(self, *, out_trade_no: str) -> TradeQuery:
        """Ask the provider about a trade (ProviderError when it cannot be trusted)."""
        ...


class AlipayProvider:
    """Alipay OpenAPI (gateway.do) with RSA2 keys: our app private key signs requests,
    the Alipay public key verifies what Alipay sends. The loopback fake speaks the same
    protocol, so the fake provider is this class pointed at the fake's gateway."""

    def __init__(
        self,
        *,
        code: str,
        gateway: str,
        app_id: str,
        app_private_key: str,
        alipay_public_key: str,
        timeout: float = 10.0,
        product_code: str = WAP_PRODUCT_CODE,
    ) -> None:
        self.code = code
        self.gateway = gateway
        self.app_id = app_id
        self._app_private_key = app_private_key
        self._alipay_public_key = alipay_public_key
        self.timeout = timeout
        self.product_code = product_code

    def _common(self, method: str, biz: Mapping[str, Any]) -> dict[str, str]:
        return {
            "app_id": self.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": alipay_time(datetime.now(BEIJING)),
            "version": "1.0",
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
        }

    def _signed(self, params: dict[str, str]) -> dict[str, str]:
        # Requests sign everything but `sign` itself (sign_type included).
        params["sign"] = rsa2_sign(sign_content(params, exclude=("sign",)), self._app_private_key)
        return params

    def _gateway_url(self, params: Mapping[str, str]) -> str:
        joiner = "&" if "?" in self.gateway else "?"
        return f"{self.gateway}{joiner}{urllib.parse.urlencode(params)}"

    def pay_url(
        self,
        *,
        out_trade_no: str,
        amount_fen: int,
        subject: str,
        return_url: str,
        notify_url: str,
        quit_url: str = "",
    ) -> str:
        biz = {
            "out_trade_no": out_trade_no,
            "total_amount": fen_to_yuan(amount_fen),
            "subject": subject,
            "product_code": self.product_code,
            "quit_url": quit_url or return_url,
        }
        params = self._common(WAP_PAY_METHOD, biz)
        params["notify_url"] = notify_url
        params["return_url"] = return_url
        return self._gateway_url(self._signed(params))

    def _verify_incoming(self, params: Mapping[str, str]) -> bool:
        signature = params.get("sign", "")
        if not signature or params.get("sign_type", "RSA2") != "RSA2":
            return False
        content = sign_content(params, exclude=("sign", "sign_type"), keep_empty=True)
        return rsa2_verify(content, signature, self._alipay_public_key)

    def verify_notify(self, params: Mapping[str, str]) -> bool:
        return self._verify_incoming(params)

    def verify_return(self, params: Mapping[str, str]) -> bool:
        return self._verify_incoming(params)

    def trade_query(self, *, out_trade_no: str) -> TradeQuery:
        params = self._signed(self._common(QUERY_METHOD, {"out_trade_no": out_trade_no}))
        try:
            answer = requests.post(self.gateway, data=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ProviderError(f"{QUERY_METHOD}: {exc}") from exc
        if answer.status_code != 200:
            raise ProviderError(f"{QUERY_METHOD}: HTTP {answer.status_code}")
        node, signature, body = _response_node(
            answer.content.decode("utf-8", "replace"), QUERY_METHOD
        )
        code = str(body.get("code", ""))
        signed = bool(signature) and rsa2_verify(node, signature, self._alipay_public_key)
        if signature and not signed:
            raise ProviderError(f"{QUERY_METHOD}: the answer's signature does not verify")
        if code == SUCCESS_CODE:
            if not signed:
                raise ProviderError(f"{QUERY_METHOD}: a success answer without a signature")
            if body.get("out_trade_no") != out_trade_no:
                raise ProviderError(f"{QUERY_METHOD}: the answer is about another trade")
            return TradeQuery(
                out_trade_no=out_trade_no,
                found=True,
                trade_status=str(body.get("trade_status", "")),
                trade_no=str(body.get("trade_no", "")),
                total_amount=str(body.get("total_amount", "")),
                send_pay_date=str(body.get("send_pay_date", "")),
                raw=body,
            )
        if body.get("sub_code") == TRADE_NOT_EXIST:
            # The owner never opened the cashier (Alipay creates the trade there).
            return TradeQuery(out_trade_no=out_trade_no, found=False, raw=body)
        raise ProviderError(
            f"{QUERY_METHOD}: {code} {body.get('sub_code', '')} {body.get('sub_msg', '')}".strip()
        )


def _response_node(text: str, method: str) -> tuple[str, str, dict[str, Any]]:
    """(the response node's exact text, its sign, the node parsed) of a synchronous
    answer. Alipay signs the node's JSON text as sent, so it is cut from the body rather
    than re-serialised."""
    decoder = json.JSONDecoder()
    try:
        whole = json.loads(text)
    except ValueError as exc:
        raise ProviderError(f"{method}: the answer is not JSON") from exc
    if not isinstance(whole, dict):
        raise ProviderError(f"{method}: unexpected answer")
    for name in (method.replace(".", "_") + "_response", "error_response"):
        match = re.search(r'"' + re.escape(name) + r'"\s*:\s*', text)
        if match is None:
            continue
        try:
            node, end = decoder.raw_decode(text, match.end())
        except ValueError as exc:
            raise ProviderError(f"{method}: malformed answer") from exc
        if not isinstance(node, dict):
            raise ProviderError(f"{method}: malformed answer")
        return text[match.end() : end], str(whole.get("sign", "")), node
    raise ProviderError(f"{method}: no response node in the answer")


# --------------------------------------------------------------------------- the registry


PROVIDER_CODES = ("fake", "alipay")


def provider_for(code: str) -> PaymentProvider:
    """The provider configured for this deployment (settings.PAYMENT_PROVIDER), when
    `code` names it; ProviderError for any other code, so a notify or return addressed
    to a provider this deployment does not use is never trusted."""
    configured = getattr(settings, "PAYMENT_PROVIDER", "fake")
    if code not in PROVIDER_CODES or code != configured:
        raise ProviderError(f"payment provider {code!r} is not in use here")
    timeout = float(getattr(settings, "ALIPAY_TIMEOUT_SECONDS", 10.0))
    if code == "alipay":
        missing = [
            name
            for name in ("ALIPAY_APP_ID", "ALIPAY_APP_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY")
            if not getattr(settings, name, "")
        ]
        if missing:
            raise ProviderError(f"Alipay is not configured: {', '.join(missing)} missing")
        return AlipayProvider(
            code="alipay",
            gateway=settings.ALIPAY_GATEWAY,
            app_id=settings.ALIPAY_APP_ID,
            app_private_key=settings.ALIPAY_APP_PRIVATE_KEY,
            alipay_public_key=settings.ALIPAY_PUBLIC_KEY,
            timeout=timeout,
        )
    # The loopback fake: its keys are development keys shared through a file in the var
    # directory, so the web process and `manage.py payment_fake` agree without setup.
    from civicloop.firelane.payments.fake import fake_keys_load_or_create

    keys = fake_keys_load_or_create(path=settings.PAYMENT_FAKE_KEYS_FILE)
    return AlipayProvider(
        code="fake",
        gateway=settings.PAYMENT_FAKE_URL.rstrip("/") + "/gateway.do",
        app_id=keys.app_id,
        app_private_key=keys.app_private_key,
        alipay_public_key=keys.fake_public_key,
        timeout=timeout,
    )
