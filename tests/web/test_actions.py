"""Acting on a case through the POST endpoint: state changes, idempotency, refusals."""

from __future__ import annotations

import pytest
from django.urls import reverse

from civicloop.core.accounts.models import PersonalDataAccess
from civicloop.core.attachments.models import Attachment
from civicloop.core.cases.models import Case, TimelineEntry
from civicloop.core.units.models import Unit
from tests.web.conftest import TOWN, jpeg_upload

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]


def act_url(case: Case, action: str) -> str:
    return reverse("web:case_act", args=[case.number, action])


def test_accept_changes_state_and_double_post_does_nothing(login_as, new_opinion):
    case = new_opinion()
    client = login_as("station_zeguo")
    detail = client.get(reverse("web:case_detail", args=[case.number]))
    form = next(f for f in detail.context["primary_forms"] if f.action.code == "accept")
    key = form.initial["idempotency_key"]
    assert len(key) == 32

    first = client.post(act_url(case, "accept"), {"accept-idempotency_key": key})
    assert first.status_code == 302
    assert first["Location"] == reverse("web:case_detail", args=[case.number])
    case.refresh_from_db()
    assert case.state == "accepted"
    entries = TimelineEntry.objects.filter(case=case).count()

    again = client.post(act_url(case, "accept"), {"accept-idempotency_key": key})
    assert again.status_code == 302
    case.refresh_from_db()
    assert case.state == "accepted"
    assert TimelineEntry.objects.filter(case=case).count() == entries

    # A new form render (a new key) for a stale action is refused, and says why.
    stale = client.post(act_url(case, "accept"), {"accept-idempotency_key": "another-key"})
    assert stale.status_code == 400
    assert "事项当前状态下不能执行此操作" in stale.content.decode()


def test_dispatch_requires_unit_and_highlights_field(login_as, new_opinion):
    case = new_opinion(steps=("accept",))
    client = login_as("station_zeguo")
    response = client.post(
        act_url(case, "dispatch"), {"dispatch-idempotency_key": "k1", "dispatch-grade": "town"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "请选择办理单位" in html
    assert 'name="dispatch-unit" aria-invalid="true"' in html
    case.refresh_from_db()
    assert case.state == "accepted"

    town = Unit.objects.get(code=TOWN)
    ok = client.post(
        act_url(case, "dispatch"),
        {"dispatch-idempotency_key": "k2", "dispatch-unit": town.pk, "dispatch-grade": "town"},
    )
    assert ok.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.holder_unit_id, case.grade) == ("dispatched", town.pk, "town")


def test_actor_without_right_is_refused(login_as, new_opinion):
    case = new_opinion(steps=("accept", "dispatch"))
    # The deputy may see the case (the station owns it) but only the holder may claim.
    response = login_as("deputy_wang").post(act_url(case, "claim"), {"claim-idempotency_key": "k"})
    assert response.status_code == 400
    assert "您没有权限执行此操作" in response.content.decode()
    case.refresh_from_db()
    assert case.state == "dispatched"


def test_unknown_action_is_404(login_as, new_opinion):
    case = new_opinion()
    response = login_as("station_zeguo").post(act_url(case, "explode"), {})
    assert response.status_code == 404


def test_contact_reveal_is_logged(login_as, new_opinion):
    case = new_opinion()
    client = login_as("station_zeguo")
    response = client.post(reverse("web:case_contact_reveal", args=[case.number]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "13912345678" in html and "陈小明" in html
    log = PersonalDataAccess.objects.get()
    assert (log.object_type, log.object_id, log.user.username) == (
        "case",
        case.number,
        "station_zeguo",
    )


def test_contact_reveal_refused_to_handling_unit_of_anonymous_case(login_as, new_opinion):
    case = new_opinion(anonymous=True, steps=("accept", "dispatch"))
    client = login_as("handler_zeguo")
    detail = client.get(reverse("web:case_detail", args=[case.number]))
    assert detail.status_code == 200
    assert "查看完整联系方式" not in detail.content.decode()
    response = client.post(reverse("web:case_contact_reveal", args=[case.number]))
    assert response.status_code == 403
    assert not PersonalDataAccess.objects.exists()


def test_submit_result_with_photo_and_attachment_permissions(login_as, new_opinion, client):
    case = new_opinion(steps=("accept", "dispatch", "claim"))
    login_as("handler_zeguo")
    response = client.post(
        act_url(case, "submit_result"),
        {
            "submit_result-idempotency_key": "r1",
            "submit_result-note": "路灯已更换。",
            "submit_result-photos": jpeg_upload(),
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "result_submitted"
    attachment = Attachment.objects.get()
    entry = TimelineEntry.objects.get(case=case, action="submit_result")
    assert entry.attachment_digests == [attachment.sha256]

    detail = client.get(reverse("web:case_detail", args=[case.number])).content.decode()
    assert reverse("web:attachment_thumbnail", args=[attachment.pk]) in detail
    assert attachment.sha256[:12] in detail

    full = client.get(reverse("web:attachment_file", args=[attachment.pk]))
    assert full.status_code == 200
    assert full["Content-Type"] == "image/jpeg"
    assert b"".join(full.streaming_content)[:2] == b"\xff\xd8"
    thumb = client.get(reverse("web:attachment_thumbnail", args=[attachment.pk]))
    assert thumb.status_code == 200

    # The owning station sees it too; another unit does not, nor does anyone signed out.
    assert (
        login_as("station_zeguo")
        .get(reverse("web:attachment_file", args=[attachment.pk]))
        .status_code
        == 200
    )
    other = login_as("handler_housing")
    assert other.get(reverse("web:attachment_file", args=[attachment.pk])).status_code == 404
    assert other.get(reverse("web:attachment_thumbnail", args=[attachment.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("web:attachment_file", args=[attachment.pk])).status_code == 302


def test_bad_upload_is_refused_with_message(login_as, new_opinion, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = new_opinion(steps=("accept", "dispatch", "claim"))
    login_as("handler_zeguo")
    response = client.post(
        act_url(case, "submit_result"),
        {
            "submit_result-idempotency_key": "r1",
            "submit_result-note": "路灯已更换。",
            "submit_result-photos": SimpleUploadedFile("x.jpg", b"not an image at all"),
        },
    )
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.state == "handling"
    assert not Attachment.objects.exists()


def test_rate_closes_case(login_as, new_opinion):
    case = new_opinion(steps=("accept", "dispatch", "claim", "submit_result"))
    response = login_as("station_zeguo").post(
        act_url(case, "rate"),
        {"rate-idempotency_key": "k", "rate-rating": "satisfied", "rate-note": "很好"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.rating) == ("closed", "satisfied")
