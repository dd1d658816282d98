"""The API's own refusals (the JSON API and Open311): what a client sent that is wrong
before anything reaches core. Their codes are what clients read in `{"code", ...}`."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal


class ApiErrorCode(StrEnum):
    INVALID = "invalid"  # a malformed parameter (Open311's dates, status ...)
    NOT_FOUND = "not_found"
    UNKNOWN_SERVICE = "unknown_service"
    UNKNOWN_CHANNEL = "unknown_channel"
    INVALID_CATEGORY = "invalid_category"
    INVALID_LOCATION = "invalid_location"
    MISSING_LOCATION = "missing_location"
    UNROUTABLE = "unroutable"
    OUT_OF_AREA = "out_of_area"  # a point outside the city (GPS 0,0, another city)
    INVALID_PHONE = "invalid_phone"
    INVALID_EMAIL = "invalid_email"
    INVALID_MEDIA_URL = "invalid_media_url"
    MISSING = "missing"
    TOO_LONG = "too_long"
    INVALID_UNIT = "invalid_unit"
    INVALID_CASE = "invalid_case"
    INVALID_API_KEY = "invalid_api_key"
    INVALID_BODY = "invalid_body"  # a body that cannot be parsed (a malformed multipart)


MESSAGES = {
    ApiErrorCode.INVALID: _("请求参数格式不正确。"),
    ApiErrorCode.NOT_FOUND: _("未找到。"),
    ApiErrorCode.UNKNOWN_SERVICE: _("没有这项服务。"),
    ApiErrorCode.UNKNOWN_CHANNEL: _("没有这个渠道。"),
    ApiErrorCode.INVALID_CATEGORY: _("没有这个类别。"),
    ApiErrorCode.INVALID_LOCATION: _("经纬度格式不正确。"),
    ApiErrorCode.MISSING_LOCATION: _("请提供位置：经纬度、地址或区域编码。"),
    ApiErrorCode.UNROUTABLE: _("无法根据所给位置确定所在区域，请补充详细地址。"),
    ApiErrorCode.OUT_OF_AREA: _("所给位置不在本市范围内，请核对定位或改填详细地址。"),
    ApiErrorCode.INVALID_PHONE: _("联系电话须为11位中国大陆手机号码。"),
    ApiErrorCode.INVALID_EMAIL: _("电子邮箱格式不正确。"),
    ApiErrorCode.INVALID_MEDIA_URL: _("图片地址须为 http(s) 网址。"),
    ApiErrorCode.MISSING: _("请填写问题描述。"),
    ApiErrorCode.TOO_LONG: _("内容过长（最多 %(max)d 字）。"),
    ApiErrorCode.INVALID_UNIT: _("没有这个单位。"),
    ApiErrorCode.INVALID_CASE: _("要合并到的事项不存在。"),
    ApiErrorCode.INVALID_API_KEY: _("API 密钥无效或缺失。"),
    ApiErrorCode.INVALID_BODY: _("请求内容无法解析，请发送 JSON 格式的请求体。"),
}

REFUSALS = {
    ApiErrorCode.NOT_FOUND: Refusal.NOT_FOUND,
    # Open311 answers a bad key with 403 (GeoReport v2 lists no 401).
    ApiErrorCode.INVALID_API_KEY: Refusal.FORBIDDEN,
}


class ApiError(DomainError):
    """A request the API refuses before it reaches core."""

    codes = ApiErrorCode
    messages = MESSAGES
    refusals = REFUSALS
