"""Photos: decoded by Pillow, turned upright, and re-encoded without any metadata.

A citizen's phone photo carries GPS coordinates of their home, the phone model and the
time it was taken. None of that may reach storage, so we never store the uploaded bytes:
we decode the pixels and write a fresh file from pixels alone. Re-encoding also defuses
malformed files aimed at image viewers, since what we serve was written by Pillow.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Final, cast

import pillow_heif
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageCms, ImageOps

from civicloop.core.attachments import sniffing
from civicloop.core.attachments.errors import AttachmentError, AttachmentErrorCode

# HEIC/HEIF is what iPhones shoot; the opener makes Image.open understand it.
pillow_heif.register_heif_opener()

DEFAULT_MAX_PIXELS: Final = 40_000_000
JPEG_QUALITY: Final = 85
THUMBNAIL_SIZE: Final = 320

# Which Pillow decoder may read each sniffed format. Passing only that one to
# Image.open means a crafted file can never reach an unrelated, less-tested decoder.
_PILLOW_FORMATS: Final = {
    sniffing.JPEG.name: "JPEG",
    sniffing.PNG.name: "PNG",
    sniffing.WEBP.name: "WEBP",
    sniffing.HEIC.name: "HEIF",
}


@dataclass(frozen=True, slots=True)
class ProcessedPhoto:
    """A photo ready to store: clean bytes, their format and size, and a thumbnail."""

    data: bytes
    fmt: sniffing.FileFormat  # JPEG, or PNG when transparency must be kept
    width: int
    height: int
    thumbnail: bytes  # always JPEG


def max_pixels() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def _corrupt() -> AttachmentError:
    return AttachmentError(
        AttachmentErrorCode.CORRUPT_IMAGE,
        _("图片已损坏，无法读取，请重新拍摄或选择其他照片"),
    )


def _too_many_pixels(limit: int) -> AttachmentError:
    return AttachmentError(
        AttachmentErrorCode.IMAGE_TOO_MANY_PIXELS,
        _("照片尺寸过大（最多 %(megapixels)d 万像素），请缩小后再上传"),
        megapixels=limit // 10_000,
    )


def _has_transparency(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        alpha = image.convert("RGBA").getchannel("A")
        # A single-band image's extrema are (min, max).
        low, _high = cast(tuple[int, int], alpha.getextrema())
        return low < 255
    return False


def _to_srgb(image: Image.Image, mode: str) -> Image.Image:
    """Convert to `mode` in sRGB, so the file can be written without an ICC profile.

    Browsers assume sRGB when there is no profile; a Display P3 or Adobe RGB photo is
    converted rather than shown with wrong colours. The profile itself is never copied:
    it is metadata, and an embedded profile can name the device that made the photo.
    """
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.createProfile("sRGB")
            if image.mode == "L":
                image = image.convert("RGB")
            converted = ImageCms.profileToProfile(image, source, srgb, outputMode=mode)
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            # A broken profile is not worth refusing the photo over; colours may be off.
            pass
    return image.convert(mode)


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image holding the same pixels and nothing else: no info, no EXIF, no XMP."""
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _thumbnail(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    if thumb.mode == "RGBA":
        background = Image.new("RGB", thumb.size, (255, 255, 255))
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    out = io.BytesIO()
    thumb.convert("RGB").save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def process_photo(data: bytes, fmt: sniffing.FileFormat) -> ProcessedPhoto:
    """Decode `data` (already sniffed as `fmt`), refuse it if it is broken or too big,
    and return a metadata-free, upright re-encoding plus a thumbnail.

    Guarantees: the result has no EXIF (so no GPS), XMP, comments or ICC profile; EXIF
    orientation has been applied to the pixels; the pixel count was checked from the
    header before any pixel was decoded.
    """
    pillow_format = _PILLOW_FORMATS.get(fmt.name)
    if pillow_format is None:
        raise _corrupt()
    limit = max_pixels()
    try:
        with Image.open(io.BytesIO(data), formats=[pillow_format]) as opened:
            # Image.open reads only the header; check the size before decoding pixels so
            # a tiny file that inflates to gigabytes is refused cheaply.
            width, height = opened.size
            if width <= 0 or height <= 0:
                raise _corrupt()
            if width * height > limit:
                raise _too_many_pixels(limit)
            # Animated WebP/PNG: the first frame is the photo.
            opened.seek(0)
            opened.load()
            upright = ImageOps.exif_transpose(opened) or opened
            keep_alpha = _has_transparency(upright)
            if keep_alpha:
                clean = _pixels_only(_to_srgb(upright, "RGBA"))
            else:
                clean = _pixels_only(_to_srgb(upright, "RGB"))
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(limit) from exc
    except AttachmentError:
        raise
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        struct.error,
        RuntimeError,
        MemoryError,
    ) as exc:
        # Pillow reports truncated and malformed files as OSError/SyntaxError/ValueError;
        # pillow_heif reports libheif failures as RuntimeError/ValueError.
        raise _corrupt() from exc

    out = io.BytesIO()
    if keep_alpha:
        clean.save(out, "PNG", optimize=True)
        stored_format = sniffing.PNG
    else:
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        stored_format = sniffing.JPEG
    return ProcessedPhoto(
        data=out.getvalue(),
        fmt=stored_format,
        width=clean.width,
        height=clean.height,
        thumbnail=_thumbnail(clean),
    )
