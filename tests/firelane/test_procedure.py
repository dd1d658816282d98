"""The penalty procedure of 行政处罚法 on a fire-lane notice: 告知 → statement answered, or
the period lapsed, or waived → 处罚决定书 → payment (only now) → 缴款凭证 (PDF) → 已缴款;
the late surcharge of 第七十二条 (civicloop/firelane/notices.py, penalty.py, receipt.py,
public_views.py, views.py)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.cases.models import Case
from civicloop.core.outbox.models import OutboxMessage
from civicloop.core.sla.working_days import add_workdays
from civicloop.firelane.models import Notice, Payment
from civicloop.firelane.notices import (
    NoticeError,
    StatementOutcome,
    notice_approve,
    notice_by_token,
    notice_mark_paid,
    notice_page_url,
    notice_statement,
    notice_statement_decide,
    notice_waive,
    notices_decide_due,
)
from civicloop.firelane.payments.services import PaymentError, payable_fen, payment_start
from civicloop.firelane.penalty import late_fee_fen
from civicloop.notify import templates
from civicloop.notify.sms import sign_name_for
from tests.firelane.pdf_text import pdf_text
from tests.firelane.test_notices import _park

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(demo_city: None) -> User:
    return User.objects.get(username="officer_fire")


@pytest.fixture
def in_review(make_sighting: Any, t0: Any, registry_records: Any) -> Case:
    """A case whose evidence waits for the officer, the owner's phone in the registry."""
    registry_records([("浙J12345", "王某", "13900001111")])
    stay = _park(make_sighting, t0, "浙J12345")
    return Case.objects.get(pk=stay.case_id)


def _pay(notice: Notice, *, amount_fen: int | None = None) -> Payment:
    """The provider's confirmation, as the notify applies it (the payments are tested on
    their own in test_payments.py)."""
    payment = Payment.objects.create(
        notice=notice,
        provider="fake",
        out_trade_no=f"T{notice.pk}",
        amount_fen=payable_fen(notice) if amount_fen is None else amount_fen,
        status=Payment.Status.PAID,
        paid_at=timezone.now(),
        provider_trade_no="2026120322001400000000000001",
    )
    with transaction.atomic():
        notice_mark_paid(payment)
    notice.refresh_from_db()
    return payment


def _state(case: Case) -> str:
    return Case.objects.get(pk=case.pk).state


# --------------------------------------------------------------------------- 告知


def test_a_notice_gives_the_statement_period_in_working_days(
    in_review: Case, officer: User
) -> None:
    # Given a notice served by SMS now,
    now = timezone.now()
    notice = notice_approve(case=in_review, officer=officer, now=now)
    # then the owner has until the end of the third working day after today,
    last_day = add_workdays(timezone.localtime(now).date(), 3)
    assert notice.statement_due_at == timezone.make_aware(
        datetime.combine(last_day, time(23, 59, 59))
    )
    # and the page says so, with the amount as an intended penalty and no way to pay.
    page = Client().get(notice_page_url(notice)).content.decode()
    assert "拟处罚" in page and last_day.strftime("%Y-%m-%d") in page
    assert 'id="pay"' not in page and 'id="waive"' in page and 'id="state-case"' in page


def test_the_owner_cannot_pay_a_notice_of_an_intended_penalty(
    in_review: Case, officer: User
) -> None:
    notice = notice_approve(case=in_review, officer=officer)
    # When the pay form is posted anyway, or the service is called,
    response = Client().post(f"{notice_page_url(notice)}/pay")
    # then nothing is started: no trade, the owner stays on the page.
    assert response.status_code == 302 and "/gateway.do" not in response["Location"]
    with pytest.raises(PaymentError) as refused:
        payment_start(notice=notice, return_url="https://x/r/", notify_url="https://x/n/")
    assert refused.value.code == "not_payable"
    assert not Payment.objects.filter(notice=notice).exists()


# --------------------------------------------------------------------------- to the decision


def test_waiving_on_the_page_serves_the_numbered_decision(
    in_review: Case, officer: User, settings: Any
) -> None:
    settings.FIRELANE_AUTHORITY_NAME = "某市消防救援大队"
    settings.FIRELANE_AUTHORITY_PHONE = "0576-11112222"
    settings.FIRELANE_AUTHORITY_SEAL = "某市消防救援大队行政处罚专用章"
    notice = notice_approve(case=in_review, officer=officer, amount_fen=15000)
    client = Client()
    url = notice_page_url(notice)
    # When the owner waives their statement on the page,
    assert client.post(f"{url}/waive").status_code == 302
    # then the decision is made at once: numbered, with the notice's amount, payable
    # within 15 days,
    notice.refresh_from_db()
    assert _state(in_review) == "decided"
    assert notice.statement_waived_at is not None
    assert notice.decision_number and notice.decision_number.startswith("温消罚决字〔")
    assert notice.fine_fen == 15000
    assert notice.pay_due_on == timezone.localdate() + timedelta(days=15)
    # and the page shows the decision: authority, officer, date, amount, payment date,
    # review within 60 days or a lawsuit within 6 months, the phone, and the pay button.
    page = client.get(url).content.decode()
    assert "行政处罚决定书" in page and notice.decision_number in page
    assert "某市消防救援大队" in page and "0576-11112222" in page
    assert "某市消防救援大队行政处罚专用章" in page
    assert (officer.full_name or officer.username) in page
    assert notice.pay_due_on.strftime("%Y-%m-%d") in page
    assert "六十日" in page and "六个月" in page and "150.00" in page
    assert 'id="pay"' in page and 'id="waive"' not in page and 'id="state-case"' not in page
    # The owner is told by SMS, under the fire service's sign, once.
    sms = OutboxMessage.objects.filter(idempotency_key=f"firelane:decision:{notice.pk}:sms")
    assert sms.count() == 1
    params = sms.get().payload["params"]
    assert params["due"] == notice.pay_due_on.strftime("%Y-%m-%d")
    assert notice_by_token(token=params["token"]) == notice
    text = templates.check("firelane_decision", params, sign_name_for("firelane_decision"))
    assert text.startswith("【") and len(text) <= templates.TOTAL_LIMIT
    # A second waiver, or a statement now, is refused.
    with pytest.raises(NoticeError):
        notice_waive(notice=notice)
    with pytest.raises(NoticeError):
        notice_statement(notice=notice, text="我要申辩")


def test_the_sweep_decides_once_the_period_has_passed(in_review: Case, officer: User) -> None:
    notice = notice_approve(case=in_review, officer=officer)
    assert notice.statement_due_at is not None
    # Given the period still running, the sweep leaves the notice alone;
    assert notices_decide_due(now=notice.statement_due_at) == 0
    assert _state(in_review) == "noticed"
    # once it has passed with nothing stated, the decision is made, once.
    after = notice.statement_due_at + timedelta(seconds=1)
    assert notices_decide_due(now=after) == 1
    assert notices_decide_due(now=after) == 0
    notice.refresh_from_db()
    assert _state(in_review) == "decided" and notice.decision_number
    assert in_review.timeline.filter(action="decide").count() == 1
    # A statement after the period is refused.
    with pytest.raises(NoticeError):
        notice_statement(notice=notice, text="迟到的申辩", now=after)


def test_a_late_statement_is_refused_even_before_the_sweep(in_review: Case, officer: User) -> None:
    notice = notice_approve(case=in_review, officer=officer)
    assert notice.statement_due_at is not None
    with pytest.raises(NoticeError):
        notice_statement(
            notice=notice, text="迟到", now=notice.statement_due_at + timedelta(minutes=1)
        )
    assert _state(in_review) == "noticed"


def test_a_rejected_statement_shows_the_reasons_and_the_decision(
    in_review: Case, officer: User
) -> None:
    notice = notice_approve(case=in_review, officer=officer)
    client = Client()
    url = notice_page_url(notice)
    client.post(f"{url}/statement", {"statement": "只停了五分钟"})
    assert _state(in_review) == "statement"
    # Waiting for the answer, the owner still cannot pay.
    page = client.get(url).content.decode()
    assert 'id="pay"' not in page and "复核" in page
    # When the officer rejects it with reasons on the review page,
    officer_client = Client()
    officer_client.force_login(officer)
    officer_client.post(
        f"/firelane/review/{in_review.number}/decide/",
        {"decision": "uphold", "reason": "监控显示停放三十一分钟，申辩理由不成立"},
    )
    # then the decision follows with the notice's amount and the owner reads the reasons.
    notice.refresh_from_db()
    assert _state(in_review) == "decided" and notice.fine_fen == notice.amount_fen
    page = client.get(url).content.decode()
    assert "申辩理由不成立" in page and notice.decision_number in page and 'id="pay"' in page


def test_a_statement_partly_accepted_lowers_the_fine(in_review: Case, officer: User) -> None:
    notice = notice_approve(case=in_review, officer=officer, amount_fen=20000)
    notice_statement(notice=notice, text="第一次违停，已立即驶离")
    in_review.refresh_from_db()
    # A "reduced" fine that is not lower is refused, and changes nothing;
    with pytest.raises(NoticeError):
        notice_statement_decide(
            case=in_review,
            officer=officer,
            outcome=StatementOutcome.REDUCED,
            reason="减轻",
            amount_fen=20000,
        )
    assert _state(in_review) == "statement"
    # a lower one is decided.
    notice_statement_decide(
        case=in_review,
        officer=officer,
        outcome=StatementOutcome.REDUCED,
        reason="初次违法且及时改正，减轻处罚",
        amount_fen=5000,
    )
    notice.refresh_from_db()
    assert _state(in_review) == "decided" and notice.fine_fen == 5000
    assert payable_fen(notice) == 5000


def test_an_accepted_statement_ends_without_penalty(in_review: Case, officer: User) -> None:
    notice = notice_approve(case=in_review, officer=officer)
    notice_statement(notice=notice, text="送病人急诊")
    in_review.refresh_from_db()
    notice_statement_decide(
        case=in_review,
        officer=officer,
        outcome=StatementOutcome.ACCEPTED,
        reason="经核实属紧急避险",
    )
    notice.refresh_from_db()
    assert _state(in_review) == "dismissed" and notice.decision_number is None
    page = Client().get(notice_page_url(notice)).content.decode()
    assert "不予处罚" in page and "经核实属紧急避险" in page and 'id="pay"' not in page


# --------------------------------------------------------------------------- late payment


@pytest.mark.parametrize(
    ("days_late", "fee"),
    [(-3, 0), (0, 0), (1, 600), (2, 1200), (33, 19800), (34, 20000), (400, 20000)],
)
def test_late_fee_is_three_percent_a_day_up_to_the_fine(days_late: int, fee: int) -> None:
    due = date(2026, 12, 18)
    today = due + timedelta(days=days_late)
    assert late_fee_fen(fine_fen=20000, due=due, today=today) == fee


def test_late_fee_rounds_down_to_the_fen() -> None:
    assert late_fee_fen(fine_fen=333, due=date(2026, 1, 1), today=date(2026, 1, 2)) == 9


def test_the_page_and_the_payment_carry_the_late_fee(in_review: Case, officer: User) -> None:
    notice = notice_waive(notice=notice_approve(case=in_review, officer=officer))
    # Given the payment date passed two days ago,
    assert notice.pay_due_on is not None
    notice.pay_due_on = timezone.localdate() - timedelta(days=2)
    notice.save(update_fields=["pay_due_on"])
    # then the page shows the surcharge and the total, and the payment asks for it.
    page = Client().get(notice_page_url(notice)).content.decode()
    assert 'id="late-fee"' in page and "12.00" in page and "212.00" in page
    assert payable_fen(notice) == 21200


# --------------------------------------------------------------------------- receipt


def test_the_receipt_is_a_numbered_pdf_after_payment(in_review: Case, officer: User) -> None:
    notice = notice_waive(notice=notice_approve(case=in_review, officer=officer))
    client = Client()
    url = notice_page_url(notice)
    # Before payment there is no receipt.
    assert client.get(f"{url}/receipt.pdf").status_code == 404
    payment = _pay(notice)
    # Once paid, the case is closed as 已缴款 and the receipt is numbered,
    assert _state(in_review) == "paid"
    assert notice.receipt_number and notice.receipt_number.startswith("温消缴〔")
    page = client.get(url).content.decode()
    assert notice.receipt_number in page and 'id="receipt"' in page
    # and downloads as a PDF whose text names it, the decision, the amount, the
    # trade and the authority.
    response = client.get(f"{url}/receipt.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    text = pdf_text(response.content)
    assert notice.receipt_number in text and str(notice.decision_number) in text
    assert "200.00" in text and payment.provider_trade_no in text
    assert "温岭市消防救援大队" in text and "缴款凭证" in text


def test_an_expired_link_page_names_the_authority_and_its_phone(settings: Any) -> None:
    settings.FIRELANE_AUTHORITY_NAME = "某市消防救援大队"
    settings.FIRELANE_AUTHORITY_PHONE = "0576-11112222"
    response = Client().get("/n/1.2.abc")
    body = response.content.decode()
    assert response.status_code == 404
    assert "某市消防救援大队" in body and "0576-11112222" in body


def test_notices_served_before_the_procedure_get_their_period(
    in_review: Case, officer: User
) -> None:
    import importlib

    from django.apps import apps

    from civicloop.firelane.penalty import statement_due

    # Given a notice served before the procedure existed (no statement period),
    notice = notice_approve(case=in_review, officer=officer)
    Notice.objects.filter(pk=notice.pk).update(statement_due_at=None)
    # when the migration runs,
    migration = importlib.import_module(
        "civicloop.firelane.migrations.0005_notice_statement_period_for_served"
    )
    before = timezone.now()
    migration.statement_period_start(apps, None)
    # then the owner has the full period from now, and may state their case.
    notice.refresh_from_db()
    assert notice.statement_due_at == statement_due(served_at=before)
    notice_statement(notice=notice, text="之前的告知单，现在申辩")
    assert _state(in_review) == "statement"
