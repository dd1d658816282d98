"""convert_xlsform: pyxform's public path, its refusals with their rows, and ours."""

from __future__ import annotations

import time

import pytest

from civicloop.core.forms.convert import MAX_FILE_BYTES, convert_xlsform
from civicloop.core.forms.definition import FormDef
from civicloop.core.forms.errors import FormError, FormErrorCode
from tests.core.forms.xlsforms import xlsform_bytes

HEAD = ["type", "name", "label"]
YN = [["list_name", "name", "label"], ["yn", "yes", "是"], ["yn", "no", "否"]]


def refused(survey: list[list[object]], choices: list[list[object]] | None = None) -> FormError:
    with pytest.raises(FormError) as caught:
        convert_xlsform(xlsform_bytes(survey, choices), "form.xlsx")
    assert caught.value.code == FormErrorCode.BAD_FORM
    return caught.value


def test_a_good_form_gives_pyxform_json_title_id_and_version() -> None:
    data = xlsform_bytes(
        [
            ["type", "name", "label::Chinese (zh)", "label::English (en)"],
            ["text", "place", "地点", "Place"],
            ["select_one yn", "ok", "满意吗", "Satisfied?"],
        ],
        [
            ["list_name", "name", "label::Chinese (zh)", "label::English (en)"],
            ["yn", "yes", "是", "Yes"],
        ],
        [["form_title", "form_id", "version"], ["代表联系群众活动登记", "visit", "2025030101"]],
    )
    converted = convert_xlsform(data, "visit.xlsx")
    assert converted.title == "代表联系群众活动登记"
    assert converted.form_id == "visit"
    assert converted.version == "2025030101"
    form = FormDef.from_json(converted.definition)
    assert [q.name for q in form.questions] == ["place", "ok"]
    assert FormDef.label(form.by_name["place"], "en") == "Place"
    assert FormDef.label(form.by_name["ok"].choices[0], "zh-hans") == "是"


def test_csv_forms_are_read_too() -> None:
    data = b"survey,,\n,type,name,label\n,text,a,A\n"
    converted = convert_xlsform(data, "f.csv")
    assert converted.definition["children"][0]["name"] == "a"


def test_unknown_type_names_its_row() -> None:
    error = refused([HEAD, ["text", "a", "A"], ["text", "b", "B"], ["foo", "c", "C"]])
    assert error.where == "survey 表第 4 行"
    assert "foo" in error.message


def test_a_type_pyxform_knows_but_we_do_not_render_names_its_row() -> None:
    error = refused([HEAD, ["text", "a", "A"], ["geotrace", "route", "路线"]])
    assert error.where == "survey 表第 3 行"
    assert "geotrace" in error.message


def test_missing_choice_list_names_its_row() -> None:
    error = refused([HEAD, ["text", "a", "A"], ["select_one towns", "t", "镇"]], YN)
    assert error.where == "survey 表第 3 行"
    assert "towns" in error.message


def test_broken_expression_names_its_row() -> None:
    error = refused(
        [[*HEAD, "relevant"], ["integer", "a", "A", ""], ["text", "b", "B", "${a} > > 1"]]
    )
    assert error.where == "survey 表第 3 行"
    assert "relevant" in error.message


def test_broken_constraint_and_choice_filter_are_refused() -> None:
    assert (
        refused([[*HEAD, "constraint"], ["integer", "a", "A", ". >"]]).where == "survey 表第 2 行"
    )
    error = refused(
        [
            [*HEAD, "choice_filter"],
            ["text", "x", "X", ""],
            ["select_one yn", "b", "B", "name = = ${x}"],
        ],
        YN,
    )
    assert error.where == "survey 表第 3 行"


def test_calculation_loop_names_the_rows() -> None:
    error = refused(
        [
            [*HEAD, "calculation"],
            ["text", "x", "X", ""],
            ["calculate", "a", "", "${b} + 1"],
            ["calculate", "b", "", "${c}"],
            ["calculate", "c", "", "${a}"],
        ]
    )
    assert error.where == "survey 表第 3 行"
    assert "a → b → c → a" in error.message
    assert "3、4、5" in error.message


def test_relevant_loop_is_refused() -> None:
    error = refused(
        [[*HEAD, "relevant"], ["text", "a", "A", "${b} = ''"], ["text", "b", "B", "${a} = ''"]]
    )
    assert "循环" in error.message


def test_a_name_used_twice_in_different_groups_is_refused() -> None:
    error = refused(
        [
            HEAD,
            ["begin_group", "g", "G"],
            ["text", "a", "A"],
            ["end_group", "", ""],
            ["begin_group", "h", "H"],
            ["text", "a", "A"],
            ["end_group", "", ""],
        ]
    )
    assert "a" in error.message and error.where == "survey 表第 6 行"


@pytest.mark.parametrize(
    ("survey", "row", "fragment"),
    [
        ([[*HEAD, "relevant"], ["text", "a", "A", ""], ["text", "b", "B", "${zz} > 1"]], 3, "zz"),
        ([HEAD, ["begin_group", "g", "G"], ["text", "b", "B"]], 2, "end_group"),
        ([HEAD, ["text", "a", "A"], ["text", "a", "B"]], 3, "unique"),
    ],
)
def test_pyxform_refusals_keep_its_message_and_row(
    survey: list[list[object]], row: int, fragment: str
) -> None:
    error = refused(survey)
    assert error.where == f"survey 表第 {row} 行"
    assert f"[row : {row}]" in error.message and fragment in error.message


def test_not_a_spreadsheet_is_refused() -> None:
    with pytest.raises(FormError) as caught:
        convert_xlsform(b"not a workbook", "form.xlsx")
    assert caught.value.code == FormErrorCode.BAD_FORM
    with pytest.raises(FormError):
        convert_xlsform(b"x", "form.pdf")


def test_file_size_bound() -> None:
    with pytest.raises(FormError) as caught:
        convert_xlsform(b"0" * (MAX_FILE_BYTES + 1), "big.xlsx")
    assert "5 MB" in caught.value.message


def test_too_many_questions() -> None:
    survey = [HEAD] + [["text", f"q{i}", "Q"] for i in range(1001)]
    error = refused(survey)
    assert "1000" in error.message


def test_overlong_expression_is_refused_with_its_row() -> None:
    long = " + ".join(["1"] * 700)
    error = refused([[*HEAD, "calculation"], ["text", "a", "A", ""], ["calculate", "c", "", long]])
    assert error.where == "survey 表第 3 行"


def test_deeply_nested_expression_is_refused_quickly() -> None:
    start = time.monotonic()
    error = refused([[*HEAD, "calculation"], ["calculate", "c", "", "(" * 300 + "1" + ")" * 300]])
    assert error.where == "survey 表第 2 行"
    assert time.monotonic() - start < 5
