"""Why e线知政 / 学习园地 refused something: an item, a file, a reading, a page."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal


class BulletinErrorCode(StrEnum):
    MISSING = "missing"  # a required field is empty
    INVALID = "invalid"  # a field's value is wrong
    FILE = "file"  # a file that cannot be accepted (by content)
    VIDEO_TOO_LARGE = "video_too_large"
    FORBIDDEN = "forbidden"  # not a deputy or staff member, or not the 代表工委
    NOT_FOUND = "not_found"


MESSAGES = {
    BulletinErrorCode.MISSING: _("请填写必填项。"),
    BulletinErrorCode.INVALID: _("填写的内容有误。"),
    BulletinErrorCode.FILE: _("文件无法上传，请重新选择。"),
    BulletinErrorCode.VIDEO_TOO_LARGE: _("视频过大，请压缩后再上传。"),
    BulletinErrorCode.FORBIDDEN: _("您没有权限进行此操作。"),
    BulletinErrorCode.NOT_FOUND: _("内容不存在或已撤回。"),
}

REFUSALS = {
    BulletinErrorCode.VIDEO_TOO_LARGE: Refusal.TOO_LARGE,
    BulletinErrorCode.FORBIDDEN: Refusal.FORBIDDEN,
    BulletinErrorCode.NOT_FOUND: Refusal.NOT_FOUND,
}


class BulletinError(DomainError):
    """A refusal of e线知政 / 学习园地: a sentence for the deputy or the clerk, and the
    form field it concerns."""

    codes = BulletinErrorCode
    messages = MESSAGES
    refusals = REFUSALS
