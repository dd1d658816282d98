"""Build small XLSForm workbooks in memory for tests (openpyxl).

    data = xlsform_bytes(
        [["type", "name", "label"], ["integer", "age", "年龄"]],
        choices=[["list_name", "name", "label"], ["yn", "yes", "是"]],
        settings=[["form_title", "form_id"], ["测试", "t"]],
    )

The first row of each list is the sheet's header; `None` cells stay empty.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook


def xlsform_bytes(
    survey: list[list[Any]],
    choices: list[list[Any]] | None = None,
    settings: list[list[Any]] | None = None,
) -> bytes:
    """The .xlsx bytes of a workbook with a `survey` sheet and, when given, `choices`
    and `settings` sheets, in that order."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    for row in survey:
        sheet.append(list(row))
    for title, rows in (("choices", choices), ("settings", settings)):
        if rows is None:
            continue
        extra = book.create_sheet(title)
        for row in rows:
            extra.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def formdef(
    survey: list[list[Any]],
    choices: list[list[Any]] | None = None,
    settings: list[list[Any]] | None = None,
) -> Any:
    """The FormDef of an XLSForm built from rows, through convert_xlsform (so every
    upload check runs)."""
    from civicloop.core.forms.convert import convert_xlsform
    from civicloop.core.forms.definition import FormDef

    converted = convert_xlsform(xlsform_bytes(survey, choices, settings), "test.xlsx")
    return FormDef.from_json(converted.definition)
