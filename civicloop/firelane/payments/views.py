"""The provider's side of payment: its asynchronous notify, and the owner's browser coming
back from the cashier. Both stay thin: parse, call one service, answer."""

from __future__ import annotations

import contextlib
import logging

from django.db import OperationalError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotFound,
    HttpResponseRedirect,
)
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from civicloop.firelane.models import Payment
from civicloop.firelane.payments.provider import ProviderError, provider_for
from civicloop.firelane.payments.services import (
    PaymentError,
    payment_notify_apply,
    payment_reconcile,
)

logger = logging.getLogger(__name__)
# Alipay's field values are short; a notify beyond this is not one.
MAX_FIELDS = 64
MAX_VALUE_CHARS = 4096


def _plain(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_POST
def payment_notify_view(request: HttpRequest, provider: str) -> HttpResponse:
    """POST /firelane/pay/notify/<provider>/: answers the plain text `success` when the
    notify is applied or already was (the provider stops resending), `failure` otherwise
    (400 when we refused it). Form-encoded, as the provider sends it."""
    from civicloop.firelane.notices import notice_mark_paid

    form = request.POST
    if len(form) > MAX_FIELDS or any(len(v) > MAX_VALUE_CHARS for v in form.values()):
        return _plain("failure", 400)
    params = {key: form.get(key, "") for key in form}
    outcome = payment_notify_apply(provider=provider, params=params, on_paid=notice_mark_paid)
    if outcome.acknowledged:
        return _plain("success")
    return _plain("failure", 400)


@require_safe
def payment_return_view(request: HttpRequest) -> HttpResponse:
    """GET /firelane/pay/return/: the owner's browser back from the cashier (paid or
    not). The return parameters are checked when signed but never trusted to mark a
    payment paid: a still-unpaid payment is reconciled with the provider (the notify may
    be late), then the owner goes to the notice's page."""
    from civicloop.firelane.notices import notice_mark_paid, notice_page_url

    out_trade_no = request.GET.get("out_trade_no", "")[:64]
    payment = (
        Payment.objects.select_related("notice").filter(out_trade_no=out_trade_no).first()
        if out_trade_no
        else None
    )
    if payment is None:
        return HttpResponseNotFound(_("找不到这笔缴款。"), content_type="text/plain; charset=utf-8")
    if "sign" in request.GET:
        try:
            genuine = provider_for(payment.provider).verify_return(request.GET.dict())
        except ProviderError:
            genuine = False
        if not genuine:
            logger.warning("Payment return with a bad signature for %s", out_trade_no)
            return HttpResponseBadRequest(
                _("支付结果校验失败，请返回告知单页面查看缴款状态。"),
                content_type="text/plain; charset=utf-8",
            )
    if payment.status == Payment.Status.CREATED:
        # A failed query is logged by the service; the notify or a later look settles it.
        # A database busy with the notify applying the same payment is no reason to fail
        # the owner's page either: it shows the result once the notify has committed.
        with contextlib.suppress(PaymentError, OperationalError):
            payment = payment_reconcile(payment=payment, on_paid=notice_mark_paid)
    return HttpResponseRedirect(notice_page_url(payment.notice) + "?paid=1")
