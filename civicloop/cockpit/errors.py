"""Why the cockpit refused a request."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal


class CockpitErrorCode(StrEnum):
    AREA = "area"  # an unknown area code
    FORBIDDEN = "forbidden"  # an area outside the reader's
    DATES = "dates"  # a date that cannot be read, or a range the wrong way round
    RANGE = "range"  # a range longer than the cockpit answers


MESSAGES = {
    CockpitErrorCode.AREA: _("没有这个区域代码。"),
    CockpitErrorCode.FORBIDDEN: _("您无权查看这个区域的驾驶舱。"),
    CockpitErrorCode.DATES: _("日期格式应为 YYYY-MM-DD，且开始日期不晚于结束日期。"),
    CockpitErrorCode.RANGE: _("查询区间不能超过三年。"),
}

REFUSALS = {
    CockpitErrorCode.AREA: Refusal.NOT_FOUND,
    CockpitErrorCode.FORBIDDEN: Refusal.FORBIDDEN,
}


class CockpitError(DomainError):
    codes = CockpitErrorCode
    messages = MESSAGES
    refusals = REFUSALS
