"""Answers checked against a form: the server's authority over what a page shows.

`evaluate(form, answers, now=..., strict=...)` does what an XForm engine does, in one
pass and in this order:

1. coerce each raw value (strings from a web form, JSON values from the API) to its
   canonical form (see the common conventions: int for integer, "12.5" for decimal,
   list of choice names for select_multiple, "YYYY-MM-DD" dates...) and write it into an
   XML instance shaped like the form (xpath.py evaluates over it); a value that does not
   coerce is a type error on its field. A question never answered takes its `default`;
2. walk the questions in dependency order (a question after everything its `relevant`,
   `calculation`, `default` or `repeat_count` reads): relevance (a hidden group or
   repeat hides everything inside; hidden values are blanked, so nothing reads them),
   `repeat_count`, calculations, read-only questions reset to their default;
3. validate every shown question: required (with `required_message`), the type checks
   of step 1, selects against their (filtered) choices, `constraint` (with
   `constraint_message` in the active language).

The page's live endpoint calls it with strict=False (errors only for fields that hold a
value, or that the page names in `touched`); a submission with strict=True.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from elementpath import get_node_tree
from elementpath.datatypes import UntypedAtomic

from civicloop.core.forms.definition import FormDef, Question, is_static_flag
from civicloop.core.forms.errors import FormError, FormErrorCode
from civicloop.core.forms.xpath import (
    DEFAULT_BUDGET_SECONDS,
    Compiled,
    Evaluator,
    ExpressionError,
    compile_expression,
    iter_element_nodes,
    references,
    too_complex,
)

MAX_REPEAT_INSTANCES = 500
MAX_NODES = 20_000
MAX_TEXT_CHARS = 10_000  # one answer
FILTER_CACHE_SIZE = 4096  # distinct choice-filter inputs kept per form
_IMPURE = re.compile(r"\b(current|once|now|today|uuid|random|position|indexed-repeat)\s*\(")
INT_MAX = 2**31 - 1  # ODK's integer is 32-bit
DECIMAL_MAX = Decimal("1e15")
YEAR_MIN, YEAR_MAX = 1800, 2200

_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_INTEGER_RE = re.compile(r"^[+-]?\d{1,12}(\.0*)?$")
_DECIMAL_RE = re.compile(r"^[+-]?(\d{1,20}(\.\d{0,20})?|\.\d{1,20})$")
_DYNAMIC_DEFAULT = re.compile(r"\$\{|^\s*[A-Za-z_][\w:.\-]*\s*\(")
_NO_ANSWER = frozenset({"note"})
_SERVER_META = frozenset({"start", "end", "today"})


@dataclass
class Evaluation:
    answers: dict[str, Any] = field(default_factory=dict)
    relevant: dict[str, bool] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)
    instance_name: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


# --- the plan: what is compiled once per FormDef ---------------------------------------


@dataclass
class _Plan:
    order: list[Question]
    exprs: dict[tuple[str, str], Compiled]
    # choice_filter: (compiled with $odkrN variables, the refs' compiled paths)
    filters: dict[str, tuple[Compiled, list[Compiled]]]
    # choice list name -> the elementpath tree of <root><item><name/>columns</item>...
    choice_nodes: dict[str, Any]
    instance_name: Compiled | None
    # Choice filters whose result depends only on their references' values.
    pure_filters: set[str] = field(default_factory=set)
    filter_cache: dict[Any, list[str]] = field(default_factory=dict)


def _path(q: Question) -> tuple[str, ...]:
    return (*q.parents, q.name)


def _resolver(form: FormDef, context: tuple[str, ...]) -> Any:
    """`${name}` -> an XPath from a node at `context` (names from the root): relative
    through the innermost repeat both share, absolute otherwise."""

    def resolve(name: str, absolute: bool) -> str:
        target = form.by_name.get(name)
        if target is None:
            raise ExpressionError(gettext("引用了不存在的题目 ${%(name)s}") % {"name": name})
        tpath = _path(target)
        shared = -1
        if not absolute:
            for i, (a, b) in enumerate(zip(context, tpath, strict=False)):
                if a != b:
                    break
                if form.by_name[a].type == "repeat":
                    shared = i
        if shared < 0:
            return "/" + "/".join((form.root_name, *tpath))
        ups = len(context) - (shared + 1)
        rest = tpath[shared + 1 :]
        steps = [".."] * ups + list(rest)
        return "/".join(steps) if steps else "."

    return resolve


def _is_dynamic(default: str) -> bool:
    return bool(_DYNAMIC_DEFAULT.search(default))


def _dependencies(form: FormDef) -> dict[str, set[str]]:
    deps: dict[str, set[str]] = {}
    for q in form.walk():
        names: set[str] = set()
        for expr in (
            q.relevant,
            q.calculation,
            q.repeat_count,
            q.default if _is_dynamic(q.default) else "",
        ):
            names.update(references(expr))
        if q.readonly and not is_static_flag(q.readonly):
            names.update(references(q.readonly))
        if q.parents:
            names.add(q.parents[-1])
        deps[q.name] = {n for n in names if n in form.by_name}
    return deps


def dependency_cycle(form: FormDef) -> list[str]:
    """The names on a loop among relevants/calculations/defaults ([] when none)."""
    deps = _dependencies(form)
    # A question may read its own relevance container's names freely, but not itself.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str]:
        state[name] = 1
        stack.append(name)
        for dep in sorted(deps.get(name, ())):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[name] = 2
        return []

    for q in form.walk():
        if q.name not in state:
            found = visit(q.name)
            if found:
                return found
    return []


def _order(form: FormDef) -> list[Question]:
    deps = _dependencies(form)
    position = {q.name: i for i, q in enumerate(form.walk())}
    done: set[str] = set()
    order: list[Question] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done or name in visiting:
            return  # a loop (refused at upload): form order decides
        visiting.add(name)
        for dep in sorted(deps.get(name, ()), key=lambda n: position[n]):
            visit(dep)
        visiting.discard(name)
        done.add(name)
        order.append(form.by_name[name])

    for q in form.walk():
        visit(q.name)
    return order


def _compile(
    form: FormDef, q: Question, kind: str, expr: str, context: tuple[str, ...]
) -> Compiled:
    where = f"survey 表第 {q.row} 行" if q.row else q.name
    try:
        return compile_expression(expr, _resolver(form, context), literal_refs=True)
    except FormError as exc:
        raise FormError(FormErrorCode(exc.code), where=where, field=q.name) from None
    except ExpressionError as exc:
        raise FormError(
            FormErrorCode.BAD_FORM,
            gettext("题目 %(name)s 的 %(column)s 表达式有误：%(error)s")
            % {"name": q.name, "column": kind, "error": exc},
            where=where,
            field=q.name,
        ) from None


def plan_for(form: FormDef) -> _Plan:
    """Compile every expression of `form` once (cached on the FormDef)."""
    cached = form.cache.get("plan")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    exprs: dict[tuple[str, str], Compiled] = {}
    filters: dict[str, tuple[Compiled, list[Compiled]]] = {}
    choice_nodes: dict[str, Any] = {}
    for q in form.walk():
        own = _path(q)
        for kind, expr in (
            ("relevant", q.relevant),
            ("calculation", q.calculation),
            ("constraint", q.constraint),
            ("required", "" if is_static_flag(q.required) else q.required),
            ("read_only", "" if is_static_flag(q.readonly) else q.readonly),
            ("default", q.default if _is_dynamic(q.default) else ""),
        ):
            if expr.strip():
                exprs[(q.name, kind)] = _compile(form, q, kind, expr, own)
        if q.repeat_count.strip():
            exprs[(q.name, "repeat_count")] = _compile(
                form, q, "repeat_count", q.repeat_count, q.parents
            )
        if q.choice_filter.strip():
            refs = references(q.choice_filter)
            variables = {name: f"$odkr{i}" for i, name in enumerate(refs)}

            def as_variable(
                name: str, absolute: bool, variables: dict[str, str] = variables
            ) -> str:
                if name not in variables:
                    raise ExpressionError(name)
                return variables[name]

            where = f"survey 表第 {q.row} 行" if q.row else q.name
            try:
                # One XPath over the whole list, as an XForm itemset does.
                compiled_filter = compile_expression(f"item[({q.choice_filter})]/name", as_variable)
            except FormError as exc:
                raise FormError(FormErrorCode(exc.code), where=where, field=q.name) from None
            except ExpressionError as exc:
                raise FormError(
                    FormErrorCode.BAD_FORM,
                    gettext("题目 %(name)s 的 %(column)s 表达式有误：%(error)s")
                    % {"name": q.name, "column": "choice_filter", "error": exc},
                    where=where,
                ) from None
            ref_paths = [
                _compile(form, q, "choice_filter", "${" + name + "}", own) for name in refs
            ]
            filters[q.name] = (compiled_filter, ref_paths)
            items = ET.Element("root")
            for choice in q.choices:
                item = ET.SubElement(items, "item")
                ET.SubElement(item, "name").text = choice.name
                for key, value in choice.extra.items():
                    if re.match(r"^[A-Za-z_][\w.\-]*$", key) and key != "name":
                        ET.SubElement(item, key).text = value
            choice_nodes[q.name] = get_node_tree(items)
    instance_name = None
    if form.instance_name.strip():
        try:
            instance_name = compile_expression(
                form.instance_name, _resolver(form, ()), literal_refs=True
            )
        except ExpressionError:
            instance_name = None
    plan = _Plan(
        pure_filters={
            name for name in filters if not _IMPURE.search(form.by_name[name].choice_filter)
        },
        order=_order(form),
        exprs=exprs,
        filters=filters,
        choice_nodes=choice_nodes,
        instance_name=instance_name,
    )
    form.cache["plan"] = plan
    return plan


# --- coercion ---------------------------------------------------------------------------


class _Invalid(ValueError):
    pass


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list | tuple):
        out = []
        for item in value:
            if not isinstance(item, str | int) or isinstance(item, bool):
                raise _Invalid(gettext("选项格式不对。"))
            out.append(str(item).strip())
        return [v for v in out if v]
    raise _Invalid(gettext("选项格式不对。"))


def _coerce(q: Question, value: Any) -> str:
    """Canonical text of a raw value for the XML instance ("" for no answer). Raises
    _Invalid with the message to show."""
    kind = q.type
    if value is None:
        return ""
    if q.is_media:
        items = value if isinstance(value, list | tuple) else ([value] if value != "" else [])
        if not all(isinstance(v, str) and v.strip() and " " not in v.strip() for v in items):
            raise _Invalid(gettext("附件格式不对。"))
        return " ".join(v.strip() for v in items)
    if kind == "select all that apply":
        names = _as_list(value)
        unique = list(dict.fromkeys(names))
        return " ".join(unique)
    if isinstance(value, dict | list | tuple) and kind != "geopoint":
        raise _Invalid(gettext("格式不对。"))
    if isinstance(value, bool) and kind not in {"acknowledge"}:
        raise _Invalid(gettext("格式不对。"))
    text = value if isinstance(value, str) else str(value)
    if kind == "geopoint":
        return _coerce_geopoint(value)
    text = text.strip() if kind != "text" else text
    if text == "":
        return ""
    if len(text) > MAX_TEXT_CHARS:
        raise _Invalid(gettext("内容过长。"))
    if kind == "integer":
        if not _INTEGER_RE.match(text):
            raise _Invalid(gettext("请填写整数。"))
        number = int(Decimal(text))
        if abs(number) > INT_MAX:
            raise _Invalid(gettext("数字超出范围。"))
        return str(number)
    if kind == "decimal":
        if not _DECIMAL_RE.match(text):
            raise _Invalid(gettext("请填写数字。"))
        d = Decimal(text)
        if abs(d) >= DECIMAL_MAX:
            raise _Invalid(gettext("数字超出范围。"))
        return str(d)
    if kind == "date":
        try:
            parsed = date.fromisoformat(text[:10]) if len(text) in {10} else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise _Invalid(gettext("请填写日期（年-月-日）。"))
        if not YEAR_MIN <= parsed.year <= YEAR_MAX:
            raise _Invalid(gettext("日期超出范围。"))
        return parsed.isoformat()
    if kind == "time":
        m = _TIME_RE.match(text)
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59 or int(m.group(3) or 0) > 59:
            raise _Invalid(gettext("请填写时间（时:分）。"))
        hh, mm = int(m.group(1)), int(m.group(2))
        return f"{hh:02d}:{mm:02d}" + (f":{int(m.group(3)):02d}" if m.group(3) else "")
    if kind == "dateTime":
        try:
            parsed_dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _Invalid(gettext("请填写日期和时间。")) from None
        if not YEAR_MIN <= parsed_dt.year <= YEAR_MAX:
            raise _Invalid(gettext("日期超出范围。"))
        if parsed_dt.tzinfo is None:
            parsed_dt = timezone.make_aware(parsed_dt, timezone.get_current_timezone())
        return parsed_dt.isoformat()
    if kind == "acknowledge":
        if value is True or text.upper() in {"OK", "TRUE", "1", "YES"}:
            return "OK"
        if value is False or text.upper() in {"FALSE", "0", "NO"}:
            return ""
        raise _Invalid(gettext("格式不对。"))
    return text


def _coerce_geopoint(value: Any) -> str:
    if isinstance(value, dict):
        lat = value.get("lat", value.get("latitude"))
        lng = value.get("lng", value.get("lon", value.get("longitude")))
        parts: list[Any] = [
            lat,
            lng,
            value.get("alt", value.get("altitude", 0)),
            value.get("accuracy", value.get("acc", 0)),
        ]
        if lat in (None, "") and lng in (None, ""):
            return ""
    elif isinstance(value, str | list | tuple):
        parts = value.split() if isinstance(value, str) else list(value)
        if not parts:
            return ""
        parts = [*parts, 0, 0][:4] if len(parts) >= 2 else parts
    else:
        raise _Invalid(gettext("位置格式不对。"))
    try:
        if len(parts) != 4:
            raise ValueError
        numbers = [float(p if p not in (None, "") else 0) for p in parts]
    except (TypeError, ValueError):
        raise _Invalid(gettext("位置格式不对。")) from None
    if not all(math.isfinite(n) for n in numbers):
        raise _Invalid(gettext("位置格式不对。"))
    lat_f, lng_f = numbers[0], numbers[1]
    if not (-90 <= lat_f <= 90 and -180 <= lng_f <= 180):
        raise _Invalid(gettext("位置超出范围。"))
    return " ".join(_num_text(n) for n in numbers)


def _num_text(n: float) -> str:
    return str(int(n)) if n == int(n) else repr(n)


def _canonical(q: Question, text: str) -> Any:
    kind = q.type
    if q.is_media or kind == "select all that apply":
        return text.split()
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            try:
                return int(Decimal(text))
            except (InvalidOperation, ValueError):
                return text
    if kind == "decimal":
        try:
            return str(Decimal(text))
        except InvalidOperation:
            return text
    return text


# --- the instance ---------------------------------------------------------------------


class _State:
    def __init__(self, form: FormDef, plan: _Plan) -> None:
        self.form = form
        self.plan = plan
        self.root = ET.Element(form.root_name)
        self.keys: dict[ET.Element, str] = {self.root: ""}
        self.absent: set[ET.Element] = set()
        self.type_errors: dict[ET.Element, str] = {}
        self.relevant: dict[ET.Element, bool] = {self.root: True}
        self.nodes = 0
        self.repeat_errors: dict[str, str] = {}

    def count(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise too_complex("nodes")

    def fill(
        self,
        parent: ET.Element,
        questions: tuple[Question, ...],
        answers: Any,
        prefix: str,
        *,
        checked: bool = False,
    ) -> None:
        """Build the elements of `questions` under `parent` from `answers` (a flat dict)."""
        if not isinstance(answers, Mapping):
            answers = {}
        for q in questions:
            if q.type == "group":
                elem = ET.SubElement(parent, q.name)
                self.count()
                self.keys[elem] = prefix + q.name
                self.fill(elem, q.children, answers, prefix, checked=checked)
            elif q.type == "repeat":
                raw = answers.get(q.name)
                if raw is None:
                    raw = []
                instances = raw if isinstance(raw, list) else []
                if len(instances) > MAX_REPEAT_INSTANCES:
                    raise too_complex(q.name)
                if not isinstance(raw, list) or not all(isinstance(i, Mapping) for i in instances):
                    self.repeat_errors[prefix + q.name] = gettext("格式不对。")
                    instances = [i for i in instances if isinstance(i, Mapping)]
                for index, inst in enumerate(instances):
                    self.add_instance(parent, q, inst, prefix, index, checked=checked)
            else:
                elem = ET.SubElement(parent, q.name)
                self.count()
                key = prefix + q.name
                self.keys[elem] = key
                if q.name not in answers:
                    if checked:
                        continue
                    self.absent.add(elem)
                    if q.default and not _is_dynamic(q.default) and q.type not in _NO_ANSWER:
                        try:
                            elem.text = _coerce(q, q.default)
                        except _Invalid:
                            elem.text = ""
                    continue
                if q.type in _NO_ANSWER or (not checked and (q.type == "calculate" or q.is_meta)):
                    continue
                try:
                    elem.text = _coerce(q, answers[q.name])
                except _Invalid as exc:
                    self.type_errors[elem] = str(exc)

    def add_instance(
        self,
        parent: ET.Element,
        q: Question,
        inst: Any,
        prefix: str,
        index: int,
        *,
        checked: bool = False,
    ) -> ET.Element:
        elem = ET.Element(q.name)
        # Keep instances of one repeat together, after their last sibling.
        siblings = list(parent)
        last = max((i for i, c in enumerate(siblings) if c.tag == q.name), default=None)
        if last is None:
            parent.append(elem)
        else:
            parent.insert(last + 1, elem)
        self.count()
        inner = f"{prefix}{q.name}[{index}]."
        self.keys[elem] = inner[:-1]
        self.fill(elem, q.children, inst, inner, checked=checked)
        return elem


def _elements(state: _State, q: Question) -> list[ET.Element]:
    if not q.parents:
        return [e for e in state.root if e.tag == q.name]
    return state.root.findall("/".join(_path(q)))


def _parent_elements(state: _State, q: Question) -> list[ET.Element]:
    if not q.parents:
        return [state.root]
    return state.root.findall("/".join(q.parents))


def _label(value: Any, lang: str | None) -> str:
    return FormDef.label(value, lang)


def evaluate(
    form: FormDef,
    answers: Mapping[str, Any],
    *,
    now: datetime,
    strict: bool = True,
    touched: Collection[str] = (),
    budget: float = DEFAULT_BUDGET_SECONDS,
) -> Evaluation:
    """Check `answers` against `form` (see the module docstring). Raises
    FormError(TOO_COMPLEX) past the bounds (time budget, repeat instances, nodes) and
    FormError(BAD_FORM) for an expression that does not compile."""
    from django.utils.translation import get_language

    lang = get_language()
    plan = plan_for(form)
    state = _State(form, plan)
    state.fill(state.root, form.questions, answers if isinstance(answers, Mapping) else {}, "")

    def choice_label(name: str, value: str) -> str:
        q = form.by_name.get(name)
        if q is None:
            return value
        for choice in q.choices:
            if choice.name == value:
                return _label(choice.labels, lang)
        return value

    tree = get_node_tree(state.root)
    node_of = {n.elem: n for n in iter_element_nodes(tree)}
    ev = Evaluator(tree, now=now, budget=budget, choice_label=choice_label)

    def rebuild() -> None:
        nonlocal tree, node_of
        tree = get_node_tree(state.root)
        node_of = {n.elem: n for n in iter_element_nodes(tree)}
        ev.root = tree

    def expr(q: Question, kind: str) -> Compiled | None:
        return plan.exprs.get((q.name, kind))

    def blank(elem: ET.Element) -> None:
        for e in elem.iter():
            e.text = None

    # 2. dependency order
    for q in plan.order:
        if q.type == "repeat":
            count_expr = expr(q, "repeat_count")
            if count_expr is not None:
                changed = False
                for parent in _parent_elements(state, q):
                    if not state.relevant.get(parent, True):
                        continue
                    n = _to_count(ev.string(count_expr, node_of[parent]))
                    current = [e for e in parent if e.tag == q.name]
                    for extra in current[n:]:
                        parent.remove(extra)
                        changed = True
                    prefix = _instance_prefix(state, parent)
                    for index in range(len(current), n):
                        state.add_instance(parent, q, {}, prefix, index)
                        changed = True
                if changed:
                    rebuild()
        rel_expr = expr(q, "relevant")
        for elem in _elements(state, q):
            parent_rel = _parent_relevance(state, elem)
            shown = parent_rel
            node = node_of[elem]
            if shown and rel_expr is not None:
                shown = ev.boolean(rel_expr, node, on_error=True)
            state.relevant[elem] = shown
            if not shown:
                blank(elem)
                continue
            if q.is_container:
                continue
            if q.type in _SERVER_META:
                local = timezone.localtime(_aware(now))
                elem.text = local.date().isoformat() if q.type == "today" else local.isoformat()
                continue
            calc = expr(q, "calculation")
            if calc is not None:
                elem.text = ev.string(calc, node)
                state.type_errors.pop(elem, None)
                continue
            readonly = q.is_readonly_always
            ro_expr = expr(q, "read_only")
            if ro_expr is not None:
                readonly = ev.boolean(ro_expr, node)
            dyn_default = expr(q, "default")
            if readonly:
                state.type_errors.pop(elem, None)
                if dyn_default is not None:
                    elem.text = _safe_coerce(q, ev.string(dyn_default, node))
                else:
                    elem.text = _safe_coerce(q, q.default) if q.default else None
                continue
            if dyn_default is not None and elem in state.absent:
                elem.text = _safe_coerce(q, ev.string(dyn_default, node))

    # 3. validation and results
    result = Evaluation()
    result.errors.update(state.repeat_errors)
    for q in form.walk():
        for elem in _elements(state, q):
            key = state.keys[elem]
            shown = state.relevant.get(elem, False)
            if q.type == "repeat":
                whole = key.rpartition("[")[0]
                result.relevant[whole] = result.relevant.get(whole, False) or shown
            result.relevant[key] = shown
            if not shown or q.is_container or q.type in _NO_ANSWER:
                continue
            node = node_of[elem]
            text = elem.text or ""
            if text:
                result.values[key] = text
            if elem in state.type_errors:
                result.errors[key] = state.type_errors[elem]
                continue
            if q.is_select:
                allowed = _allowed_choices(q, node, plan, ev)
                result.choices[key] = allowed
                if text:
                    picked = text.split() if q.type == "select all that apply" else [text]
                    if any(p not in allowed for p in picked):
                        result.errors[key] = gettext("选项无效。")
                        continue
            if q.type == "calculate" or q.is_meta:
                continue
            if not text:
                required = q.is_required_always
                req_expr = expr(q, "required")
                if req_expr is not None:
                    required = ev.boolean(req_expr, node)
                if required and (strict or key in touched):
                    result.errors[key] = _label(q.required_message, lang) or gettext("此项必填。")
                continue
            con = expr(q, "constraint")
            if con is not None and not ev.boolean(con, node, on_error=False):
                result.errors[key] = _label(q.constraint_message, lang) or gettext(
                    "填写的内容不符合要求。"
                )
    result.answers = _collect(state, form.questions, state.root)
    if plan.instance_name is not None:
        result.instance_name = ev.string(plan.instance_name, tree)
    return result


def _instance_prefix(state: _State, parent: ET.Element) -> str:
    key = state.keys.get(parent, "")
    return key + "." if key.endswith("]") else _enclosing_prefix(state, parent)


def _enclosing_prefix(state: _State, elem: ET.Element) -> str:
    # A group's key is prefix + its name; its children share the prefix.
    key = state.keys.get(elem, "")
    if not key:
        return ""
    head, _, _ = key.rpartition(".")
    return head + "." if head else ""


def _parent_relevance(state: _State, elem: ET.Element) -> bool:
    parent = _parent_map(state).get(elem)
    if parent is None:
        return True
    return state.relevant.get(parent, True)


def _parent_map(state: _State) -> dict[ET.Element, ET.Element]:
    cached: dict[ET.Element, ET.Element] | None = getattr(state, "_parents", None)
    if cached is None or getattr(state, "_parents_nodes", -1) != state.nodes:
        cached = {child: parent for parent in state.root.iter() for child in parent}
        state._parents = cached  # type: ignore[attr-defined]
        state._parents_nodes = state.nodes  # type: ignore[attr-defined]
    return cached


def _to_count(text: str) -> int:
    try:
        n = float(text)
    except ValueError:
        return 0
    if math.isnan(n) or n < 0:
        return 0
    if n > MAX_REPEAT_INSTANCES:
        raise too_complex("repeat_count")
    return int(n)


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else timezone.make_aware(now)


def _safe_coerce(q: Question, value: str) -> str | None:
    try:
        return _coerce(q, value) or None
    except _Invalid:
        return None


def _allowed_choices(q: Question, node: Any, plan: _Plan, ev: Evaluator) -> list[str]:
    names = [c.name for c in q.choices]
    spec = plan.filters.get(q.name)
    if spec is None:
        return names
    compiled, ref_paths = spec
    # The filter sees each reference as its values (strings), not as nodes: its result
    # then depends on those strings alone, and is kept on the plan for every later
    # evaluation with the same inputs (unless it reads the clock or current()).
    variables: dict[str, Any] = {}
    for i, path in enumerate(ref_paths):
        found = ev.run(path, node)
        nodes = found if isinstance(found, list) else ([] if found is None else [found])
        variables[f"odkr{i}"] = [UntypedAtomic(_text_of(n)) for n in nodes]
    memo_key = (q.name, *(tuple(str(v) for v in vals) for vals in variables.values()))
    shared = plan.filter_cache if q.name in plan.pure_filters else ev.memo
    # The plan is shared by the threads of a process: read once, never re-read.
    allowed = shared.get(memo_key)
    if allowed is None:
        variables["odkcurrent"] = node
        found = ev.run(compiled, plan.choice_nodes[q.name], variables)
        picked = {_text_of(n) for n in found} if isinstance(found, list) else set()
        allowed = [name for name in names if name in picked]
        if len(shared) >= FILTER_CACHE_SIZE:
            shared.clear()
        shared[memo_key] = allowed
    return list(allowed)


def _text_of(item: Any) -> str:
    return str(getattr(item, "string_value", item))


def _collect(state: _State, questions: tuple[Question, ...], parent: ET.Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    children = list(parent)
    for q in questions:
        mine = [e for e in children if e.tag == q.name]
        if q.type == "group":
            for elem in mine:
                if state.relevant.get(elem, False):
                    out.update(_collect(state, q.children, elem))
        elif q.type == "repeat":
            rows = [_collect(state, q.children, e) for e in mine if state.relevant.get(e, False)]
            if rows:
                out[q.name] = rows
        elif q.type in _NO_ANSWER or (q.is_meta and q.type not in _SERVER_META):
            continue
        else:
            for elem in mine:
                if state.relevant.get(elem, False) and elem.text and elem not in state.type_errors:
                    out[q.name] = _canonical(q, elem.text)
    return out


def expression_value(
    form: FormDef,
    expression: str,
    answers: Mapping[str, Any],
    *,
    now: datetime,
    budget: float = DEFAULT_BUDGET_SECONDS,
) -> str:
    """The string value of one expression (e.g. the settings' instance_name) over
    answers already checked by `evaluate` (read as they are: no relevance, no
    calculations are recomputed), from the root of the form. FormError(BAD_FORM) when
    it does not compile, FormError(TOO_COMPLEX) past the bounds."""
    key = "expr:" + expression
    compiled = form.cache.get(key)
    if compiled is None:
        try:
            compiled = compile_expression(expression, _resolver(form, ()), literal_refs=True)
        except ExpressionError as exc:
            raise FormError(FormErrorCode.BAD_FORM, str(exc)) from None
        form.cache[key] = compiled
    state = _State(form, plan_for(form))
    state.fill(
        state.root,
        form.questions,
        answers if isinstance(answers, Mapping) else {},
        "",
        checked=True,
    )
    tree = get_node_tree(state.root)
    ev = Evaluator(tree, now=now, budget=budget)
    return ev.string(compiled, tree)


__all__ = ["Evaluation", "dependency_cycle", "evaluate", "expression_value", "plan_for"]
