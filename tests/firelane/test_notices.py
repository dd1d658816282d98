"""Review, notice, the owner's signed link, statement and payment closing
(civicloop/firelane/notices.py, public_views.py, views.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.cases.errors import CaseError
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import transition
from civicloop.core.outbox.models import OutboxMessage
from civicloop.firelane.enforcement import stay_thresholds_check
from civicloop.firelane.models import Notice, Payment, Stay
from civicloop.firelane.notices import (
    NoticeError,
    StatementOutcome,
    notice_approve,
    notice_by_token,
    notice_dismiss,
    notice_mark_paid,
    notice_page_url,
    notice_statement,
    notice_statement_decide,
    notice_token,
    notice_waive,
)
from civicloop.firelane.tracking import stay_merge
from tests.firelane.conftest import scene_bytes

pytestmark = pytest.mark.django_db

BOX = [0.4, 0.6, 0.55, 0.68]


@pytest.fixture
def officer(demo_city: None) -> User:
    return User.objects.get(username="officer_fire")


def _park(make_sighting: Any, t0: Any, plate: str, minutes: int = 31) -> Stay:
    stay = None
    for s in range(0, minutes * 60 + 1, 120):
        sighting = make_sighting(plate, t0 + timedelta(seconds=s), scene=scene_bytes(), box=BOX)
        stay = stay_merge(sighting=sighting)
    assert stay is not None
    stay_thresholds_check(stay_id=stay.pk)
    stay.refresh_from_db()
    return stay


@pytest.fixture
def in_review(make_sighting: Any, t0: Any, registry_records: Any) -> Case:
    registry_records([("浙J12345", "王某", "13900001111")])
    stay = _park(make_sighting, t0, "浙J12345")
    case = Case.objects.get(pk=stay.case_id)
    assert case.state == "review"
    return case


def test_approval_issues_a_numbered_notice_and_one_sms_with_a_signed_link(
    in_review: Case, officer: User
) -> None:
    notice = notice_approve(case=in_review, officer=officer, amount_fen=20000)
    in_review.refresh_from_db()
    assert in_review.state == "noticed"
    assert notice.number.startswith("温消通告〔") and notice.delivery == "sms"
    assert notice.amount_fen == 20000 and "第六十条" in notice.legal_basis
    sms = OutboxMessage.objects.get(kind="sms", template="firelane_notice")
    token = sms.payload["params"]["token"]
    assert notice_by_token(token=token) == notice
    from civicloop.notify.templates import render

    text = render("firelane_notice", sms.payload["params"])
    assert text.endswith(notice_page_url(notice, absolute=True))
    assert len(token) <= 35  # an ordinary SMS variable
    assert in_review.timeline.filter(action="approve", actor=officer).exists()


def test_no_notice_without_complete_evidence(make_sighting: Any, t0: Any, officer: User) -> None:
    for m in (0, 2, 4, 6):
        stay = stay_merge(sighting=make_sighting("皖A195K9", t0 + timedelta(minutes=m)))
    assert stay is not None
    stay_thresholds_check(stay_id=stay.pk)
    case = Case.objects.get(pk=Stay.objects.get(pk=stay.pk).case_id)
    # Force the case into review without an evidence package.
    case = transition(case=case, action="evidence", actor=None, via="firelane")
    with pytest.raises(NoticeError) as err:
        notice_approve(case=case, officer=officer)
    assert err.value.code == "no_evidence"
    assert not Notice.objects.exists()


def test_the_generic_case_actions_cannot_skip_the_review(in_review: Case, officer: User) -> None:
    with pytest.raises(CaseError):
        transition(case=in_review, action="approve", actor=officer)  # not via the fire-lane service
    with pytest.raises(CaseError):
        transition(case=in_review, action="paid", actor=None, via="firelane")  # not from review


def test_only_the_enforcement_units_officers_review(in_review: Case) -> None:
    clerk = User.objects.get(username="handler_housing")
    with pytest.raises(NoticeError) as err:
        notice_approve(case=in_review, officer=clerk)
    assert err.value.code == "forbidden"


def test_the_amount_stays_in_the_legal_range(in_review: Case, officer: User) -> None:
    for amount in (0, 50001, -1):
        with pytest.raises(NoticeError):
            notice_approve(case=in_review, officer=officer, amount_fen=amount)
    assert notice_approve(case=in_review, officer=officer, amount_fen=50000).amount_fen == 50000


def test_dismissal_needs_a_reason(in_review: Case, officer: User) -> None:
    with pytest.raises(NoticeError):
        notice_dismiss(case=in_review, officer=officer, reason="  ")
    notice_dismiss(case=in_review, officer=officer, reason="车辆为执行任务的工程抢修车")
    in_review.refresh_from_db()
    assert in_review.state == "dismissed" and in_review.closed_at is not None


def test_no_phone_means_a_posted_notice(make_sighting: Any, t0: Any, officer: User) -> None:
    stay = _park(make_sighting, t0, "皖A195K9")
    case = Case.objects.get(pk=stay.case_id)
    notice = notice_approve(case=case, officer=officer)
    case.refresh_from_db()
    assert notice.delivery == "posted" and case.state == "to_post"
    assert not OutboxMessage.objects.filter(template__startswith="firelane").exists()


def test_tampered_or_expired_links_show_nothing(in_review: Case, officer: User) -> None:
    notice = notice_approve(case=in_review, officer=officer)
    token = notice_token(notice)
    notice_id, expires, sig = token.split(".")
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_id = f"{int(notice_id, 36) + 1}.{expires}.{sig}"
    longer = f"{notice_id}.{int(expires, 36) + 86400:x}.{sig}"
    for bad in (tampered, other_id, longer, "x", token + ".1", ""):
        assert notice_by_token(token=bad) is None
    later = timezone.now() + timedelta(days=31)
    assert notice_by_token(token=token, now=later) is None
    client = Client()
    response = client.get(f"/n/{tampered}")
    assert response.status_code == 404
    assert notice.plate not in response.content.decode()
    assert notice.number not in response.content.decode()
    ok = client.get(f"/n/{token}")
    assert ok.status_code == 200 and notice.number in ok.content.decode()


def test_statement_then_officer_decision(in_review: Case, officer: User) -> None:
    notice = notice_approve(case=in_review, officer=officer)
    notice_statement(notice=notice, text="当时送老人急诊，停车十分钟后已驶离。")
    in_review.refresh_from_db()
    assert in_review.state == "statement"
    with pytest.raises(NoticeError):  # one statement per notice
        notice_statement(notice=notice, text="再次申辩")
    notice_statement_decide(
        case=in_review,
        officer=officer,
        outcome=StatementOutcome.REJECTED,
        reason="监控显示停放31分钟",
    )
    in_review.refresh_from_db()
    notice.refresh_from_db()
    # Rejected with reasons: the decision follows, with the notice's amount.
    assert in_review.state == "decided"
    assert notice.statement_answer == "监控显示停放31分钟"
    assert notice.decision_number and notice.fine_fen == notice.amount_fen


def test_paying_closes_the_case_once(in_review: Case, officer: User) -> None:
    notice = notice_waive(notice=notice_approve(case=in_review, officer=officer))
    payment = Payment.objects.create(
        notice=notice,
        provider="fake",
        out_trade_no="T1",
        amount_fen=notice.amount_fen,
        status=Payment.Status.PAID,
        paid_at=timezone.now(),
    )
    from django.db import transaction

    with transaction.atomic():
        notice_mark_paid(payment)
    with transaction.atomic():
        notice_mark_paid(payment)  # the provider resends: nothing more happens
    in_review.refresh_from_db()
    notice.refresh_from_db()
    assert in_review.state == "paid" and notice.paid_at is not None
    assert notice.receipt_number and notice.paid_fen == notice.amount_fen
    assert in_review.timeline.filter(action="paid").count() == 1


def test_owner_page_states_the_case_over_http(in_review: Case, officer: User) -> None:
    notice = notice_approve(case=in_review, officer=officer)
    client = Client(enforce_csrf_checks=False)
    url = notice_page_url(notice)
    page = client.get(url).content.decode()
    assert "陈述申辩" in page and "第六十条" in page
    # The notice of an intended penalty cannot be paid (行政处罚法: decision first).
    assert 'id="pay"' not in page and '/pay"' not in page
    response = client.post(f"{url}/statement", {"statement": "车辆故障等待救援"})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.statement == "车辆故障等待救援"
    assert Case.objects.get(pk=in_review.pk).state == "statement"


def test_owner_images_are_cropped_to_their_car(in_review: Case, officer: User) -> None:
    import io

    from PIL import Image

    notice = notice_approve(case=in_review, officer=officer)
    client = Client()
    response = client.get(f"{notice_page_url(notice)}/img/0.jpg")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert image.size[0] < 640  # not the whole scene
    assert client.get(f"{notice_page_url(notice)}/img/9.jpg").status_code == 404


def test_review_pages_for_the_officer(in_review: Case, officer: User) -> None:
    client = Client()
    client.force_login(officer)
    queue = client.get("/firelane/review/")
    assert queue.status_code == 200 and in_review.number in queue.content.decode()
    detail = client.get(f"/firelane/review/{in_review.number}/")
    assert detail.status_code == 200
    assert "审核通过" in detail.content.decode()
    response = client.post(
        f"/firelane/review/{in_review.number}/decide/",
        {"decision": "approve", "amount_yuan": "200"},
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=in_review.pk).state == "noticed"
    other = Client()
    other.force_login(User.objects.get(username="handler_housing"))
    assert other.get("/firelane/review/").status_code == 403
    assert other.get(f"/firelane/review/{in_review.number}/").status_code == 403


def test_the_generic_case_page_points_to_the_review_page(in_review: Case, officer: User) -> None:
    client = Client()
    client.force_login(officer)
    page = client.get(f"/cases/{in_review.number}/").content.decode()
    assert f'href="/firelane/review/{in_review.number}/"' in page
    # and offers none of the fire-lane steps itself
    assert 'name="action" value="approve"' not in page and "/act/approve/" not in page
