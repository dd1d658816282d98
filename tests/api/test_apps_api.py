"""/api/v1/apps: the applications defined as data, their forms, submissions by JSON and
the JSON export."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from civicloop.core.accounts.models import PersonalDataAccess, User
from civicloop.core.cases.models import Case
from civicloop.core.forms.models import Application, Submission, Submitter
from civicloop.core.forms.services import application_import_xlsform
from tests.api.conftest import staff_client
from tests.core.forms.xlsforms import xlsform_bytes

pytestmark = pytest.mark.django_db

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
        "constraint_message::English (en)",
    ],
    ["text", "topic", "议题", "Topic", "yes", None, None, None, None],
    ["integer", "people", "人数", "People", "yes", None, ". >= 3", "人数不少于 3 人", "At least 3"],
    ["select_one yn", "more", "还有补充吗", "Anything else", None, None, None, None, None],
    ["text", "extra", "补充内容", "More", "yes", "${more} = 'yes'", None, None, None],
]
CHOICES = [
    ["list_name", "name", "label::Chinese (zh)", "label::English (en)"],
    ["yn", "yes", "是", "Yes"],
    ["yn", "no", "否", "No"],
]
GOOD = {"topic": "村道拓宽", "people": 12, "more": "no"}


@pytest.fixture(autouse=True)
def _parsed_forms_forgotten() -> None:
    """form_of caches parsed forms by FormVersion id, and a rolled-back test's ids are
    used again by the next test (another form under the same id): start empty."""
    from civicloop.core.forms import selectors

    selectors._forms.clear()


def _import(code: str, title: str = "测试登记") -> Application:
    data = xlsform_bytes(
        SURVEY, choices=CHOICES, settings=[["form_title", "form_id"], [title, code]]
    )
    app, _v, _c = application_import_xlsform(code=code, data=data, filename=f"{code}.xlsx")
    return app


@pytest.fixture
def app(demo_city: None) -> Application:
    return _import("meeting", "议事协商会")


@pytest.fixture
def public_app(demo_city: None) -> Application:
    app = _import("open_board", "公开留言")
    app.public = True
    app.save()
    return app


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def post(client: Client, url: str, body: dict[str, Any], **extra: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


# --------------------------------------------------------------------------- list, form


def test_list_anonymous_sees_public_key_and_staff_see_all(
    app: Application, public_app: Application, api_key: str
) -> None:
    hidden = _import("switched_off")
    hidden.enabled = False
    hidden.save()
    anonymous = Client().get("/api/v1/apps")
    assert anonymous.status_code == 200
    assert [a["code"] for a in anonymous.json()] == ["open_board"]
    with_key = Client().get("/api/v1/apps", **bearer(api_key)).json()
    codes = [a["code"] for a in with_key]
    assert "meeting" in codes and "open_board" in codes and "switched_off" not in codes
    item = next(a for a in with_key if a["code"] == "meeting")
    assert item == {
        "code": "meeting",
        "name": "议事协商会",
        "description": "",
        "form_version": 1,
        "public": False,
        "submit_url": "http://testserver/apps/meeting/new/",
    }
    staff = staff_client("handler_zeguo").get("/api/v1/apps").json()
    assert {a["code"] for a in staff} == set(codes)


def test_form_is_pyxforms_json_with_its_version(
    app: Application, public_app: Application, api_key: str
) -> None:
    response = Client().get("/api/v1/apps/meeting/form", **bearer(api_key))
    assert response.status_code == 200
    assert response["X-Form-Version"] == "1"
    assert app.current_form is not None
    assert response.json() == app.current_form.definition
    # A non-public application's form needs credentials; a public one does not.
    assert Client().get("/api/v1/apps/meeting/form").status_code == 401
    assert Client().get("/api/v1/apps/open_board/form").status_code == 200
    assert Client().get("/api/v1/apps/nothing/form", **bearer(api_key)).status_code == 404
    app.enabled = False
    app.save()
    assert Client().get("/api/v1/apps/meeting/form", **bearer(api_key)).status_code == 404


# --------------------------------------------------------------------------- submissions


def test_submit_with_an_api_key_opens_a_case_routed_by_area(app: Application, api_key: str) -> None:
    response = post(
        Client(),
        "/api/v1/apps/meeting/submissions",
        {"answers": {**GOOD, "extra": "ignored: not relevant"}, "area": "331081100"},
        **bearer(api_key),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner_unit"]["code"] == "town-331081100"
    assert body["form_version"] == 1 and body["state"]
    case = Case.objects.get(number=body["number"])
    assert case.channel == "meeting" and case.source == "api"
    submission = Submission.objects.get(case=case)
    assert submission.answers["topic"] == "村道拓宽" and submission.answers["people"] == 12
    assert "extra" not in submission.answers  # not relevant: dropped


def test_invalid_answers_name_every_field_with_the_forms_messages(
    app: Application, api_key: str
) -> None:
    url = "/api/v1/apps/meeting/submissions"
    bad = {"answers": {"people": 2, "more": "yes"}, "area": "331081100"}
    response = post(Client(), url, bad, **bearer(api_key))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_answers"
    assert set(body["errors"]) == {"topic", "people", "extra"}
    assert body["errors"]["people"] == "人数不少于 3 人"
    english = post(Client(), url, bad, HTTP_ACCEPT_LANGUAGE="en", **bearer(api_key)).json()
    assert english["errors"]["people"] == "At least 3"
    assert not Case.objects.filter(channel="meeting").exists()


def test_a_point_outside_the_city_is_refused(app: Application, api_key: str) -> None:
    response = post(
        Client(),
        "/api/v1/apps/meeting/submissions",
        {"answers": GOOD, "lat": 0, "lng": 0},
        **bearer(api_key),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "out_of_area"
    # `"lng": false` is a client's bug, not the longitude 0.
    response = post(
        Client(),
        "/api/v1/apps/meeting/submissions",
        {"answers": GOOD, "lat": 28.5, "lng": False},
        **bearer(api_key),
    )
    assert response.status_code == 400


def test_unknown_disabled_and_not_allowed(app: Application, api_key: str) -> None:
    url = "/api/v1/apps/{}/submissions"
    body = {"answers": GOOD, "area": "331081100"}
    assert post(Client(), url.format("nothing"), body, **bearer(api_key)).status_code == 404
    app.submitters = [Submitter.STAFF]
    app.save()
    refused = post(Client(), url.format("meeting"), body, **bearer(api_key))
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    app.enabled = False
    app.save()
    assert post(Client(), url.format("meeting"), body, **bearer(api_key)).status_code == 404
    assert post(Client(), url.format("meeting"), body).status_code == 401


def test_a_signed_in_session_submits_citizens_only_where_allowed(app: Application) -> None:
    url = "/api/v1/apps/meeting/submissions"
    staff = post(staff_client("handler_zeguo"), url, {"answers": GOOD})
    assert staff.status_code == 201  # routed to the clerk's own unit
    assert staff.json()["owner_unit"]["code"] == "town-331081100"
    citizen = User.objects.create_user(username="citizen1", password="x", is_citizen=True)
    client = Client()
    client.force_login(citizen)
    body = {"answers": GOOD, "area": "331081100"}
    assert post(client, url, body).status_code == 403
    app.submitters = [Submitter.CITIZEN]
    app.save()
    assert post(client, url, body).status_code == 201


def test_same_submission_key_gives_one_case_and_submissions_are_rate_limited(
    app: Application, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "/api/v1/apps/meeting/submissions"
    body = {"answers": GOOD, "area": "331081100", "submission_key": "k-1"}
    first = post(Client(), url, body, **bearer(api_key)).json()["number"]
    again = post(Client(), url, body, **bearer(api_key))
    assert again.status_code == 201 and again.json()["number"] == first
    monkeypatch.setattr("civicloop.api.apps_api.SUBMISSIONS_PER_MINUTE", 2)
    limited = post(Client(), url, {"answers": GOOD, "area": "331081100"}, **bearer(api_key))
    assert limited.status_code == 429


# --------------------------------------------------------------------------- export


def test_json_export_by_visibility_and_key_rights_and_logged(
    app: Application, api_key: str, full_key: str
) -> None:
    url = "/api/v1/apps/meeting/submissions"
    numbers = [
        post(Client(), url, {"answers": GOOD, "area": "331081100"}, **bearer(api_key)).json()[
            "number"
        ]
        for _ in range(3)
    ]
    clerk = staff_client("handler_zeguo").get(url, {"page_size": 2})
    assert clerk.status_code == 200
    body = clerk.json()
    assert body["count"] == 3 and len(body["items"]) == 2
    item = body["items"][0]
    assert item["number"] == numbers[0] and item["form_version"] == 1
    assert item["answers"] == {"topic": "村道拓宽", "people": 12, "more": "no"}
    assert item["attachments"] == []
    logged = PersonalDataAccess.objects.filter(user__username="handler_zeguo", purpose="api")
    assert sorted(logged.values_list("object_id", flat=True)) == sorted(numbers[:2])
    page2 = staff_client("handler_zeguo").get(url, {"page_size": 2, "page": 2}).json()
    assert [i["number"] for i in page2["items"]] == [numbers[2]]
    other = staff_client("handler_housing").get(url).json()
    assert other["count"] == 0 and other["items"] == []
    assert Client().get(url, **bearer(api_key)).status_code == 403
    full = Client().get(url, **bearer(full_key))
    assert full.status_code == 200 and full.json()["count"] == 3
    assert PersonalDataAccess.objects.filter(api_key__isnull=False, purpose="api").count() == 3
    assert Client().get(url).status_code == 401
    too_big = staff_client("handler_zeguo").get(url, {"page_size": 101})
    assert too_big.status_code == 400


def test_attachments_of_exported_submissions_are_served_to_the_same_readers(
    demo_city: None, api_key: str, full_key: str
) -> None:
    import io
    import uuid

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from civicloop.core.forms.services import submission_create

    survey = [
        SURVEY[0][:4],
        ["text", "topic", "议题", "Topic"],
        ["image", "photo", "照片", "Photo"],
    ]
    data = xlsform_bytes(survey, settings=[["form_title", "form_id"], ["走访", "visit"]])
    app, _v, _c = application_import_xlsform(code="visit", data=data, filename="visit.xlsx")
    jpeg = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 200, 10)).save(jpeg, "JPEG")
    submission_create(
        application=app,
        answers={"topic": "走访"},
        files={"photo": [SimpleUploadedFile("p.jpg", jpeg.getvalue(), "image/jpeg")]},
        submitter=User.objects.get(username="handler_zeguo"),
    )
    listing = Client().get("/api/v1/apps/visit/submissions", **bearer(full_key)).json()
    [ref] = listing["items"][0]["attachments"]
    assert ref["kind"] == "photo" and ref["content_type"] == "image/jpeg"
    url = ref["url"].removeprefix("http://testserver")
    assert url == f"/api/v1/apps/visit/attachments/{ref['id']}"
    response = Client().get(url, **bearer(full_key))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")
    assert PersonalDataAccess.objects.filter(purpose="api-attachment").count() == 1
    assert staff_client("handler_zeguo").get(url).status_code == 200
    assert staff_client("handler_housing").get(url).status_code == 404
    assert Client().get(url, **bearer(api_key)).status_code == 403
    missing = f"/api/v1/apps/visit/attachments/{uuid.uuid4()}"
    assert Client().get(missing, **bearer(full_key)).status_code == 404
