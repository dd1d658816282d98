"""Importing an XLSForm as an application's form, and submissions that open cases."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from civicloop.core.accounts.models import User
from civicloop.core.areas.models import Area
from civicloop.core.cases.models import Case
from civicloop.core.forms.errors import FormError, FormErrorCode
from civicloop.core.forms.models import Application, OwnerRule, Submission, Submitter
from civicloop.core.forms.services import application_import_xlsform, submission_create
from tests.core.forms.xlsforms import xlsform_bytes

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SURVEY = [
    [
        "type",
        "name",
        "label::Chinese (zh)",
        "label::English (en)",
        "required",
        "relevant",
        "constraint",
        "constraint_message::Chinese (zh)",
    ],
    ["text", "topic", "议题", "Topic", "yes", None, None, None],
    ["integer", "people", "人数", "People", "yes", None, ". >= 3", "人数不少于 3 人"],
    ["select_one yn", "more", "还有补充吗", "Anything else", None, None, None, None],
    ["text", "extra", "补充内容", "More", "yes", "${more} = 'yes'", None, None],
]
CHOICES = [
    ["list_name", "name", "label::Chinese (zh)", "label::English (en)"],
    ["yn", "yes", "是", "Yes"],
    ["yn", "no", "否", "No"],
]


def _form(title: str = "测试登记", survey: list[list[Any]] | None = None) -> bytes:
    return xlsform_bytes(
        survey or SURVEY, choices=CHOICES, settings=[["form_title", "form_id"], [title, "t"]]
    )


@pytest.fixture
def app(demo_city: None) -> Application:
    app, _version, _created = application_import_xlsform(
        code="test_meeting", data=_form(), filename="meeting.xlsx"
    )
    return app


@pytest.fixture
def clerk(demo_city: None) -> User:
    return User.objects.get(username="handler_zeguo")


def test_import_creates_an_enabled_application_with_the_defaults(demo_city: None) -> None:
    app, version, created = application_import_xlsform(
        code="test_meeting", data=_form(), filename="meeting.xlsx"
    )
    assert created and version.version == 1
    app.refresh_from_db()
    assert app.enabled and not app.public
    assert app.workflow == "generic_loop"
    assert app.owner_rule == OwnerRule.AREA_OR_SUBMITTER
    assert set(app.submitters) == {Submitter.STAFF, Submitter.API}
    assert app.current_form == version and app.name == "测试登记"
    assert version.definition["children"][0]["name"] == "topic"


def test_the_same_file_again_is_the_same_version_and_a_change_is_the_next(app: Application) -> None:
    _app, same, created = application_import_xlsform(
        code=app.code, data=_form(), filename="meeting.xlsx"
    )
    assert not created and same.version == 1
    _app, second, created = application_import_xlsform(
        code=app.code, data=_form("测试登记（修订）"), filename="meeting.xlsx"
    )
    assert created and second.version == 2
    app.refresh_from_db()
    assert app.current_form == second


def test_a_refused_form_creates_nothing(demo_city: None) -> None:
    bad = xlsform_bytes([["type", "name", "label"], ["texty", "a", "A"]])
    with pytest.raises(FormError) as caught:
        application_import_xlsform(code="broken", data=bad, filename="broken.xlsx")
    assert caught.value.code == FormErrorCode.BAD_FORM
    assert "texty" in caught.value.message
    assert not Application.objects.filter(code="broken").exists()


def test_a_code_of_a_module_channel_or_a_bad_code_is_refused(demo_city: None) -> None:
    with pytest.raises(FormError):
        application_import_xlsform(code="Bad-Code", data=_form(), filename="f.xlsx")


def test_the_command_prints_the_version_and_fails_on_a_bad_form(
    demo_city: None, tmp_path: Any
) -> None:
    good = tmp_path / "good.xlsx"
    good.write_bytes(_form())
    out = io.StringIO()
    call_command("import_xlsform", str(good), "--app", "cmd_app", stdout=out, stderr=io.StringIO())
    assert out.getvalue().strip() == "1"
    good.write_bytes(_form("改过的标题"))
    out = io.StringIO()
    call_command("import_xlsform", str(good), "--app", "cmd_app", stdout=out, stderr=io.StringIO())
    assert out.getvalue().strip() == "2"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(
        xlsform_bytes([["type", "name", "label"], ["text", "a", "A"], ["text", "a", "B"]])
    )
    with pytest.raises(CommandError) as caught:
        call_command("import_xlsform", str(bad), "--app", "cmd_app", stdout=io.StringIO())
    assert "row" in str(caught.value).lower() or "行" in str(caught.value)


def test_a_submission_opens_a_case_with_its_answers_encrypted(
    app: Application, clerk: User
) -> None:
    zeguo = Area.objects.get(code="331081100")
    case = submission_create(
        application=app,
        answers={"topic": "村道路灯维修", "people": "12", "more": "no", "extra": "不该保存"},
        submitter=clerk,
        area=zeguo,
        now=NOW,
    )
    assert case.channel == app.code
    assert case.owner_unit is not None and case.owner_unit.code == "town-331081100"
    assert case.title == "村道路灯维修"
    assert "人数：12" in case.body
    submission = Submission.objects.get(case=case)
    assert submission.form_version == app.current_form
    # Not relevant (more = no): dropped, never stored.
    assert submission.answers == {"topic": "村道路灯维修", "people": 12, "more": "no"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT answers FROM forms_submission WHERE id = %s", [submission.pk])
        raw = cursor.fetchone()[0]
    assert "村道路灯" not in raw
    assert case.data == {"app": app.code, "form_version": 1}


def test_a_failing_submission_names_every_field_and_opens_nothing(
    app: Application, clerk: User
) -> None:
    before = Case.objects.count()
    with pytest.raises(FormError) as caught:
        submission_create(
            application=app,
            answers={"people": "2", "more": "yes"},
            submitter=clerk,
            area=Area.objects.get(code="331081100"),
            now=NOW,
        )
    errors = caught.value.errors
    assert caught.value.code == FormErrorCode.INVALID_ANSWERS
    assert set(errors) == {"topic", "people", "extra"}
    assert errors["people"] == "人数不少于 3 人"
    assert Case.objects.count() == before
    assert not Submission.objects.exists()


def test_without_an_area_the_submitters_unit_owns_it(app: Application, clerk: User) -> None:
    case = submission_create(
        application=app, answers={"topic": "议题", "people": 5}, submitter=clerk, now=NOW
    )
    assert case.owner_unit is not None and case.owner_unit.code == "town-331081100"


def test_who_may_submit(app: Application, clerk: User) -> None:
    citizen = User.objects.create_user(username="c1", is_citizen=True)
    with pytest.raises(FormError) as caught:
        submission_create(application=app, answers={"topic": "x", "people": 5}, submitter=citizen)
    assert caught.value.code == FormErrorCode.FORBIDDEN
    app.enabled = False
    app.save()
    with pytest.raises(FormError) as caught:
        submission_create(application=app, answers={"topic": "x", "people": 5}, submitter=clerk)
    assert caught.value.code == FormErrorCode.DISABLED


def test_an_application_enabled_in_some_towns_refuses_elsewhere(
    app: Application, clerk: User
) -> None:
    app.towns.set([Area.objects.get(code="331081101")])
    with pytest.raises(FormError) as caught:
        submission_create(
            application=app,
            answers={"topic": "议题", "people": 5},
            submitter=clerk,
            area=Area.objects.get(code="331081100"),
            now=NOW,
        )
    assert caught.value.code == FormErrorCode.DISABLED


def test_the_same_submission_key_gives_one_case(app: Application, clerk: User) -> None:
    kwargs: dict[str, Any] = {
        "application": app,
        "answers": {"topic": "议题", "people": 5},
        "submitter": clerk,
        "submission_key": "k-1",
        "now": NOW,
    }
    first = submission_create(**kwargs)
    assert submission_create(**kwargs).pk == first.pk
    assert Submission.objects.count() == 1


def test_an_area_question_places_the_submission(demo_city: None, clerk: User) -> None:
    survey = [
        ["type", "name", "label", "required"],
        ["select_one village", "village", "村", "yes"],
        ["text", "topic", "议题", "yes"],
    ]
    choices = [["list_name", "name", "label"], ["village", "331081101002", "潘郎村"]]
    app, _v, _c = application_import_xlsform(
        code="by_village",
        data=xlsform_bytes(survey, choices=choices),
        filename="v.xlsx",
    )
    app.area_question = "village"
    app.owner_rule = OwnerRule.AREA
    app.save()
    case = submission_create(
        application=app,
        answers={"village": "331081101002", "topic": "修路"},
        submitter=clerk,
        now=NOW,
    )
    assert case.area is not None and case.area.code == "331081101002"
    assert case.owner_unit is not None and case.owner_unit.code == "town-331081101"


def test_the_cockpit_counts_an_applications_open_cases_for_who_may_see_them(
    app: Application, clerk: User
) -> None:
    from django.utils.module_loading import import_string

    from civicloop.core import registry

    tile = next(t for owner, t in registry.cockpit_tiles() if owner == "forms")
    figures = import_string(tile.figures)
    submission_create(
        application=app,
        answers={"topic": "议题", "people": 5},
        submitter=clerk,
        area=Area.objects.get(code="331081100"),
        now=NOW,
    )
    mine = {str(v.label): v for v in figures(user=clerk, now=NOW)}
    assert mine["测试登记 办理中"].value == 1
    assert mine["测试登记 办理中"].href == "/cases/?channel=test_meeting"
    other = User.objects.get(username="handler_housing")
    theirs = {str(v.label): v for v in figures(user=other, now=NOW)}
    assert theirs["测试登记 办理中"].value == 0
    app.show_in_cockpit = False
    app.save()
    assert "测试登记 办理中" not in {str(v.label) for v in figures(user=clerk, now=NOW)}
