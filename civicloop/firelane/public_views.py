"""The owner's page, reached from the SMS link `/n/<token>`: the notice, the evidence
images (cropped to the owner's own car, so other plates are not shown), a form to state
one's case, and the pay button.

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
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from PIL import Image

from civicloop.core.accounts.masking import mask_plate
from civicloop.core.client_ip import client_ip
from civicloop.core.errors import refusal_show
from civicloop.core.ratelimit import RateLimitExceeded, rate_limit_hit
from civicloop.firelane.models import Notice, Payment, Sighting
from civicloop.firelane.notices import (
    LEGAL_BASIS_LINES,
    RIGHTS,
    STATEMENT_MAX_CHARS,
    NoticeError,
    evidence_of,
    notice_by_token,
    notice_statement,
)
from civicloop.firelane.payments.provider import fen_to_yuan
from civicloop.firelane.payments.services import PaymentError, payment_start
from civicloop.firelane.workflow import NOTICED, PAID, STATEMENT

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


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "firelane/notice_invalid.html", status=404)


@never_cache
@require_GET
def notice_page(request: HttpRequest, token: str) -> HttpResponse:
    notice = notice_by_token(token=token)
    if notice is None:
        return _invalid(request)
    case = notice.case
    return render(
        request,
        "firelane/notice_page.html",
        {
            "token": token,
            "notice": notice,
            "case": case,
            "amount_yuan": fen_to_yuan(notice.amount_fen),
            "legal_basis": [_(line) for line in LEGAL_BASIS_LINES],
            "rights": _(RIGHTS),
            "images": _owner_images(notice),
            "can_state": case.state == NOTICED and not notice.statement,
            "can_pay": case.state in (NOTICED, STATEMENT) and notice.paid_at is None,
            "paid": case.state == PAID or notice.paid_at is not None,
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


@require_POST
def notice_state_case(request: HttpRequest, token: str) -> HttpResponse:
    notice = notice_by_token(token=token)
    if notice is None:
        return _invalid(request)
    if _limited(request):
        return redirect("firelane_public:notice_page", token=token)
    try:
        notice_statement(notice=notice, text=request.POST.get("statement", ""))
        messages.success(request, _("您的陈述申辩已提交，执法人员将在三个工作日内复核并答复。"))
    except NoticeError as err:
        refusal_show(request, err)
    return redirect("firelane_public:notice_page", token=token)


@require_POST
def notice_pay(request: HttpRequest, token: str) -> HttpResponse:
    notice = notice_by_token(token=token)
    if notice is None:
        return _invalid(request)
    if _limited(request):
        return redirect("firelane_public:notice_page", token=token)
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
