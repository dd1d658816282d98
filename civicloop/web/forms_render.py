"""Turning an application's form into a page and a posted page back into answers.

The page tree (`page_tree`) is what the submit page's templates draw: one `Node` per
question, group and repeat, keyed by the shared field keys (`name`, `rep[0].name`,
`outer[1].inner[0].name`), with the labels of the active language, the values typed so
far, and what the last evaluation said (shown or not, calculated value, error, allowed
choices). `answers_from_post` reads a posted page back into the answers dict the
services take (flat through groups, a repeat a list of row dicts) and the uploaded
files by field key. `answers_tree` is the read-only view of a stored submission, with
the labels of the form version it was made with.

Nothing here decides whether answers are valid: `core.forms.evaluate` does, for the
page's live checks and for the submission alike.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from civicloop.core.forms.definition import FormDef, Question

# More choices than this and a select_one is a drop-down instead of radios.
RADIO_MAX_CHOICES = 8
# A posted page never makes more repeat rows than this (the evaluator bounds the rest).
MAX_REPEAT_ROWS = 200

SELECT_ONE = {"select one", "select_one", "select one external"}
SELECT_MANY = {"select all that apply", "select_multiple"}
MEDIA = {"image", "audio", "file", "video"}
# Types whose value is computed or fixed, never posted by the page.
NOT_POSTED = {"note", "calculate", "start", "end", "today", "deviceid", "username"}
# What the page adds to a posted form besides answers.
GEO_LAT, GEO_LNG = "__lat", "__lng"
ADD, REMOVE = "__add", "__remove"
# `${name}` in a label or hint: the answer to `name`, shown in the text.
OUTPUT_REF = re.compile(r"\$\{([A-Za-z_][\w.-]*)\}")
_ROW = re.compile(r"^(?P<prefix>.+)\[(?P<index>\d+)\]$")


def field_key(scope: str, name: str) -> str:
    """The field key of `name` in a repeat row `scope` ("" at the top)."""
    return f"{scope}.{name}" if scope else name


def dom_id(key: str) -> str:
    """An element id for a field key (`rep[0].name` → `f-rep-0--name`)."""
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


def _flag(expr: str) -> bool:
    """Whether a `required`/`read_only` column is set: "yes", "true()" or an expression
    (which the evaluator decides; the page marks it)."""
    value = (expr or "").strip().lower()
    return value not in ("", "no", "false", "false()", "0")


def _static_default(question: Question) -> str:
    """A default that is a plain value (a dynamic default is an expression)."""
    default = str(question.default or "")
    if not default or any(c in default for c in "()$/"):
        return ""
    return default


# --------------------------------------------------------------------------- page tree


@dataclass
class ChoiceOption:
    name: str
    label: str
    checked: bool
    allowed: bool = True


@dataclass
class Node:
    """One question, group or repeat of the submit page."""

    kind: str  # "field" | "note" | "calculate" | "group" | "repeat"
    widget: str  # the input drawn (see `_widget`), "" for groups and repeats
    key: str
    name: str
    label: str
    hint: str = ""
    required: bool = False
    readonly: bool = False
    relevant: bool = True
    error: str = ""
    value: str = ""
    values: list[str] = field(default_factory=list)
    lat: str = ""
    lng: str = ""
    choices: list[ChoiceOption] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    template: Row | None = None
    depth: int = 0  # repeats: how many repeats enclose this one
    counted: bool = False  # repeats: rows set by `repeat_count`, not by the submitter

    @property
    def id(self) -> str:
        return dom_id(self.key)

    @property
    def any_allowed(self) -> bool:
        """Whether a choice filter left any choice (a list may be empty until an
        earlier question is answered)."""
        return any(c.allowed for c in self.choices)


@dataclass
class Row:
    """One row of a repeat: its key (`rep[2]`), number (1-based) and questions."""

    key: str
    number: str
    children: list[Node]


@dataclass
class PageState:
    """What the last evaluation (and the refusal) said about the page."""

    relevant: Mapping[str, bool] = field(default_factory=dict)
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    choices: Mapping[str, list[str]] = field(default_factory=dict)


def _widget(question: Question, choices_count: int) -> tuple[str, dict[str, str]]:
    kind = question.type
    appearance = (question.appearance or "").lower()
    if kind in SELECT_ONE:
        minimal = "minimal" in appearance or choices_count > RADIO_MAX_CHOICES
        return ("select" if minimal else "radio"), {}
    if kind in SELECT_MANY:
        return "checkbox", {}
    if kind == "integer":
        return "number", {"inputmode": "numeric", "pattern": "-?[0-9]*", "type": "text"}
    if kind == "decimal":
        return "number", {"inputmode": "decimal", "type": "text"}
    if kind == "date":
        return "input", {"type": "date"}
    if kind == "time":
        return "input", {"type": "time"}
    if kind == "dateTime":
        return "input", {"type": "datetime-local"}
    if kind == "geopoint":
        return "geopoint", {}
    if kind == "image":
        return "file", {"accept": "image/*", "capture": "environment"}
    if kind == "audio":
        return "file", {"accept": "audio/*"}
    if kind in MEDIA:
        return "file", {}
    if kind == "acknowledge":
        return "acknowledge", {}
    if kind == "text" and "multiline" in appearance:
        return "textarea", {}
    return "input", {"type": "text"}


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else ""
    return str(value)


def _datetime_local(value: str) -> str:
    """An ISO 8601 dateTime as a datetime-local input shows it (no seconds, no offset)."""
    match = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})", value)
    return f"{match.group(1)}T{match.group(2)}" if match else value


def _geo_parts(value: Any) -> tuple[str, str]:
    if isinstance(value, Mapping):
        return _value_text(value.get("lat")), _value_text(value.get("lng"))
    parts = str(value or "").split()
    if len(parts) >= 2:
        return parts[0], parts[1]
    return "", ""


class _Builder:
    def __init__(
        self,
        form: FormDef,
        state: PageState,
        lang: str,
        extra_rows: Mapping[str, int],
    ) -> None:
        self.form = form
        self.state = state
        self.lang = lang
        self.extra_rows = extra_rows

    def text(self, labels: Any, scope: str = "") -> str:
        """A label or hint in the page's language. A `${name}` in it (XLSForm's output
        of a value) becomes a span the live check keeps filled with that answer."""
        if not labels:
            return ""
        text = str(self.form.label(labels, self.lang))
        if "${" not in text:
            return text
        parts: list[str] = []
        last = 0
        for match in OUTPUT_REF.finditer(text):
            name = match.group(1)
            question = self.form.by_name.get(name)
            key = field_key(scope if question is not None and question.repeat else "", name)
            parts.append(escape(text[last : match.start()]))
            value = self.state.values.get(key, "")
            parts.append(format_html('<span data-output="{}">{}</span>', key, value))
            last = match.end()
        parts.append(escape(text[last:]))
        return mark_safe("".join(str(p) for p in parts))  # noqa: S308 - every part escaped above

    def nodes(
        self, questions: Iterable[Question], scope: str, answers: Mapping[str, Any], depth: int
    ) -> list[Node]:
        out: list[Node] = []
        for question in questions:
            node = self.node(question, scope, answers, depth)
            if node is not None:
                out.append(node)
        return out

    def node(
        self, question: Question, scope: str, answers: Mapping[str, Any], depth: int
    ) -> Node | None:
        key = field_key(scope, question.name)
        base: dict[str, Any] = {
            "key": key,
            "name": question.name,
            "label": self.text(question.labels, scope),
            "hint": self.text(question.hints, scope),
            "relevant": self.state.relevant.get(key, True),
            "error": self.state.errors.get(key, ""),
        }
        kind = question.type
        if kind == "group":
            return Node(
                kind="group",
                widget="",
                children=self.nodes(question.children, scope, answers, depth),
                depth=depth,
                **base,
            )
        if kind == "repeat":
            return self.repeat(question, key, answers, depth, base)
        if kind == "note":
            return Node(kind="note", widget="", **base)
        if kind == "calculate":
            value = self.state.values.get(key, _value_text(answers.get(question.name)))
            return Node(kind="calculate", widget="", value=value, **base)
        if kind in NOT_POSTED or question.is_meta:
            return None
        return self.question(question, key, answers, base)

    def question(
        self, question: Question, key: str, answers: Mapping[str, Any], base: dict[str, Any]
    ) -> Node:
        answer = answers.get(question.name)
        readonly = _flag(question.readonly)
        allowed = self.state.choices.get(key)
        choices = [
            ChoiceOption(
                name=str(choice.name),
                label=self.text(choice.labels) or str(choice.name),
                checked=False,
                allowed=allowed is None or str(choice.name) in allowed,
            )
            for choice in question.choices
        ]
        widget, attrs = _widget(question, len(choices))
        node = Node(
            kind="field",
            widget=widget,
            required=_flag(question.required),
            readonly=readonly,
            attrs=attrs,
            choices=choices,
            **base,
        )
        if readonly and key in self.state.values:
            answer = self.state.values[key]
        elif answer is None and question.default and key in self.state.values:
            # A default computed by the rules (`today()`): shown as the server will take it.
            answer = self.state.values[key]
        if widget == "checkbox":
            picked = answer if isinstance(answer, list) else str(answer or "").split()
            node.values = [str(v) for v in picked]
            for choice in choices:
                choice.checked = choice.name in node.values
        elif widget == "geopoint":
            node.lat, node.lng = _geo_parts(answer)
        elif widget == "file":
            node.values = [str(v) for v in answer] if isinstance(answer, list) else []
            if question.type == "image":
                attrs["multiple"] = "multiple"
        else:
            node.value = _value_text(answer)
            if attrs.get("type") == "datetime-local":
                node.value = _datetime_local(node.value)
            for choice in choices:
                choice.checked = choice.name == node.value
        return node

    def repeat(
        self,
        question: Question,
        key: str,
        answers: Mapping[str, Any],
        depth: int,
        base: dict[str, Any],
    ) -> Node:
        rows_data = answers.get(question.name)
        rows_list = (
            [r for r in rows_data if isinstance(r, Mapping)] if isinstance(rows_data, list) else []
        )
        counted = bool(question.repeat_count.strip())
        if counted and self.state.relevant:
            # `repeat_count`: as many rows as the evaluator made, no add/remove buttons.
            count = 0
            while f"{key}[{count}]" in self.state.relevant and count < MAX_REPEAT_ROWS:
                count += 1
        else:
            count = max(1, len(rows_list)) + self.extra_rows.get(key, 0)
        count = min(count, MAX_REPEAT_ROWS)
        rows = []
        for index in range(count):
            row_answers: Mapping[str, Any] = rows_list[index] if index < len(rows_list) else {}
            row_key = f"{key}[{index}]"
            rows.append(
                Row(
                    key=row_key,
                    number=str(index + 1),
                    children=self.nodes(question.children, row_key, row_answers, depth + 1),
                )
            )
        # The row the page's script clones: its index is a placeholder it replaces, one
        # per depth, so the rows of a repeat inside it are numbered on their own.
        placeholder = f"__i{depth}__"
        template_key = f"{key}[{placeholder}]"
        blank = _Builder(self.form, PageState(), self.lang, {})
        template = Row(
            key=template_key,
            number=placeholder,
            children=blank.nodes(question.children, template_key, {}, depth + 1),
        )
        return Node(
            kind="repeat",
            widget="",
            rows=rows,
            template=template,
            depth=depth,
            counted=counted,
            **base,
        )


def page_tree(
    form: FormDef,
    answers: Mapping[str, Any],
    *,
    state: PageState | None = None,
    lang: str,
    extra_rows: Mapping[str, int] | None = None,
) -> list[Node]:
    """The submit page's questions, with `answers` filled in and `state` applied;
    `extra_rows` adds empty rows to repeats (the page's "add" without its script)."""
    builder = _Builder(form, state or PageState(), lang, extra_rows or {})
    return builder.nodes(form.questions, "", answers, 0)


def initial_answers(form: FormDef) -> dict[str, Any]:
    """The answers a blank page starts with: the questions' plain `default`s."""
    out: dict[str, Any] = {}
    for question in form.questions:
        _defaults(question, out)
    return out


def _defaults(question: Question, out: dict[str, Any]) -> None:
    if question.type == "group":
        for child in question.children:
            _defaults(child, out)
        return
    if question.type == "repeat":
        row: dict[str, Any] = {}
        for child in question.children:
            _defaults(child, row)
        if row:
            out[question.name] = [row]
        return
    default = _static_default(question)
    if default:
        out[question.name] = default.split() if question.type in SELECT_MANY else default


# --------------------------------------------------------------------------- posted page


@dataclass
class Posted:
    """A posted submit page: the answers, the files by field key, and a row to add or
    remove (the page's repeat buttons without its script)."""

    answers: dict[str, Any]
    files: dict[str, list[UploadedFile]]
    add: str = ""
    remove: str = ""


def _row_indices(post: QueryDict, prefix: str) -> list[int]:
    """The rows of repeat `prefix` the page posted (each row posts a `prefix[i]` marker)."""
    found: set[int] = set()
    for name in post:
        match = _ROW.match(name)
        if match and match.group("prefix") == prefix:
            found.add(int(match.group("index")))
    return sorted(found)[:MAX_REPEAT_ROWS]


def answers_from_post(
    form: FormDef,
    post: QueryDict,
    files: MultiValueDict[str, UploadedFile] | None = None,
    *,
    media_placeholders: bool = False,
) -> Posted:
    """Read a posted page. Rows of a repeat are numbered again from 0 in the order
    posted (a removed row leaves no gap). Empty values are left out. With
    `media_placeholders` (the live check, which never uploads files) a media question
    the page says has files gets placeholder ids, so `required` sees it answered."""
    out = Posted(answers={}, files={}, add=post.get(ADD, ""), remove=post.get(REMOVE, ""))
    _read(form.questions, post, files, "", "", out.answers, out, media_placeholders)
    return out


def _read(
    questions: Iterable[Question],
    post: QueryDict,
    files: MultiValueDict[str, UploadedFile] | None,
    read_scope: str,
    write_scope: str,
    into: dict[str, Any],
    out: Posted,
    placeholders: bool,
) -> None:
    for question in questions:
        kind = question.type
        read_key = field_key(read_scope, question.name)
        write_key = field_key(write_scope, question.name)
        if kind == "group":
            _read(question.children, post, files, read_scope, write_scope, into, out, placeholders)
            continue
        if kind == "repeat":
            rows: list[dict[str, Any]] = []
            for new, old in enumerate(_row_indices(post, read_key)):
                row: dict[str, Any] = {}
                _read(
                    question.children,
                    post,
                    files,
                    f"{read_key}[{old}]",
                    f"{write_key}[{new}]",
                    row,
                    out,
                    placeholders,
                )
                rows.append(row)
            if rows:
                into[question.name] = rows
            continue
        if kind in NOT_POSTED or question.is_meta:
            continue
        if kind in MEDIA:
            uploads = [f for f in (files.getlist(read_key) if files else []) if f]
            if uploads:
                out.files[write_key] = uploads
            elif placeholders:
                count = min(
                    int(post.get(read_key, "0") or 0) if post.get(read_key, "").isdigit() else 0, 20
                )
                if count:
                    into[question.name] = [str(uuid.UUID(int=i + 1)) for i in range(count)]
            continue
        if kind in SELECT_MANY:
            picked = [v for v in post.getlist(read_key) if v]
            if picked:
                into[question.name] = picked
            continue
        if kind == "geopoint":
            lat = post.get(read_key + GEO_LAT, "").strip()
            lng = post.get(read_key + GEO_LNG, "").strip()
            if lat or lng:
                into[question.name] = {"lat": lat, "lng": lng}
            continue
        if kind == "acknowledge":
            if post.get(read_key):
                into[question.name] = "OK"
            continue
        value = post.get(read_key, "")
        if value.strip():
            into[question.name] = value.strip() if kind != "text" else value


def drop_empty_rows(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers without repeat rows nothing was typed in (a blank row the page shows
    is not a row the submitter meant)."""
    out: dict[str, Any] = {}
    for name, value in answers.items():
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            rows = [drop_empty_rows(r) for r in value]
            rows = [r for r in rows if r]
            if rows:
                out[name] = rows
        else:
            out[name] = value
    return out


def remove_row(answers: dict[str, Any], row_key: str) -> bool:
    """Remove the repeat row `row_key` (`rep[1]`, `outer[0].inner[2]`) from answers."""
    match = _ROW.match(row_key)
    if not match:
        return False
    prefix, index = match.group("prefix"), int(match.group("index"))
    container: Any = answers
    parts = prefix.split(".")
    for part in parts[:-1]:
        inner = _ROW.match(part)
        if not inner or not isinstance(container, dict):
            return False
        rows = container.get(inner.group("prefix"))
        position = int(inner.group("index"))
        if not isinstance(rows, list) or position >= len(rows):
            return False
        container = rows[position]
    rows = container.get(parts[-1]) if isinstance(container, dict) else None
    if not isinstance(rows, list) or index >= len(rows):
        return False
    del rows[index]
    return True


# --------------------------------------------------------------------------- answers shown


@dataclass
class AnswerNode:
    """One answered question of a stored submission, as the case page shows it."""

    kind: str  # "value" | "choices" | "media" | "geopoint" | "group" | "repeat"
    label: str
    text: str = ""
    items: list[str] = field(default_factory=list)
    media: list[str] = field(default_factory=list)
    media_type: str = ""
    children: list[AnswerNode] = field(default_factory=list)
    rows: list[list[AnswerNode]] = field(default_factory=list)


def answers_tree(form: FormDef, answers: Mapping[str, Any], *, lang: str) -> list[AnswerNode]:
    """The stored answers with the labels of `form` (the version they were made with):
    groups as headings, repeat rows as numbered lists, select answers by their choice
    labels; questions not answered are left out."""
    return _answer_nodes(form, form.questions, answers, lang)


def _answer_nodes(
    form: FormDef, questions: Iterable[Question], answers: Mapping[str, Any], lang: str
) -> list[AnswerNode]:
    out: list[AnswerNode] = []
    for question in questions:
        label = str(form.label(question.labels, lang)) if question.labels else question.name
        kind = question.type
        if kind == "group":
            children = _answer_nodes(form, question.children, answers, lang)
            if children:
                out.append(AnswerNode(kind="group", label=label, children=children))
            continue
        value = answers.get(question.name)
        if kind == "repeat":
            rows = [
                _answer_nodes(form, question.children, row, lang)
                for row in (value if isinstance(value, list) else [])
                if isinstance(row, Mapping)
            ]
            if rows:
                out.append(AnswerNode(kind="repeat", label=label, rows=rows))
            continue
        # A calculation is shown only through a read-only question that displays it.
        if value in (None, "", []) or kind in ("note", "calculate") or question.is_meta:
            continue
        if kind in SELECT_ONE or kind in SELECT_MANY:
            names = value if isinstance(value, list) else str(value).split()
            by_name = {str(c.name): c for c in question.choices}
            items = [
                str(form.label(by_name[n].labels, lang)) if n in by_name else str(n) for n in names
            ]
            out.append(AnswerNode(kind="choices", label=label, items=items))
        elif kind in MEDIA:
            ids = [str(v) for v in value] if isinstance(value, list) else [str(value)]
            out.append(AnswerNode(kind="media", label=label, media=ids, media_type=kind))
        elif kind == "acknowledge":
            out.append(AnswerNode(kind="value", label=label, text="✓"))
        elif kind == "dateTime":
            text = _value_text(value)
            match = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})", text)
            out.append(
                AnswerNode(
                    kind="value", label=label, text=f"{match[1]} {match[2]}" if match else text
                )
            )
        elif kind == "geopoint":
            lat, lng = _geo_parts(value)
            out.append(AnswerNode(kind="value", label=label, text=f"{lat}, {lng}"))
        else:
            out.append(AnswerNode(kind="value", label=label, text=_value_text(value)))
    return out


def labels_by_key(nodes: Iterable[Node]) -> dict[str, str]:
    """Field key → label of every question on the page (for the error summary)."""
    out: dict[str, str] = {}
    for node in nodes:
        out[node.key] = node.label
        out.update(labels_by_key(node.children))
        for row in node.rows:
            out.update(labels_by_key(row.children))
    return out
