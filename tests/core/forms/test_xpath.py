"""XLSForm expressions through elementpath: the token-aware rewrite, XPath 1.0
comparisons, ODK's functions and the bounds."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import pytest
from elementpath import get_node_tree

from civicloop.core.forms.errors import FormError, FormErrorCode
from civicloop.core.forms.xpath import (
    Evaluator,
    ExpressionError,
    check_syntax,
    compile_expression,
    references,
    translate,
)

INSTANCE = (
    "<data><age>20</age><empty/><d>2024-01-02</d><s>a b</s><name>张三</name>"
    "<rep><x>1</x></rep><rep><x>2</x></rep><rep><x>4</x></rep></data>"
)
NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def resolve(name: str, absolute: bool) -> str:
    if name == "rep":
        return "/data/rep"
    if name == "x":
        return "/data/rep/x"
    return f"/data/{name}"


def run(expression: str) -> Any:
    tree = get_node_tree(ET.fromstring(INSTANCE))
    evaluator = Evaluator(tree, now=NOW)
    return evaluator.run(compile_expression(expression, resolve), tree.children[0])


def test_refs_become_paths_and_odk_functions_are_renamed_outside_string_literals() -> None:
    out = translate("if(${age} > 18, 'if(${age})', concat(\"a\", ${s}))", resolve)
    assert out == "odk:cond(/data/age > 18, 'if(${age})', odk:concat(\"a\", /data/s))"


def test_position_without_argument_stays_xpath_and_indexed_repeat_refs_are_absolute() -> None:
    seen: list[bool] = []

    def spy(name: str, absolute: bool) -> str:
        seen.append(absolute)
        return name

    out = translate("position() + position(..) + indexed-repeat(${x}, ${rep}, 1) + ${age}", spy)
    assert out.startswith("position() + odk:position(..) + odk:indexed-repeat(")
    assert seen == [True, True, False]


def test_references_lists_each_name_once_and_ignores_literals() -> None:
    assert references("${a} + ${b} + ${a} + '${c}'") == ["a", "b"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("${age} > 18", True),  # a text node "20" compared with a number
        ("${age} = 20", True),
        ("${age} = '20'", True),
        ("${empty} > 18", False),  # empty node vs number: NaN, false
        ("${empty} < 18", False),
        ("${empty} = ''", True),
        ("${d} < today()", True),  # dates compare as days
        ("today() - ${d}", 424.0),
        ("int((today() - ${d}) div 365.25)", 1.0),
        ("if(${age} >= 18, 'adult', 'minor')", "adult"),
        ("selected(${s}, 'b')", True),
        ("selected(${s}, 'c')", False),
        ("count-selected(${s})", 2),
        ("selected-at(${s}, 1)", "b"),
        ("coalesce(${empty}, 'z')", "z"),
        ("concat('a', ${age}, 'b')", "a20b"),
        ("string-length(${name})", 2),
        ("substr('abcdef', 1, 3)", "bc"),
        ("contains(${s}, ' ')", True),
        ("starts-with(${s}, 'a')", True),
        ("ends-with(${s}, 'b')", True),
        ("regex(${age}, '^[0-9]{2}$')", True),
        ("int(7.9)", 7.0),
        ("number(${age}) * 2", 40.0),
        ("round(2.345, 2)", 2.35),
        ("string(${age})", "20"),
        ("boolean-from-string('true')", True),
        ("sum(${x})", 7.0),
        ("count(${rep})", 3),
        ("min(${x})", 1.0),
        ("max(${age}, 3, 50)", 50.0),
        ("indexed-repeat(${x}, ${rep}, 2)", "2"),
        ("position(/data/rep[3])", 3),
        ("once('new')", "20"),  # the node has a value: once keeps it
        ("format-date(${d}, '%Y年%n月%e日')", "2024年1月2日"),
        ("date(${d}) = '2024-01-02'", True),
        ("decimal-date-time(${d})", 19724.0),
        ("not(${empty})", False),
        ("true() and not(false())", True),
        ("${empty} + 1 = ${empty} + 1", False),  # NaN
    ],
)
def test_expression_semantics(expression: str, expected: Any) -> None:
    assert run(expression) == expected


def test_today_now_and_uuid() -> None:
    assert run("today()") == "2025-03-01"
    # 10:00 UTC is 18:00 in Wenling: the city's clock, with its offset.
    assert run("now()").startswith("2025-03-01T18:00:00.000+08:00")
    assert len(run("uuid()")) == 36


def test_broken_expression_raises_expression_error() -> None:
    with pytest.raises(ExpressionError):
        compile_expression("${age} > > 1", resolve)
    with pytest.raises(ExpressionError):
        check_syntax("${nope} > 1", names={"age"})
    check_syntax("${age} > 1", names={"age"})


def test_deep_nesting_is_too_complex_quickly() -> None:
    start = time.monotonic()
    with pytest.raises(FormError) as caught:
        compile_expression("(" * 500 + "1" + ")" * 500, resolve)
    assert caught.value.code == FormErrorCode.TOO_COMPLEX
    assert time.monotonic() - start < 1


def test_overlong_expression_is_too_complex() -> None:
    with pytest.raises(FormError) as caught:
        compile_expression("1 + " * 600 + "1", resolve)
    assert caught.value.code == FormErrorCode.TOO_COMPLEX


def test_time_budget_is_checked_between_expressions() -> None:
    tree = get_node_tree(ET.fromstring(INSTANCE))
    evaluator = Evaluator(tree, now=NOW, budget=0.0)
    compiled = compile_expression("${age} > 1", resolve)
    time.sleep(0.001)
    with pytest.raises(FormError) as caught:
        evaluator.run(compiled, tree)
    assert caught.value.code == FormErrorCode.TOO_COMPLEX
