"""Publishing: who may, what is checked (files by content), and the deputies' notices."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from civicloop.bulletins.errors import BulletinError
from civicloop.bulletins.models import Item, ItemFile, ItemVideo
from civicloop.bulletins.services import item_publish
from civicloop.core.outbox.models import OutboxMessage
from tests.bulletins.conftest import People, draft, pdf_bytes, png_bytes, video_upload

pytestmark = pytest.mark.django_db


def test_publish_stores_files_and_notifies_deputies(people: People) -> None:
    item = item_publish(
        draft=draft(
            tags="预算，民生 预算",
            required=True,
            images=[SimpleUploadedFile("cover.png", png_bytes(), "image/png")],
            documents=[SimpleUploadedFile("报告.pdf", pdf_bytes(), "application/pdf")],
            videos=[video_upload("clip.mp4", "video/mp4")],
        ),
        actor=people.editor,
    )
    assert sorted(item.tags.values_list("name", flat=True)) == ["民生", "预算"]
    kinds = sorted(ItemFile.objects.filter(item=item).values_list("attachment__kind", flat=True))
    assert kinds == ["document", "photo"]
    assert ItemVideo.objects.get(item=item).content_type == "video/mp4"
    notice = OutboxMessage.objects.get(reference=f"bulletin-{item.pk}")
    assert notice.kind == "dingtalk_work"
    assert sorted(notice.payload["userids"]) == ["ding-001", "ding-wang"]
    assert "【必读】" in notice.payload["text"]


@pytest.mark.parametrize(
    ("field", "upload"),
    [
        # A PDF named .mp4 is not a video.
        ("videos", SimpleUploadedFile("course.mp4", b"%PDF-1.4\n...", "video/mp4")),
        # An audio-only MP4 (M4A) is not a video.
        ("videos", SimpleUploadedFile("a.mp4", b"\0\0\0\x18ftypM4A \0\0\0\0M4A isom", "video/mp4")),
        # A text file named .pdf is not a PDF.
        ("documents", SimpleUploadedFile("x.pdf", b"hello", "application/pdf")),
        # A PDF named .png is not an image.
        ("images", SimpleUploadedFile("x.png", b"%PDF-1.4\n", "image/png")),
    ],
)
def test_uploads_are_refused_by_content(people: People, field: str, upload: Any) -> None:
    with pytest.raises(BulletinError) as refused:
        item_publish(draft=draft(**{field: [upload]}), actor=people.editor)
    assert refused.value.field == field
    assert not Item.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_an_oversized_video_is_refused(people: People, settings: Any) -> None:
    settings.BULLETINS_VIDEO_MAX_BYTES = 1000
    with pytest.raises(BulletinError) as refused:
        item_publish(draft=draft(videos=[video_upload()]), actor=people.editor)
    assert refused.value.status == 413


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": " "}, "title"),
        ({"body": ""}, "body"),
        ({"section": "ezhi", "category": "training"}, "category"),
        ({"tags": " ".join(f"t{i}" for i in range(9))}, "tags"),
    ],
)
def test_bad_fields_are_refused(people: People, fields: dict[str, Any], field: str) -> None:
    with pytest.raises(BulletinError) as refused:
        item_publish(draft=draft(**fields), actor=people.editor)
    assert refused.value.field == field


def test_only_the_npc_office_publishes(people: People) -> None:
    for user in (people.deputy, people.handler, people.citizen):
        with pytest.raises(BulletinError) as refused:
            item_publish(draft=draft(), actor=user)
        assert refused.value.status == 403


def test_publish_page(people: People) -> None:
    client = Client()
    client.force_login(people.editor)
    assert client.get("/bulletins/publish/").status_code == 200
    response = client.post(
        "/bulletins/publish/",
        {
            "section": "learning",
            "category": "training",
            "title": "代表履职培训",
            "body": "第一讲 选题。",
            "tags": "培训",
            "required": "on",
            "videos": [video_upload()],
        },
    )
    item = Item.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/bulletins/items/{item.pk}/"
    assert item.required and item.videos.count() == 1

    refused = client.post(
        "/bulletins/publish/",
        {
            "section": "ezhi",
            "category": "report",
            "title": "x",
            "body": "y",
            "videos": [SimpleUploadedFile("v.mp4", b"%PDF-1.4", "video/mp4")],
        },
    )
    assert refused.status_code == 400
    assert "不是视频" in refused.content.decode()
    assert Item.objects.count() == 1

    deputy = Client()
    deputy.force_login(people.deputy)
    assert deputy.get("/bulletins/publish/").status_code == 403


def test_admin_lists_items_and_readings(people: People, publish: Any) -> None:
    publish()
    people.editor.is_superuser = people.editor.is_staff = True
    people.editor.save()
    client = Client()
    client.force_login(people.editor)
    assert client.get("/admin/bulletins/item/").status_code == 200
    assert client.get("/admin/bulletins/readrecord/").status_code == 200
    assert client.get("/admin/bulletins/item/add/").status_code == 403


def test_orphan_video_files_are_swept(people: People, publish: Any) -> None:
    from datetime import timedelta

    from django.core.files.base import ContentFile

    from civicloop.bulletins.services import videos_sweep_orphans

    item = publish(videos=[video_upload()])
    kept = item.videos.get().file.name
    storage = ItemVideo._meta.get_field("file").storage
    orphan = storage.save("bulletins/videos/2026/01/orphan.webm", ContentFile(b"x"))
    assert videos_sweep_orphans() == []  # too young
    assert videos_sweep_orphans(older_than=timedelta(0)) == [orphan]
    assert storage.exists(kept) and not storage.exists(orphan)
