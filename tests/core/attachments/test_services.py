"""attachment_create / attachments_create_batch against a temporary disk."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from PIL import Image

from civicloop.core.attachments.errors import AttachmentError, AttachmentErrorCode
from civicloop.core.attachments.models import Attachment
from civicloop.core.attachments.services import (
    attachment_create,
    attachment_digest,
    attachments_create_batch,
    attachments_sweep_orphans,
    sanitize_original_name,
)
from tests.core.attachments.conftest import (
    AAC_ADTS,
    M4A,
    MP3_FRAME,
    MP3_ID3,
    OGG_OPUS,
    WEBM,
    image_bytes,
    jpeg_with_gps_and_orientation,
    make_upload,
    noisy_jpeg,
    png_header_only,
    stored_files,
    wav_bytes,
)

pytestmark = pytest.mark.django_db

STORED_NAME = re.compile(
    r"^attachments/\d{4}/\d{2}/\d{2}/[0-9a-f]{32}(_thumb)?\.(jpg|png|webm|ogg|mp3|m4a|aac|wav)$"
)


def reopen(attachment: Attachment) -> Image.Image:
    with attachment.file.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def refused(upload, **kwargs) -> AttachmentError:
    with pytest.raises(AttachmentError) as caught:
        attachment_create(upload=upload, uploaded_by=None, **kwargs)
    return caught.value


# --- photos -----------------------------------------------------------------------


def test_jpeg_is_stored_upright_without_exif_or_gps(media_root: Path) -> None:
    data = jpeg_with_gps_and_orientation()
    with Image.open(io.BytesIO(data)) as original:  # the sample really carries GPS
        assert original.getexif().get_ifd(0x8825)
        assert original.size == (40, 20)

    attachment = attachment_create(
        upload=make_upload("IMG_0001.JPG", data, "image/jpeg"), uploaded_by=None
    )

    assert attachment.kind == Attachment.Kind.PHOTO
    assert attachment.content_type == "image/jpeg"
    image = reopen(attachment)
    assert image.format == "JPEG"
    assert len(image.getexif()) == 0
    assert not image.getexif().get_ifd(0x8825)
    assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp"} & set(image.info)
    raw = Path(media_root, attachment.file.name).read_bytes()
    assert b"Exif" not in raw and b"Apple" not in raw and b"iPhone" not in raw
    # Orientation 6 applied: 40x20 became 20x40, and the left (red) half is now on top.
    assert image.size == (20, 40) == (attachment.width, attachment.height)
    top, bottom = image.convert("RGB").getpixel((10, 5)), image.convert("RGB").getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


def test_stored_name_is_dated_uuid_never_the_users(media_root: Path) -> None:
    attachment = attachment_create(
        upload=make_upload("../../张三\u202e家门口 .jpg", image_bytes("JPEG")), uploaded_by=None
    )
    assert STORED_NAME.match(attachment.file.name)
    assert attachment.pk.hex in attachment.file.name
    assert "张三" not in attachment.file.name
    assert attachment.original_name == "张三家门口 .jpg"
    assert all(p.is_relative_to(media_root) for p in stored_files(media_root))


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("screen.png", image_bytes("PNG")),
        ("photo.webp", image_bytes("WEBP", quality=90)),
        ("wechat.jpg", image_bytes("PNG")),  # mislabelled within its kind: accepted
    ],
)
def test_png_and_webp_are_reencoded_to_jpeg(name: str, raw: bytes) -> None:
    attachment = attachment_create(upload=make_upload(name, raw), uploaded_by=None)
    assert attachment.content_type == "image/jpeg"
    assert attachment.file.name.endswith(".jpg")
    assert reopen(attachment).format == "JPEG"
    assert (attachment.width, attachment.height) == (64, 48)


def test_png_with_transparency_stays_png() -> None:
    image = Image.new("RGBA", (50, 50), (0, 128, 0, 0))
    image.paste((0, 128, 0, 255), (10, 10, 40, 40))
    out = io.BytesIO()
    image.save(out, "PNG")
    attachment = attachment_create(upload=make_upload("logo.png", out.getvalue()), uploaded_by=None)
    assert attachment.content_type == "image/png"
    stored = reopen(attachment)
    assert stored.format == "PNG" and stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 0 and stored.getpixel((25, 25))[3] == 255


def test_heic_is_accepted() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    if not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("this libheif build has no HEVC encoder")
    source = Image.new("RGB", (64, 48), (20, 120, 220))
    out = io.BytesIO()
    pillow_heif.from_pillow(source).save(out, quality=90)
    data = out.getvalue()
    assert data[4:12] in (b"ftypheic", b"ftypmif1")

    attachment = attachment_create(
        upload=make_upload("IMG_1234.HEIC", data, "image/heic"), uploaded_by=None
    )
    assert attachment.content_type == "image/jpeg"
    assert reopen(attachment).size == (64, 48)


def test_heic_orientation_is_applied_once() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    if not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("this libheif build has no HEVC encoder")
    source = Image.new("RGB", (40, 20), (0, 0, 255))
    source.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    source.save(out, "HEIF", exif=exif.tobytes(), quality=90)

    attachment = attachment_create(upload=make_upload("a.heic", out.getvalue()), uploaded_by=None)
    image = reopen(attachment).convert("RGB")
    assert image.size == (20, 40)
    assert image.getpixel((10, 5))[0] > 200 and image.getpixel((10, 35))[2] > 200


def test_thumbnail_is_created() -> None:
    attachment = attachment_create(
        upload=make_upload("big.jpg", image_bytes("JPEG", size=(1000, 600))), uploaded_by=None
    )
    assert attachment.thumbnail
    assert STORED_NAME.match(attachment.thumbnail.name)
    with attachment.thumbnail.open("rb") as handle:
        thumb = Image.open(io.BytesIO(handle.read()))
        assert thumb.format == "JPEG"
        assert thumb.size == (320, 192)


def test_sha256_is_of_the_stored_bytes(media_root: Path) -> None:
    data = jpeg_with_gps_and_orientation()
    attachment = attachment_create(upload=make_upload("a.jpg", data), uploaded_by=None)
    stored = Path(media_root, attachment.file.name).read_bytes()
    assert attachment.sha256 == hashlib.sha256(stored).hexdigest()
    assert attachment.sha256 != hashlib.sha256(data).hexdigest()  # re-encoded
    assert attachment.size == len(stored)
    assert attachment_digest(attachment) == attachment.sha256
    assert Attachment.objects.get(sha256=attachment.sha256) == attachment


def test_uploader_is_recorded(django_user_model) -> None:
    user = django_user_model.objects.create_user(username="clerk", password="x" * 12)
    attachment = attachment_create(upload=make_upload("a.jpg", image_bytes()), uploaded_by=user)
    attachment.refresh_from_db()
    assert attachment.uploaded_by == user


# --- refusals ----------------------------------------------------------------------


def test_pdf_renamed_jpg_is_refused(media_root: Path) -> None:
    error = refused(make_upload("现场照片.jpg", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "image/jpeg"))
    assert error.code is AttachmentErrorCode.CONTENT_MISMATCH
    assert error.message == "文件内容与扩展名不符：文件名是 .jpg，内容却是 PDF，请上传真实的照片"
    assert str(error) == error.message
    assert stored_files(media_root) == []
    assert not Attachment.objects.exists()


def test_text_renamed_mp3_is_refused(media_root: Path) -> None:
    error = refused(make_upload("语音.mp3", "这不是录音，只是文字。\n".encode(), "audio/mpeg"))
    assert error.code is AttachmentErrorCode.CONTENT_MISMATCH
    assert "文件名是 .mp3" in error.message
    assert stored_files(media_root) == []


def test_truncated_jpeg_is_refused(media_root: Path) -> None:
    data = noisy_jpeg()
    error = refused(make_upload("cut.jpg", data[: len(data) // 2]))
    assert error.code is AttachmentErrorCode.CORRUPT_IMAGE
    assert error.message.startswith("图片已损坏，无法读取")
    assert stored_files(media_root) == []


def test_oversize_is_refused_before_reading(media_root: Path) -> None:
    data = b"\xff\xd8\xff\xe0" + b"\x00" * (10 * 1024 * 1024)
    error = refused(make_upload("huge.jpg", data))
    assert error.code is AttachmentErrorCode.TOO_LARGE
    assert error.message.startswith("照片过大（最大 10 MB）")
    assert stored_files(media_root) == []


def test_oversize_limit_follows_settings(settings) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    error = refused(make_upload("long.wav", wav_bytes(seconds=70)))
    assert error.code is AttachmentErrorCode.TOO_LARGE
    assert error.message.startswith("录音过大（最大 1 MB）")


@pytest.mark.parametrize(
    "data",
    [
        png_header_only(50_000, 50_000),  # over Pillow's own bomb limit
        image_bytes("PNG", size=(7000, 6000), mode="1"),  # real, 42 MP, tiny file
    ],
    ids=["2.5-gigapixel-header", "42-megapixel-png"],
)
def test_decompression_bomb_is_refused(data: bytes, media_root: Path) -> None:
    assert len(data) < 200_000
    error = refused(make_upload("bomb.png", data))
    assert error.code is AttachmentErrorCode.IMAGE_TOO_MANY_PIXELS
    assert error.message == "照片尺寸过大（最多 4000 万像素），请缩小后再上传"
    assert stored_files(media_root) == []


def test_gif_is_refused() -> None:
    error = refused(make_upload("a.gif", image_bytes("GIF")))
    assert error.code is AttachmentErrorCode.UNSUPPORTED_TYPE


def test_empty_file_is_refused() -> None:
    assert refused(make_upload("a.jpg", b"")).code is AttachmentErrorCode.EMPTY


def test_kind_not_allowed() -> None:
    error = refused(make_upload("a.wav", wav_bytes()), allowed_kinds=frozenset({"photo"}))
    assert error.code is AttachmentErrorCode.KIND_NOT_ALLOWED
    assert error.message == "此处只能上传照片"


# --- voice notes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type", "data", "expected_type"),
    [
        ("语音.wav", "audio/wav", wav_bytes(), "audio/wav"),
        ("blob", "video/webm", WEBM, "audio/webm"),  # MediaRecorder in Chrome
        ("voice.ogg", "audio/ogg", OGG_OPUS, "audio/ogg"),
        ("voice.mp3", "audio/mpeg", MP3_ID3, "audio/mpeg"),
        ("voice.mp3", "audio/mpeg", MP3_FRAME, "audio/mpeg"),
        ("voice.m4a", "audio/x-m4a", M4A, "audio/mp4"),  # iOS Safari
        ("voice.aac", "audio/aac", AAC_ADTS, "audio/aac"),
    ],
)
def test_voice_notes_are_stored_as_is(
    name: str, content_type: str, data: bytes, expected_type: str, media_root: Path
) -> None:
    attachment = attachment_create(
        upload=make_upload(name, data, content_type),
        uploaded_by=None,
        allowed_kinds=frozenset({"voice"}),
    )
    assert attachment.kind == Attachment.Kind.VOICE
    assert attachment.content_type == expected_type
    assert STORED_NAME.match(attachment.file.name)
    assert not attachment.thumbnail
    assert attachment.width is None and attachment.height is None
    assert Path(media_root, attachment.file.name).read_bytes() == data
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()


def test_wav_without_data_chunk_is_refused(media_root: Path) -> None:
    data = wav_bytes()
    broken = data[:36]  # RIFF header and fmt chunk, no data chunk
    error = refused(make_upload("a.wav", broken))
    assert error.code is AttachmentErrorCode.CORRUPT_AUDIO
    assert stored_files(media_root) == []


# --- batches -----------------------------------------------------------------------


def test_batch_stores_all(media_root: Path) -> None:
    uploads = [
        make_upload("a.jpg", image_bytes("JPEG")),
        make_upload("b.png", image_bytes("PNG")),
        make_upload("c.wav", wav_bytes()),
    ]
    attachments = attachments_create_batch(uploads=uploads, uploaded_by=None)
    assert [a.original_name for a in attachments] == ["a.jpg", "b.png", "c.wav"]
    assert Attachment.objects.count() == 3
    assert len(stored_files(media_root)) == 5  # two photos with thumbnails, one voice


def test_batch_of_ten_is_refused(media_root: Path) -> None:
    uploads = [make_upload(f"{i}.jpg", image_bytes()) for i in range(10)]
    with pytest.raises(AttachmentError) as caught:
        attachments_create_batch(uploads=uploads, uploaded_by=None)
    assert caught.value.code is AttachmentErrorCode.TOO_MANY
    assert caught.value.message == "最多上传 9 个文件"
    assert stored_files(media_root) == []


def test_batch_of_nine_is_accepted() -> None:
    uploads = [make_upload(f"{i}.jpg", image_bytes()) for i in range(9)]
    assert len(attachments_create_batch(uploads=uploads, uploaded_by=None)) == 9


def test_batch_empty() -> None:
    assert attachments_create_batch(uploads=[], uploaded_by=None) == []


def test_batch_with_a_lie_stores_nothing(media_root: Path) -> None:
    uploads = [
        make_upload("a.jpg", image_bytes("JPEG")),
        make_upload("b.png", image_bytes("PNG")),
        make_upload("c.jpg", b"%PDF-1.4\n"),
    ]
    with pytest.raises(AttachmentError) as caught:
        attachments_create_batch(uploads=uploads, uploaded_by=None)
    assert caught.value.code is AttachmentErrorCode.CONTENT_MISMATCH
    assert stored_files(media_root) == []
    assert not Attachment.objects.exists()


def test_batch_storage_failure_removes_earlier_files(monkeypatch, media_root: Path) -> None:
    real_save = FileSystemStorage._save
    calls = {"n": 0}

    def failing_save(self, name, content):
        calls["n"] += 1
        if calls["n"] == 4:  # photo 1 + thumb, photo 2 + thumb, then the voice note
            raise OSError("disk full")
        return real_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", failing_save)
    uploads = [
        make_upload("a.jpg", image_bytes("JPEG")),
        make_upload("b.jpg", image_bytes("JPEG")),
        make_upload("c.wav", wav_bytes()),
    ]
    with pytest.raises(AttachmentError) as caught:
        attachments_create_batch(uploads=uploads, uploaded_by=None)
    assert caught.value.code is AttachmentErrorCode.STORAGE_FAILED
    assert calls["n"] == 4
    assert stored_files(media_root) == []
    assert not Attachment.objects.exists()


def test_batch_database_failure_removes_files(monkeypatch, media_root: Path) -> None:
    real_save = Attachment.save
    calls = {"n": 0}

    def failing_save(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("database went away")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Attachment, "save", failing_save)
    uploads = [make_upload("a.jpg", image_bytes()), make_upload("b.wav", wav_bytes())]
    with pytest.raises(RuntimeError):
        attachments_create_batch(uploads=uploads, uploaded_by=None)
    assert stored_files(media_root) == []
    assert not Attachment.objects.exists()


def test_caller_rollback_leaves_files_for_the_sweep(media_root: Path) -> None:
    kept = attachment_create(upload=make_upload("kept.jpg", image_bytes()), uploaded_by=None)
    with pytest.raises(RuntimeError), transaction.atomic():
        attachments_create_batch(
            uploads=[make_upload("a.jpg", image_bytes()), make_upload("b.wav", wav_bytes())],
            uploaded_by=None,
        )
        raise RuntimeError("the caller's case could not be saved")
    assert Attachment.objects.get() == kept
    assert len(stored_files(media_root)) == 2 + 3

    # Inside the grace period nothing is touched: the rows may still be in flight.
    assert attachments_sweep_orphans(older_than=timedelta(hours=1)) == []
    would = attachments_sweep_orphans(older_than=timedelta(0), dry_run=True)
    assert len(would) == 3 and len(stored_files(media_root)) == 5

    deleted = attachments_sweep_orphans(older_than=timedelta(0))
    assert sorted(deleted) == sorted(would)
    assert sorted(str(p.relative_to(media_root)) for p in stored_files(media_root)) == sorted(
        [kept.file.name, kept.thumbnail.name]
    )


def test_sweep_with_nothing_stored() -> None:
    assert attachments_sweep_orphans(older_than=timedelta(0)) == []


def test_sanitize_original_name() -> None:
    assert sanitize_original_name("C:\\Users\\张三\\Desktop\\现场.jpg") == "现场.jpg"
    assert sanitize_original_name("a\x00b\r\n<c>.jpg") == "abc.jpg"
    assert sanitize_original_name("   ") == ""
    assert sanitize_original_name(None) == ""
    long = sanitize_original_name("长" * 500 + ".jpeg")
    assert len(long) == 200 and long.endswith(".jpeg")
