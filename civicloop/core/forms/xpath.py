"""XLSForm expressions, evaluated by a real XPath engine (elementpath).

An XLSForm expression is XPath 1.0 with `${name}` references and ODK's functions. We
never parse it ourselves: a token-aware pass (string literals are left alone) only

- replaces each `${name}` by a path into the answers instance (an ElementTree shaped
  like an XForm's primary instance: the root named after the form, groups and repeats as
  elements, a repeat instance per repeated element). Inside a repeat, a reference to a
  question of the same repeat becomes a relative path, so it reads the *current*
  instance, as pyxform and ODK do;
- renames ODK's functions to our `odk:` namespace (`if(` would otherwise be XPath 2's
  keyword, `min`/`max`/`round`/`position` differ from XPath 2's functions).

elementpath's XPath 2 parser in XPath 1.0 compatibility mode then parses it once per
FormDef; the comparison and `+`/`-` operators are ours, with XPath 1.0's rules (a node
"20" > 18 is true, an empty node compared to a number is false) and ODK's dates (a
"YYYY-MM-DD" string compares and subtracts as a number of days).

Bounds: MAX_EXPRESSION_CHARS, MAX_NESTING (and RecursionError), a time budget checked
between expressions, and value sizes; exceeding one raises FormError(TOO_COMPLEX).
"""

from __future__ import annotations

import contextvars
import math
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone as dj_timezone
from django.utils.translation import gettext
from elementpath import XPath2Parser, XPathContext
from elementpath.datatypes import AbstractDateTime
from elementpath.exceptions import ElementPathError, MissingContextError
from elementpath.xpath_nodes import ElementNode, XPathNode

from civicloop.core.forms.errors import FormError, FormErrorCode

MAX_EXPRESSION_CHARS = 2000
MAX_NESTING = 40  # parentheses/brackets deep
MAX_VALUE_CHARS = 100_000  # a calculated string (concat doubling is exponential)
DEFAULT_BUDGET_SECONDS = 2.0

ODK_NS = "http://www.opendatakit.org/xforms"
JR_NS = "http://openrosa.org/javarosa"

REF_RE = re.compile(r"\$\{\s*([^}\s]*)\s*\}")
_TOKEN_RE = re.compile(
    r"""(?P<str>'[^']*'|"[^"]*")"""
    r"""|(?P<ref>\$\{[^}]*\})"""
    r"""|(?P<name>[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)"""
    r"""|(?P<ws>\s+)"""
    r"""|(?P<other>.)""",
    re.S,
)
# ODK function name -> our name (in the odk: namespace).
FUNCTIONS = {
    "if": "odk:cond",
    "selected": "odk:selected",
    "count-selected": "odk:count-selected",
    "selected-at": "odk:selected-at",
    "jr:choice-name": "odk:choice-name",
    "coalesce": "odk:coalesce",
    "concat": "odk:concat",
    "join": "odk:join",
    "substr": "odk:substr",
    "regex": "odk:regex",
    "today": "odk:today",
    "now": "odk:now",
    "int": "odk:int",
    "number": "odk:number",
    "round": "odk:round",
    "boolean-from-string": "odk:boolean-from-string",
    "sum": "odk:sum",
    "min": "odk:min",
    "max": "odk:max",
    "indexed-repeat": "odk:indexed-repeat",
    "once": "odk:once",
    "uuid": "odk:uuid",
    "format-date": "odk:format-date",
    "format-date-time": "odk:format-date",
    "date": "odk:date",
    "date-time": "odk:date",
    "decimal-date-time": "odk:decimal-date-time",
    "decimal-date": "odk:decimal-date-time",
    "count-non-empty": "odk:count-non-empty",
    "current": "odk:current",
    "position": "odk:position",  # only with an argument: position() stays XPath's
    "pow": "odk:pow",
}
CURRENT_VAR = "odkcurrent"

_DATE_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?\s*$"
)
_EPOCH = date(1970, 1, 1)
_NUMERIC = (int, float, Decimal, AbstractDateTime, date)


def too_complex(detail: str = "") -> FormError:
    return FormError(FormErrorCode.TOO_COMPLEX, where=detail)


class ExpressionError(ValueError):
    """An expression that does not parse (or names a question the form lacks)."""


def references(expression: str) -> list[str]:
    """The `${name}`s an expression reads (outside string literals), in order, once each."""
    out: list[str] = []
    for m in _TOKEN_RE.finditer(expression or ""):
        if m.lastgroup == "ref":
            name = REF_RE.match(m.group()).group(1)  # type: ignore[union-attr]
            if name not in out:
                out.append(name)
    return out


def check_nesting(expression: str) -> None:
    depth = 0
    for m in _TOKEN_RE.finditer(expression):
        if m.lastgroup == "other":
            ch = m.group()
            if ch in "([":
                depth += 1
                if depth > MAX_NESTING:
                    raise too_complex(expression[:80])
            elif ch in ")]":
                depth -= 1


def translate(
    expression: str,
    resolve: Callable[[str, bool], str],
    *,
    literal_refs: bool = False,
) -> str:
    """Rewrite `${name}` with `resolve(name, absolute)` and ODK function names to ours,
    token by token (never inside string literals). Refs inside `indexed-repeat(...)` are
    absolute (it picks the instance itself). `literal_refs`: inside string literals,
    `${name}` becomes `name` (jr:choice-name's second argument names the question)."""
    tokens = list(_TOKEN_RE.finditer(expression))
    out: list[str] = []
    depth = 0
    absolute_until: list[int] = []  # paren depths of open indexed-repeat calls
    pending_absolute = False
    for i, m in enumerate(tokens):
        kind, text = m.lastgroup, m.group()
        if kind == "ref":
            name = REF_RE.match(text)
            if name is None:
                raise ExpressionError(gettext("无法识别的引用 %(ref)s") % {"ref": text})
            out.append(resolve(name.group(1), bool(absolute_until)))
        elif kind == "str":
            out.append(REF_RE.sub(lambda r: r.group(1), text) if literal_refs else text)
        elif kind == "name":
            j = i + 1
            while j < len(tokens) and tokens[j].lastgroup == "ws":
                j += 1
            is_call = j < len(tokens) and tokens[j].group() == "("
            prev = out[-1].strip() if out else ""
            if is_call and text in FUNCTIONS and prev not in {"/", "@", "::"}:
                if text == "position":
                    k = j + 1
                    while k < len(tokens) and tokens[k].lastgroup == "ws":
                        k += 1
                    if k < len(tokens) and tokens[k].group() == ")":
                        out.append(text)
                        continue
                if text == "indexed-repeat":
                    pending_absolute = True
                out.append(FUNCTIONS[text])
            else:
                out.append(text)
        elif kind == "other":
            if text == "(":
                depth += 1
                if pending_absolute:
                    absolute_until.append(depth)
                    pending_absolute = False
            elif text == ")":
                if absolute_until and absolute_until[-1] == depth:
                    absolute_until.pop()
                depth -= 1
            out.append(text)
        else:
            out.append(text)
    return "".join(out)


# --- values ------------------------------------------------------------------------


def date_number(text: str) -> float | None:
    """Days since 1970-01-01 of a date/dateTime string (ODK's numeric dates), or None."""
    m = _DATE_RE.match(text)
    if not m:
        return None
    try:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        days = float((date(y, mo, d) - _EPOCH).days)
    except ValueError:
        return None
    if m.group(4):
        days += (int(m.group(4)) * 3600 + int(m.group(5)) * 60 + int(m.group(6) or 0)) / 86400
        tz = m.group(7)
        if tz and tz != "Z":
            sign = -1 if tz[0] == "-" else 1
            hh, mm = int(tz[1:3]), int(tz[-2:])
            days -= sign * (hh * 60 + mm) / 1440
    return days


def _to_number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, AbstractDateTime | date):
        return date_number(str(value)) or math.nan
    text = str(value).strip()
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        d = date_number(text)
        return math.nan if d is None else d


def format_number(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return ""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def to_string(value: Any) -> str:
    """XPath 1.0 string() of a result (NaN is "" rather than "NaN": it is shown)."""
    if isinstance(value, list):
        return to_string(value[0]) if value else ""
    if isinstance(value, XPathNode):
        return value.string_value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int | Decimal):
        return format_number(float(value))
    if value is None:
        return ""
    return str(value)


def to_bool(value: Any) -> bool:
    if isinstance(value, list):
        return (
            bool(value)
            if not (len(value) == 1 and not isinstance(value[0], XPathNode))
            else to_bool(value[0])
        )
    if isinstance(value, XPathNode):
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        f = float(value)
        return not (math.isnan(f) or f == 0)
    return bool(to_string(value))


# --- the parser -----------------------------------------------------------------------


class OdkParser(XPath2Parser):
    """XPath 2 in 1.0 compatibility mode, with ODK's functions and XPath 1.0 comparisons."""

    DEFAULT_NAMESPACES = {**XPath2Parser.DEFAULT_NAMESPACES, "odk": ODK_NS, "jr": JR_NS}


_method = OdkParser.method
_function = OdkParser.function


def _items(token: Any, context: Any) -> list[Any]:
    return list(token.select(copy(context)))


def _atoms(token: Any, context: Any) -> tuple[bool, list[Any]]:
    """(is a node-set, values): nodes as their string values."""
    # Fast paths for the leaves comparisons mostly hold (the same results elementpath
    # gives; a choice filter runs them once per choice, so they are the hot loop).
    symbol = token.symbol
    if symbol == "(string)" or symbol == "(integer)" or symbol == "(decimal)":
        return False, [token.value]
    if symbol == "$":
        value = context.variables.get(token[0].value)
        if isinstance(value, list) and not any(isinstance(x, XPathNode) for x in value):
            return False, value
    elif symbol == "(name)" and isinstance(context.item, ElementNode) and ":" not in token.value:
        name = token.value
        children = [c for c in context.item if isinstance(c, ElementNode) and c.name == name]
        return True, [c.string_value for c in children]
    items = _items(token, context)
    is_nodes = any(isinstance(x, XPathNode) for x in items)
    return is_nodes, [x.string_value if isinstance(x, XPathNode) else x for x in items]


def _compare(op: str, left: tuple[bool, list[Any]], right: tuple[bool, list[Any]]) -> bool:
    lnodes, lvals = left
    rnodes, rvals = right
    if op in {"=", "!="}:
        eq = op == "="
        if not lnodes and len(lvals) == 1 and isinstance(lvals[0], bool):
            return (lvals[0] == (bool(rvals) if rnodes else to_bool(rvals))) == eq
        if not rnodes and len(rvals) == 1 and isinstance(rvals[0], bool):
            return (rvals[0] == (bool(lvals) if lnodes else to_bool(lvals))) == eq
        for a in lvals:
            for b in rvals:
                if isinstance(a, bool) or isinstance(b, bool):
                    same = to_bool(a) == to_bool(b)
                elif isinstance(a, _NUMERIC) or isinstance(b, _NUMERIC):
                    same = _to_number(a) == _to_number(b)
                else:
                    same = str(a) == str(b)
                if same == eq:
                    return True
        return False
    for a in lvals:
        for b in rvals:
            x, y = _to_number(a), _to_number(b)
            if (
                (op == "<" and x < y)
                or (op == ">" and x > y)
                or (op == "<=" and x <= y)
                or (op == ">=" and x >= y)
            ):
                return True
    return False


def _make_comparison(symbol: str) -> None:
    base = OdkParser.symbol_table[symbol]

    def evaluate(self: Any, context: Any = None) -> bool:
        if context is None:
            raise self.missing_context()
        return _compare(self.symbol, _atoms(self[0], context), _atoms(self[1], context))

    OdkParser.symbol_table[symbol] = type(f"Odk{base.__name__}", (base,), {"evaluate": evaluate})


def _make_arithmetic(symbol: str) -> None:
    base = OdkParser.symbol_table[symbol]

    def evaluate(self: Any, context: Any = None) -> Any:
        if context is None:
            raise self.missing_context()
        if len(self) == 1:
            value = _first_number(self[0], context)
            return -value if self.symbol == "-" else value
        a, b = _first_number(self[0], context), _first_number(self[1], context)
        return a + b if self.symbol == "+" else a - b

    OdkParser.symbol_table[symbol] = type(f"Odk{base.__name__}", (base,), {"evaluate": evaluate})


def _first_number(token: Any, context: Any) -> float:
    _, values = _atoms(token, context)
    return _to_number(values[0]) if values else math.nan


for _symbol in ("=", "!=", "<", ">", "<=", ">="):
    _make_comparison(_symbol)
for _symbol in ("+", "-"):
    _make_arithmetic(_symbol)


def _need(self: Any, context: Any) -> None:
    if context is None:
        raise self.missing_context()


def _arg_string(self: Any, context: Any, index: int) -> str:
    if index >= len(self):
        return ""
    _, values = _atoms(self[index], context)
    return to_string(values[0]) if values else ""


def _arg_strings(self: Any, context: Any) -> list[str]:
    """Every argument's values flattened (a node-set gives each node's value)."""
    out: list[str] = []
    for token in self:
        _, values = _atoms(token, context)
        out.extend(to_string(v) for v in values)
    return out


def _arg_number(self: Any, context: Any, index: int) -> float:
    return _first_number(self[index], context)


def _register(name: str, nargs: Any, func: Callable[..., Any]) -> None:
    token = _function(name, prefix="odk", nargs=nargs)

    def evaluate(self: Any, context: Any = None) -> Any:
        _need(self, context)
        _ACTIVE_EVALUATOR.get().tick()
        return func(self, context)

    _method(token)(evaluate)


def _fn_cond(self: Any, context: Any) -> Any:
    chosen = self[1] if to_bool(self[0].evaluate(copy(context))) else self[2]
    return chosen.evaluate(copy(context))


def _fn_selected(self: Any, context: Any) -> bool:
    return _arg_string(self, context, 1).strip() in _arg_string(self, context, 0).split()


def _fn_count_selected(self: Any, context: Any) -> int:
    return len(_arg_string(self, context, 0).split())


def _fn_selected_at(self: Any, context: Any) -> str:
    parts = _arg_string(self, context, 0).split()
    n = _arg_number(self, context, 1)
    return parts[int(n)] if not math.isnan(n) and 0 <= int(n) < len(parts) else ""


def _fn_choice_name(self: Any, context: Any) -> str:
    value = _arg_string(self, context, 0)
    ref = _arg_string(self, context, 1).strip()
    name = ref.strip("${} ").rsplit("/", 1)[-1]
    return _ACTIVE_EVALUATOR.get().choice_label(name, value)


def _fn_coalesce(self: Any, context: Any) -> str:
    first = _arg_string(self, context, 0)
    return first if first else _arg_string(self, context, 1)


def _fn_concat(self: Any, context: Any) -> str:
    text = "".join(_arg_strings(self, context))
    if len(text) > MAX_VALUE_CHARS:
        raise too_complex("concat")
    return text


def _fn_join(self: Any, context: Any) -> str:
    sep = _arg_string(self, context, 0)
    values: list[str] = []
    for token in list(self)[1:]:
        _, vals = _atoms(token, context)
        values.extend(to_string(v) for v in vals)
    text = sep.join(values)
    if len(text) > MAX_VALUE_CHARS:
        raise too_complex("join")
    return text


def _fn_substr(self: Any, context: Any) -> str:
    text = _arg_string(self, context, 0)
    start = _arg_number(self, context, 1)
    end = _arg_number(self, context, 2) if len(self) > 2 else float(len(text))
    if math.isnan(start) or math.isnan(end):
        return ""
    return text[max(0, int(start)) : max(0, int(end))]


def _fn_regex(self: Any, context: Any) -> bool:
    text, pattern = _arg_string(self, context, 0), _arg_string(self, context, 1)
    if len(pattern) > 500:
        raise too_complex("regex")
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _fn_today(self: Any, context: Any) -> str:
    return _ACTIVE_EVALUATOR.get().now.date().isoformat()


def _fn_now(self: Any, context: Any) -> str:
    return _ACTIVE_EVALUATOR.get().now.isoformat(timespec="milliseconds")


def _fn_int(self: Any, context: Any) -> float:
    n = _arg_number(self, context, 0)
    return n if math.isnan(n) or math.isinf(n) else float(math.trunc(n))


def _fn_number(self: Any, context: Any) -> float:
    if not len(self):
        return _to_number(
            context.item.string_value if isinstance(context.item, XPathNode) else context.item
        )
    return _arg_number(self, context, 0)


def _fn_round(self: Any, context: Any) -> float:
    n = _arg_number(self, context, 0)
    digits = int(_arg_number(self, context, 1)) if len(self) > 1 else 0
    if math.isnan(n) or math.isinf(n):
        return n
    factor = 10.0**digits
    return math.floor(n * factor + 0.5) / factor


def _fn_boolean_from_string(self: Any, context: Any) -> bool:
    return _arg_string(self, context, 0).strip().lower() in {"true", "1"}


def _numbers(self: Any, context: Any) -> list[float]:
    return [_to_number(v) for v in _arg_strings(self, context)]


def _fn_sum(self: Any, context: Any) -> float:
    values = _numbers(self, context)
    return math.fsum(values) if values else 0.0


def _fn_min(self: Any, context: Any) -> float:
    values = _numbers(self, context)
    return min(values) if values and not any(math.isnan(v) for v in values) else math.nan


def _fn_max(self: Any, context: Any) -> float:
    values = _numbers(self, context)
    return max(values) if values and not any(math.isnan(v) for v in values) else math.nan


def _fn_count_non_empty(self: Any, context: Any) -> int:
    return sum(1 for v in _arg_strings(self, context) if v)


def _fn_pow(self: Any, context: Any) -> float:
    try:
        return float(_arg_number(self, context, 0) ** _arg_number(self, context, 1))
    except (OverflowError, ZeroDivisionError):
        return math.nan


def _is_under(node: Any, ancestor: Any) -> bool:
    while node is not None:
        if node is ancestor:
            return True
        node = node.parent
    return False


def _fn_indexed_repeat(self: Any, context: Any) -> Any:
    # indexed-repeat(field, repeat1, index1[, repeat2, index2[, repeat3, index3]])
    targets = [x for x in _items(self[0], context) if isinstance(x, XPathNode)]
    scope: Any = None
    for k in range(1, len(self) - 1, 2):
        repeats = [x for x in _items(self[k], context) if isinstance(x, XPathNode)]
        if scope is not None:
            repeats = [r for r in repeats if _is_under(r, scope)]
        n = _arg_number(self, context, k + 1)
        if math.isnan(n) or not 1 <= int(n) <= len(repeats):
            return ""
        scope = repeats[int(n) - 1]
    for node in targets:
        if _is_under(node, scope):
            return node.string_value
    return ""


def _fn_once(self: Any, context: Any) -> Any:
    own = context.variables.get(CURRENT_VAR)
    if isinstance(own, XPathNode) and own.string_value:
        return own.string_value
    return self[0].evaluate(copy(context))


def _fn_uuid(self: Any, context: Any) -> str:
    return str(uuid.uuid4())


def _date_value(self: Any, context: Any, index: int) -> datetime | None:
    _, values = _atoms(self[index], context)
    if not values:
        return None
    value = values[0]
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if math.isnan(float(value)):
            return None
        return datetime(1970, 1, 1) + timedelta(days=float(value))
    text = to_string(value).strip()
    m = _DATE_RE.match(text)
    if not m:
        try:
            return datetime(1970, 1, 1) + timedelta(days=float(text))
        except (ValueError, OverflowError):
            return None
    try:
        return datetime(
            int(m.group(1)),
            int(m.group(2)),
            int(m.group(3)),
            int(m.group(4) or 0),
            int(m.group(5) or 0),
            int(m.group(6) or 0),
        )
    except ValueError:
        return None


_FORMATS = {
    "%Y": "%Y",
    "%y": "%y",
    "%m": "%m",
    "%n": "-n",
    "%b": "%b",
    "%d": "%d",
    "%e": "-e",
    "%H": "%H",
    "%h": "-h",
    "%M": "%M",
    "%S": "%S",
    "%a": "%a",
}


def _fn_format_date(self: Any, context: Any) -> str:
    value = _date_value(self, context, 0)
    if value is None:
        return ""
    fmt = _arg_string(self, context, 1)
    out = []
    i = 0
    while i < len(fmt):
        piece = fmt[i : i + 2]
        if piece in _FORMATS:
            spec = _FORMATS[piece]
            if spec == "-n":
                out.append(str(value.month))
            elif spec == "-e":
                out.append(str(value.day))
            elif spec == "-h":
                out.append(str(value.hour))
            else:
                out.append(value.strftime(spec))
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def _fn_date(self: Any, context: Any) -> str:
    value = _date_value(self, context, 0)
    if value is None:
        return ""
    if value.time() == datetime.min.time():
        return value.date().isoformat()
    return value.isoformat()


def _fn_decimal_date_time(self: Any, context: Any) -> float:
    text = _arg_string(self, context, 0)
    d = date_number(text)
    return math.nan if d is None else d


def _fn_current(self: Any, context: Any) -> Any:
    own = context.variables.get(CURRENT_VAR)
    return own if own is not None else context.item


def _fn_position(self: Any, context: Any) -> int:
    nodes = [x for x in _items(self[0], context) if isinstance(x, ElementNode)]
    if not nodes:
        return 0
    node = nodes[0]
    parent = node.parent
    if parent is None:
        return 1
    same = [c for c in parent if isinstance(c, ElementNode) and c.name == node.name]
    for i, c in enumerate(same, 1):
        if c is node:
            return i
    return 0


for _name, _nargs, _func in (
    ("cond", 3, _fn_cond),
    ("selected", 2, _fn_selected),
    ("count-selected", 1, _fn_count_selected),
    ("selected-at", 2, _fn_selected_at),
    ("choice-name", 2, _fn_choice_name),
    ("coalesce", 2, _fn_coalesce),
    ("concat", (0, None), _fn_concat),
    ("join", (1, None), _fn_join),
    ("substr", (2, 3), _fn_substr),
    ("regex", 2, _fn_regex),
    ("today", 0, _fn_today),
    ("now", 0, _fn_now),
    ("int", 1, _fn_int),
    ("number", (0, 1), _fn_number),
    ("round", (1, 2), _fn_round),
    ("boolean-from-string", 1, _fn_boolean_from_string),
    ("sum", (1, None), _fn_sum),
    ("min", (1, None), _fn_min),
    ("max", (1, None), _fn_max),
    ("count-non-empty", (1, None), _fn_count_non_empty),
    ("pow", 2, _fn_pow),
    ("indexed-repeat", (3, 7), _fn_indexed_repeat),
    ("once", 1, _fn_once),
    ("uuid", (0, 1), _fn_uuid),
    ("format-date", 2, _fn_format_date),
    ("date", 1, _fn_date),
    ("decimal-date-time", 1, _fn_decimal_date_time),
    ("current", 0, _fn_current),
    ("position", 1, _fn_position),
):
    _register(_name, _nargs, _func)


_PARSER = OdkParser(compatibility_mode=True)


@dataclass(frozen=True, slots=True)
class Compiled:
    source: str
    xpath: str
    token: Any


def compile_expression(
    expression: str,
    resolve: Callable[[str, bool], str],
    *,
    literal_refs: bool = False,
) -> Compiled:
    """Translate and parse once. Raises ExpressionError for a broken expression and
    FormError(TOO_COMPLEX) for one too long or too deep."""
    expression = expression.strip()
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise too_complex(expression[:80])
    check_nesting(expression)
    xpath = translate(expression, resolve, literal_refs=literal_refs)
    try:
        token = _PARSER.parse(xpath)
    except RecursionError:
        raise too_complex(expression[:80]) from None
    except (ElementPathError, SyntaxError, ValueError, TypeError) as exc:
        raise ExpressionError(str(exc)) from None
    return Compiled(source=expression, xpath=xpath, token=token)


def check_syntax(expression: str, names: Iterable[str] | None = None) -> None:
    """Raise ExpressionError if `expression` does not parse (refs resolve to a dummy
    path) or reads a name not in `names` (when given)."""
    known = set(names) if names is not None else None

    def resolve(name: str, absolute: bool) -> str:
        if known is not None and name not in known:
            raise ExpressionError(gettext("引用了不存在的题目 ${%(name)s}") % {"name": name})
        return f"/data/{name}" if _NCNAME.match(name) else "/data/x"

    compile_expression(expression, resolve, literal_refs=True)


_NCNAME = re.compile(r"^[A-Za-z_][\w.\-]*$")


# --- running ------------------------------------------------------------------------


class Evaluator:
    """One evaluation's state: the instance, the clock, the deadline, label lookup."""

    def __init__(
        self,
        root: Any,
        *,
        now: datetime,
        budget: float = DEFAULT_BUDGET_SECONDS,
        choice_label: Callable[[str, str], str] | None = None,
    ) -> None:
        self.root = root
        # The city's own clock: today() is the local date (Asia/Shanghai), not UTC's,
        # which is still yesterday before 08:00.
        aware = now if now.tzinfo else dj_timezone.make_aware(now)
        self.now = dj_timezone.localtime(aware)
        self.deadline = time.monotonic() + budget
        self._choice_label = choice_label
        self._ticks = 0
        # Results an evaluation may reuse (choice filters per distinct input).
        self.memo: dict[Any, Any] = {}

    def tick(self) -> None:
        self._ticks += 1
        if self._ticks % 64 == 0 and time.monotonic() > self.deadline:
            raise too_complex("time")

    def check_deadline(self) -> None:
        if time.monotonic() > self.deadline:
            raise too_complex("time")

    def choice_label(self, name: str, value: str) -> str:
        return self._choice_label(name, value) if self._choice_label else value

    def run(self, compiled: Compiled, node: Any, variables: dict[str, Any] | None = None) -> Any:
        """The raw result of `compiled` with `node` as `.` and current(). An expression
        that fails at run time (a type error the form author made) gives None."""
        self.check_deadline()
        context_vars = {CURRENT_VAR: node}
        if variables:
            context_vars.update(variables)
        context = XPathContext(self.root, item=node, variables=context_vars)
        token = _ACTIVE_EVALUATOR.set(self)
        try:
            return compiled.token.evaluate(context)
        except FormError:
            raise
        except RecursionError:
            raise too_complex(compiled.source[:80]) from None
        except (ElementPathError, MissingContextError, ValueError, TypeError, ArithmeticError):
            return None
        finally:
            _ACTIVE_EVALUATOR.reset(token)

    def string(self, compiled: Compiled, node: Any, variables: dict[str, Any] | None = None) -> str:
        text = to_string(self.run(compiled, node, variables))
        if len(text) > MAX_VALUE_CHARS:
            raise too_complex(compiled.source[:80])
        return text

    def boolean(
        self,
        compiled: Compiled,
        node: Any,
        variables: dict[str, Any] | None = None,
        *,
        on_error: bool = False,
    ) -> bool:
        result = self.run(compiled, node, variables)
        return on_error if result is None else to_bool(result)


_ACTIVE_EVALUATOR: contextvars.ContextVar[Evaluator] = contextvars.ContextVar("odk_evaluator")


def iter_element_nodes(root: Any) -> Iterator[Any]:
    yield root
    for child in root:
        if isinstance(child, ElementNode):
            yield from iter_element_nodes(child)
