"""What a file really is, from its first bytes, and whether its name or declared type lies.

The file name and the browser's Content-Type are claims made by the client; only the
magic bytes at the start of the content are evidence. We recognise the formats a phone
produces for photos and voice notes, plus a few formats (PDF, GIF, AVIF) only so that we
can name them in a refusal. No python-magic: the list is short, and a pure-Python table
is easy to audit.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
from dataclasses import dataclass
from typing import Final, NoReturn

from django.utils.translation import gettext_lazy as _

from civicloop.core.attachments.errors import AttachmentError, AttachmentErrorCode

PHOTO: Final = "photo"
VOICE: Final = "voice"
DOCUMENT: Final = "document"

# Enough for every signature below (an ftyp box with its compatible brands, an EBML
# header with its DocType).
HEAD_BYTES: Final = 128


@dataclass(frozen=True, slots=True)
class FileFormat:
    """One recognised format: how we store it and which names honestly carry it."""

    name: str  # internal identifier, e.g. "jpeg"
    label: str  # shown to people, e.g. "JPEG"
    kind: str  # PHOTO, VOICE or DOCUMENT
    mime: str  # the content type we store and serve
    extension: str  # the extension we give the stored file
    extensions: frozenset[str]  # extensions a truthful file name may have
    accepted: bool = True  # False: recognised only to be refused by name


def _fmt(
    name: str,
    label: str,
    kind: str,
    mime: str,
    extensions: tuple[str, ...],
    *,
    accepted: bool = True,
) -> FileFormat:
    return FileFormat(name, label, kind, mime, extensions[0], frozenset(extensions), accepted)


JPEG = _fmt("jpeg", "JPEG", PHOTO, "image/jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"))
PNG = _fmt("png", "PNG", PHOTO, "image/png", (".png",))
WEBP = _fmt("webp", "WebP", PHOTO, "image/webp", (".webp",))
HEIC = _fmt("heic", "HEIC", PHOTO, "image/heic", (".heic", ".heif", ".hif"))
# GIF is refused: phones never take photos as GIF, animated GIFs would be flattened to
# one frame without warning, and the 256-colour palette is useless as evidence.
GIF = _fmt("gif", "GIF", PHOTO, "image/gif", (".gif",), accepted=False)
AVIF = _fmt("avif", "AVIF", PHOTO, "image/avif", (".avif",), accepted=False)
PDF = _fmt("pdf", "PDF", DOCUMENT, "application/pdf", (".pdf",))
DOCX = _fmt(
    "docx",
    "Word (DOCX)",
    DOCUMENT,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
)
XLSX = _fmt(
    "xlsx",
    "Excel (XLSX)",
    DOCUMENT,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    (".xlsx",),
)
TEXT = _fmt("text", "TXT", DOCUMENT, "text/plain", (".txt", ".text", ".log"))
CSV = _fmt("csv", "CSV", DOCUMENT, "text/csv", (".csv",))
# Any other ZIP (a .docm, a plain archive): recognised only to be refused by name.
ZIP = _fmt("zip", "ZIP", DOCUMENT, "application/zip", (".zip",), accepted=False)
WEBM = _fmt("webm", "WebM", VOICE, "audio/webm", (".webm", ".weba", ".mka", ".mkv"))
OGG = _fmt("ogg", "Ogg", VOICE, "audio/ogg", (".ogg", ".oga", ".opus"))
MP3 = _fmt("mp3", "MP3", VOICE, "audio/mpeg", (".mp3",))
M4A = _fmt("m4a", "M4A", VOICE, "audio/mp4", (".m4a", ".mp4", ".aac", ".3gp"))
AAC = _fmt("aac", "AAC", VOICE, "audio/aac", (".aac", ".adts"))
WAV = _fmt("wav", "WAV", VOICE, "audio/wav", (".wav", ".wave"))

FORMATS: Final = (
    JPEG, PNG, WEBP, HEIC, GIF, AVIF, PDF, DOCX, XLSX, TEXT, CSV, ZIP,
    WEBM, OGG, MP3, M4A, AAC, WAV,
)  # fmt: skip

# Extensions that claim a kind without being a format we recognise by content: a
# "photo.txt" or a "voice.amr" still says what its sender believed it was.
_OTHER_EXTENSIONS: Final = {
    PHOTO: frozenset({".bmp", ".tif", ".tiff", ".svg", ".ico", ".raw", ".dng", ".cr2"}),
    VOICE: frozenset({".amr", ".wma", ".flac", ".silk", ".slk", ".caf", ".aiff", ".aif"}),
    DOCUMENT: frozenset(
        {".txt", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".rar", ".7z",
         ".exe", ".apk", ".html", ".htm", ".js", ".csv", ".json", ".xml", ".rtf"}
    ),
}  # fmt: skip

_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
_MP4_AUDIO_BRANDS: Final = frozenset(
    {b"M4A ", b"M4B ", b"M4P ", b"isom", b"iso2", b"iso5", b"iso6", b"mp41", b"mp42",
     b"dash", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"3g2b", b"qt  "}
)  # fmt: skip

KIND_LABELS: Final = {PHOTO: _("照片"), VOICE: _("录音"), DOCUMENT: _("文档")}


def _ftyp_brands(head: bytes) -> list[bytes]:
    """Major brand first, then the compatible brands of an ISO-BMFF `ftyp` box."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return []
    (box_size,) = struct.unpack(">I", head[:4])
    end = min(box_size, len(head)) if box_size >= 16 else 12
    brands = [head[8:12]]
    # Bytes 12..16 are the minor version; compatible brands follow, four bytes each.
    brands.extend(head[i : i + 4] for i in range(16, end - 3, 4))
    return brands


def _is_mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG-1/2/2.5 layer I-III frame header (what an MP3 without ID3 starts with)."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0b11
    # 01 is a reserved version; layer 00 is ADTS (AAC), not MPEG audio.
    return version != 0b01 and layer != 0b00 and bitrate != 0b1111 and sample_rate != 0b11


def _is_adts(head: bytes) -> bool:
    return len(head) >= 7 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0


def sniff(head: bytes) -> FileFormat | None:
    """The format the content's first bytes prove, or None when we do not recognise it."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return ZIP
    if head.startswith(b"RIFF") and len(head) >= 12:
        if head[8:12] == b"WEBP":
            return WEBP
        if head[8:12] == b"WAVE":
            return WAV
        return None
    brands = _ftyp_brands(head)
    if brands:
        # AVIF files also list mif1, so it is checked before the HEIF brands.
        if any(b in _AVIF_BRANDS for b in brands):
            return AVIF
        if brands[0] in _HEIF_BRANDS:
            return HEIC
        if brands[0] in _MP4_AUDIO_BRANDS:
            return M4A
        if any(b in _HEIF_BRANDS for b in brands):
            return HEIC
        return None
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return WEBM
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"ID3") and len(head) >= 10 and head[3] in (2, 3, 4):
        return MP3
    if _is_mpeg_audio_frame(head):
        return MP3
    if _is_adts(head):
        return AAC
    return None


def extension_of(filename: str) -> str:
    """The lower-case extension of a client file name ('' when it has none)."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return os.path.splitext(base)[1].lower()


def kind_of_extension(extension: str) -> str | None:
    """Which kind a file-name extension claims, or None when it claims nothing we know."""
    for fmt in FORMATS:
        if extension in fmt.extensions:
            return fmt.kind
    for kind, extensions in _OTHER_EXTENSIONS.items():
        if extension in extensions:
            return kind
    return None


def kind_of_content_type(content_type: str) -> str | None:
    """Which kind a declared Content-Type claims; None for the generic ones browsers
    send when they do not know (application/octet-stream, empty)."""
    main = content_type.split(";", 1)[0].strip().lower()
    if main.startswith("image/"):
        return PHOTO
    # MediaRecorder labels audio-only recordings video/webm or video/mp4 in some browsers.
    if main.startswith("audio/") or main in {"video/webm", "video/mp4", "video/ogg"}:
        return VOICE
    if main.startswith("text/") or main in {"application/pdf", "application/zip"}:
        return DOCUMENT
    if main.startswith(("application/vnd.", "application/msword")):
        return DOCUMENT
    return None


def check_claims(
    *, fmt: FileFormat | None, filename: str, content_type: str, documents: bool = False
) -> FileFormat:
    """Return the sniffed format if the name and declared type are truthful about it.

    Refuses content we do not recognise, formats we recognise only to refuse (GIF, AVIF,
    and documents unless `documents` says the caller takes them), and any file whose extension or declared type claims a different *kind* than
    the content (a PDF named .jpg, a text file named .mp3). A claim of a different format
    of the same kind (a PNG named .jpg, as WeChat often saves them) is accepted: photos
    are decoded and re-encoded by content, and the stored name and type come from the
    content, so that harmless mislabel does not survive and refusing it would only turn
    away honest citizens.
    """
    extension = extension_of(filename)
    claimed = kind_of_extension(extension)
    declared = kind_of_content_type(content_type)
    if fmt is None:
        if claimed in (PHOTO, VOICE):
            raise AttachmentError(
                AttachmentErrorCode.CONTENT_MISMATCH,
                _(
                    "文件内容与扩展名不符：文件名是 %(extension)s，内容却不是可识别的%(kind)s，"
                    "请上传真实的%(kind)s"
                ),
                extension=extension,
                kind=KIND_LABELS[claimed],
            )
        raise_unsupported(documents=documents)
    if claimed is not None and claimed != fmt.kind:
        raise AttachmentError(
            AttachmentErrorCode.CONTENT_MISMATCH,
            _(
                "文件内容与扩展名不符：文件名是 %(extension)s，内容却是 %(actual)s，"
                "请上传真实的%(kind)s"
            ),
            extension=extension,
            actual=fmt.label,
            kind=KIND_LABELS[claimed],
        )
    if declared is not None and declared != fmt.kind:
        raise AttachmentError(
            AttachmentErrorCode.CONTENT_MISMATCH,
            _("文件内容与声明的类型不符：声明是%(declared)s，内容却是 %(actual)s，请重新选择文件"),
            declared=KIND_LABELS[declared],
            actual=fmt.label,
        )
    if fmt is GIF:
        raise AttachmentError(
            AttachmentErrorCode.UNSUPPORTED_TYPE,
            _("不支持 GIF 动图，请上传照片（JPEG、PNG、WebP、HEIC）"),
        )
    if not fmt.accepted or (fmt.kind == DOCUMENT and not documents):
        raise_unsupported(documents=documents)
    return fmt


def raise_unsupported(*, documents: bool = False) -> NoReturn:
    if documents:
        raise AttachmentError(
            AttachmentErrorCode.UNSUPPORTED_TYPE,
            _("不支持的文件类型，请上传照片、录音或文档（PDF、Word .docx、Excel .xlsx、TXT、CSV）"),
        )
    raise AttachmentError(
        AttachmentErrorCode.UNSUPPORTED_TYPE,
        _(
            "不支持的文件类型，请上传照片（JPEG、PNG、WebP、HEIC）或录音（MP3、M4A、WAV、Ogg、WebM）"
        ),
    )


# --------------------------------------------------------------------------- documents

# The main part's content type in [Content_Types].xml (ECMA-376 Part 2, §10.1.2.2).
_OOXML_MAIN: Final = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}
# A [Content_Types].xml is a few KB; a bigger one is not an Office file we want to read
# (and its declared size bounds what we decompress).
_CONTENT_TYPES_MAX: Final = 256 * 1024
# Markup a browser or an SVG viewer would interpret, were a "text" file ever rendered.
_MARKUP: Final = (
    b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml", b"<iframe",
    b"<object", b"<embed", b"<meta", b"<a ", b"<img",
)  # fmt: skip
_TEXT_CONTROLS: Final = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}
_TEXT_FORMATS: Final = {ext: fmt for fmt in (TEXT, CSV) for ext in fmt.extensions}


def _ooxml(data: bytes) -> FileFormat | None:
    """DOCX or XLSX when the ZIP's [Content_Types].xml names a Word or Excel main part
    and holds no macros; None for any other ZIP or a broken one."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            try:
                info = archive.getinfo("[Content_Types].xml")
            except KeyError:
                return None
            if info.file_size > _CONTENT_TYPES_MAX:
                return None
            names = archive.namelist()
            content_types = archive.read(info)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError, ValueError):
        return None
    lowered = content_types.lower()
    if b"macroenabled" in lowered or any(n.lower().endswith("vbaproject.bin") for n in names):
        return None
    for main, fmt in _OOXML_MAIN.items():
        if main in lowered:
            return fmt
    return None


def _plain_text(data: bytes, extension: str) -> FileFormat | None:
    """TXT or CSV for a file named so whose content is text (UTF-8, or GB18030 as
    Chinese Excel saves CSV) without control characters or markup."""
    fmt = _TEXT_FORMATS.get(extension)
    if fmt is None:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        return None
    if any(b in _TEXT_CONTROLS for b in set(data)):  # NUL: UTF-16, a binary
        return None
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1024].lower()
    if any(tag in start for tag in _MARKUP):
        return None
    return fmt


def document_sniff(data: bytes, filename: str) -> FileFormat | None:
    """The document format the whole content proves, for the formats the first bytes
    cannot tell (an Office file is a ZIP; text has no signature). Returns the head's
    format when it is already decisive, None when nothing fits."""
    fmt = sniff(data[:HEAD_BYTES])
    if fmt is ZIP:
        return _ooxml(data) or ZIP
    if fmt is not None:
        return fmt
    return _plain_text(data, extension_of(filename))
