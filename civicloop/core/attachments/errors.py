"""Why an upload was refused, in words that tell a citizen or a clerk what to do next."""

from __future__ import annotations

import enum

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal


class AttachmentErrorCode(enum.StrEnum):
    """Stable machine-readable reasons; API clients switch on these, not on the text."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    TOO_MANY = "too_many"
    UNSUPPORTED_TYPE = "unsupported_type"
    KIND_NOT_ALLOWED = "kind_not_allowed"
    CONTENT_MISMATCH = "content_mismatch"
    CORRUPT_IMAGE = "corrupt_image"
    IMAGE_TOO_MANY_PIXELS = "image_too_many_pixels"
    CORRUPT_AUDIO = "corrupt_audio"
    STORAGE_FAILED = "storage_failed"


# Defaults only: the places that refuse say more (the limit, the file's actual type).
MESSAGES = {
    AttachmentErrorCode.EMPTY: _("文件是空的，请重新选择"),
    AttachmentErrorCode.TOO_LARGE: _("文件太大，请缩小后再上传"),
    AttachmentErrorCode.TOO_MANY: _("上传的文件太多"),
    AttachmentErrorCode.UNSUPPORTED_TYPE: _(
        "不支持的文件类型，请上传照片（JPEG、PNG、WebP、HEIC）或录音（MP3、M4A、WAV、Ogg、WebM）"
    ),
    AttachmentErrorCode.KIND_NOT_ALLOWED: _("这里不能上传这类文件"),
    AttachmentErrorCode.CONTENT_MISMATCH: _("文件内容与扩展名不符，请重新选择文件"),
    AttachmentErrorCode.CORRUPT_IMAGE: _("图片已损坏，无法读取，请重新拍摄或选择其他照片"),
    AttachmentErrorCode.IMAGE_TOO_MANY_PIXELS: _("照片尺寸过大，请缩小后再上传"),
    AttachmentErrorCode.CORRUPT_AUDIO: _("录音已损坏，无法读取，请重新录制"),
    AttachmentErrorCode.STORAGE_FAILED: _("文件保存失败，请稍后重试"),
}

REFUSALS = {
    AttachmentErrorCode.TOO_LARGE: Refusal.TOO_LARGE,
    AttachmentErrorCode.IMAGE_TOO_MANY_PIXELS: Refusal.TOO_LARGE,
    AttachmentErrorCode.STORAGE_FAILED: Refusal.UNAVAILABLE,
}


class AttachmentError(DomainError):
    """An upload that cannot be accepted: `code` is for programs; `message` is the
    Chinese sentence for the person who uploaded the file (the template given where it
    was refused, with its %-params)."""

    codes = AttachmentErrorCode
    messages = MESSAGES
    refusals = REFUSALS
