"""A lost notify reconciled by query is held to the notify's rule: the amount the provider
reports must be ours to the fen, or the notice stays unpaid (and the mismatch is logged at
ERROR: someone tampered, or a bug)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import pytest

from civicloop.firelane.payments.fake import FakeAlipay
from tests.firelane.test_payments import (  # noqa: F401 (fixtures)
    PaidSpy,
    keys,
    make_notice,
    open_and_pay,
    paid_spy,
    pay_settings,
    payment_start_for,
    start_fake,
    urlpatterns,
)

pytestmark = pytest.mark.urls(__name__)


def provider_reports(fake: FakeAlipay, out_trade_no: str, total_amount: str) -> None:
    """Make the provider's record of the trade name another amount (what its query,
    signed with its key, will then report)."""
    with fake._lock:
        fake._trades[out_trade_no] = replace(fake._trades[out_trade_no], total_amount=total_amount)


@pytest.mark.django_db
@pytest.mark.parametrize("reported", ["499.99", "500.01", "5.00", "0.01"])
def test_a_reconciled_payment_of_another_amount_is_not_marked_paid(
    start_fake: Callable[..., FakeAlipay],  # noqa: F811 (the fixture imported above)
    paid_spy: PaidSpy,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    reported: str,
) -> None:
    from civicloop.firelane.models import Payment
    from civicloop.firelane.payments.services import payment_reconcile
    from civicloop.firelane.workflow import PAID

    # given a ¥500.00 notice whose owner paid, the provider's notify lost
    fake = start_fake(lose_notifies=True)
    notice = make_notice(amount_fen=50000)
    paid = open_and_pay(payment_start_for(notice))
    fake.wait_for_notifies()
    assert paid.status_code == 302 and fake.notify_log() == []
    payment = Payment.objects.get(notice=notice)

    # when the provider's query answers, properly signed, with an amount not ours
    provider_reports(fake, payment.out_trade_no, reported)
    with caplog.at_level(logging.ERROR, logger="civicloop.firelane.payments.services"):
        reconciled = payment_reconcile(payment=payment, on_paid=paid_spy)

    # then nothing is paid: the payment stays open, the bookkeeping never ran
    assert reconciled.status == "created" and reconciled.paid_at is None
    assert reconciled.provider_trade_no == ""
    assert paid_spy.calls == []
    notice.refresh_from_db()
    assert notice.paid_at is None and notice.case.state != PAID
    assert "PAYMENT AMOUNT MISMATCH" in caplog.text and payment.out_trade_no in caplog.text
    assert fake.calls().count("alipay.trade.query") == 1

    # and once the provider reports our amount, the same reconciliation applies it once
    provider_reports(fake, payment.out_trade_no, "500.00")
    assert payment_reconcile(payment=reconciled, on_paid=paid_spy).status == "paid"
    assert len(paid_spy.calls) == 1


@pytest.mark.django_db
def test_reconcile_closes_only_the_closed_trade_and_keeps_the_providers_payment_time(
    start_fake: Callable[..., FakeAlipay],  # noqa: F811
    paid_spy: PaidSpy,  # noqa: F811
) -> None:
    import requests

    from civicloop.firelane.models import Payment
    from civicloop.firelane.payments.provider import parse_alipay_time
    from civicloop.firelane.payments.services import payment_reconcile

    fake = start_fake(lose_notifies=True)
    # given a trade the owner opened and the provider then closed, and another notice's
    # payment still open
    closing = make_notice(amount_fen=20000)
    requests.get(payment_start_for(closing), timeout=10)
    other = make_notice(amount_fen=20000)
    payment_start_for(other)
    payment = Payment.objects.get(notice=closing)
    with fake._lock:
        fake._trades[payment.out_trade_no] = replace(
            fake._trades[payment.out_trade_no], status="TRADE_CLOSED"
        )

    # when it is reconciled, then that payment (and only it) is closed, nothing paid
    assert payment_reconcile(payment=payment, on_paid=paid_spy).status == "closed"
    assert Payment.objects.get(notice=other).status == "created"
    assert paid_spy.calls == []

    # and a payment reconciled as paid records the provider's time of payment
    third = make_notice(amount_fen=30000)
    open_and_pay(payment_start_for(third))
    fake.wait_for_notifies()
    paid = payment_reconcile(payment=Payment.objects.get(notice=third), on_paid=paid_spy)
    trade = fake.trades()[paid.out_trade_no]
    assert paid.status == "paid" and paid.paid_at == parse_alipay_time(trade.gmt_payment)
