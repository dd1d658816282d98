"""The pages of applications defined as data: /apps/, the submit page, its live check,
and the answers on the case pages."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from pyxform.xls2json import parse_file_to_json

from civicloop.core.accounts.models import User
from civicloop.core.cases.models import Case
from civicloop.core.forms import sources
from civicloop.core.forms.models import Application, FormVersion, Submission, Submitter
from civicloop.core.units.models import Unit
from civicloop.web import forms_pages
from tests.web.forms_sample import every_type_xlsx

pytestmark = pytest.mark.django_db

URL = "/apps/visit/new/"
EVAL = "/apps/visit/new/evaluate"


def definition_of(data: bytes) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as f:
        f.write(data)
        f.flush()
        return parse_file_to_json(f.name)


@pytest.fixture
def make_app(demo: None) -> Callable[..., Application]:
    def _make(**fields: Any) -> Application:
        data = every_type_xlsx()
        app = Application.objects.create(
            code="visit", name="走访登记", number_prefix="ZF", **fields
        )
        version = FormVersion.objects.create(
            application=app,
            version=1,
            title="走访登记",
            definition=definition_of(data),
            source=data,
            sha256="x",
        )
        app.current_form = version
        app.save()
        return app

    return _make


@pytest.fixture
def app(make_app: Callable[..., Application]) -> Application:
    return make_app()


def staff(client: Client, username: str = "handler_zeguo") -> Client:
    client.force_login(User.objects.get(username=username))
    return client


def png(name: str = "p.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def good_post(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "submission_key": "k-" + str(extra.pop("key", "1")),
        "area": "331081100",
        "place": "泽国村文化礼堂",
        "story": "第一行\n第二行",
        "people": "12",
        "cost": "12.5",
        "has_issue": "yes",
        "issue": "路灯不亮",
        "topics": ["road", "safety"],
        "town": "zeguo",
        "village": "zg1",
        "visit_date": "2026-12-01",
        "visit_time": "09:30",
        "visit_at": "2026-12-01T09:30",
        "where__lat": "28.38",
        "where__lng": "121.38",
        "agree": "OK",
        "contact": "王五",
        "matters[0]": "1",
        "matters[0].matter": "修路",
        "matters[0].votes": "5",
        "matters[1]": "1",
        "matters[1].matter": "装路灯",
    }
    data.update(extra)
    return data


# --------------------------------------------------------------------------- who


def test_anonymous_is_sent_to_sign_in_staff_or_citizen(
    make_app: Callable[..., Application], client: Client
) -> None:
    app = make_app()
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    app.submitters = [Submitter.CITIZEN.value]
    app.save()
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/citizen/?next=%2Fapps%2Fvisit%2Fnew%2F"


def test_unknown_disabled_and_forbidden(
    make_app: Callable[..., Application], client: Client
) -> None:
    app = make_app()
    staff(client)
    assert client.get("/apps/nope/new/").status_code == 404
    app.submit_units.add(Unit.objects.get(code="dept-housing"))
    assert client.get(URL).status_code == 403
    assert client.post(EVAL, {}).status_code == 403
    app.submit_units.clear()
    assert client.get(URL).status_code == 200
    app.enabled = False
    app.save()
    assert client.get(URL).status_code == 404


def test_apps_list_and_menu(app: Application, client: Client) -> None:
    staff(client)
    page = client.get("/apps/").content.decode()
    assert "走访登记" in page and 'href="/apps/visit/new/"' in page
    assert 'href="/apps/visit/submissions/"' in page  # staff reach the submissions too
    workbench = client.get("/workbench/").content.decode()
    assert 'href="/apps/"' in workbench
    Application.objects.filter(code="visit").update(show_in_menu=False)
    sources.reload()  # update() sends no signal; the admin's save does
    assert 'href="/apps/visit/new/"' not in client.get("/apps/").content.decode()
    assert client.get(URL).status_code == 200  # still open where it is shown
    Application.objects.update(enabled=False)  # the demo's applications too
    sources.reload()
    assert 'href="/apps/"' not in client.get("/workbench/").content.decode()
    assert "走访登记" not in client.get("/apps/").content.decode()


def test_the_menu_reads_applications_from_the_registry_snapshot(
    demo: None, client: Client, django_assert_max_num_queries: Any
) -> None:
    Application.objects.update(enabled=False)  # the demo's
    sources.reload()
    staff(client)
    baseline = client.get("/workbench/")
    assert 'href="/apps/"' not in baseline.content.decode()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get("/workbench/")
    app_queries = [q for q in captured.captured_queries if "forms_application" in q["sql"]]
    assert app_queries == []
    for app in Application.objects.filter(code__in=["deliberation", "visit_register"]):
        app.enabled = True
        app.save()  # seen at once by this process, through the snapshot
    assert 'href="/apps/"' in client.get("/workbench/").content.decode()


# --------------------------------------------------------------------------- render


def test_every_question_type_is_drawn(app: Application, client: Client) -> None:
    staff(client)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    # text, multiline, numbers
    assert 'name="place"' in page and "村名或门牌" in page
    assert '<textarea id="f-story" name="story"' in page
    assert 'name="people" value="" inputmode="numeric"' in page
    assert 'name="cost" value="" inputmode="decimal"' in page
    # select_one as radios, select_multiple as checkboxes, filtered choices marked
    assert 'type="radio" name="has_issue" value="yes"' in page
    assert 'type="checkbox" name="topics" value="water"' in page
    assert 'data-choice="zg1"' in page
    # date, time, datetime
    assert 'name="visit_date" value="" type="date"' in page
    assert 'name="visit_time" value="" type="time"' in page
    assert 'name="visit_at" value="" type="datetime-local"' in page
    # geopoint: a location button and manual entry
    assert "data-geo" in page and 'name="where__lat"' in page and 'name="where__lng"' in page
    # media
    assert 'name="photos" accept="image/*" capture="environment" multiple="multiple"' in page
    assert 'name="voice" accept="audio/*"' in page
    assert 'type="file" id="f-doc" name="doc"' in page
    # note, acknowledge, calculate (not drawn), read-only shown disabled
    assert "请如实填写。" in page
    assert 'type="checkbox" id="f-agree" name="agree" value="OK"' in page
    assert 'name="double"' not in page
    assert 'name="double_shown"' in page and "disabled data-readonly" in page
    # group and repeat (a row, a template the script clones, add and remove buttons)
    assert "<legend>补充信息</legend>" in page
    assert 'name="matters[0]" value="1"' in page and 'name="matters[0].matter"' in page
    assert 'name="matters[__i0__].matter"' in page
    assert 'name="__add" value="matters"' in page and "添加一条" in page
    assert 'name="__remove" value="matters[0]"' in page
    # required marks, and the area select of an application routed by area
    assert page.count('class="xf-req"') >= 6
    assert '<option value="331081100">泽国镇</option>' in page
    assert "xlsform.js" in page and "xlsform.css" in page


def test_labels_follow_the_language(app: Application, client: Client) -> None:
    staff(client)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(URL).content.decode()
    assert "Place" in page and "Any issue?" in page and "Please answer truthfully." in page
    assert "地点" not in page


def test_many_choices_or_minimal_is_a_dropdown() -> None:
    from civicloop.core.forms.definition import Choice, Question

    many = Question(
        name="q", type="select one", choices=tuple(Choice(str(i), str(i)) for i in range(9))
    )
    assert forms_pages.forms_render._widget(many, 9)[0] == "select"
    few = Question(name="q", type="select one", appearance="minimal")
    assert forms_pages.forms_render._widget(few, 2)[0] == "select"
    assert forms_pages.forms_render._widget(Question(name="q", type="select one"), 2)[0] == "radio"


# --------------------------------------------------------------------------- submit


def test_refused_page_shows_every_error_and_keeps_every_answer(
    app: Application, client: Client
) -> None:
    staff(client)
    response = client.post(
        URL, good_post(people="0", place="", **{"matters[1].matter": "", "matters[1].votes": "3"})
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="xf-summary"' in page
    assert "人数须在1到500之间" in page  # the form's own constraint message
    assert 'href="#f-people"' in page and 'href="#f-place"' in page
    assert 'href="#f-matters-1--matter"' in page
    # what was typed is still there
    assert 'value="泽国村文化礼堂"' not in page  # (place was emptied)
    assert "第一行\n第二行</textarea>" in page
    assert 'value="road" checked' in page and 'value="safety" checked' in page
    assert 'name="where__lat" value="28.38"' in page
    assert 'name="matters[0].matter" value="修路"' in page
    assert '<option value="331081100" selected>' in page
    assert not Case.objects.filter(channel="visit").exists()


def test_submit_opens_a_case_with_the_answers(app: Application, client: Client) -> None:
    staff(client)
    response = client.post(URL, good_post(photos=[png("a.png"), png("b.png")]))
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.get(channel="visit")
    assert response["Location"] == f"/cases/{case.number}/"
    answers = Submission.objects.get(case=case).answers
    assert answers["people"] == 12
    assert answers["topics"] == ["road", "safety"]
    assert answers["issue"] == "路灯不亮"
    assert answers["visit_date"] == "2026-12-01"
    assert answers["where"].split()[:2] == ["28.38", "121.38"]
    assert answers["agree"] == "OK"
    assert answers["double"] == "24"
    assert [m["matter"] for m in answers["matters"]] == ["修路", "装路灯"]
    assert len(answers["photos"]) == 2
    # The case page shows them with the form's labels, photos as thumbnails.
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert "填报内容" in page and "涉及领域" in page and "道路、安全" in page
    assert "修路" in page and "装路灯" in page
    assert f"/attachments/{answers['photos'][0]}/thumb/" in page
    thumb = client.get(f"/attachments/{answers['photos'][0]}/thumb/")
    assert thumb.status_code == 200


def test_hidden_answers_are_dropped(app: Application, client: Client) -> None:
    staff(client)
    response = client.post(URL, good_post(has_issue="no", issue="不该保存"))
    assert response.status_code == 302
    answers = Submission.objects.get(case__channel="visit").answers
    assert "issue" not in answers


def test_repeat_rows_without_the_script(app: Application, client: Client) -> None:
    staff(client)
    added = client.post(URL, good_post(__add="matters"))
    assert added.status_code == 200
    page = added.content.decode()
    assert 'name="matters[2].matter"' in page and 'value="装路灯"' in page
    removed = client.post(URL, good_post(__remove="matters[0]"))
    page = removed.content.decode()
    assert 'name="matters[0].matter" value="装路灯"' in page
    assert 'name="matters[1].matter"' not in page
    assert not Case.objects.filter(channel="visit").exists()


def test_submit_is_rate_limited(
    app: Application, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forms_pages, "SUBMITS_PER_USER_PER_HOUR", 1)
    staff(client)
    assert client.post(URL, good_post(key="a")).status_code == 302
    refused = client.post(URL, good_post(key="b"))
    assert refused.status_code == 429 and "请求过于频繁" in refused.content.decode()
    assert Case.objects.filter(channel="visit").count() == 1


# --------------------------------------------------------------------------- live check


def test_evaluate_answers_relevance_values_errors_and_choices(
    app: Application, client: Client
) -> None:
    staff(client)
    result = json.loads(
        client.post(EVAL, {"has_issue": "no", "people": "0", "town": "daxi"}).content
    )
    assert result["relevant"]["issue"] is False
    assert result["errors"]["people"] == "人数须在1到500之间"
    assert result["choices"]["village"] == ["dx1"]
    assert "place" not in result["errors"]  # not strict: empty required is not yet an error
    result = json.loads(client.post(EVAL, {"has_issue": "yes", "people": "7"}).content)
    assert result["relevant"]["issue"] is True
    assert result["values"]["double_shown"] == "14"
    assert "people" not in result["errors"]


def test_evaluate_is_rate_limited(
    app: Application, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forms_pages, "EVALUATIONS_PER_MINUTE", 2)
    staff(client)
    assert client.post(EVAL, {}).status_code == 200
    assert client.post(EVAL, {}).status_code == 200
    refused = client.post(EVAL, {})
    assert refused.status_code == 429 and "error" in json.loads(refused.content)


# --------------------------------------------------------------------------- citizens


@pytest.mark.usefixtures("sms_inbox")
def test_a_citizen_signs_in_and_comes_back_to_the_form(
    make_app: Callable[..., Application], client: Client
) -> None:
    from tests.sms_inbox import inbox

    make_app(submitters=[Submitter.CITIZEN.value])
    phone = "13955550001"
    assert client.get(URL)["Location"] == "/citizen/?next=%2Fapps%2Fvisit%2Fnew%2F"
    client.get("/citizen/?next=%2Fapps%2Fvisit%2Fnew%2F")
    client.post("/citizen/", {"phone": phone, "send": "1"})
    signed_in = client.post("/citizen/", {"code": inbox().last_code(phone), "verify": "1"})
    assert signed_in["Location"] == URL
    response = client.post(URL, good_post())
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get(channel="visit")
    assert response["Location"] == f"/citizen/cases/{case.number}/"
    page = client.get(response["Location"]).content.decode()
    assert "填报内容" in page and "道路、安全" in page
    # The citizen's menu shows the applications too.
    assert 'href="/apps/"' in page


def test_citizen_next_must_be_on_this_site(demo: None, client: Client) -> None:
    client.get("/citizen/?next=https%3A%2F%2Fevil.example%2F")
    assert "citizen_next" not in client.session


def test_answers_keep_the_labels_of_their_form_version(app: Application, client: Client) -> None:
    staff(client)
    assert client.post(URL, good_post()).status_code == 302
    case = Case.objects.get(channel="visit")
    # A new version renames the question; the old submission keeps its own label.
    definition = json.loads(json.dumps(app.current_form.definition))
    for child in definition["children"]:
        if child["name"] == "place":
            child["label"] = {"Chinese (zh)": "新版地点", "English (en)": "New place"}
    newer = FormVersion.objects.create(
        application=app, version=2, title="走访登记", definition=definition, source=b"", sha256="y"
    )
    app.current_form = newer
    app.save()
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert "<dt>地点</dt>" in page and "新版地点" not in page
    assert "表单第 1 版" in page
    assert "新版地点" in client.get(URL).content.decode()


def test_submit_page_query_count(
    app: Application, client: Client, django_assert_max_num_queries: Any
) -> None:
    staff(client)
    client.get(URL)
    with django_assert_max_num_queries(14):
        assert client.get(URL).status_code == 200


def test_chosen_unit_is_asked_and_required(
    make_app: Callable[..., Application], client: Client
) -> None:
    from civicloop.core.forms.models import OwnerRule

    app = make_app(owner_rule=OwnerRule.CHOSEN_UNIT)
    town = Unit.objects.get(code="town-331081100")
    app.owner_units.add(town)
    staff(client)
    page = client.get(URL).content.decode()
    assert 'name="unit"' in page and f'<option value="{town.pk}">' in page
    assert 'name="area"' not in page
    refused = client.post(URL, good_post())
    assert refused.status_code == 400
    assert 'href="#f-__unit"' in refused.content.decode()
    assert client.post(URL, good_post(unit=str(town.pk))).status_code == 302
    assert Case.objects.get(channel="visit").owner_unit == town


def test_the_live_check_speaks_english_when_the_page_does(app: Application, client: Client) -> None:
    staff(client)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    result = json.loads(client.post(EVAL, {"people": "0"}).content)
    assert result["errors"]["people"] == "Between 1 and 500"


def test_a_list_filtered_to_nothing_says_why(app: Application, client: Client) -> None:
    """村社 before 镇街 is answered has no choice yet: the page says to answer first."""
    staff(client)
    page = client.get(URL).content.decode()
    hint = "请先回答前面的问题，这里的选项随之列出。"
    assert page.count(hint) >= 1
    assert page.count(f'<p class="xf-hint" data-no-choices>{hint}</p>') >= 1
