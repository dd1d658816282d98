"""An application's submissions as tables: CSV (the main sheet) and XLSX (one sheet per
repeat group, as ODK Central exports them), streamed so a large export never sits whole
in memory.

The layout follows ODK Central's:
- the main sheet has one row per submission, `KEY` being the case number; each repeat
  group has its own sheet, one row per repeat instance, with `KEY`
  (`<number>/<repeat>[n]`, 1-based, nested as `.../<outer>[i]/<inner>[j]`) and
  `PARENT_KEY` (the row it belongs to), so the sheets join back;
- a select answer is exported as its choice names (select_multiple: space-separated),
  followed by a column with the choice labels of the submission's own form version;
- a geopoint is four columns (latitude, longitude, altitude, accuracy);
- media answers are the URLs of the attachments (space-separated);
- a repeat also gives the main (or parent) sheet a column with its number of rows.

Headers are the form's labels in the active language (the question's name when it has
none). Submissions made with different form versions share one table: the columns are
the union over the versions, in the current version's order, then the columns that only
older versions have; each row is read with its own version's questions and labels.

Only the submissions whose cases the reader may see are exported, and each export of
answers (personal data) is logged per case (`submissions_reads_log`).
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from civicloop.core.accounts.models import ApiKey, PersonalDataAccess
from civicloop.core.cases.access import cases_visible_to
from civicloop.core.cases.labels import state_label
from civicloop.core.forms.models import Application, FormVersion, Submission
from civicloop.core.forms.selectors import form_of

if TYPE_CHECKING:
    from civicloop.core.forms.definition import FormDef, Question

# Rows fetched from the database at a time; answers are decrypted one row at a time.
CHUNK = 100
# An XLSX is built in memory up to this size, then on disk (constant memory).
XLSX_SPOOL_BYTES = 4 * 1024 * 1024
# Excel's limits on a sheet's title (31 characters, none of these).
SHEET_TITLE_MAX = 31
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
# A cell a spreadsheet would run as a formula (CSV injection): such text gets a leading
# apostrophe in CSV and is written as a string in XLSX.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Excel refuses (and "repairs") a cell longer than this.
XLSX_CELL_MAX_CHARS = 32767
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NO_DATA = frozenset({"note"})
# Device metadata a server-side form fills only for these (definition.META_TYPES).
_META_KEPT = frozenset({"start", "end", "today"})
_GEO_TYPES = frozenset({"geopoint"})
PERSONAL_DATA_FIELDS = "answers"


# --------------------------------------------------------------------------- who sees what


def submissions_visible(
    application: Application, *, user: Any = None, api_key: ApiKey | None = None
) -> QuerySet[Submission]:
    """The application's submissions the reader may see: a staff member's, those whose
    cases `cases_visible_to` allows; an API key's, all when it may read full records
    (`can_read_full_records`, as for Open311), none otherwise. Oldest first."""
    qs = Submission.objects.filter(application=application)
    if api_key is not None:
        if not (api_key.is_active and api_key.can_read_full_records):
            return qs.none()
    else:
        qs = qs.filter(case_id__in=cases_visible_to(user).values("pk"))
    return qs.order_by("created_at", "pk")


def submissions_reads_log(
    submissions: QuerySet[Submission],
    *,
    user: Any = None,
    api_key: ApiKey | None = None,
    purpose: str = "export",
) -> int:
    """One PersonalDataAccess row per submission whose answers are shown (principle 5:
    every read of a full record is logged), written in batches. Returns how many."""
    total = 0
    batch: list[PersonalDataAccess] = []
    staff = user if user is not None and getattr(user, "is_authenticated", False) else None
    numbers = submissions.values_list("case__number", flat=True).order_by()
    for number in numbers.iterator(chunk_size=CHUNK * 2):
        batch.append(
            PersonalDataAccess(
                user=staff,
                api_key=api_key,
                object_type="case",
                object_id=number,
                fields=PERSONAL_DATA_FIELDS,
                purpose=purpose,
            )
        )
        if len(batch) >= CHUNK * 2:
            PersonalDataAccess.objects.bulk_create(batch)
            total += len(batch)
            batch = []
    if batch:
        PersonalDataAccess.objects.bulk_create(batch)
        total += len(batch)
    return total


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Column:
    """One column: the question's name, which part of its answer (`""` the value,
    `label` a select's labels, `lat`/`lng`/`alt`/`acc` a geopoint's, `count` a
    repeat's rows) and the header."""

    name: str
    part: str
    header: str


@dataclass
class Sheet:
    """One table: its title, headers and rows (a generator: read once, lazily)."""

    title: str
    headers: list[str]
    rows: Iterable[list[Any]]


@dataclass
class _SheetLayout:
    path: tuple[str, ...]
    label: str
    columns: list[Column] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)

    def add(self, column: Column) -> None:
        if (column.name, column.part) not in self.seen:
            self.seen.add((column.name, column.part))
            self.columns.append(column)


def _is_select(q: Question) -> bool:
    return q.is_select or (bool(q.choices) and q.type.startswith("select"))


def _columns_of(form: FormDef, q: Question, lang: str) -> list[Column]:
    label = form.label(q, lang) or q.name
    if q.type in _GEO_TYPES:
        parts = (
            ("lat", _("%(label)s-纬度")),
            ("lng", _("%(label)s-经度")),
            ("alt", _("%(label)s-海拔")),
            ("acc", _("%(label)s-精度")),
        )
        return [Column(q.name, part, header % {"label": label}) for part, header in parts]
    if _is_select(q):
        return [
            Column(q.name, "", label),
            Column(q.name, "label", _("%(label)s（选项标签）") % {"label": label}),
        ]
    return [Column(q.name, "", label)]


def _layout_into(
    layouts: dict[tuple[str, ...], _SheetLayout], form: FormDef, lang: str, main_label: str
) -> None:
    def walk(questions: Sequence[Question], path: tuple[str, ...]) -> None:
        for q in questions:
            if q.type == "group":
                walk(q.children, path)
            elif q.type == "repeat":
                label = form.label(q, lang) or q.name
                count = _("%(label)s（条数）") % {"label": label}
                layouts[path].add(Column(q.name, "count", count))
                inner = (*path, q.name)
                layouts.setdefault(inner, _SheetLayout(inner, label))
                walk(q.children, inner)
            elif q.type not in _NO_DATA and (not q.is_meta or q.type in _META_KEPT):
                for column in _columns_of(form, q, lang):
                    layouts[path].add(column)

    layouts.setdefault((), _SheetLayout((), main_label))
    walk(form.questions, ())


def _versions(application: Application, submissions: QuerySet[Submission]) -> list[FormVersion]:
    """The current version first, then every other version the submissions use, newest
    first."""
    used = set(submissions.order_by().values_list("form_version_id", flat=True).distinct())
    if application.current_form_id:
        used.add(application.current_form_id)
    versions = list(FormVersion.objects.filter(pk__in=used).order_by("-version"))
    versions.sort(key=lambda v: v.pk != application.current_form_id)
    return versions


# --------------------------------------------------------------------------- values


def _decimal(value: Any) -> Decimal | str:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)


class _Reader:
    """Turns one stored answer into a cell, with the submission's own version."""

    def __init__(self, *, lang: str, attachment_url: Callable[[str], str]) -> None:
        self.lang = lang
        self.attachment_url = attachment_url
        self._choice_labels: dict[tuple[int, str], dict[str, str]] = {}

    def labels(self, version_id: int, form: FormDef, q: Question) -> dict[str, str]:
        key = (version_id, q.name)
        found = self._choice_labels.get(key)
        if found is None:
            found = {c.name: form.label(c, self.lang) or c.name for c in q.choices}
            self._choice_labels[key] = found
        return found

    def cell(self, column: Column, row: Mapping[str, Any], version_id: int, form: FormDef) -> Any:
        value = row.get(column.name)
        if column.part == "count":
            return len(value) if isinstance(value, list) else 0
        if value is None or value == "" or value == []:
            return None
        q = form.by_name.get(column.name)
        qtype = q.type if q is not None else ""
        if column.part in ("lat", "lng", "alt", "acc"):
            pieces = _geopoint_parts(value)
            index = ("lat", "lng", "alt", "acc").index(column.part)
            return _decimal(pieces[index]) if index < len(pieces) else None
        names = value if isinstance(value, list) else None
        if column.part == "label":
            if q is None:
                return None
            labels = self.labels(version_id, form, q)
            chosen = names if names is not None else [value]
            return " ".join(labels.get(str(n), str(n)) for n in chosen)
        if q is not None and q.is_media:
            ids = names if names is not None else [value]
            return " ".join(self.attachment_url(str(i)) for i in ids)
        if names is not None:
            return " ".join(str(n) for n in names)
        if qtype == "integer" and not isinstance(value, bool):
            try:
                return int(value)
            except (TypeError, ValueError):
                return str(value)
        if qtype == "decimal":
            return _decimal(value)
        if isinstance(value, dict | list):
            return str(value)
        return value if isinstance(value, int | float | Decimal) else str(value)


def _geopoint_parts(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [str(value.get(k, "")) for k in ("lat", "lng", "alt", "acc") if k in value]
    return str(value).split()


def _instances(
    answers: Mapping[str, Any], path: tuple[str, ...], key: str
) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(parent key, key, answers) of every instance of the repeat at `path`."""
    head, rest = path[0], path[1:]
    rows = answers.get(head)
    if not isinstance(rows, list):
        return
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            continue
        here = f"{key}/{head}[{i + 1}]"
        if rest:
            yield from _instances(row, rest, here)
        else:
            yield key, here, row


def _local(value: datetime) -> datetime:
    # Excel has no time zones: the local (Asia/Shanghai) wall time, naive.
    return timezone.localtime(value).replace(tzinfo=None)


# --------------------------------------------------------------------------- rows


def export_rows(
    application: Application,
    *,
    user: Any = None,
    api_key: ApiKey | None = None,
    attachment_url: Callable[[str], str] = str,
    lang: str | None = None,
    log: bool = True,
) -> list[Sheet]:
    """The application's submissions the reader may see, as sheets: the main sheet
    first, then one per repeat group (depth-first). Each sheet's rows are a generator
    that reads the submissions in chunks when iterated, so the caller streams them.
    `attachment_url` turns an attachment id into the link a reader follows (the web
    layer knows its URLs; core does not). Logs the read of every exported
    submission's answers unless `log` is False."""
    lang = lang or get_language() or "zh-hans"
    submissions = submissions_visible(application, user=user, api_key=api_key)
    if log:
        submissions_reads_log(submissions, user=user, api_key=api_key, purpose="export")
    versions = _versions(application, submissions)
    forms = {v.pk: form_of(v) for v in versions}
    layouts: dict[tuple[str, ...], _SheetLayout] = {}
    for version in versions:
        _layout_into(layouts, forms[version.pk], lang, application.name)
    if not layouts:
        layouts[()] = _SheetLayout((), application.name)
    reader = _Reader(lang=lang, attachment_url=attachment_url)
    titles: set[str] = set()
    sheets = []
    for layout in layouts.values():
        title = _sheet_title(layout.label, titles)
        if layout.path:
            headers = ["PARENT_KEY", "KEY"]
        else:
            headers = ["KEY", _("提交时间"), _("状态"), _("表单版本")]
        headers += [c.header for c in layout.columns]
        sheets.append(
            Sheet(title, headers, _sheet_rows(layout, submissions, forms, versions, reader))
        )
    return sheets


def _sheet_rows(
    layout: _SheetLayout,
    submissions: QuerySet[Submission],
    forms: Mapping[int, FormDef],
    versions: Sequence[FormVersion],
    reader: _Reader,
) -> Iterator[list[Any]]:
    numbers = {v.pk: v.version for v in versions}
    qs = submissions.select_related("case").only(
        "id",
        "answers",
        "created_at",
        "form_version_id",
        "case__number",
        "case__state",
        "case__workflow",
    )
    for sub in qs.iterator(chunk_size=CHUNK):
        form = forms.get(sub.form_version_id)
        if form is None:  # a version used since the export began
            form = form_of(FormVersion.objects.get(pk=sub.form_version_id))
        answers = sub.answers if isinstance(sub.answers, Mapping) else {}
        number = sub.case.number
        if not layout.path:
            fixed: list[Any] = [
                number,
                _local(sub.created_at),
                str(state_label(sub.case.workflow, sub.case.state)),
                numbers.get(sub.form_version_id),
            ]
            yield fixed + [
                reader.cell(c, answers, sub.form_version_id, form) for c in layout.columns
            ]
            continue
        for parent, key, row in _instances(answers, layout.path, number):
            yield [parent, key] + [
                reader.cell(c, row, sub.form_version_id, form) for c in layout.columns
            ]


def _sheet_title(label: str, taken: set[str]) -> str:
    base = _SHEET_TITLE_BAD.sub("_", label).strip("' ") or "sheet"
    base = base[:SHEET_TITLE_MAX]
    title, n = base, 2
    while title.lower() in taken:
        suffix = f"_{n}"
        title = base[: SHEET_TITLE_MAX - len(suffix)] + suffix
        n += 1
    taken.add(title.lower())
    return title


# --------------------------------------------------------------------------- writers


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else value


def csv_chunks(sheet: Sheet) -> Iterator[bytes]:
    """The sheet as CSV, UTF-8 with a BOM (so Excel reads Chinese), one row at a time."""
    writer = csv.writer(_Echo())
    yield "\ufeff".encode()
    yield writer.writerow(sheet.headers).encode()
    for row in sheet.rows:
        yield writer.writerow([_csv_text(v) for v in row]).encode()


def xlsx_write(sheets: Sequence[Sheet]) -> IO[bytes]:
    """The sheets as an XLSX in a spooled temporary file (in memory while small, then on
    disk), rewound. openpyxl's write-only workbook keeps one row in memory at a time."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    for sheet in sheets:
        ws = book.create_sheet(title=sheet.title)
        ws.append(sheet.headers)
        for row in sheet.rows:
            cells: list[Any] = []
            for value in row:
                if isinstance(value, str):
                    value = _XLSX_ILLEGAL.sub("", value)[:XLSX_CELL_MAX_CHARS]
                    if value.startswith("="):
                        cell = WriteOnlyCell(ws, value=value)
                        cell.data_type = "s"  # text, never a formula
                        cells.append(cell)
                        continue
                cells.append(value)
            ws.append(cells)
    # Returned open: the FileResponse that streams it closes it.
    out = tempfile.SpooledTemporaryFile(max_size=XLSX_SPOOL_BYTES)  # noqa: SIM115
    book.save(out)
    out.seek(0)
    return out  # type: ignore[return-value]
