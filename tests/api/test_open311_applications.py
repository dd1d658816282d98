"""A public application as an Open311 service: its questions are the attributes, and
a request is checked by its form; the generic case API never takes its channel."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from civicloop.core.forms.models import Application, Submission, Submitter
from civicloop.core.forms.services import application_import_xlsform
from tests.core.forms.xlsforms import xlsform_bytes

pytestmark = pytest.mark.django_db

SURVEY = [
    [
        "type",
        "name",
        "label::Chinese (zh)",
        "label::English (en)",
        "required",
        "constraint",
        "constraint_message::Chinese (zh)",
    ],
    ["text", "description", "情况描述", "What happened", "yes", None, None],
    ["integer", "households", "涉及户数", "Households", "yes", ". >= 1", "户数至少为 1"],
    ["select_multiple kind", "kinds", "问题类型", "Kinds", None, None, None],
    ["image", "photos", "照片", "Photos", None, None, None],
]
CHOICES = [
    ["list_name", "name", "label::Chinese (zh)", "label::English (en)"],
    ["kind", "water", "供水", "Water"],
    ["kind", "road", "道路", "Road"],
]


@pytest.fixture
def public_app(demo_city: None) -> Application:
    app, _v, _c = application_import_xlsform(
        code="rental_check",
        data=xlsform_bytes(SURVEY, choices=CHOICES, settings=[["form_title"], ["出租房安全检查"]]),
        filename="rental.xlsx",
    )
    app.public = True
    app.submitters = [Submitter.API.value]
    app.save()
    return app


def _post(client: Client, api_key: str, **extra: Any) -> Any:
    fields = {
        "api_key": api_key,
        "service_code": "rental_check",
        "address_id": "331081100",
        "attribute[households]": "3",
        "attribute[kinds]": ["water", "road"],
        "description": "出租房楼道堆放杂物，消防通道不畅。",
        **extra,
    }
    return client.post("/open311/v2/requests.json", fields)


def test_the_service_lists_the_questions_as_attributes(
    client: Client, public_app: Application
) -> None:
    services = client.get("/open311/v2/services.json").json()
    item = next(s for s in services if s["service_code"] == "rental_check")
    assert item["metadata"] is True and item["service_name"] == "出租房安全检查"
    definition = client.get("/open311/v2/services/rental_check.json").json()
    attrs = {a["code"]: a for a in definition["attributes"]}
    assert set(attrs) == {"description", "households", "kinds"}  # a photo cannot be carried
    assert attrs["households"]["required"] is True and attrs["households"]["datatype"] == "number"
    assert attrs["kinds"]["datatype"] == "multivaluelist"
    assert attrs["kinds"]["values"] == [
        {"key": "water", "name": "供水"},
        {"key": "road", "name": "道路"},
    ]


def test_a_request_is_checked_by_the_form_and_stored_as_answers(
    client: Client, public_app: Application, api_key: str
) -> None:
    response = _post(client, api_key)
    assert response.status_code == 201, response.content
    number = response.json()[0]["service_request_id"]
    submission = Submission.objects.get(case__number=number)
    assert submission.answers == {
        "description": "出租房楼道堆放杂物，消防通道不畅。",
        "households": 3,
        "kinds": ["water", "road"],
    }
    assert submission.case.source == "open311"


def test_a_failing_attribute_is_named_with_the_forms_message(
    client: Client, public_app: Application, api_key: str
) -> None:
    response = _post(client, api_key, **{"attribute[households]": "0"})
    assert response.status_code == 400
    error = response.json()[0]
    assert "households" in error["description"] and "户数至少为 1" in error["description"]
    assert not Submission.objects.exists()


def test_the_generic_case_api_refuses_an_applications_channel(
    client: Client, public_app: Application, api_key: str
) -> None:
    response = client.post(
        "/api/v1/cases",
        {"channel": "rental_check", "body": "绕过表单", "area_code": "331081100"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_channel"
