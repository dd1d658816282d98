"""The owner's page, reached from the SMS link `/n/<token>`: the notice (告知) with the
evidence images (cropped to the owner's own car, so other plates are not shown), a form to
state one's case or waive it; once decided, the decision (处罚决定书) and the pay button
(never before); once paid, the receipt (缴款凭证, a PDF).

A tampered, malformed or expired token shows nothing of any notice (404)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from PIL import Image

from civicloop.core.accounts.masking import mask_plate
from civicloop.core.client_ip import client_ip
from civicloop.core.errors import refusal_show
from civicloop.core.ratelimit import RateLimitExceeded, rate_limit_hit
from civicloop.firelane.models import Notice, Payment, Sighting
from civicloop.firelane.notices import (
    DECISION_RIGHTS,
    LEGAL_BASIS_LINES,
    RIGHTS,
    STATEMENT_MAX_CHARS,
    NoticeError,
    evidence_of,
    notice_amount_due,
    notice_by_token,
    notice_statement,
    notice_waive,
    statement_open,
)
from civicloop.firelane.payments.provider import fen_to_yuan
from civicloop.firelane.payments.services import PaymentError, payment_start
from civicloop.firelane.penalty import LATE_PERCENT_PER_DAY, late_days, statement_days
from civicloop.firelane.receipt import ReceiptText, receipt_pdf
from civicloop.firelane.workflow import DECIDED, DISMISSED, PAID

POSTS_PER_MINUTE = 10
CONFIRMING_FOR = timedelta(minutes=10)


def _notice(token: str) -> Notice:
    notice = notice_by_token(token=token)
    if notice is None:
        raise Http404("invalid or expired link")
    return notice


def _owner_images(notice: Notice) -> list[dict[str, Any]]:
    evidence = evidence_of(notice.case) or {}
    out = []
    for index, f in enumerate(evidence.get("files") or []):
        try:
            taken = timezone.localtime(datetime.fromisoformat(f.get("taken_at", "")))
        except (TypeError, ValueError):
            taken = None
        out.append({"index": index, "role": f.get("role"), "taken_at": taken})
    return out


# The default authority's name is in the catalog, so an English page names it in English;
# a deployment's own name (FIRELANE_AUTHORITY_NAME) is shown as it is set.
DEFAULT_AUTHORITY_NAME = gettext_noop("温岭市消防救援大队")


def authority() -> dict[str, str]:
    """The issuing authority as every notice, decision and expired-link page shows it
    (settings; the name in the reader's language when the catalog knows it)."""
    return {
        "name": _(settings.FIRELANE_AUTHORITY_NAME),
        "seal": settings.FIRELANE_AUTHORITY_SEAL,
        "phone": settings.FIRELANE_AUTHORITY_PHONE,
    }


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "firelane/notice_invalid.html", {"authority": authority()}, status=404)


def _officer_name(user: Any) -> str:
    return (getattr(user, "full_name", "") or getattr(user, "username", "")) if user else ""


def _decision(notice: Notice) -> dict[str, Any] | None:
    """The decision as the page shows it, with the late surcharge of 第七十二条 so far."""
    if not notice.decision_number or notice.pay_due_on is None:
        return None
    fine, late = notice_amount_due(notice=notice)
    return {
        "number": notice.decision_number,
        "officer": _officer_name(notice.decided_by),
        "decided_at": notice.decided_at,
        "fine_yuan": fen_to_yuan(fine),
        "late_yuan": fen_to_yuan(late),
        "late_days": late_days(due=notice.pay_due_on, today=timezone.localdate()),
        "late_percent": LATE_PERCENT_PER_DAY,
        "total_yuan": fen_to_yuan(fine + late),
        "pay_due_on": notice.pay_due_on,
        "rights": _(DECISION_RIGHTS)
        % {
            "days": settings.FIRELANE_PAYMENT_DAYS,
            "due": notice.pay_due_on.strftime("%Y-%m-%d"),
        },
    }


@never_cache
@require_GET
def notice_page(request: HttpRequest, token: str) -> HttpResponse:
    notice = notice_by_token(token=token)
    if notice is None:
        return _invalid(request)
    case = notice.case
    due = notice.statement_due_at
    paid = case.state == PAID or notice.paid_at is not None
    return render(
        request,
        "firelane/notice_page.html",
        {
            "token": token,
            "notice": notice,
            "case": case,
            "authority": authority(),
            "amount_yuan": fen_to_yuan(notice.amount_fen),
            "legal_basis": [_(line) for line in LEGAL_BASIS_LINES],
            "rights": _(RIGHTS)
            % {
                "days": statement_days(),
                "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M") if due else "—",
            },
            "images": _owner_images(notice),
            "can_state": statement_open(notice=notice, case=case),
            "decision": _decision(notice),
            "dismissed": case.state == DISMISSED,
            # Only a decision is paid: never the notice of an intended penalty.
            "can_pay": case.state == DECIDED and notice.paid_at is None,
            "paid": paid,
            "paid_yuan": fen_to_yuan(notice.paid_fen) if notice.paid_fen is not None else "",
            # Back from the cashier before the provider's notify arrived: say so, and look again.
            "confirming": notice.paid_at is None
            and notice.payments.filter(
                status=Payment.Status.CREATED, created_at__gte=timezone.now() - CONFIRMING_FOR
            ).exists()
            and request.GET.get("paid") == "1",
            "statement_max": STATEMENT_MAX_CHARS,
            "plate_masked": mask_plate(notice.plate),
        },
    )


def _owner_crop(image: Image.Image, box: list[float] | None) -> Image.Image | None:
    """The part of a scene around the owner's plate: their car, not the neighbours'."""
    if not box or len(box) != 4:
        return None
    w, h = image.size
    x1, y1, x2, y2 = (box[0] * w, box[1] * h, box[2] * w, box[3] * h)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half = max(0.18 * w, 3.0 * (x2 - x1))
    left, right = max(0, cx - half), min(w, cx + half)
    top, bottom = max(0, cy - 1.3 * half), min(h, cy + 0.5 * half)
    return image.crop((int(left), int(top), int(right), int(bottom)))


@never_cache
@require_GET
def notice_image(request: HttpRequest, token: str, index: int) -> HttpResponse:
    notice = _notice(token)
    files = (evidence_of(notice.case) or {}).get("files") or []
    if not 0 <= index < len(files):
        raise Http404("no image")
    entry = files[index]
    key = f"civicloop:firelane:owner-image:{notice.pk}:{index}"
    data = cache.get(key)
    if data is None:
        sighting = Sighting.objects.filter(pk=entry.get("sighting")).first()
        if sighting is None:
            raise Http404("no image")
        if entry.get("role") == "plate":
            from civicloop.core.attachments.models import Attachment

            attachment = Attachment.objects.filter(pk=entry.get("attachment")).first()
            if attachment is None:
                raise Http404("no image")
            with attachment.file.open("rb") as handle:
                data = handle.read()
        else:
            with sighting.scene.open("rb") as handle:
                image = Image.open(io.BytesIO(handle.read()))
                image.load()
            cropped = _owner_crop(image.convert("RGB"), sighting.box)
            if cropped is None:
                raise Http404("no image")
            buf = io.BytesIO()
            cropped.save(buf, "JPEG", quality=85)
            data = buf.getvalue()
        cache.set(key, data, timeout=3600)
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


def _limited(request: HttpRequest) -> bool:
    try:
        rate_limit_hit(
            scope="firelane-notice", ident=client_ip(request) or "unknown", limit=POSTS_PER_MINUTE
        )
    except RateLimitExceeded:
        messages.error(request, _("操作过于频繁，请稍后再试。"))
        return True
    return False


def _notice_for_post(request: HttpRequest, token: str) -> Notice | HttpResponse:
    """The notice an owner's form on their page acts on, or the answer to give instead:
    the invalid-link page for a bad token, back to the page when the client is over its
    rate limit. Every POST of the owner's page starts here."""
    notice = notice_by_token(token=token)
    if notice is None:
        return _invalid(request)
    if _limited(request):
        return redirect("firelane_public:notice_page", token=token)
    return notice


@require_POST
def notice_state_case(request: HttpRequest, token: str) -> HttpResponse:
    notice = _notice_for_post(request, token)
    if isinstance(notice, HttpResponse):
        return notice
    try:
        notice_statement(notice=notice, text=request.POST.get("statement", ""))
        messages.success(request, _("您的陈述申辩已提交，执法人员将在三个工作日内复核并答复。"))
    except NoticeError as err:
        refusal_show(request, err)
    return redirect("firelane_public:notice_page", token=token)


@require_POST
def notice_pay(request: HttpRequest, token: str) -> HttpResponse:
    notice = _notice_for_post(request, token)
    if isinstance(notice, HttpResponse):
        return notice
    # The provider calls back on our public address, not on whatever Host this request had.
    base = settings.SITE_URL
    try:
        url = payment_start(
            notice=notice,
            return_url=f"{base}/firelane/pay/return/",
            notify_url=f"{base}/firelane/pay/notify/{settings.PAYMENT_PROVIDER}/",
        )
    except PaymentError as err:
        refusal_show(request, err)
        return redirect("firelane_public:notice_page", token=token)
    return redirect(url)


@require_POST
def notice_waive_view(request: HttpRequest, token: str) -> HttpResponse:
    notice = _notice_for_post(request, token)
    if isinstance(notice, HttpResponse):
        return notice
    try:
        notice_waive(notice=notice)
        messages.success(request, _("您已放弃陈述申辩，处罚决定书已送达本页面。"))
    except NoticeError as err:
        refusal_show(request, err)
    return redirect("firelane_public:notice_page", token=token)


@never_cache
@require_GET
def notice_receipt(request: HttpRequest, token: str) -> HttpResponse:
    """The receipt (缴款凭证) of a paid decision, as a PDF download; 404 before payment."""
    notice = notice_by_token(token=token)
    if notice is None:
        return _invalid(request)
    if notice.paid_at is None or not notice.receipt_number:
        raise Http404("not paid")
    payment = notice.payments.filter(status=Payment.Status.PAID).first()
    who = authority()
    paid_fen = notice.paid_fen if notice.paid_fen is not None else 0
    fine_fen = notice.fine_fen or 0
    lines = [
        (_("处罚决定书"), notice.decision_number or ""),
        (_("告知单"), notice.number),
        (_("车牌"), notice.plate),
        (_("罚款"), _("¥%(yuan)s") % {"yuan": fen_to_yuan(fine_fen)}),
        (_("加处罚款"), _("¥%(yuan)s") % {"yuan": fen_to_yuan(max(0, paid_fen - fine_fen))}),
        (_("实缴金额"), _("¥%(yuan)s") % {"yuan": fen_to_yuan(paid_fen)}),
        (_("缴款时间"), timezone.localtime(notice.paid_at).strftime("%Y-%m-%d %H:%M:%S")),
        (_("缴款方式"), _("支付宝")),
        (_("交易号"), payment.provider_trade_no if payment else ""),
        (_("收款机关"), who["name"]),
        (_("联系电话"), who["phone"]),
    ]
    pdf = receipt_pdf(
        ReceiptText(
            title=_("罚款缴款凭证"),
            number=_("凭证编号：%(number)s") % {"number": notice.receipt_number},
            lines=tuple(lines),
            authority=who["name"],
            seal=who["seal"],
            footer=_("本凭证由%(authority)s出具，可凭编号向本机关核验。")
            % {"authority": who["name"]},
        )
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    digits = "".join(c for c in notice.receipt_number if c.isascii() and c.isdigit())
    response["Content-Disposition"] = f'attachment; filename="receipt-{digits}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
