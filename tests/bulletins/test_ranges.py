"""Video served with HTTP range requests, to deputies and staff only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from civicloop.bulletins.ranges import Unsatisfiable, range_parse
from tests.bulletins.conftest import DATA, People, video_upload

pytestmark = pytest.mark.django_db

CLIP = (DATA / "clip.webm").read_bytes()


def test_range_parse() -> None:
    assert range_parse("bytes=0-99", 1000) == (0, 99)
    assert range_parse("bytes=900-", 1000) == (900, 999)
    assert range_parse("bytes=-100", 1000) == (900, 999)
    assert range_parse("bytes=-5000", 1000) == (0, 999)
    assert range_parse("bytes=990-2000", 1000) == (990, 999)
    assert range_parse("bytes=0-1,5-9", 1000) is None  # several ranges: whole file
    assert range_parse("items=0-1", 1000) is None
    assert range_parse("bytes=9-1", 1000) is None
    with pytest.raises(Unsatisfiable):
        range_parse("bytes=1000-", 1000)
    with pytest.raises(Unsatisfiable):
        range_parse("bytes=-0", 1000)


@pytest.fixture
def video_url(people: People, publish: Any) -> str:
    item = publish(
        title="履职培训课程", section="learning", category="training", videos=[video_upload()]
    )
    return f"/bulletins/media/video/{item.videos.get().pk}/"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_whole_video_and_a_range(people: People, video_url: str) -> None:
    client = _client(people.deputy)
    whole = client.get(video_url)
    assert whole.status_code == 200
    assert whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Type"] == "video/webm"
    assert whole["X-Content-Type-Options"] == "nosniff"
    assert b"".join(whole.streaming_content) == CLIP

    part = client.get(video_url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(CLIP)}"
    assert part["Content-Length"] == "100"
    assert b"".join(part.streaming_content) == CLIP[100:200]

    tail = client.get(video_url, HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206
    assert b"".join(tail.streaming_content) == CLIP[-10:]

    head = client.head(video_url, HTTP_RANGE="bytes=0-")
    assert head.status_code == 206 and head["Content-Length"] == str(len(CLIP))


def test_a_range_past_the_end_is_416(people: People, video_url: str) -> None:
    response = _client(people.deputy).get(video_url, HTTP_RANGE=f"bytes={len(CLIP)}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(CLIP)}"


def test_a_stale_if_range_gets_the_whole_file(people: People, video_url: str) -> None:
    client = _client(people.deputy)
    etag = client.head(video_url)["ETag"]
    fresh = client.get(video_url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert fresh.status_code == 206
    stale = client.get(video_url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"other"')
    assert stale.status_code == 200


def test_only_deputies_and_staff_get_the_video(people: People, video_url: str) -> None:
    assert Client().get(video_url).status_code == 302  # to sign in
    assert _client(people.citizen).get(video_url).status_code == 403
    assert _client(people.outsider).get(video_url).status_code == 403
    assert _client(people.handler).get(video_url, HTTP_RANGE="bytes=0-9").status_code == 206
    missing = video_url.rsplit("/", 2)[0] + "/00000000-0000-0000-0000-000000000000/"
    assert _client(people.deputy).get(missing).status_code == 404


def test_images_and_pdfs_are_served_to_readers_only(people: People, publish: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.bulletins.conftest import pdf_bytes, png_bytes

    pdf = pdf_bytes()
    item = publish(
        images=[SimpleUploadedFile("a.png", png_bytes(), "image/png")],
        documents=[SimpleUploadedFile("b.pdf", pdf, "application/pdf")],
    )
    files = {f.attachment.kind: f.attachment_id for f in item.files.all()}
    deputy = _client(people.deputy)
    document = deputy.get(f"/bulletins/media/file/{files['document']}/", HTTP_RANGE="bytes=0-4")
    assert document.status_code == 206 and b"".join(document.streaming_content) == b"%PDF-"
    thumb = deputy.get(f"/bulletins/media/file/{files['photo']}/?thumb=1")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert (
        _client(people.citizen).get(f"/bulletins/media/file/{files['photo']}/").status_code == 403
    )
    # A core attachment that belongs to no item is not served here.
    from civicloop.core.attachments.services import attachment_create

    other = attachment_create(
        upload=SimpleUploadedFile("c.png", png_bytes(), "image/png"), uploaded_by=None
    )
    assert deputy.get(f"/bulletins/media/file/{other.pk}/").status_code == 404
    page = deputy.get(f"/bulletins/items/{item.pk}/").content.decode()
    assert f"/bulletins/media/file/{files['document']}/" in page
