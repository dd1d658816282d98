"""Why the 生命通道 module refused something: one base, `FirelaneError`, with one code
enum per part of the module (notices, lanes, payments, camera intake, the vehicle
registry import), each with its messages and its kinds of refusal.

Not refusals, and so not here: a payment provider's or the registry's outage
(`payments.provider.ProviderError`, `vehicles.client.RegistryUnavailable`), a broken seal
(`vehicles.crypto.SealBroken`), an unreadable plate image (`plates.reader.PlateImageError`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal


class FirelaneError(DomainError):
    """A refusal of the fire-lane module; raise one of the subclasses below, whose `codes`
    say which part refused."""


# --------------------------------------------------------------------------- notices


class NoticeErrorCode(StrEnum):
    FORBIDDEN = "forbidden"
    NO_EVIDENCE = "no_evidence"
    INVALID_STATE = "invalid_state"
    AMOUNT = "amount"
    MISSING = "missing"


class NoticeError(FirelaneError):
    """A notice (告知单) that cannot be issued, reviewed or answered."""

    codes = NoticeErrorCode
    messages = {
        NoticeErrorCode.FORBIDDEN: _("您没有审核该场所案件的权限。"),
        NoticeErrorCode.NO_EVIDENCE: _("证据包不完整，不能开具告知单。"),
        NoticeErrorCode.INVALID_STATE: _("案件当前状态下不能执行此操作，请刷新后重试。"),
        NoticeErrorCode.AMOUNT: _("罚款金额超出法定范围。"),
        NoticeErrorCode.MISSING: _("请填写理由。"),
    }
    refusals = {
        NoticeErrorCode.FORBIDDEN: Refusal.FORBIDDEN,
        NoticeErrorCode.INVALID_STATE: Refusal.CONFLICT,
    }


# --------------------------------------------------------------------------- lanes


class LaneErrorCode(StrEnum):
    FORBIDDEN = "forbidden"
    NAME_MISSING = "name_missing"
    NAME_TOO_LONG = "name_too_long"
    NAME_TAKEN = "name_taken"
    NOT_A_LIST = "not_a_list"
    TOO_FEW = "too_few"
    TOO_MANY = "too_many"
    NOT_A_POINT = "not_a_point"
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"
    TOO_SMALL = "too_small"
    CROSSING = "crossing"
    NOT_FOUND = "not_found"
    IN_USE = "in_use"


class LaneError(FirelaneError):
    """A lane that cannot be saved or deleted."""

    codes = LaneErrorCode
    messages = {
        LaneErrorCode.FORBIDDEN: _("您没有配置消防车通道的权限。"),
        LaneErrorCode.NAME_MISSING: _("请填写通道名称。"),
        LaneErrorCode.NAME_TOO_LONG: _("通道名称不能超过 %(max)d 个字。"),
        LaneErrorCode.NAME_TAKEN: _("这台摄像机已有同名的通道。"),
        LaneErrorCode.NOT_A_LIST: _("通道范围的格式不正确，请重新画。"),
        LaneErrorCode.TOO_FEW: _("通道至少要有 %(min)d 个点。"),
        LaneErrorCode.TOO_MANY: _("通道最多 %(max)d 个点。"),
        LaneErrorCode.NOT_A_POINT: _("第 %(n)d 个点的格式不正确，应为 [x, y]。"),
        LaneErrorCode.NOT_A_NUMBER: _("第 %(n)d 个点的坐标不是数字。"),
        LaneErrorCode.OUT_OF_RANGE: _("第 %(n)d 个点在画面之外（坐标应在 0 到 1 之间）。"),
        LaneErrorCode.TOO_SMALL: _("通道范围太小或各点在一条直线上，请重新画。"),
        LaneErrorCode.CROSSING: _("通道的边线相互交叉，请按顺序沿通道边缘点选。"),
        LaneErrorCode.NOT_FOUND: _("这台摄像机没有该通道，可能已被删除，请刷新页面。"),
        LaneErrorCode.IN_USE: _(
            "该通道已有 %(count)d 条停留记录，不能删除（记录要保留为证据）；可以修改它的范围或名称。"
        ),
    }
    refusals = {
        LaneErrorCode.FORBIDDEN: Refusal.FORBIDDEN,
        LaneErrorCode.NAME_TAKEN: Refusal.CONFLICT,
        LaneErrorCode.NOT_FOUND: Refusal.NOT_FOUND,
        LaneErrorCode.IN_USE: Refusal.CONFLICT,
    }


# --------------------------------------------------------------------------- payments


class PaymentErrorCode(StrEnum):
    ALREADY_PAID = "already_paid"
    CASE_CLOSED = "case_closed"
    NOT_PAYABLE = "not_payable"
    INVALID_AMOUNT = "invalid_amount"
    PROVIDER = "provider"


class PaymentError(FirelaneError):
    """A refused payment operation."""

    codes = PaymentErrorCode
    messages = {
        PaymentErrorCode.ALREADY_PAID: _("该告知单已缴款，无需重复缴纳。"),
        PaymentErrorCode.CASE_CLOSED: _("该告知单已结案，不能缴款。"),
        PaymentErrorCode.NOT_PAYABLE: _("该告知单当前不能网上缴款。"),
        PaymentErrorCode.INVALID_AMOUNT: _("缴款金额有误，请联系执法单位。"),
        PaymentErrorCode.PROVIDER: _("支付服务暂时不可用，请稍后再试。"),
    }
    refusals = {
        PaymentErrorCode.ALREADY_PAID: Refusal.CONFLICT,
        PaymentErrorCode.CASE_CLOSED: Refusal.CONFLICT,
        PaymentErrorCode.NOT_PAYABLE: Refusal.CONFLICT,
        PaymentErrorCode.PROVIDER: Refusal.UNAVAILABLE,
    }


# --------------------------------------------------------------------------- camera intake


class IntakeReason(StrEnum):
    """Why a camera's event was not stored; the code is counted in `IntakeRefusal.reason`."""

    MALFORMED = "malformed"  # unparseable XML/JSON/multipart, missing or invalid field
    # No longer raised (any other ISAPI alert is a heartbeat); kept for earlier counters.
    NOT_ANPR = "not_anpr"
    MISSING_IMAGE = "missing_image"
    BAD_IMAGE = "bad_image"  # a "JPEG" that is not one
    TOO_LARGE = "too_large"
    UNAUTHORIZED = "unauthorized"  # JSON API without a valid key
    UNKNOWN_CAMERA = "unknown_camera"
    CAMERA_DISABLED = "camera_disabled"
    ADDRESS = "address"  # remote address not in the camera's allowlist
    FUTURE = "future"
    LATE = "late"
    NO_PLATE = "no_plate"  # Frigate object without a recognised plate
    NOT_VEHICLE = "not_vehicle"  # Frigate object that is not a vehicle label


INTAKE_REFUSALS: dict[str, Refusal] = {
    IntakeReason.TOO_LARGE: Refusal.TOO_LARGE,
    IntakeReason.UNAUTHORIZED: Refusal.UNAUTHORIZED,
    IntakeReason.UNKNOWN_CAMERA: Refusal.NOT_FOUND,
    IntakeReason.CAMERA_DISABLED: Refusal.FORBIDDEN,
    IntakeReason.ADDRESS: Refusal.FORBIDDEN,
    IntakeReason.FUTURE: Refusal.UNPROCESSABLE,
    IntakeReason.LATE: Refusal.UNPROCESSABLE,
    IntakeReason.NO_PLATE: Refusal.UNPROCESSABLE,
    IntakeReason.NOT_VEHICLE: Refusal.UNPROCESSABLE,
}


class IntakeError(FirelaneError):
    """A camera's push refused before it became a `CameraEvent` (a parse or size error).
    Cameras read `reason` (the code) and `detail` (what exactly, in English); `message` is
    for a person reading the refusal counters."""

    codes = IntakeReason
    messages = {
        IntakeReason.MALFORMED: _("推送的数据格式不正确。"),
        IntakeReason.NOT_ANPR: _("推送的不是车牌识别事件。"),
        IntakeReason.MISSING_IMAGE: _("推送缺少图片。"),
        IntakeReason.BAD_IMAGE: _("推送的图片无法读取。"),
        IntakeReason.TOO_LARGE: _("推送的数据过大。"),
        IntakeReason.UNAUTHORIZED: _("API 密钥无效或缺失。"),
        IntakeReason.UNKNOWN_CAMERA: _("没有这台摄像机。"),
        IntakeReason.CAMERA_DISABLED: _("这台摄像机已停用。"),
        IntakeReason.ADDRESS: _("推送来自未登记的地址。"),
        IntakeReason.FUTURE: _("抓拍时间晚于当前时间。"),
        IntakeReason.LATE: _("抓拍时间过早，已超过补传期限。"),
        IntakeReason.NO_PLATE: _("没有识别出车牌。"),
        IntakeReason.NOT_VEHICLE: _("识别的目标不是车辆。"),
    }
    refusals = INTAKE_REFUSALS

    def __init__(self, reason: IntakeReason, detail: str = "", /, **params: Any) -> None:
        super().__init__(reason, **params)
        self.detail = detail[:255]

    @property
    def reason(self) -> IntakeReason:
        return IntakeReason(self.code)


# --------------------------------------------------------------------------- registry import


class RegistryImportCode(StrEnum):
    NO_HEADER = "no_header"
    MISSING_COLUMNS = "missing_columns"
    RUNNING = "running"


class ImportRefused(FirelaneError):
    """A vehicle registry file that cannot be imported at all; nothing was changed."""

    codes = RegistryImportCode
    messages = {
        RegistryImportCode.NO_HEADER: _("%(file)s：文件为空或没有表头。"),
        RegistryImportCode.MISSING_COLUMNS: _("%(file)s：表头缺少列 %(columns)s。"),
        RegistryImportCode.RUNNING: _("另一个车辆登记导入正在运行。"),
    }
    refusals = {RegistryImportCode.RUNNING: Refusal.CONFLICT}
