"""Content detection by magic bytes and the lie check, without storage or database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicloop.core.attachments import sniffing
from civicloop.core.attachments.errors import AttachmentError, AttachmentErrorCode
from tests.core.attachments.conftest import (
    AAC_ADTS,
    M4A,
    MP3_FRAME,
    MP3_ID3,
    OGG_OPUS,
    WEBM,
    image_bytes,
    wav_bytes,
)


def heif_header(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00" * 16


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (image_bytes("JPEG"), sniffing.JPEG),
        (image_bytes("PNG"), sniffing.PNG),
        (image_bytes("WEBP"), sniffing.WEBP),
        (image_bytes("GIF"), sniffing.GIF),
        (heif_header(b"heic", b"mif1", b"heic"), sniffing.HEIC),
        (heif_header(b"heix", b"mif1"), sniffing.HEIC),
        (heif_header(b"mif1", b"heic"), sniffing.HEIC),
        (heif_header(b"msf1", b"hevc"), sniffing.HEIC),
        (heif_header(b"avif", b"mif1"), sniffing.AVIF),
        (heif_header(b"mif1", b"avif"), sniffing.AVIF),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", sniffing.PDF),
        (WEBM, sniffing.WEBM),
        (OGG_OPUS, sniffing.OGG),
        (MP3_ID3, sniffing.MP3),
        (MP3_FRAME, sniffing.MP3),
        (M4A, sniffing.M4A),
        (heif_header(b"isom", b"iso2", b"mp41"), sniffing.M4A),
        (AAC_ADTS, sniffing.AAC),
        (wav_bytes(), sniffing.WAV),
        (b"hello, this is plain text\n", None),
        (b"", None),
        (b"RIFF\x00\x00\x00\x00AVI LIST", None),
        (heif_header(b"crx "), None),
        (b"\xff\xd9\x00\x00", None),  # JPEG end marker, not a start
    ],
)
def test_sniff(head: bytes, expected: sniffing.FileFormat | None) -> None:
    assert sniffing.sniff(head[: sniffing.HEAD_BYTES]) is expected


def test_pdf_named_jpg_is_a_lie() -> None:
    with pytest.raises(AttachmentError) as caught:
        sniffing.check_claims(fmt=sniffing.PDF, filename="现场.JPG", content_type="image/jpeg")
    assert caught.value.code is AttachmentErrorCode.CONTENT_MISMATCH
    assert (
        caught.value.message
        == "文件内容与扩展名不符：文件名是 .jpg，内容却是 PDF，请上传真实的照片"
    )


def test_declared_type_of_another_kind_is_a_lie() -> None:
    with pytest.raises(AttachmentError) as caught:
        sniffing.check_claims(fmt=sniffing.JPEG, filename="blob", content_type="audio/webm")
    assert caught.value.code is AttachmentErrorCode.CONTENT_MISMATCH
    assert "JPEG" in caught.value.message


def test_same_kind_mislabel_is_accepted() -> None:
    # WeChat saves PNG screenshots as .jpg; the stored name comes from the content anyway.
    assert (
        sniffing.check_claims(fmt=sniffing.PNG, filename="a.jpg", content_type="image/jpeg")
        is sniffing.PNG
    )
    # MediaRecorder uploads are often nameless and labelled video/webm.
    assert (
        sniffing.check_claims(fmt=sniffing.WEBM, filename="blob", content_type="video/webm")
        is sniffing.WEBM
    )
    assert (
        sniffing.check_claims(
            fmt=sniffing.M4A, filename="语音", content_type="application/octet-stream"
        )
        is sniffing.M4A
    )


def test_gif_refused_by_name() -> None:
    with pytest.raises(AttachmentError) as caught:
        sniffing.check_claims(fmt=sniffing.GIF, filename="a.gif", content_type="image/gif")
    assert caught.value.code is AttachmentErrorCode.UNSUPPORTED_TYPE
    assert "GIF" in caught.value.message


@pytest.mark.parametrize("fmt", [sniffing.PDF, sniffing.AVIF, None])
def test_unrecognised_or_refused_formats(fmt: sniffing.FileFormat | None) -> None:
    with pytest.raises(AttachmentError) as caught:
        sniffing.check_claims(fmt=fmt, filename="file.bin", content_type="")
    assert caught.value.code is AttachmentErrorCode.UNSUPPORTED_TYPE
    assert caught.value.message.startswith("不支持的文件类型")


def test_text_named_mp3() -> None:
    with pytest.raises(AttachmentError) as caught:
        sniffing.check_claims(fmt=None, filename="voice.mp3", content_type="audio/mpeg")
    assert caught.value.code is AttachmentErrorCode.CONTENT_MISMATCH
    assert caught.value.message == (
        "文件内容与扩展名不符：文件名是 .mp3，内容却不是可识别的录音，请上传真实的录音"
    )


@given(st.binary(max_size=sniffing.HEAD_BYTES), st.text(max_size=40), st.text(max_size=40))
def test_never_crashes(head: bytes, filename: str, content_type: str) -> None:
    fmt = sniffing.sniff(head)
    try:
        accepted = sniffing.check_claims(fmt=fmt, filename=filename, content_type=content_type)
    except AttachmentError as exc:
        assert exc.message
    else:
        assert accepted is fmt and accepted.accepted
