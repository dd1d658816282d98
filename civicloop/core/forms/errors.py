"""Why an application, form, workflow definition or submission was refused."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal


class FormErrorCode(StrEnum):
    # An XLSForm pyxform or our checks refuse (the message names the sheet and row).
    BAD_FORM = "bad_form"
    # A workflow definition (JSON) that does not describe a template the engine can run.
    BAD_WORKFLOW = "bad_workflow"
    # Answers that break `required` / `constraint` / a type: `errors` names each field.
    INVALID_ANSWERS = "invalid_answers"
    UNKNOWN_APP = "unknown_app"
    DISABLED = "disabled"
    FORBIDDEN = "forbidden"
    NO_FORM = "no_form"
    # An expression too slow or too large to evaluate (bounded).
    TOO_COMPLEX = "too_complex"
    UNROUTABLE = "unroutable"


MESSAGES = {
    FormErrorCode.BAD_FORM: _("表单文件有误。"),
    FormErrorCode.BAD_WORKFLOW: _("流程模板定义有误。"),
    FormErrorCode.INVALID_ANSWERS: _("填写的内容有误，请按提示修改。"),
    FormErrorCode.UNKNOWN_APP: _("没有这个应用。"),
    FormErrorCode.DISABLED: _("该应用未启用。"),
    FormErrorCode.FORBIDDEN: _("您没有权限使用该应用。"),
    FormErrorCode.NO_FORM: _("该应用还没有表单。"),
    FormErrorCode.TOO_COMPLEX: _("表单计算过于复杂，已中止。"),
    FormErrorCode.UNROUTABLE: _("无法确定受理单位，请选择所在区域。"),
}

REFUSALS = {
    FormErrorCode.UNKNOWN_APP: Refusal.NOT_FOUND,
    FormErrorCode.DISABLED: Refusal.NOT_FOUND,
    FormErrorCode.FORBIDDEN: Refusal.FORBIDDEN,
    FormErrorCode.NO_FORM: Refusal.CONFLICT,
}


class FormError(DomainError):
    """A refused form operation. For INVALID_ANSWERS, `errors` maps each failing field
    key (an XLSForm name, `repeat[0].name` inside a repeat) to its message (the form's
    own constraint message when it has one). For BAD_FORM / BAD_WORKFLOW, `where` says
    where (the sheet and row, or the JSON path)."""

    codes = FormErrorCode
    messages = MESSAGES
    refusals = REFUSALS

    def __init__(
        self,
        code: FormErrorCode,
        message: object = None,
        *,
        errors: dict[str, str] | None = None,
        where: str = "",
        **kwargs: object,
    ) -> None:
        super().__init__(code, message, **kwargs)  # type: ignore[arg-type]
        self.errors = dict(errors or {})
        self.where = where
