"""An uploaded XLSForm, converted by pyxform and checked for what we can run.

`convert_xlsform(data, filename)` goes through pyxform's stable public path
(`xls2json.parse_file_to_json`, then `builder.create_survey_element_from_dict(...)
.to_xml(validate=False)` so pyxform's own reference checks run; never with validation,
which shells out to Java). A form pyxform refuses is refused with pyxform's message.
Then our checks, each naming the survey row: a question type we do not render, a name
used twice (answers are keyed by name, flat through groups), a select without its
choice list, an expression our XPath layer does not parse, a loop among calculations
and relevants, and the size bounds.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext

from civicloop.core.forms.definition import (
    META_TYPES,
    SUPPORTED_TYPES,
    FormDef,
    Question,
    is_static_flag,
)
from civicloop.core.forms.errors import FormError, FormErrorCode
from civicloop.core.forms.evaluate import dependency_cycle, plan_for
from civicloop.core.forms.xpath import MAX_EXPRESSION_CHARS

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_QUESTIONS = 1000
SUFFIXES = (".xlsx", ".xls", ".csv", ".md")

_ROW_RE = re.compile(r"\[row\s*:\s*(\d+)\]")
_SHEET_RE = re.compile(r"'(survey|choices|settings|external_choices|entities)' sheet")
_UNKNOWN_TYPE_RE = re.compile(r"Unknown question type '([^']*)'")


@dataclass
class ConvertedForm:
    definition: dict[str, Any]
    title: str
    form_id: str
    version: str
    warnings: list[str] = field(default_factory=list)


def _where(row: int | None, sheet: str = "survey") -> str:
    return f"{sheet} 表第 {row} 行" if row else ""


def _bad(message: str, row: int | None = None, sheet: str = "survey") -> FormError:
    where = _where(row, sheet)
    text = f"{where}：{message}" if where else message
    return FormError(FormErrorCode.BAD_FORM, text, where=where)


def _survey_rows(data: bytes, suffix: str) -> tuple[dict[str, int], dict[str, int]]:
    """(question name -> row, type cell -> first row) of the survey sheet of an .xlsx
    (header row 1, so the first question is row 2, as pyxform counts)."""
    names: dict[str, int] = {}
    types: dict[str, int] = {}
    if suffix != ".xlsx":
        return names, types
    try:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # pyxform already read it; the rows are a courtesy
        return names, types
    try:
        sheet = next((book[s] for s in book.sheetnames if s.strip().lower() == "survey"), None)
        if sheet is None:
            return names, types
        rows = sheet.iter_rows(values_only=True)
        header = [str(c or "").strip().lower() for c in next(rows, ())]
        name_col = header.index("name") if "name" in header else None
        type_col = header.index("type") if "type" in header else None
        for number, row in enumerate(rows, start=2):
            if number > 20_000:
                break
            kind = ""
            if type_col is not None and type_col < len(row) and row[type_col] not in (None, ""):
                kind = " ".join(str(row[type_col]).split())
            # The last row with a name: a name used twice is reported where it is used
            # again (an end_group row repeating its group's name does not count).
            has_name = (
                name_col is not None and name_col < len(row) and row[name_col] not in (None, "")
            )
            if has_name and not kind.lower().startswith("end"):
                names[str(row[name_col]).strip()] = number  # type: ignore[index]
            if type_col is not None and type_col < len(row) and row[type_col] not in (None, ""):
                types.setdefault(" ".join(str(row[type_col]).split()), number)
    finally:
        book.close()
    return names, types


def _pyxform(path: str, warnings: list[str]) -> dict[str, Any]:
    from pyxform.builder import create_survey_element_from_dict
    from pyxform.xls2json import parse_file_to_json

    definition = parse_file_to_json(path, warnings=warnings)
    create_survey_element_from_dict(definition).to_xml(validate=False, warnings=warnings)
    return definition


def convert_xlsform(data: bytes, filename: str) -> ConvertedForm:
    """pyxform's JSON of an uploaded XLSForm, checked; FormError(BAD_FORM) otherwise,
    with `where` naming the sheet and row when known."""
    from pyxform.errors import PyXFormError

    if len(data) > MAX_FILE_BYTES:
        raise _bad(gettext("表单文件超过 5 MB。"))
    suffix = os.path.splitext(filename or "")[1].lower()
    if suffix not in SUFFIXES:
        raise _bad(gettext("表单文件须为 .xlsx、.xls、.csv 或 .md 格式。"))
    names, types = _survey_rows(data, suffix)
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="xlsform-") as folder:
        # pyxform names the form after the file: keep a plain stem.
        stem = (
            re.sub(r"[^A-Za-z0-9_]", "_", os.path.splitext(os.path.basename(filename))[0]) or "form"
        )
        path = os.path.join(folder, stem + suffix)
        with open(path, "wb") as out:
            out.write(data)
        try:
            definition = _pyxform(path, warnings)
        except RecursionError:
            raise _bad(gettext("表单嵌套过深。")) from None
        except (PyXFormError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise _pyxform_refusal(str(exc) or exc.__class__.__name__, types) from None
        except Exception as exc:  # any other reader failure is a bad file
            raise _bad(gettext("无法读取表单文件：%(error)s") % {"error": exc}) from None
    form = FormDef.from_json(definition, rows=names)
    check_form(form)
    title = FormDef.label(form.title, "zh-hans") if form.title else ""
    return ConvertedForm(
        definition=definition,
        title=title,
        form_id=form.form_id,
        version=form.version,
        warnings=[w for w in warnings if w],
    )


def _pyxform_refusal(message: str, types: dict[str, int]) -> FormError:
    row_match = _ROW_RE.search(message)
    row = int(row_match.group(1)) if row_match else None
    sheet_match = _SHEET_RE.search(message)
    sheet = sheet_match.group(1) if sheet_match else "survey"
    if row is None:
        unknown = _UNKNOWN_TYPE_RE.search(message)
        if unknown:
            row = types.get(" ".join(unknown.group(1).split()))
    where = _where(row, sheet)
    return FormError(
        FormErrorCode.BAD_FORM, f"{where}：{message}" if where else message, where=where
    )


def _expressions(q: Question) -> list[tuple[str, str]]:
    out = [
        ("relevant", q.relevant),
        ("constraint", q.constraint),
        ("calculation", q.calculation),
        ("choice_filter", q.choice_filter),
        ("repeat_count", q.repeat_count),
    ]
    if not is_static_flag(q.required):
        out.append(("required", q.required))
    if not is_static_flag(q.readonly):
        out.append(("read_only", q.readonly))
    out.append(("default", q.default))
    return [(k, v) for k, v in out if v.strip()]


def check_form(form: FormDef) -> None:
    """Our checks on a FormDef (see the module docstring). Raises FormError(BAD_FORM)."""
    seen: dict[str, Question] = {}
    for count, q in enumerate(form.walk(), start=1):
        if count > MAX_QUESTIONS:
            raise _bad(gettext("表单题目超过 %(max)d 个。") % {"max": MAX_QUESTIONS}, q.row)
        if q.type not in SUPPORTED_TYPES and q.type not in META_TYPES:
            raise _bad(gettext("不支持的题型“%(type)s”。") % {"type": q.type}, q.row)
        if q.name in seen:
            raise _bad(
                gettext("题目名称“%(name)s”重复：答案按名称保存，名称须在整张表单中唯一。")
                % {"name": q.name},
                q.row,
            )
        seen[q.name] = q
        if q.is_select and not q.choices:
            raise _bad(
                gettext("题目“%(name)s”的选项列表“%(list)s”不存在或为空。")
                % {"name": q.name, "list": q.list_name},
                q.row,
            )
        for column, expression in _expressions(q):
            if len(expression) > MAX_EXPRESSION_CHARS:
                raise _bad(
                    gettext("%(column)s 表达式超过 %(max)d 个字符。")
                    % {"column": column, "max": MAX_EXPRESSION_CHARS},
                    q.row,
                )
    try:
        form.cache.pop("plan", None)
        plan_for(form)
    except FormError as exc:
        message = (
            gettext("表达式过于复杂（嵌套过深或过长）。")
            if exc.code == FormErrorCode.TOO_COMPLEX
            else str(exc.message)
        )
        where = exc.where if "行" in exc.where else ""
        raise FormError(
            FormErrorCode.BAD_FORM, f"{where}：{message}" if where else message, where=where
        ) from None
    cycle = dependency_cycle(form)
    if cycle:
        rows = [str(form.by_name[n].row) for n in dict.fromkeys(cycle) if form.by_name[n].row]
        first = form.by_name[cycle[0]].row
        raise _bad(
            gettext("计算或显示条件互相引用，形成循环：%(loop)s") % {"loop": " → ".join(cycle)}
            + (gettext("（第 %(rows)s 行）") % {"rows": "、".join(rows)} if rows else ""),
            first,
        )
    if form.instance_name.strip() and plan_for(form).instance_name is None:
        raise _bad(gettext("settings 表的 instance_name 表达式有误。"), None, "settings")
