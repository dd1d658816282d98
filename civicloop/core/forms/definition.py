"""A form as the rest of civicloop reads it: `FormDef`, built from pyxform's JSON.

pyxform's JSON (`pyxform.xls2json.parse_file_to_json`) is what a `FormVersion` stores.
`FormDef.from_json` turns it into frozen `Question`s with every XLSForm column the
renderer and the evaluator need under one name (pyxform spreads them over `bind`,
`control` and the question itself), so nobody else has to know pyxform's layout.

Building a FormDef is cheap (one walk over the JSON); the lead's selector caches one
per form version. The evaluator's compiled expressions are cached on the FormDef.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# pyxform's type names for media, and ours: XLSForm's `image` is pyxform's `photo`.
TYPE_ALIASES = {
    "photo": "image",
    "select_one": "select one",
    "select_multiple": "select all that apply",
}
MEDIA_TYPES = frozenset({"image", "audio", "file", "video", "background-audio"})
SELECT_TYPES = frozenset({"select one", "select all that apply"})
CONTAINER_TYPES = frozenset({"group", "repeat"})
# Metadata pyxform fills on a device: we fill start/end/today with the server's time and
# ignore the others (there is no device); they are never rendered.
META_TYPES = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "email",
        "audit",
        "start-geopoint",
        "background-geopoint",
    }
)
# What we render and evaluate (convert.py refuses any other type at upload).
SUPPORTED_TYPES = frozenset(
    {
        "text",
        "integer",
        "decimal",
        "select one",
        "select all that apply",
        "date",
        "time",
        "dateTime",
        "geopoint",
        "image",
        "audio",
        "file",
        "note",
        "acknowledge",
        "calculate",
        "group",
        "repeat",
    }
)
# pyxform's generated `meta` group: instanceID is a device uuid and instanceName is
# FormDef.instance_name; neither is a question.
META_GROUP = "meta"

Labels = str | Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Choice:
    name: str
    labels: Labels
    # The choice sheet's other columns (what a choice_filter reads), as strings.
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Question:
    name: str
    type: str
    labels: Labels = ""
    hints: Labels = ""
    choices: tuple[Choice, ...] = ()
    list_name: str = ""
    required: str = ""
    required_message: Labels = ""
    relevant: str = ""
    constraint: str = ""
    constraint_message: Labels = ""
    calculation: str = ""
    readonly: str = ""
    default: str = ""
    choice_filter: str = ""
    appearance: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    repeat_count: str = ""
    children: tuple[Question, ...] = ()
    # The innermost enclosing repeat's name ("" outside repeats).
    repeat: str = ""
    # Names of the enclosing groups/repeats, outermost first (the answers XML path).
    parents: tuple[str, ...] = ()
    is_media: bool = False
    row: int | None = None

    @property
    def is_container(self) -> bool:
        return self.type in CONTAINER_TYPES

    @property
    def is_select(self) -> bool:
        return self.type in SELECT_TYPES

    @property
    def is_meta(self) -> bool:
        """pyxform metadata (start, end, today, deviceid...): never rendered."""
        return self.type in META_TYPES

    @property
    def is_required_always(self) -> bool:
        return _truthy(self.required)

    @property
    def is_readonly_always(self) -> bool:
        return _truthy(self.readonly)


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"yes", "true", "true()", "1"}


def _falsy(value: str) -> bool:
    return value.strip().lower() in {"", "no", "false", "false()", "0"}


def is_static_flag(value: str) -> bool:
    """A `required`/`read_only` cell that is yes/no rather than an expression."""
    return _truthy(value) or _falsy(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true()" if value else "false()"
    return str(value)


def _labels(value: Any) -> Labels:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return {str(k): _text(v) for k, v in value.items()}
    return _text(value)


def _parameters(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): _text(v) for k, v in value.items()}
    out: dict[str, str] = {}
    if isinstance(value, str):
        for part in value.replace(";", " ").replace(",", " ").split():
            key, _, val = part.partition("=")
            if key:
                out[key.strip()] = val.strip()
    return out


def _choices(items: Any) -> tuple[Choice, ...]:
    out = []
    for item in items or ():
        if not isinstance(item, Mapping):
            continue
        extra = {
            str(k): _text(v)
            for k, v in item.items()
            if k not in {"name", "label", "media"} and not isinstance(v, Mapping)
        }
        out.append(
            Choice(name=_text(item.get("name")), labels=_labels(item.get("label")), extra=extra)
        )
    return tuple(out)


def _language_code(key: str) -> str:
    """ "Chinese (zh)" -> "zh"; "default" -> "default"."""
    if key.endswith(")") and "(" in key:
        return key[key.rindex("(") + 1 : -1].strip().lower()
    return key.strip().lower()


def _django_code(lang: str | None) -> str:
    """ "zh-hans" -> "zh", "en-us" -> "en"."""
    return (lang or "").split("-")[0].split("_")[0].lower()


@dataclass(slots=True)
class FormDef:
    title: Labels
    form_id: str
    version: str
    instance_name: str
    questions: tuple[Question, ...]
    by_name: dict[str, Question]
    # The root element's name in the answers instance (pyxform's survey name).
    root_name: str = "data"
    default_language: str = "default"
    # Filled lazily by xpath.py / evaluate.py (compiled expressions, dependency order).
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(
        cls, definition: Mapping[str, Any], rows: Mapping[str, int] | None = None
    ) -> FormDef:
        """Build from pyxform's JSON. `rows` (question name -> survey row) is only known
        at upload (convert.py passes it); stored definitions have no rows."""
        choice_lists: Mapping[str, Any] = definition.get("choices") or {}
        by_name: dict[str, Question] = {}

        def build(
            node: Mapping[str, Any], parents: tuple[str, ...], repeat: str
        ) -> Question | None:
            kind = _text(node.get("type"))
            kind = TYPE_ALIASES.get(kind, kind)
            name = _text(node.get("name"))
            if kind == "group" and name == META_GROUP and not parents:
                return None
            bind: Mapping[str, Any] = node.get("bind") or {}
            control: Mapping[str, Any] = node.get("control") or {}
            children: tuple[Question, ...] = ()
            if kind in CONTAINER_TYPES:
                inner_repeat = name if kind == "repeat" else repeat
                built = (
                    build(child, (*parents, name), inner_repeat)
                    for child in node.get("children") or ()
                )
                children = tuple(q for q in built if q is not None)
            choices = _choices(node.get("choices"))
            list_name = _text(node.get("itemset") or node.get("list_name"))
            if not choices and list_name and list_name in choice_lists:
                choices = _choices(choice_lists[list_name])
            question = Question(
                name=name,
                type=kind,
                labels=_labels(node.get("label")),
                hints=_labels(node.get("hint")),
                choices=choices,
                list_name=list_name,
                required=_text(bind.get("required")),
                required_message=_labels(bind.get("jr:requiredMsg")),
                relevant=_text(bind.get("relevant")),
                constraint=_text(bind.get("constraint")),
                constraint_message=_labels(bind.get("jr:constraintMsg")),
                calculation=_text(bind.get("calculate")),
                readonly=_text(bind.get("readonly")),
                default=_text(node.get("default")),
                choice_filter=_text(node.get("choice_filter")),
                appearance=_text(control.get("appearance")),
                parameters=_parameters(node.get("parameters")),
                repeat_count=_text(control.get("jr:count")),
                children=children,
                repeat=repeat,
                parents=parents,
                is_media=kind in MEDIA_TYPES,
                row=(rows or {}).get(name),
            )
            by_name[name] = question
            return question

        built_top = (build(child, (), "") for child in definition.get("children") or ())
        questions = tuple(q for q in built_top if q is not None)
        return cls(
            title=_labels(definition.get("title")) or _text(definition.get("name")),
            form_id=_text(definition.get("id_string")),
            version=_text(definition.get("version")),
            instance_name=_text(definition.get("instance_name")),
            questions=questions,
            by_name=by_name,
            root_name=_text(definition.get("name")) or "data",
            default_language=_text(definition.get("default_language")) or "default",
        )

    def walk(self) -> Iterator[Question]:
        """Every question, group and repeat, depth-first in form order."""

        def visit(items: tuple[Question, ...]) -> Iterator[Question]:
            for q in items:
                yield q
                if q.children:
                    yield from visit(q.children)

        return visit(self.questions)

    @staticmethod
    def label(obj: Labels | Question | Choice | None, lang: str | None = None) -> str:
        """The text of a label (or hint, or message) in `lang` (a Django language code,
        the active language when None): the key whose "(code)" suffix matches, else
        "default", else the first value."""
        if obj is None:
            return ""
        if isinstance(obj, Question | Choice):
            obj = obj.labels
        if isinstance(obj, str):
            return obj
        if not obj:
            return ""
        if lang is None:
            from django.utils.translation import get_language

            lang = get_language()
        want = _django_code(lang)
        for key, value in obj.items():
            if _language_code(key) == want and value:
                return value
        if obj.get("default"):
            return obj["default"]
        return next((v for v in obj.values() if v), "")
