"""Why an import of the area tree or of the units was refused (the CSV commands)."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError


class ImportErrorCode(StrEnum):
    REFUSED = "import_refused"


class ImportFailed(DomainError):
    """The file is refused as a whole and nothing changed; `errors` says which line and
    why (the areas' and the units' imports alike)."""

    codes = ImportErrorCode
    messages = {ImportErrorCode.REFUSED: _("导入文件有误，未做任何修改：%(errors)s")}

    def __init__(self, errors: list[str]):
        super().__init__(ImportErrorCode.REFUSED, errors="; ".join(errors[:10]))
        self.errors = errors
