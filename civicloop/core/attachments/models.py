"""A stored photo, voice note or document. Rows are created only by `services.attachment_create`
and `services.attachments_create_batch`, which check the content first."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Every stored file lives under this prefix; the orphan sweep looks nowhere else.
STORAGE_PREFIX = "attachments"


def _dated_name(instance: Any, filename: str, suffix: str) -> str:
    """attachments/YYYY/MM/DD/<uuid><suffix><ext>.

    Only the extension of `filename` is used, and the services pass a name they built
    from the sniffed format, so the user's file name never reaches storage: it could be
    personal ("张三家门口.jpg"), or crafted ("../../x", very long, control characters).
    """
    extension = PurePosixPath(filename).suffix.lower()
    day = timezone.localdate()
    return f"{STORAGE_PREFIX}/{day:%Y/%m/%d}/{instance.pk.hex}{suffix}{extension}"


def attachment_upload_to(instance: Any, filename: str) -> str:
    return _dated_name(instance, filename, "")


def thumbnail_upload_to(instance: Any, filename: str) -> str:
    return _dated_name(instance, filename, "_thumb")


class Attachment(models.Model):
    """A photo (re-encoded, metadata removed) or a voice note (stored as uploaded).

    `sha256` is the digest of the bytes on storage, not of the upload: for photos the two
    differ, and evidence is verified against what we hold.
    """

    class Kind(models.TextChoices):
        PHOTO = "photo", _("照片")
        VOICE = "voice", _("录音")
        DOCUMENT = "document", _("文档")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to=attachment_upload_to, max_length=255)
    thumbnail = models.FileField(
        _("缩略图"), upload_to=thumbnail_upload_to, max_length=255, null=True, blank=True
    )
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True, default="")
    content_type = models.CharField(_("内容类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256 摘要"), max_length=64, db_index=True)
    width = models.PositiveIntegerField(_("宽度"), null=True, blank=True)
    height = models.PositiveIntegerField(_("高度"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="uploaded_attachments",
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name or str(self.pk)
