"""Online payment of a notice (告知单): start a payment, apply the provider's notify, and
reconcile with the provider when a notify was lost.

What these guarantee, whatever order the owner's browser, the provider's notifies and our
reconciliation arrive in:

* a payment is marked paid once, and `on_paid` (the notice's own bookkeeping, which moves
  the case to 已缴款) runs once, in the same transaction as that change;
* nothing changes on a notify whose signature, app or amount is wrong; such notifies are
  logged (an amount mismatch at ERROR level: it means someone tampered, or a bug);
* amounts are integers in fen; the provider's yuan strings are converted exactly.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core import registry
from civicloop.firelane.errors import PaymentError, PaymentErrorCode
from civicloop.firelane.models import Notice, Payment
from civicloop.firelane.payments.provider import (
    MAX_AMOUNT_FEN,
    MIN_AMOUNT_FEN,
    PAID_STATUSES,
    ProviderError,
    parse_alipay_time,
    provider_for,
    yuan_to_fen,
)
from civicloop.firelane.penalty import late_fee_fen
from civicloop.firelane.workflow import FIRELANE_FLOW, PAID

logger = logging.getLogger(__name__)

OnPaid = Callable[[Payment], None]
# Where a notice can be paid from: the states the workflow's "paid" action starts from.
PAYABLE_STATES = FIRELANE_FLOW.action("paid").sources
# Alipay: out_trade_no "64个字符以内、可包含字母、数字、下划线".
OUT_TRADE_NO_PREFIX = "XF"


class NotifyOutcome(StrEnum):
    """What became of one notify (or query answer)."""

    APPLIED = "applied"  # the payment is now paid, on_paid ran
    DUPLICATE = "duplicate"  # it was already paid: nothing changed but the counter
    NOT_PAID = "not_paid"  # genuine, but the trade is not paid (WAIT_BUYER_PAY, TRADE_CLOSED)
    DOUBLE_PAYMENT = "double_payment"  # genuine, but the notice was paid by another payment
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN = "unknown"  # no such trade of this provider, or a provider not in use here
    APP_MISMATCH = "app_mismatch"
    AMOUNT_MISMATCH = "amount_mismatch"
    INVALID = "invalid"  # signed, but a required field is missing or malformed

    @property
    def acknowledged(self) -> bool:
        """Whether the provider should stop resending (we answer `success`): the notify
        was genuine and is fully recorded; sending it again cannot change anything."""
        return self in _ACKNOWLEDGED


_ACKNOWLEDGED = frozenset(
    {
        NotifyOutcome.APPLIED,
        NotifyOutcome.DUPLICATE,
        NotifyOutcome.NOT_PAID,
        NotifyOutcome.DOUBLE_PAYMENT,
    }
)


# --------------------------------------------------------------------------- start


def _out_trade_no_new(now: datetime) -> str:
    # Date for the people reconciling statements, random for uniqueness and so the number
    # (which appears in return URLs) cannot be guessed from its neighbours.
    return f"{OUT_TRADE_NO_PREFIX}{timezone.localtime(now):%Y%m%d%H%M%S}{secrets.token_hex(6)}"


def _check_payable(notice: Notice) -> None:
    if notice.paid_at is not None or notice.payments.filter(status=Payment.Status.PAID).exists():
        raise PaymentError(PaymentErrorCode.ALREADY_PAID)
    case = notice.case
    if case.state == PAID:
        raise PaymentError(PaymentErrorCode.ALREADY_PAID)
    if registry.workflow(case.workflow).state(case.state).terminal:
        raise PaymentError(PaymentErrorCode.CASE_CLOSED)
    if case.state not in PAYABLE_STATES:
        raise PaymentError(PaymentErrorCode.NOT_PAYABLE)
    if not (MIN_AMOUNT_FEN <= payable_fen(notice) <= MAX_AMOUNT_FEN):
        raise PaymentError(PaymentErrorCode.INVALID_AMOUNT)


def payable_fen(notice: Notice, *, today: date | None = None) -> int:
    """What the owner pays today: the decided fine plus the late surcharge of
    行政处罚法 第七十二条 once the payment date has passed; 0 before a decision."""
    if notice.fine_fen is None or notice.pay_due_on is None:
        return 0
    today = today or timezone.localdate()
    return notice.fine_fen + late_fee_fen(
        fine_fen=notice.fine_fen, due=notice.pay_due_on, today=today
    )


def payment_start(*, notice: Notice, return_url: str, notify_url: str) -> str:
    """Create (or reuse the unpaid) Payment of the notice and return the provider URL to
    send the owner's browser to.

    Guarantees: refused with PaymentError (ALREADY_PAID, CASE_CLOSED, NOT_PAYABLE,
    INVALID_AMOUNT, PROVIDER) unless the notice can be paid now (only a decision can: never
    a notice of an intended penalty); the amount is `payable_fen` (the decided fine plus
    any late surcharge), exactly; at most one unpaid payment per notice, provider and
    amount (the notice row is locked while it is chosen), so a second tap reopens the same
    trade instead of starting a second one; nothing is sent to the provider here."""
    code = getattr(settings, "PAYMENT_PROVIDER", "fake")
    try:
        provider = provider_for(code)
    except ProviderError as exc:
        logger.error("Payment provider unusable: %s", exc)
        raise PaymentError(PaymentErrorCode.PROVIDER) from exc
    with transaction.atomic():
        locked = Notice.objects.select_for_update().select_related("case").get(pk=notice.pk)
        _check_payable(locked)
        amount = payable_fen(locked)
        payment = (
            locked.payments.filter(status=Payment.Status.CREATED, provider=code, amount_fen=amount)
            .order_by("-created_at", "-pk")
            .first()
        )
        if payment is None:
            now = timezone.now()
            payment = Payment.objects.create(
                notice=locked,
                provider=code,
                out_trade_no=_out_trade_no_new(now),
                amount_fen=amount,
                created_at=now,
            )
    subject = str(
        _("温岭市消防车通道占用罚款 %(number)s")
        % {"number": locked.decision_number or locked.number}
    )
    return provider.pay_url(
        out_trade_no=payment.out_trade_no,
        amount_fen=payment.amount_fen,
        subject=subject[:256],
        return_url=return_url,
        notify_url=notify_url,
    )


# --------------------------------------------------------------------------- apply


def _mark_paid(
    *,
    payment_pk: int,
    trade_no: str,
    paid_at: datetime,
    record: Mapping[str, str] | None,
    on_paid: OnPaid,
) -> NotifyOutcome:
    """Mark the payment paid once and run on_paid in the same transaction."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("notice").get(pk=payment_pk)
        if record is not None:
            payment.notify_count += 1
        if payment.status == Payment.Status.PAID:
            if payment.provider_trade_no and trade_no and payment.provider_trade_no != trade_no:
                logger.error(
                    "Payment %s: paid as trade %s, now reported as trade %s",
                    payment.out_trade_no,
                    payment.provider_trade_no,
                    trade_no,
                )
            payment.save(update_fields=["notify_count"])
            return NotifyOutcome.DUPLICATE
        other_paid = (
            Payment.objects.filter(notice_id=payment.notice_id, status=Payment.Status.PAID)
            .exclude(pk=payment.pk)
            .exists()
        )
        if record is not None:
            payment.last_notify = dict(record)
        if other_paid:
            # Money arrived twice for one notice: keep the evidence, a person must refund.
            logger.error(
                "Notice %s paid twice: payment %s (trade %s) came after another paid payment",
                payment.notice.number,
                payment.out_trade_no,
                trade_no,
            )
            payment.provider_trade_no = trade_no
            payment.save(update_fields=["notify_count", "last_notify", "provider_trade_no"])
            return NotifyOutcome.DOUBLE_PAYMENT
        payment.status = Payment.Status.PAID
        payment.paid_at = paid_at
        payment.provider_trade_no = trade_no
        payment.save(
            update_fields=["status", "paid_at", "provider_trade_no", "notify_count", "last_notify"]
        )
        on_paid(payment)
    return NotifyOutcome.APPLIED


def _amount_fen(text: str) -> int | None:
    try:
        return yuan_to_fen(text)
    except ValueError:
        return None


def payment_notify_apply(
    *, provider: str, params: Mapping[str, str], on_paid: OnPaid
) -> NotifyOutcome:
    """Apply one asynchronous notify from the provider (as POSTed, form fields).

    Guarantees, in this order: a notify for a provider not in use here, or whose
    signature does not verify, changes nothing (UNKNOWN, BAD_SIGNATURE); nor does one for
    a trade we do not know under that provider (UNKNOWN), for another app (APP_MISMATCH),
    or whose amount differs from ours by even one fen (AMOUNT_MISMATCH, logged at ERROR).
    A paid notify marks the payment paid and calls `on_paid(payment)` once, inside the
    transaction that holds the payment row (select_for_update); if on_paid raises, nothing
    is kept and the exception propagates (the provider resends). Replays return DUPLICATE
    and only count the notify."""
    try:
        adapter = provider_for(provider)
    except ProviderError:
        logger.warning("Payment notify for provider %r, which is not in use", provider)
        return NotifyOutcome.UNKNOWN
    if not adapter.verify_notify(params):
        logger.warning(
            "Payment notify refused: bad signature (out_trade_no=%r)",
            str(params.get("out_trade_no", ""))[:64],
        )
        return NotifyOutcome.BAD_SIGNATURE
    out_trade_no = params.get("out_trade_no", "")
    payment = Payment.objects.filter(out_trade_no=out_trade_no, provider=provider).first()
    if not out_trade_no or payment is None:
        logger.warning("Payment notify for unknown trade %r", out_trade_no[:64])
        return NotifyOutcome.UNKNOWN
    if params.get("app_id") != adapter.app_id:
        logger.error(
            "Payment notify for %s names app %r, we are %r",
            out_trade_no,
            params.get("app_id"),
            adapter.app_id,
        )
        return NotifyOutcome.APP_MISMATCH
    amount = _amount_fen(params.get("total_amount", ""))
    if amount != payment.amount_fen:
        logger.error(
            "PAYMENT AMOUNT MISMATCH for %s: provider says %r yuan, we expect %s fen",
            out_trade_no,
            params.get("total_amount", ""),
            payment.amount_fen,
        )
        return NotifyOutcome.AMOUNT_MISMATCH
    if params.get("trade_status") not in PAID_STATUSES:
        return NotifyOutcome.NOT_PAID
    trade_no = params.get("trade_no", "")
    if not trade_no:
        return NotifyOutcome.INVALID
    paid_at = parse_alipay_time(params.get("gmt_payment", "")) or timezone.now()
    return _mark_paid(
        payment_pk=payment.pk, trade_no=trade_no, paid_at=paid_at, record=params, on_paid=on_paid
    )


# --------------------------------------------------------------------------- reconcile


def payment_reconcile(*, payment: Payment, on_paid: OnPaid) -> Payment:
    """Ask the provider about a payment still `created` (its notify may be late or lost)
    and apply the answer like a notify: paid -> marked paid once with on_paid (the same
    rules, amount checked exactly); TRADE_CLOSED -> closed; not paid yet or never opened
    -> unchanged. Returns the payment as it now is. PaymentError(PROVIDER) when the
    provider cannot be asked or its answer is not properly signed (nothing changes)."""
    if payment.status != Payment.Status.CREATED:
        return payment
    try:
        answer = provider_for(payment.provider).trade_query(out_trade_no=payment.out_trade_no)
    except ProviderError as exc:
        logger.warning("Payment %s: query failed: %s", payment.out_trade_no, exc)
        raise PaymentError(PaymentErrorCode.PROVIDER) from exc
    if answer.paid:
        amount = _amount_fen(answer.total_amount)
        if amount != payment.amount_fen:
            logger.error(
                "PAYMENT AMOUNT MISMATCH for %s (query): provider says %r yuan, we expect %s fen",
                payment.out_trade_no,
                answer.total_amount,
                payment.amount_fen,
            )
        else:
            _mark_paid(
                payment_pk=payment.pk,
                trade_no=answer.trade_no,
                paid_at=parse_alipay_time(answer.send_pay_date) or timezone.now(),
                record=None,
                on_paid=on_paid,
            )
    elif answer.found and answer.trade_status == "TRADE_CLOSED":
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.CREATED).update(
            status=Payment.Status.CLOSED
        )
    payment.refresh_from_db()
    return payment
