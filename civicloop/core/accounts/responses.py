"""The "获取验证码" button of a citizen's form (web/citizen_form.js), as one JSON view body
every module's form posts to: send a code to the phone, within the limits."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from civicloop.core.accounts.errors import AccountError
from civicloop.core.accounts.services import sms_code_send
from civicloop.core.client_ip import client_ip

RESEND_SECONDS = 60


def sms_code_json(request: HttpRequest, *, purpose: str) -> JsonResponse:
    """`{ok, message, retry_after}`: sent, or refused with the reason and when to retry."""
    try:
        sms_code_send(phone=request.POST.get("phone", ""), ip=client_ip(request), purpose=purpose)
    except AccountError as refused:
        return JsonResponse(
            {"ok": False, "message": refused.message, "retry_after": refused.retry_after},
            status=refused.status,
        )
    return JsonResponse(
        {"ok": True, "message": _("验证码已发送，5分钟内有效。"), "retry_after": RESEND_SECONDS}
    )
