"""The office's and the head's page for a studio: facts, rota, head (with the unit's
leader role that the core's sweep tells first), members with a public photo; and the
late first reply that goes to the head, then to the CPPCC office."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import ExifTags, Image

from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role
from civicloop.core.cases.models import CaseStep, TimelineEntry
from civicloop.core.cases.sweeps import sla_sweep
from civicloop.core.outbox.models import OutboxMessage
from civicloop.core.units.models import Membership
from civicloop.studios import services
from civicloop.studios.errors import StudioError, StudioErrorCode
from civicloop.studios.hooks import CPPCC_OFFICE_UNIT
from civicloop.studios.models import Member, Studio

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


def _jpeg_with_gps() -> bytes:
    image = Image.effect_noise((240, 320), 60).convert("RGB")
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (28.0, 22.0, 12.5),
    }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _form(studio: Studio, **changes: str) -> dict[str, str]:
    form = {
        "address": studio.address,
        "office_hours": studio.office_hours,
        "fields": "，".join(studio.fields),
        "reply_days": str(studio.reply_days),
        "head": str(studio.head_id or ""),
    }
    form.update(changes)
    return form


def test_the_office_names_the_head_who_then_holds_the_units_leader_role(
    zeguo: Studio, chen: Member, office: User
) -> None:
    old_head = zeguo.head
    assert old_head is not None and old_head.pk != chen.pk and chen.user is not None
    client = Client()
    client.force_login(office)
    # 陈委员 on duty on Wednesdays and Fridays, and head of the studio; 5 working days.
    posted = client.post(
        f"/studios/s/{zeguo.slug}/manage/",
        _form(zeguo, head=str(chen.pk), reply_days="5", rota_3=str(chen.pk), rota_5=str(chen.pk)),
    )
    assert posted.status_code == 302
    zeguo.refresh_from_db()
    assert zeguo.head_id == chen.pk and zeguo.reply_days == 5
    assert zeguo.rota == [{"weekday": 3, "member": chen.pk}, {"weekday": 5, "member": chen.pk}]
    leaders = set(
        Membership.objects.filter(unit=zeguo.unit, role=Role.UNIT_LEADER).values_list(
            "user_id", flat=True
        )
    )
    assert chen.user.pk in leaders and old_head.user_id not in leaders
    # The head now manages the studio: rota and facts, but not who heads it.
    head = Client()
    head.force_login(chen.user)
    page = head.get(f"/studios/s/{zeguo.slug}/manage/")
    assert page.status_code == 200 and 'name="head"' not in page.content.decode()
    head.post(f"/studios/s/{zeguo.slug}/manage/", _form(zeguo, head=str(old_head.pk), rota_1=""))
    zeguo.refresh_from_db()
    assert zeguo.head_id == chen.pk and zeguo.rota == []
    # The public page shows the duty day and links the manager to this page.
    assert "管理" in head.get(f"/studios/s/{zeguo.slug}/").content.decode()


def test_bad_input_is_refused_and_strangers_are_kept_out(
    zeguo: Studio, chen: Member, office: User
) -> None:
    elsewhere = Member.objects.exclude(studio=zeguo).filter(is_active=True).first()
    assert elsewhere is not None
    for changes, code in (
        ({"reply_days": "0"}, StudioErrorCode.RULES),
        ({"reply_days": "三"}, StudioErrorCode.RULES),
    ):
        with pytest.raises(StudioError) as exc:
            services.studio_update(
                studio=zeguo,
                user=office,
                address="x",
                office_hours="x",
                fields=["教育"],
                reply_days=changes["reply_days"],
                rota=[],
            )
        assert exc.value.code == code
    with pytest.raises(StudioError) as exc:  # a member of another studio on its rota
        services.studio_update(
            studio=zeguo,
            user=office,
            address="x",
            office_hours="x",
            fields=["教育"],
            reply_days=3,
            rota=[(2, elsewhere.pk)],
        )
    assert exc.value.code == StudioErrorCode.MEMBER
    stranger = Client()
    stranger.force_login(User.objects.get(username="handler_zeguo"))
    assert stranger.get(f"/studios/s/{zeguo.slug}/manage/").status_code == 403
    assert stranger.get(f"/studios/s/{zeguo.slug}/members/new/").status_code == 403
    assert chen.user is not None
    member_client = Client()
    member_client.force_login(chen.user)  # a member who is not the head
    assert member_client.get(f"/studios/s/{zeguo.slug}/manage/").status_code == 403


def test_a_members_photo_is_checked_cleaned_and_shown_publicly(zeguo: Studio, office: User) -> None:
    client = Client()
    client.force_login(office)
    refused = client.post(
        f"/studios/s/{zeguo.slug}/members/new/",
        {
            "name": "王委员",
            "sector": "教育界",
            "is_active": "1",
            "photo": SimpleUploadedFile("me.jpg", b"<html>not a photo</html>", "image/jpeg"),
        },
    )
    assert refused.status_code == 200 and not Member.objects.filter(name="王委员").exists()
    added = client.post(
        f"/studios/s/{zeguo.slug}/members/new/",
        {
            "name": "王委员",
            "sector": "教育界",
            "standing": "1",
            "profile": "温岭中学教师。",
            "is_active": "1",
            "photo": SimpleUploadedFile("me.jpg", _jpeg_with_gps(), "image/jpeg"),
        },
    )
    assert added.status_code == 302
    member = Member.objects.get(name="王委员", studio=zeguo)
    assert member.standing and member.photo is not None
    public = Client()
    page = public.get(f"/studios/s/{zeguo.slug}/").content.decode()
    assert f"/studios/members/{member.pk}/photo.jpg" in page
    photo = public.get(f"/studios/members/{member.pk}/photo.jpg")
    assert photo.status_code == 200
    served = Image.open(io.BytesIO(b"".join(photo.streaming_content)))  # type: ignore[attr-defined]
    assert ExifTags.IFD.GPSInfo not in served.getexif()
    # Leaving office hides the photo and takes the member off the rota.
    zeguo.rota = [{"weekday": 2, "member": member.pk}]
    zeguo.save(update_fields=["rota"])
    client.post(
        f"/studios/s/{zeguo.slug}/members/{member.pk}/",
        {"name": "王委员", "sector": "教育界", "profile": ""},
    )
    member.refresh_from_db()
    zeguo.refresh_from_db()
    assert not member.is_active and zeguo.rota == []
    assert public.get(f"/studios/members/{member.pk}/photo.jpg").status_code == 404


def test_a_late_first_reply_goes_to_the_head_then_to_the_cppcc_office(
    zeguo: Studio, chen: Member, citizen_phone: str
) -> None:
    head = zeguo.head
    assert head is not None and head.user is not None
    thread = services.thread_open(
        studio=zeguo, member=chen, phone=citizen_phone, text="老街的路灯坏了很久。"
    )
    step = CaseStep.objects.get(case=thread.case, ended_at__isnull=True)
    assert step.unit_id == zeguo.unit_id and step.due_at and step.escalate_at
    sla_sweep(now=step.due_at + timedelta(minutes=1))
    late = OutboxMessage.objects.get(
        reference=thread.case.number, idempotency_key__endswith=":escalate1"
    )
    assert head.user.dingtalk_userid in late.payload["userids"]
    sla_sweep(now=step.escalate_at + timedelta(minutes=1))
    escalated = TimelineEntry.objects.get(case=thread.case, action="escalate")
    assert escalated.unit is not None and escalated.unit.code == CPPCC_OFFICE_UNIT
    up = OutboxMessage.objects.get(
        reference=thread.case.number, idempotency_key__endswith=":escalate2"
    )
    office_ids = set(
        User.objects.filter(
            memberships__unit__code=CPPCC_OFFICE_UNIT, dingtalk_userid__gt=""
        ).values_list("dingtalk_userid", flat=True)
    )
    assert office_ids and office_ids <= set(up.payload["userids"])
