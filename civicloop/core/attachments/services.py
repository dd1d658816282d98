"""Accepting uploads: the only way an `Attachment` comes to exist.

Every upload is judged by its content, never by its name or declared type: it is
sniffed, checked against what it claims to be, limited in size, and photos are decoded
and re-encoded without metadata. Only then is anything written to storage.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core.attachments import images, sniffing
from civicloop.core.attachments.errors import AttachmentError, AttachmentErrorCode
from civicloop.core.attachments.models import STORAGE_PREFIX, Attachment

if TYPE_CHECKING:
    from civicloop.core.accounts.models import User

logger = logging.getLogger(__name__)

ALL_KINDS: frozenset[str] = frozenset({Attachment.Kind.PHOTO, Attachment.Kind.VOICE})
# Documents (PDF, DOCX, XLSX, TXT, CSV) only where a caller asks for them (a form's
# "file" question): the default stays photos and voice notes.
WITH_DOCUMENTS: frozenset[str] = ALL_KINDS | {Attachment.Kind.DOCUMENT}
ORIGINAL_NAME_MAX = 200
_READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Prepared:
    """An upload that passed every check, held in memory, not yet on storage."""

    kind: str
    fmt: sniffing.FileFormat
    data: bytes
    sha256: str
    original_name: str
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None


def max_bytes() -> int:
    return int(settings.ATTACHMENT_MAX_BYTES)


def max_count() -> int:
    return int(settings.ATTACHMENT_MAX_COUNT)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def sanitize_original_name(name: str | None) -> str:
    """The client's file name made safe to display: no path, no control or bidi
    characters (a U+202E can make "gpj.exe" look like "exe.jpg"), bounded length."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    cleaned = "".join(
        ch for ch in base if unicodedata.category(ch)[0] != "C" and ch not in '<>:"|?*'
    )
    cleaned = " ".join(cleaned.split()).strip(" .")
    if len(cleaned) > ORIGINAL_NAME_MAX:
        stem, extension = os.path.splitext(cleaned)
        extension = extension[:16]
        cleaned = stem[: ORIGINAL_NAME_MAX - len(extension)] + extension
    return cleaned


def _read_head(upload: UploadedFile) -> bytes:
    upload.seek(0)
    head = upload.read(sniffing.HEAD_BYTES)
    upload.seek(0)
    return bytes(head)


def _too_large(kind: str, limit: int) -> AttachmentError:
    if kind == Attachment.Kind.PHOTO:
        template = _("照片过大（最大 %(limit)s），请压缩后重新上传")
    elif kind == Attachment.Kind.VOICE:
        template = _("录音过大（最大 %(limit)s），请缩短录音后重新上传")
    elif kind == Attachment.Kind.DOCUMENT:
        template = _("文档过大（最大 %(limit)s）")
    else:
        template = _("文件过大（最大 %(limit)s）")
    return AttachmentError(AttachmentErrorCode.TOO_LARGE, template, limit=_megabytes(limit))


def _read_all(upload: UploadedFile, *, kind: str, limit: int) -> bytes:
    """Read the whole upload, refusing as soon as it exceeds `limit`.

    `upload.size` is checked first, but we also count while reading: a file-like object
    from a non-Django source may report a wrong size.
    """
    if upload.size is not None and upload.size > limit:
        raise _too_large(kind, limit)
    upload.seek(0)
    parts: list[bytes] = []
    total = 0
    for chunk in upload.chunks(_READ_CHUNK):
        total += len(chunk)
        if total > limit:
            raise _too_large(kind, limit)
        parts.append(bytes(chunk))
    return b"".join(parts)


def _riff_chunks(data: bytes) -> Iterator[tuple[bytes, int]]:
    """(chunk id, declared size) of each top-level chunk of a RIFF/WAVE file."""
    offset = 12
    while offset + 8 <= len(data):
        chunk_id = data[offset : offset + 4]
        (size,) = struct.unpack("<I", data[offset + 4 : offset + 8])
        yield chunk_id, size
        offset += 8 + size + (size & 1)  # chunks are padded to an even length


def _check_voice(data: bytes, fmt: sniffing.FileFormat) -> None:
    """Structural check of a voice note beyond its magic bytes.

    Voice notes are stored byte for byte (re-encoding audio needs ffmpeg, which we do
    not ship) and always served with the sniffed type and `nosniff`, so the risk is a
    broken recording, not code execution. WAV gets a chunk walk because browsers play a
    WAV without a `fmt ` or `data` chunk as silence; the other formats are trusted to
    the player once their signature matched.
    """
    if fmt is not sniffing.WAV:
        return
    chunks = dict(_riff_chunks(data))
    if chunks.get(b"fmt ", 0) < 16 or b"data" not in chunks:
        raise AttachmentError(
            AttachmentErrorCode.CORRUPT_AUDIO, _("录音已损坏，无法读取，请重新录制")
        )


def _kind_not_allowed(allowed_kinds: frozenset[str]) -> AttachmentError:
    if allowed_kinds == {Attachment.Kind.PHOTO}:
        template = _("此处只能上传照片")
    elif allowed_kinds == {Attachment.Kind.VOICE}:
        template = _("此处只能上传录音")
    elif allowed_kinds == {Attachment.Kind.DOCUMENT}:
        template = _("此处只能上传文档（PDF、Word .docx、Excel .xlsx、TXT、CSV）")
    else:
        template = _("此处不能上传这种文件")
    return AttachmentError(AttachmentErrorCode.KIND_NOT_ALLOWED, template)


def _prepare(upload: UploadedFile, *, allowed_kinds: frozenset[str]) -> _Prepared:
    """Every check that needs no storage, in the order that gives the most useful
    message: what the content is, whether it is allowed here, then whether it is too
    big, then whether it decodes."""
    original_name = sanitize_original_name(upload.name)
    head = _read_head(upload)
    if not head or upload.size == 0:
        raise AttachmentError(AttachmentErrorCode.EMPTY, _("文件是空的，请重新选择"))
    documents = Attachment.Kind.DOCUMENT in allowed_kinds
    sniffed = sniffing.sniff(head)
    data: bytes | None = None
    if documents and sniffed in (None, sniffing.ZIP):
        # An Office file is a ZIP and text has no signature: the whole content decides.
        data = _read_all(upload, kind=Attachment.Kind.DOCUMENT, limit=max_bytes())
        sniffed = sniffing.document_sniff(data, upload.name or "")
    fmt = sniffing.check_claims(
        fmt=sniffed,
        filename=upload.name or "",
        content_type=upload.content_type or "",
        documents=documents,
    )
    if fmt.kind not in allowed_kinds:
        raise _kind_not_allowed(allowed_kinds)
    if data is None:
        data = _read_all(upload, kind=fmt.kind, limit=max_bytes())

    if fmt.kind == Attachment.Kind.PHOTO:
        photo = images.process_photo(data, fmt)
        return _Prepared(
            kind=Attachment.Kind.PHOTO,
            fmt=photo.fmt,
            data=photo.data,
            sha256=hashlib.sha256(photo.data).hexdigest(),
            original_name=original_name,
            width=photo.width,
            height=photo.height,
            thumbnail=photo.thumbnail,
        )
    if fmt.kind == Attachment.Kind.DOCUMENT:
        # Stored byte for byte, no thumbnail; served with the sniffed type and nosniff.
        return _Prepared(
            kind=Attachment.Kind.DOCUMENT,
            fmt=fmt,
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
            original_name=original_name,
        )
    _check_voice(data, fmt)
    return _Prepared(
        kind=Attachment.Kind.VOICE,
        fmt=fmt,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        original_name=original_name,
    )


def _delete_quietly(storage: Storage, names: Sequence[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except Exception:
            # Cleanup must not hide the error that caused it; the orphan sweep will
            # retry this file later.
            logger.exception("could not delete orphan attachment file %s", name)


def _persist(prepared: Sequence[_Prepared], *, uploaded_by: User | None) -> list[Attachment]:
    """Write files, then rows in one transaction; on any failure delete what was written."""
    storage: Storage = Attachment._meta.get_field("file").storage  # type: ignore[union-attr]
    stored: list[str] = []
    attachments: list[Attachment] = []
    try:
        for item in prepared:
            attachment = Attachment(
                kind=item.kind,
                original_name=item.original_name,
                content_type=item.fmt.mime,
                size=len(item.data),
                sha256=item.sha256,
                width=item.width,
                height=item.height,
                uploaded_by=uploaded_by,
            )
            try:
                # The name given here only supplies the extension; upload_to builds the
                # dated, uuid-based path (see models.attachment_upload_to).
                attachment.file.save(
                    f"{item.kind}{item.fmt.extension}", ContentFile(item.data), save=False
                )
                stored.append(attachment.file.name or "")
                if item.thumbnail is not None:
                    attachment.thumbnail.save(
                        "thumbnail.jpg", ContentFile(item.thumbnail), save=False
                    )
                    stored.append(attachment.thumbnail.name or "")
            except Exception as exc:
                logger.exception("attachment storage failed")
                raise AttachmentError(
                    AttachmentErrorCode.STORAGE_FAILED, _("文件保存失败，请稍后重试")
                ) from exc
            attachments.append(attachment)
        with transaction.atomic():
            for attachment in attachments:
                attachment.save(force_insert=True)
    except BaseException:
        _delete_quietly(storage, [name for name in stored if name])
        raise
    return attachments


def attachment_create(
    *,
    upload: UploadedFile,
    uploaded_by: User | None,
    allowed_kinds: frozenset[str] = ALL_KINDS,
) -> Attachment:
    """Check one upload by its content and store it.

    Guarantees:
    - the content is a photo (JPEG, PNG, WebP, HEIC), a voice note (WebM, Ogg, MP3,
      M4A, AAC, WAV) or, only when `allowed_kinds` has DOCUMENT, a document (PDF, DOCX,
      XLSX without macros, TXT/CSV text without markup) of a kind in `allowed_kinds`, and its name and declared type do not
      claim another kind; otherwise `AttachmentError` with a Chinese message;
    - it is at most `ATTACHMENT_MAX_BYTES`;
    - a photo is stored re-encoded (JPEG, or PNG if it has transparency), upright,
      without EXIF/GPS/XMP/ICC, with a 320 px JPEG thumbnail;
    - `sha256`, `size` and `content_type` describe the stored bytes;
    - the stored path is dated and uuid-based, never the client's file name;
    - if it raises, nothing it wrote is left on storage and no row exists.
      If it returns inside the caller's transaction and that transaction later rolls
      back, the files remain until `attachments_sweep_orphans` (see its docstring).
    """
    prepared = _prepare(upload, allowed_kinds=allowed_kinds)
    return _persist([prepared], uploaded_by=uploaded_by)[0]


def attachments_create_batch(
    *,
    uploads: Sequence[UploadedFile],
    uploaded_by: User | None,
    allowed_kinds: frozenset[str] = ALL_KINDS,
) -> list[Attachment]:
    """Check and store several uploads, all or nothing, in the order given.

    Guarantees, on top of `attachment_create`'s for each file:
    - at most `ATTACHMENT_MAX_COUNT` files, checked before any file is read;
    - every file is checked and photos re-encoded before anything is written, so a bad
      third photo refuses the batch without touching storage;
    - if writing a later file or inserting the rows fails, the files already written
      are deleted and no row exists (the rows are inserted in one atomic block, a
      savepoint when the caller already holds a transaction).

    Rollback of the caller's transaction: Django has no "on rollback" hook, and
    `transaction.on_commit` callbacks are simply dropped on rollback, so a service cannot
    delete its files when a caller's `atomic()` block rolls back after it returned. Files
    are deliberately written before the rows (a row never points at a missing file);
    the cost is a possible orphan file, which `attachments_sweep_orphans` deletes once
    it is older than a grace period that outlives any transaction. Run it periodically
    (management command `attachments_sweep_orphans`).

    All files of a batch are held in memory while being checked (at most
    `ATTACHMENT_MAX_COUNT` x `ATTACHMENT_MAX_BYTES`, 90 MB by default).
    """
    limit = max_count()
    if len(uploads) > limit:
        raise AttachmentError(
            AttachmentErrorCode.TOO_MANY, _("最多上传 %(count)d 个文件"), count=limit
        )
    prepared = [_prepare(upload, allowed_kinds=allowed_kinds) for upload in uploads]
    if not prepared:
        return []
    return _persist(prepared, uploaded_by=uploaded_by)


def attachment_digest(attachment: Attachment) -> str:
    """SHA-256 (hex) of the bytes currently on storage, read back in chunks.

    Compare with `attachment.sha256` to prove a file was not altered or damaged since
    it was accepted.
    """
    digest = hashlib.sha256()
    with attachment.file.storage.open(attachment.file.name or "", "rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _walk(storage: Storage, directory: str) -> Iterator[str]:
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{directory}/{name}"
    for sub in directories:
        yield from _walk(storage, f"{directory}/{sub}")


def attachments_sweep_orphans(
    *, older_than: timedelta = timedelta(hours=24), dry_run: bool = False
) -> list[str]:
    """Delete files under `attachments/` that no `Attachment` row references.

    Such files come from a caller's transaction that rolled back after
    `attachment_create` returned, or from a crash between writing a file and
    committing its row. A file younger than `older_than` is kept: its row may belong to
    a transaction still in flight, which this sweep cannot see. Returns the names
    deleted (or, with `dry_run`, the names that would be).
    """
    storage: Storage = Attachment._meta.get_field("file").storage  # type: ignore[union-attr]
    cutoff: datetime = timezone.now() - older_than
    names = list(_walk(storage, STORAGE_PREFIX))
    orphans: list[str] = []
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        referenced: set[str] = set()
        for file_name, thumb_name in Attachment.objects.filter(
            Q(file__in=chunk) | Q(thumbnail__in=chunk)
        ).values_list("file", "thumbnail"):
            referenced.update(n for n in (file_name, thumb_name) if n)
        for name in chunk:
            if name in referenced:
                continue
            if storage.get_modified_time(name) > cutoff:
                continue
            orphans.append(name)
    if not dry_run:
        _delete_quietly(storage, orphans)
    return orphans
