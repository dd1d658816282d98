"""SMS delivery. settings.SMS_BACKEND picks "console" (log only) or "aliyun" (SendSms).

The Aliyun backend goes through the official SDK (alibabacloud_dysmsapi20170525), which signs
requests with ACS3-HMAC-SHA256. The SDK sends to `settings.ALIYUN_SMS_ENDPOINT` with the
protocol given in its Config; SendSms itself asks for HTTPS, and a Config protocol overrides
that. We use http only for loopback endpoints (the fake in tests) or an explicit
"http://host:port" endpoint, and https for everything else.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import urllib.parse
import uuid
from typing import Any

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client as SmsClient
from alibabacloud_tea_openapi import models as openapi_models
from alibabacloud_tea_openapi.exceptions import (
    AlibabaCloudException,
    ClientException,
    ServerException,
    ThrottlingException,
)
from darabonba.exceptions import UnretryableException
from darabonba.runtime import RuntimeOptions
from django.conf import settings

from civicloop.notify import templates
from civicloop.notify.errors import PermanentDeliveryError, TransientDeliveryError
from civicloop.notify.phones import mainland_mobile

logger = logging.getLogger("civicloop.notify")

# Milliseconds, as the SDK wants them. A SendSms answer normally takes well under a second;
# waiting longer only holds an outbox worker.
CONNECT_TIMEOUT_MS = 3_000
READ_TIMEOUT_MS = 10_000

# Codes that mean "not now" rather than "never": per-number and per-account flow control,
# and Aliyun's own trouble. Everything else (bad number, template, sign, key) is permanent.
TRANSIENT_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isp.SYSTEM_ERROR",
        "isp.RAM_PERMISSION_DENY_TEMPORARILY",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "ServiceUnavailable",
        "InternalError",
    }
)


def normalize_phone(phone: Any) -> str:
    """Return an 11-digit mainland mobile number (the platform's one rule,
    `notify.phones.mainland_mobile`); PermanentDeliveryError if it is not one."""
    number = mainland_mobile(phone)
    if number is None:
        raise PermanentDeliveryError(f"not a mainland mobile number: {phone!r}")
    return number


def endpoint_and_protocol(endpoint: str) -> tuple[str, str]:
    """Split a configured endpoint into (host[:port], "http" | "https").

    An explicit scheme wins; otherwise loopback hosts get http (the fake has no TLS) and
    every other host https, so a production endpoint can never fall back to plain http.
    """
    endpoint = endpoint.strip().rstrip("/")
    for scheme in ("http", "https"):
        prefix = f"{scheme}://"
        if endpoint.lower().startswith(prefix):
            return endpoint[len(prefix) :], scheme
    host = urllib.parse.urlsplit(f"//{endpoint}").hostname or ""
    if host == "localhost":
        return endpoint, "http"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return endpoint, "http" if loopback else "https"


def send(payload: dict[str, Any], *, idempotency_key: str) -> str:
    """Send one templated SMS with the configured backend; return the provider's message id.

    payload: {"phone": "13812345678", "template": "<name in templates.TEMPLATES>",
    "params": {...}}. Raises PermanentDeliveryError for a bad phone, template or params
    (before anything is sent) and the errors of the backend otherwise.
    """
    phone = normalize_phone(payload.get("phone"))
    name = str(payload.get("template") or "")
    params = payload.get("params") or {}
    if not isinstance(params, dict):
        raise PermanentDeliveryError("SMS params must be an object")
    try:
        sign_name = sign_name_for(name)
        text = templates.check(name, params, sign_name)
    except ValueError as exc:
        raise PermanentDeliveryError(str(exc)) from exc
    backend = settings.SMS_BACKEND
    if backend == "console":
        return send_console(phone, text, idempotency_key=idempotency_key)
    if backend == "aliyun":
        return send_aliyun(phone, name, params, idempotency_key=idempotency_key)
    raise PermanentDeliveryError(f"unknown SMS_BACKEND {backend!r}")


def sign_name_for(template_name: str) -> str:
    """The SMS sign a template goes out under: its own sign setting's value when it names
    one and that is set, else the deployment's ALIYUN_SMS_SIGN_NAME. ValueError for an
    unknown template."""
    template = templates.get_template(template_name)
    if template.sign_setting:
        own = str(getattr(settings, template.sign_setting, "") or "")
        if own:
            return own
    return str(settings.ALIYUN_SMS_SIGN_NAME)


def send_console(phone: str, text: str, *, idempotency_key: str) -> str:
    """Log the SMS instead of sending it; return a fake id that names the backend.

    The phone is masked (138****5678): logs are read by more people than the data."""
    masked = f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"
    logger.info(
        "SMS to %s (%d part(s), key %s): %s",
        masked,
        templates.sms_parts(text),
        idempotency_key,
        text,
    )
    return f"console-sms-{uuid.uuid4().hex}"


def build_client() -> SmsClient:
    """An SDK client for the configured endpoint and AccessKey.

    Raises PermanentDeliveryError when the key is not configured: without it the SDK would
    fall back to its default credential chain (environment, instance metadata...), which
    must never decide which account pays for our messages.
    """
    key_id = settings.ALIYUN_ACCESS_KEY_ID
    key_secret = settings.ALIYUN_ACCESS_KEY_SECRET
    if not key_id or not key_secret:
        raise PermanentDeliveryError("ALIYUN_ACCESS_KEY_ID / ALIYUN_ACCESS_KEY_SECRET not set")
    endpoint, protocol = endpoint_and_protocol(settings.ALIYUN_SMS_ENDPOINT)
    config = openapi_models.Config(
        access_key_id=key_id,
        access_key_secret=key_secret,
        endpoint=endpoint,
        protocol=protocol,
        connect_timeout=CONNECT_TIMEOUT_MS,
        read_timeout=READ_TIMEOUT_MS,
    )
    return SmsClient(config)


def send_aliyun(
    phone: str, template_name: str, params: dict[str, Any], *, idempotency_key: str
) -> str:
    """Call SendSms once; return its BizId.

    The SDK's own retries are off (autoretry=False): the outbox owns retrying, and a second
    attempt hidden inside one call would make a timeout ambiguous twice over.
    """
    template = templates.get_template(template_name)
    values = templates.normalize_params(template_name, params)
    request = sms_models.SendSmsRequest(
        phone_numbers=phone,
        sign_name=sign_name_for(template_name),
        template_code=template.code,
        template_param=json.dumps(values, ensure_ascii=False, separators=(",", ":")),
        out_id=idempotency_key,
    )
    runtime = RuntimeOptions(
        autoretry=False,
        connect_timeout=CONNECT_TIMEOUT_MS,
        read_timeout=READ_TIMEOUT_MS,
    )
    client = build_client()
    try:
        response = client.send_sms_with_options(request, runtime)
    except ThrottlingException as exc:
        raise TransientDeliveryError(f"Aliyun throttled SendSms: {exc.code}") from exc
    except ServerException as exc:
        raise TransientDeliveryError(f"Aliyun server error {exc.status_code}: {exc.code}") from exc
    except ClientException as exc:
        error = TransientDeliveryError if exc.code in TRANSIENT_CODES else PermanentDeliveryError
        raise error(f"Aliyun refused SendSms ({exc.status_code}): {exc.code}") from exc
    except AlibabaCloudException as exc:
        status = exc.status_code or 0
        error = TransientDeliveryError if status >= 500 else PermanentDeliveryError
        raise error(f"Aliyun error {status}: {exc.code}") from exc
    except UnretryableException as exc:
        # The SDK wraps network failures (refused, reset, timeout) and unreadable answers.
        raise TransientDeliveryError(f"SendSms did not complete: {exc}") from exc
    body = response.body
    code = getattr(body, "code", None)
    if code == "OK" and body.biz_id:
        return str(body.biz_id)
    message = getattr(body, "message", "")
    if code in TRANSIENT_CODES:
        raise TransientDeliveryError(f"Aliyun SendSms {code}: {message}")
    raise PermanentDeliveryError(f"Aliyun SendSms {code}: {message}")
