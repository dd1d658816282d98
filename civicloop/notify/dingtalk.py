"""DingTalk delivery: the custom group robot and work notices (工作通知) of our internal app.

settings.DINGTALK_BACKEND picks "console" (log only) or "dingtalk" (the real APIs); any other
value is refused with PermanentDeliveryError, so a typo fails loudly instead of silently.

DingTalk answers almost everything with HTTP 200 and an `errcode` in the JSON body, so the
status code alone says little; both are checked.

Neither API has an idempotency key. We still send our key in an `Idempotency-Key` header:
DingTalk ignores it, and the loopback fake uses it to count duplicates.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from civicloop.notify.errors import PermanentDeliveryError, TransientDeliveryError

logger = logging.getLogger("civicloop.notify")

# (connect, read) seconds for requests.
TIMEOUT = (3.0, 10.0)
# Refresh the access token this long before DingTalk says it expires, so that a token is
# never used in its last seconds (clock skew, slow requests).
TOKEN_MARGIN_SECONDS = 300

# Robot: sent more than 20 messages a minute to one group.
ROBOT_THROTTLED = frozenset({130101, 410100})
# Server API: -1 is "系统繁忙"; the 900xx family are call-frequency limits.
API_THROTTLED = frozenset({-1, 90002, 90005, 90006, 90010, 90018, 90019})
# The access token is invalid or expired: fetch a new one and try once more.
TOKEN_INVALID = frozenset({88, 40001, 40014, 42001})


def _backend() -> str:
    backend = settings.DINGTALK_BACKEND
    if backend not in ("console", "dingtalk"):
        raise PermanentDeliveryError(f"unknown DINGTALK_BACKEND {backend!r}")
    return str(backend)


def robot_sign(secret: str, timestamp_ms: int) -> str:
    """The robot `sign` parameter, URL-encoded, as DingTalk documents it.

    base64(HMAC-SHA256(key=secret, msg=f"{timestamp_ms}\\n{secret}")), then URL-encoded.
    """
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def signed_robot_url(webhook_url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """The webhook URL with `timestamp` and `sign` appended (unchanged when there is no secret)."""
    if not secret:
        return webhook_url
    timestamp_ms = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    separator = "&" if "?" in webhook_url else "?"
    return (
        f"{webhook_url}{separator}timestamp={timestamp_ms}&sign={robot_sign(secret, timestamp_ms)}"
    )


def _post_json(url: str, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
    """POST JSON and return the JSON answer; Transient on network trouble and 5xx/429."""
    try:
        response = requests.post(
            url,
            json=body,
            headers={"Idempotency-Key": idempotency_key},
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise TransientDeliveryError(f"DingTalk unreachable: {exc}") from exc
    return _json_answer(response)


def _json_answer(response: requests.Response) -> dict[str, Any]:
    status = response.status_code
    if status >= 500 or status == 429:
        raise TransientDeliveryError(f"DingTalk answered HTTP {status}")
    if status >= 300:
        raise PermanentDeliveryError(f"DingTalk answered HTTP {status}")
    try:
        answer = response.json()
    except ValueError as exc:
        raise TransientDeliveryError("DingTalk answered something that is not JSON") from exc
    if not isinstance(answer, dict):
        raise TransientDeliveryError("DingTalk answered JSON that is not an object")
    return answer


def send_robot(payload: dict[str, Any], *, idempotency_key: str) -> str:
    """Post a markdown message to a custom robot; return an id for the log.

    payload: {"webhook_url"?, "secret"?, "title", "text", "at_mobiles"?: [...]}; the URL and
    secret default to settings.DINGTALK_ROBOT_URL / DINGTALK_ROBOT_SECRET. The robot API
    returns no message id, so the id returned is "dingtalk-robot:<idempotency_key>".
    """
    title = str(payload.get("title") or "")
    text = str(payload.get("text") or "")
    if not title or not text:
        raise PermanentDeliveryError("a robot message needs a title and a text")
    at_mobiles = [str(m) for m in payload.get("at_mobiles") or []]
    if _backend() == "console":
        logger.info("DingTalk robot (key %s) %s\n%s @%s", idempotency_key, title, text, at_mobiles)
        return f"console-robot:{idempotency_key}"
    webhook_url = payload.get("webhook_url") or settings.DINGTALK_ROBOT_URL
    secret = payload.get("secret") or settings.DINGTALK_ROBOT_SECRET
    if not webhook_url:
        raise PermanentDeliveryError("no DingTalk robot webhook URL configured")
    if at_mobiles:
        # DingTalk only notifies the people @-ed if their numbers also appear in the text.
        missing = [m for m in at_mobiles if f"@{m}" not in text]
        text = text + "".join(f" @{m}" for m in missing)
    body = {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": text},
        "at": {"atMobiles": at_mobiles, "isAtAll": False},
    }
    answer = _post_json(
        signed_robot_url(str(webhook_url), str(secret or "")), body, idempotency_key
    )
    errcode = answer.get("errcode")
    if errcode == 0:
        return f"dingtalk-robot:{idempotency_key}"
    error = TransientDeliveryError if errcode in ROBOT_THROTTLED else PermanentDeliveryError
    raise error(f"DingTalk robot refused: {errcode} {answer.get('errmsg')}")


@dataclass
class _Token:
    value: str
    expires_at: float


class AccessTokenCache:
    """In-process cache of app access tokens, one per (API base, app key).

    Guarantees a token handed out has at least TOKEN_MARGIN_SECONDS of life left by
    DingTalk's own count; the lock keeps concurrent workers from fetching one each.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], _Token] = {}

    def get(self, base: str, app_key: str, app_secret: str, *, refresh: bool = False) -> str:
        """A valid token, fetched from /gettoken when missing, near expiry, or `refresh`."""
        key = (base, app_key)
        with self._lock:
            token = self._tokens.get(key)
            if refresh or token is None or token.expires_at <= time.monotonic():
                token = _fetch_token(base, app_key, app_secret)
                self._tokens[key] = token
            return token.value

    def clear(self) -> None:
        """Forget every token (tests, or after rotating the app secret)."""
        with self._lock:
            self._tokens.clear()


token_cache = AccessTokenCache()


def _fetch_token(base: str, app_key: str, app_secret: str) -> _Token:
    if not app_key or not app_secret:
        raise PermanentDeliveryError("DINGTALK_APP_KEY / DINGTALK_APP_SECRET not set")
    try:
        response = requests.get(
            f"{base}/gettoken",
            params={"appkey": app_key, "appsecret": app_secret},
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise TransientDeliveryError(f"DingTalk gettoken unreachable: {exc}") from exc
    answer = _json_answer(response)
    errcode = answer.get("errcode")
    if errcode != 0 or not answer.get("access_token"):
        error = TransientDeliveryError if errcode in API_THROTTLED else PermanentDeliveryError
        raise error(f"DingTalk gettoken refused: {errcode} {answer.get('errmsg')}")
    expires_in = int(answer.get("expires_in") or 7200)
    lifetime = max(expires_in - TOKEN_MARGIN_SECONDS, 0)
    return _Token(value=str(answer["access_token"]), expires_at=time.monotonic() + lifetime)


def send_work_notice(payload: dict[str, Any], *, idempotency_key: str) -> str:
    """Send a markdown work notice to users of our internal app; return DingTalk's task_id.

    payload: {"userids": [...], "title", "text"}. An invalid or expired token is refreshed
    once and the send retried once; a second token failure is permanent.
    """
    userids = [str(u) for u in payload.get("userids") or [] if str(u)]
    title = str(payload.get("title") or "")
    text = str(payload.get("text") or "")
    if not userids:
        raise PermanentDeliveryError("a work notice needs at least one userid")
    if len(userids) > 100:
        # asyncsend_v2 takes at most 100 users per call; the caller must split.
        raise PermanentDeliveryError("a work notice can go to at most 100 userids")
    if not title or not text:
        raise PermanentDeliveryError("a work notice needs a title and a text")
    if _backend() == "console":
        logger.info("DingTalk notice to %s (key %s) %s\n%s", userids, idempotency_key, title, text)
        return f"console-notice:{idempotency_key}"
    base = str(settings.DINGTALK_API_BASE).rstrip("/")
    app_key = str(settings.DINGTALK_APP_KEY)
    app_secret = str(settings.DINGTALK_APP_SECRET)
    agent_id = str(settings.DINGTALK_AGENT_ID)
    if not agent_id:
        raise PermanentDeliveryError("DINGTALK_AGENT_ID not set")
    body = {
        "agent_id": int(agent_id) if agent_id.isdigit() else agent_id,
        "userid_list": ",".join(userids),
        "msg": {"msgtype": "markdown", "markdown": {"title": title, "text": text}},
    }
    answer: dict[str, Any] = {}
    for attempt in range(2):
        token = token_cache.get(base, app_key, app_secret, refresh=attempt > 0)
        url = f"{base}/topapi/message/corpconversation/asyncsend_v2?" + urllib.parse.urlencode(
            {"access_token": token}
        )
        answer = _post_json(url, body, idempotency_key)
        errcode = answer.get("errcode")
        if errcode == 0:
            return str(answer.get("task_id"))
        if errcode not in TOKEN_INVALID:
            break
    errcode = answer.get("errcode")
    error = TransientDeliveryError if errcode in API_THROTTLED else PermanentDeliveryError
    raise error(
        f"DingTalk work notice refused: {errcode} {answer.get('sub_msg') or answer.get('errmsg')}"
    )
