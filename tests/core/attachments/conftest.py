"""Fixtures for attachment tests: files on a temporary disk, and sample uploads."""

from __future__ import annotations

import io
import random
import struct
import wave
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

Upload = Callable[..., SimpleUploadedFile]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    """Every test writes to its own directory through FileSystemStorage, whatever the
    environment says about S3."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    settings.ATTACHMENT_MAX_COUNT = 9
    return root


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def make_upload(name: str, data: bytes, content_type: str = "") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (64, 48), mode: str = "RGB", **save: object
) -> bytes:
    image = Image.new(mode, size, (200, 30, 30) if mode == "RGB" else None)
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def noisy_jpeg(size: tuple[int, int] = (300, 300)) -> bytes:
    rng = random.Random(42)
    image = Image.frombytes(
        "RGB", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3))
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def jpeg_with_gps_and_orientation() -> bytes:
    """40x20, left half red, right half blue, EXIF orientation 6 (rotate 90° clockwise
    to display), camera make and a GPS position."""
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 15"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (28.0, 22.0, 12.5),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (121.0, 23.0, 4.0),
    }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and IHDR claiming huge dimensions, then an empty IDAT and IEND."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def wav_bytes(seconds: float = 0.2, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\x00\x01" * int(seconds * rate))
    return out.getvalue()


# Minimal but well-formed starts of each voice format: enough for the sniffer, which is
# all the service checks for these formats.
OGG_OPUS = (
    b"OggS\x00\x02"
    + b"\x00" * 8
    + b"\x01\x00\x00\x00"
    + b"\x00" * 8
    + b"\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"
)
WEBM = bytes.fromhex(
    "1a45dfa39f4286810142f7810142f2810442f381084282847765626d42878104428581021853806701"
)
MP3_ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes.fromhex("fffb9064") + b"\x00" * 200
MP3_FRAME = bytes.fromhex("fffb9064") + b"\x00" * 400
M4A = (
    struct.pack(">I", 28) + b"ftypM4A \x00\x00\x00\x00M4A mp42isom" + struct.pack(">I", 8) + b"free"
)
AAC_ADTS = bytes.fromhex("fff15080021ffc") + b"\x00" * 64


@pytest.fixture
def upload() -> Upload:
    return make_upload
