"""evaluate(): one small XLSForm per question type, relevance, constraints with their
Chinese messages, choice filters, repeats with relative references, calculation chains,
defaults, read-only questions, the page mode, and hostile input bounded."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils import translation

from civicloop.core.forms.definition import FormDef
from civicloop.core.forms.errors import FormError, FormErrorCode
from civicloop.core.forms.evaluate import Evaluation, evaluate, expression_value
from tests.core.forms.xlsforms import formdef

NOW = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Wenling
HEAD = ["type", "name", "label"]


def check(form: FormDef, answers: dict[str, Any], **kwargs: Any) -> Evaluation:
    with translation.override("zh-hans"):
        return evaluate(form, answers, now=NOW, **kwargs)


def one(kind: str, value: Any, *, extra: list[list[Any]] | None = None) -> Evaluation:
    choices = [["list_name", "name", "label"], ["c", "a", "甲"], ["c", "b", "乙"]]
    return check(formdef([HEAD, [kind, "q", "题"], *(extra or [])], choices), {"q": value})


# --- one form per question type ---------------------------------------------------------


def test_text() -> None:
    assert one("text", "你好").answers == {"q": "你好"}


@pytest.mark.parametrize(("raw", "expected"), [("12", 12), (12, 12), (" -3 ", -3), ("12.0", 12)])
def test_integer_coerces(raw: Any, expected: int) -> None:
    result = one("integer", raw)
    assert result.ok and result.answers == {"q": expected}


@pytest.mark.parametrize("raw", ["abc", "1.5", "1_000", True, "99999999999"])
def test_integer_refuses(raw: Any) -> None:
    result = one("integer", raw)
    assert not result.ok and "q" in result.errors and "q" not in result.answers


@pytest.mark.parametrize(("raw", "expected"), [("12.50", "12.50"), (3.5, "3.5"), ("7", "7")])
def test_decimal_is_a_string_of_the_decimal(raw: Any, expected: str) -> None:
    assert one("decimal", raw).answers == {"q": expected}


def test_decimal_refuses_text_and_nan() -> None:
    assert "q" in one("decimal", "x").errors
    assert "q" in one("decimal", "NaN").errors


def test_select_one_must_be_a_listed_choice() -> None:
    assert one("select_one c", "a").answers == {"q": "a"}
    assert one("select_one c", "z").errors == {"q": "选项无效。"}


def test_select_multiple_takes_a_list_or_a_spaced_string() -> None:
    assert one("select_multiple c", ["a", "b"]).answers == {"q": ["a", "b"]}
    assert one("select_multiple c", "b a").answers == {"q": ["b", "a"]}
    assert "q" in one("select_multiple c", ["a", "z"]).errors
    assert one("select_multiple c", ["a"]).choices == {"q": ["a", "b"]}


def test_date() -> None:
    assert one("date", "2024-02-29").answers == {"q": "2024-02-29"}
    assert "q" in one("date", "2023-02-29").errors
    assert "q" in one("date", "29/02/2024").errors
    assert "q" in one("date", "0001-01-01").errors


def test_time() -> None:
    assert one("time", "9:05").answers == {"q": "09:05"}
    assert one("time", "23:59:30").answers == {"q": "23:59:30"}
    assert "q" in one("time", "24:00").errors


def test_datetime_without_offset_is_read_in_the_city_time_zone() -> None:
    assert one("dateTime", "2025-03-01T10:00").answers == {"q": "2025-03-01T10:00:00+08:00"}
    assert one("dateTime", "2025-03-01T02:00:00Z").answers == {"q": "2025-03-01T02:00:00+00:00"}
    assert "q" in one("dateTime", "yesterday").errors


def test_geopoint_from_string_or_dict_latitude_first() -> None:
    assert one("geopoint", "28.37 121.38").answers == {"q": "28.37 121.38 0 0"}
    assert one("geopoint", {"lat": 28.37, "lng": 121.38}).answers == {"q": "28.37 121.38 0 0"}
    assert one("geopoint", "28.37 121.38 12 5").answers == {"q": "28.37 121.38 12 5"}
    assert "q" in one("geopoint", "121.38 200").errors
    assert "q" in one("geopoint", {"lat": "x", "lng": 1}).errors


@pytest.mark.parametrize("kind", ["image", "audio", "file"])
def test_media_answers_are_lists_of_attachment_ids(kind: str) -> None:
    ids = ["1b4e28ba-2fa1-11d2-883f-0016d3cca427", "6fa459ea-ee8a-3ca4-894e-db77e160355e"]
    assert one(kind, ids).answers == {"q": ids}
    assert "q" in one(kind, [{"id": 1}]).errors


def test_required_image_missing() -> None:
    form = formdef([[*HEAD, "required"], ["image", "pic", "照片", "yes"]])
    assert check(form, {}).errors == {"pic": "此项必填。"}


def test_note_has_no_answer() -> None:
    result = check(formdef([HEAD, ["note", "n", "说明"], ["text", "t", "T"]]), {"n": "x", "t": "y"})
    assert result.answers == {"t": "y"}


def test_acknowledge() -> None:
    assert one("acknowledge", "OK").answers == {"q": "OK"}
    assert one("acknowledge", True).answers == {"q": "OK"}
    assert one("acknowledge", "").answers == {}
    assert "q" in one("acknowledge", "maybe").errors


def test_calculate_ignores_a_submitted_value() -> None:
    form = formdef(
        [[*HEAD, "calculation"], ["integer", "a", "A", ""], ["calculate", "double", "", "${a} * 2"]]
    )
    result = check(form, {"a": "21", "double": "1"})
    assert result.answers == {"a": 21, "double": "42"}
    assert result.values["double"] == "42"


def test_start_end_today_are_the_server_time() -> None:
    form = formdef([HEAD, ["start", "start", ""], ["today", "today", ""], ["text", "t", "T"]])
    result = check(form, {"t": "x", "start": "1999-01-01"})
    assert result.answers["today"] == "2025-03-01"
    # The city's clock, with its offset (as ODK records start/end).
    assert result.answers["start"].startswith("2025-03-01T10:00:00+08:00")


# --- relevance ---------------------------------------------------------------------------


def test_relevant_hides_and_hidden_answers_are_dropped_and_not_validated() -> None:
    form = formdef(
        [
            [*HEAD, "relevant", "required", "constraint"],
            ["integer", "age", "年龄", "", "yes", ""],
            ["text", "school", "学校", "${age} < 18", "yes", "string-length(.) > 100"],
        ]
    )
    adult = check(form, {"age": "40", "school": "一中"})
    assert adult.ok and adult.answers == {"age": 40}
    assert adult.relevant == {"age": True, "school": False}
    child = check(form, {"age": "12"})
    assert child.errors == {"school": "此项必填。"}
    assert check(form, {"age": "12", "school": "一中"}).errors == {
        "school": "填写的内容不符合要求。"
    }


def test_a_hidden_group_hides_everything_inside() -> None:
    form = formdef(
        [
            [*HEAD, "relevant", "required"],
            ["select_one yn", "has", "有吗", "", ""],
            ["begin_group", "g", "详情", "${has} = 'yes'", ""],
            ["text", "what", "什么", "", "yes"],
            ["end_group", "", "", "", ""],
        ],
        [["list_name", "name", "label"], ["yn", "yes", "有"], ["yn", "no", "无"]],
    )
    hidden = check(form, {"has": "no", "what": "x"})
    assert hidden.ok and hidden.answers == {"has": "no"}
    assert hidden.relevant["g"] is False and hidden.relevant["what"] is False
    shown = check(form, {"has": "yes"})
    assert shown.errors == {"what": "此项必填。"}


def test_a_calculation_does_not_read_a_hidden_value() -> None:
    form = formdef(
        [
            [*HEAD, "relevant", "calculation"],
            ["integer", "a", "A", "", ""],
            ["integer", "b", "B", "${a} > 0", ""],
            ["calculate", "c", "", "", "concat('[', ${b}, ']')"],
        ]
    )
    assert check(form, {"a": "0", "b": "5"}).answers["c"] == "[]"
    assert check(form, {"a": "1", "b": "5"}).answers["c"] == "[5]"


# --- constraints and messages -------------------------------------------------------------


def test_constraint_message_in_the_active_language() -> None:
    form = formdef(
        [
            [
                "type",
                "name",
                "label::Chinese (zh)",
                "label::English (en)",
                "constraint",
                "constraint_message::Chinese (zh)",
                "constraint_message::English (en)",
                "required",
                "required_message::Chinese (zh)",
                "required_message::English (en)",
            ],
            [
                "integer",
                "people",
                "人数",
                "People",
                ". > 0 and . <= 500",
                "人数须在1到500之间",
                "1 to 500",
                "yes",
                "请填写人数",
                "Required",
            ],
        ]
    )
    assert check(form, {"people": "0"}).errors == {"people": "人数须在1到500之间"}
    assert check(form, {}).errors == {"people": "请填写人数"}
    with translation.override("en"):
        assert evaluate(form, {"people": "900"}, now=NOW).errors == {"people": "1 to 500"}


def test_date_constraint_against_today() -> None:
    form = formdef(
        [
            [*HEAD, "constraint", "constraint_message"],
            ["date", "d", "日期", ". <= today()", "不能晚于今天"],
        ]
    )
    assert check(form, {"d": "2025-03-01"}).ok
    assert check(form, {"d": "2025-03-02"}).errors == {"d": "不能晚于今天"}


def test_required_expression() -> None:
    form = formdef([[*HEAD, "required"], ["integer", "a", "A", ""], ["text", "b", "B", "${a} > 1"]])
    assert check(form, {"a": "1"}).ok
    assert check(form, {"a": "2"}).errors == {"b": "此项必填。"}


# --- choice filters -------------------------------------------------------------------------

TOWNS = [
    ["list_name", "name", "label", "town"],
    ["town", "zeguo", "泽国镇", None],
    ["town", "daxi", "大溪镇", None],
    ["village", "v1", "泽国村", "zeguo"],
    ["village", "v2", "大溪村", "daxi"],
    ["village", "v3", "丹崖村", "zeguo"],
]


def test_choice_filter_limits_the_choices_and_the_server_refuses_others() -> None:
    form = formdef(
        [
            [*HEAD, "choice_filter"],
            ["select_one town", "town", "镇", ""],
            ["select_one village", "village", "村", "town=${town}"],
        ],
        TOWNS,
    )
    result = check(form, {"town": "zeguo", "village": "v3"})
    assert result.ok and result.choices["village"] == ["v1", "v3"]
    assert check(form, {"town": "zeguo", "village": "v2"}).errors == {"village": "选项无效。"}


def test_choice_filter_inside_a_repeat_reads_the_same_instance() -> None:
    form = formdef(
        [
            [*HEAD, "choice_filter"],
            ["begin_repeat", "visits", "走访", ""],
            ["select_one town", "town", "镇", ""],
            ["select_one village", "village", "村", "town=${town}"],
            ["end_repeat", "", "", ""],
        ],
        TOWNS,
    )
    result = check(
        form, {"visits": [{"town": "zeguo", "village": "v1"}, {"town": "daxi", "village": "v1"}]}
    )
    assert result.choices["visits[0].village"] == ["v1", "v3"]
    assert result.choices["visits[1].village"] == ["v2"]
    assert result.errors == {"visits[1].village": "选项无效。"}


# --- repeats ---------------------------------------------------------------------------------


def test_repeat_sibling_reference_is_the_current_instance_and_keys_are_indexed() -> None:
    form = formdef(
        [
            [*HEAD, "calculation", "constraint", "required"],
            ["begin_repeat", "matters", "事项", "", "", ""],
            ["text", "title", "标题", "", "", "yes"],
            ["integer", "people", "人数", "", ". > 0", ""],
            ["calculate", "line", "", "concat(${title}, ':', ${people})", "", ""],
            ["end_repeat", "", "", "", "", ""],
            ["calculate", "total", "", "sum(${people})", "", ""],
            ["calculate", "n", "", "count(${matters})", "", ""],
        ]
    )
    result = check(
        form, {"matters": [{"title": "修路", "people": "3"}, {"title": "路灯", "people": 4}]}
    )
    assert result.ok, result.errors
    assert result.answers == {
        "matters": [
            {"title": "修路", "people": 3, "line": "修路:3"},
            {"title": "路灯", "people": 4, "line": "路灯:4"},
        ],
        "total": "7",
        "n": "2",
    }
    bad = check(form, {"matters": [{"title": "a", "people": "1"}, {"people": "0"}]})
    assert bad.errors == {
        "matters[1].title": "此项必填。",
        "matters[1].people": "填写的内容不符合要求。",
    }


def test_nested_repeat_keys() -> None:
    form = formdef(
        [
            [*HEAD, "required"],
            ["begin_repeat", "outer", "外", ""],
            ["begin_repeat", "inner", "内", ""],
            ["text", "name", "名", "yes"],
            ["end_repeat", "", "", ""],
            ["end_repeat", "", "", ""],
        ]
    )
    result = check(form, {"outer": [{"inner": [{"name": "a"}]}, {"inner": [{"name": "b"}, {}]}]})
    assert result.errors == {"outer[1].inner[1].name": "此项必填。"}
    assert result.answers["outer"][1]["inner"][0] == {"name": "b"}


def test_repeat_count_sets_the_number_of_instances() -> None:
    form = formdef(
        [
            [*HEAD, "repeat_count", "default"],
            ["integer", "n", "几个", "", ""],
            ["begin_repeat", "kids", "孩子", "${n}", ""],
            ["text", "kname", "名", "", "无名"],
            ["end_repeat", "", "", "", ""],
        ]
    )
    result = check(form, {"n": "2", "kids": [{"kname": "甲"}, {"kname": "乙"}, {"kname": "丙"}]})
    assert result.answers["kids"] == [{"kname": "甲"}, {"kname": "乙"}]
    padded = check(form, {"n": "3", "kids": [{"kname": "甲"}]})
    assert padded.answers["kids"] == [{"kname": "甲"}, {"kname": "无名"}, {"kname": "无名"}]


def test_a_repeat_that_is_not_a_list_is_an_error_on_its_name() -> None:
    form = formdef([HEAD, ["begin_repeat", "r", "R"], ["text", "t", "T"], ["end_repeat", "", ""]])
    assert check(form, {"r": "oops"}).errors == {"r": "格式不对。"}


# --- calculations, defaults, read-only ------------------------------------------------------


def test_calculation_chain_in_dependency_order_not_form_order() -> None:
    form = formdef(
        [
            [*HEAD, "calculation"],
            ["calculate", "c", "", "${b} * 2"],
            ["calculate", "b", "", "${a} + 1"],
            ["integer", "a", "A", ""],
        ]
    )
    assert check(form, {"a": "4"}).answers == {"c": "10", "b": "5", "a": 4}


def test_default_applies_only_when_never_answered() -> None:
    form = formdef([[*HEAD, "default"], ["integer", "n", "N", "3"], ["date", "d", "D", "today()"]])
    assert check(form, {}).answers == {"n": 3, "d": "2025-03-01"}
    assert check(form, {"n": "", "d": "2024-01-01"}).answers == {"d": "2024-01-01"}
    assert check(form, {}, strict=False).values == {"n": "3", "d": "2025-03-01"}


def test_read_only_ignores_the_submitted_value() -> None:
    form = formdef(
        [[*HEAD, "read_only", "default"], ["text", "office", "受理单位", "yes", "镇政府"]]
    )
    assert check(form, {"office": "我自己"}).answers == {"office": "镇政府"}


def test_instance_name_and_expression_value() -> None:
    form = formdef(
        [HEAD, ["text", "place", "地点"], ["integer", "people", "人数"]],
        settings=[
            ["form_title", "instance_name"],
            ["走访", "concat(${place}, ' ', ${people}, '人')"],
        ],
    )
    result = check(form, {"place": "泽国", "people": "12"})
    assert result.instance_name == "泽国 12人"
    assert expression_value(form, form.instance_name, result.answers, now=NOW) == "泽国 12人"


# --- page mode ------------------------------------------------------------------------------


def test_page_mode_reports_only_fields_with_a_value_or_touched() -> None:
    form = formdef(
        [
            [*HEAD, "required", "constraint"],
            ["text", "a", "A", "yes", ""],
            ["integer", "b", "B", "", ". > 5"],
        ]
    )
    assert check(form, {"b": "1"}, strict=False).errors == {"b": "填写的内容不符合要求。"}
    assert check(form, {}, strict=False, touched={"a"}).errors == {"a": "此项必填。"}
    assert check(form, {}).errors == {"a": "此项必填。"}


# --- hostile input -----------------------------------------------------------------------------


def _fast_refusal(call: Any) -> None:
    start = time.monotonic()
    with pytest.raises(FormError) as caught:
        call()
    assert caught.value.code == FormErrorCode.TOO_COMPLEX
    assert time.monotonic() - start < 2.5


def test_huge_repeat_is_too_complex() -> None:
    form = formdef([HEAD, ["begin_repeat", "r", "R"], ["text", "t", "T"], ["end_repeat", "", ""]])
    _fast_refusal(lambda: check(form, {"r": [{"t": "x"}] * 10_000}))


def test_huge_repeat_count_is_too_complex() -> None:
    form = formdef(
        [
            [*HEAD, "repeat_count"],
            ["integer", "n", "N", ""],
            ["begin_repeat", "r", "R", "${n}"],
            ["text", "t", "T", ""],
            ["end_repeat", "", "", ""],
        ]
    )
    _fast_refusal(lambda: check(form, {"n": "1000000"}))


def test_too_many_nodes_is_too_complex() -> None:
    survey = (
        [HEAD, ["begin_repeat", "r", "R"]]
        + [["text", f"t{i}", "T"] for i in range(60)]
        + [["end_repeat", "", ""]]
    )
    form = formdef(survey)
    _fast_refusal(lambda: check(form, {"r": [{}] * 400}))


def test_exponential_string_growth_is_too_complex() -> None:
    survey = [[*HEAD, "calculation"], ["text", "c0", "C", ""]]
    survey += [
        ["calculate", f"c{i}", "", f"concat(${{c{i - 1}}}, ${{c{i - 1}}})"] for i in range(1, 40)
    ]
    form = formdef(survey)
    _fast_refusal(lambda: check(form, {"c0": "xxxxxxxx"}))


def test_time_budget_is_bounded() -> None:
    survey = [[*HEAD, "relevant"], ["integer", "a", "A", ""]]
    survey += [["integer", f"q{i}", "Q", "${a} > 1"] for i in range(50)]
    form = formdef(survey)
    _fast_refusal(lambda: check(form, {"a": "2"}, budget=0.0))


def test_deep_expression_in_a_stored_definition_is_too_complex() -> None:
    definition = {
        "type": "survey",
        "name": "data",
        "children": [
            {"type": "calculate", "name": "c", "bind": {"calculate": "(" * 300 + "1" + ")" * 300}}
        ],
    }
    _fast_refusal(lambda: check(FormDef.from_json(definition), {}))


def test_choice_filter_results_kept_across_evaluations_follow_their_input() -> None:
    form = formdef(
        [
            [*HEAD, "choice_filter"],
            ["select_one town", "town", "镇", ""],
            ["select_one village", "village", "村", "town=${town}"],
        ],
        TOWNS,
    )
    assert check(form, {"town": "zeguo", "village": "v1"}).choices["village"] == ["v1", "v3"]
    second = check(form, {"town": "daxi", "village": "v1"})
    assert second.choices["village"] == ["v2"]
    assert second.errors == {"village": "选项无效。"}
    assert check(form, {"town": "zeguo", "village": "v3"}).ok


def test_today_is_the_citys_date_not_utcs() -> None:
    """At 06:00 in Wenling it is still yesterday in UTC: today() and a date constraint
    against it follow the city's clock."""
    from datetime import UTC, datetime

    from civicloop.core.forms.evaluate import evaluate
    from tests.core.forms.xlsforms import formdef

    form = formdef(
        [
            ["type", "name", "label", "constraint", "calculation"],
            ["date", "day", "日期", ". <= today()", None],
            ["calculate", "t", None, None, "today()"],
        ]
    )
    early = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)  # 2026-12-04 06:00 in Asia/Shanghai
    result = evaluate(form, {"day": "2026-12-04"}, now=early)
    assert result.ok, result.errors
    assert result.answers["t"] == "2026-12-04"
