"""The admin of applications, form versions, workflow definitions and submissions, as
the demo's administrator uses it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from civicloop.core import registry
from civicloop.core.cases.services import CaseDraft, case_submit
from civicloop.core.cases.workflow import GENERIC_LOOP
from civicloop.core.forms.models import Application, FormVersion, Submission, WorkflowDefinition
from civicloop.core.forms.workflow_data import workflow_definition_export
from tests.core.forms.wf_city import SmallTown, small_town_build
from tests.core.forms.xlsforms import xlsform_bytes

pytestmark = pytest.mark.django_db

GOOD_FORM = [["type", "name", "label"], ["text", "place", "地点"], ["integer", "people", "人数"]]


@pytest.fixture
def town() -> SmallTown:
    return small_town_build()


@pytest.fixture
def admin_client(client: Client, town: SmallTown) -> Client:
    client.force_login(town.admin)
    return client


def app_post(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "visit_log",
        "name": "联系群众活动登记",
        "name_en": "",
        "description": "",
        "enabled": "on",
        "number_prefix": "LX",
        "workflow": "generic_loop",
        "owner_rule": "area_or_submitter",
        "owner_unit_kinds": '["town_office"]',
        "submitters": '["staff", "api"]',
        "show_in_menu": "on",
        "form_versions-TOTAL_FORMS": "0",
        "form_versions-INITIAL_FORMS": "0",
        "form_versions-MIN_NUM_FORMS": "0",
        "form_versions-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_the_admin_is_for_administrators_only(client: Client, town: SmallTown) -> None:
    client.force_login(town.handler)
    response = client.get(reverse("admin:forms_application_changelist"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_applications_are_listed_with_their_form_version_and_submissions(
    admin_client: Client, django_assert_max_num_queries: Any
) -> None:
    for i in range(3):
        Application.objects.create(code=f"app_{i}", name=f"应用{i}", number_prefix=f"A{i}")

    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:forms_application_changelist"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "app_2" in page and "应用1" in page
    assert "提交数" in page
    response = admin_client.get(reverse("admin:forms_application_changelist") + "?public__exact=1")
    assert "app_2" not in response.content.decode()


def test_an_application_is_added_with_its_first_form_version(admin_client: Client) -> None:
    upload = SimpleUploadedFile("visit.xlsx", xlsform_bytes(GOOD_FORM))

    response = admin_client.post(reverse("admin:forms_application_add"), app_post(xlsform=upload))

    assert response.status_code == 302, response.content.decode()[:3000]
    app = Application.objects.get(code="visit_log")
    assert app.current_form is not None and app.current_form.version == 1
    assert registry.channel("visit_log").workflow == "generic_loop"


def test_a_refused_xlsform_shows_on_its_field_and_saves_nothing(admin_client: Client) -> None:
    bad = xlsform_bytes([["type", "name", "label"], ["colour", "c", "颜色"]])
    upload = SimpleUploadedFile("bad.xlsx", bad)

    response = admin_client.post(reverse("admin:forms_application_add"), app_post(xlsform=upload))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "xlsform" in form.errors
    assert not Application.objects.exists()


def test_a_new_version_is_uploaded_on_the_change_form(admin_client: Client) -> None:
    admin_client.post(
        reverse("admin:forms_application_add"),
        app_post(xlsform=SimpleUploadedFile("v1.xlsx", xlsform_bytes(GOOD_FORM))),
    )
    app = Application.objects.get(code="visit_log")
    v2 = xlsform_bytes([*GOOD_FORM, ["text", "matters", "反映事项"]])

    response = admin_client.post(
        reverse("admin:forms_application_change", args=[app.pk]),
        app_post(
            name="走访登记",
            xlsform=SimpleUploadedFile("v2.xlsx", v2),
            **{"form_versions-TOTAL_FORMS": "1", "form_versions-INITIAL_FORMS": "1"},
            **{"form_versions-0-id": str(app.current_form_id)},
        ),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    app.refresh_from_db()
    assert app.name == "走访登记"
    assert app.current_form is not None and app.current_form.version == 2
    assert app.form_versions.count() == 2


def test_an_application_code_of_a_module_channel_is_refused(admin_client: Client) -> None:
    taken = sorted(registry.static_channel_codes())
    if not taken:
        pytest.skip("no module channel is registered")

    response = admin_client.post(reverse("admin:forms_application_add"), app_post(code=taken[0]))

    assert response.status_code == 200
    assert "code" in response.context["adminform"].form.errors


def test_the_workflow_choice_offers_coded_and_data_templates(admin_client: Client) -> None:
    WorkflowDefinition.objects.create(
        code="visit",
        version=1,
        label="走访流程",
        definition=workflow_definition_export(GENERIC_LOOP),
    )
    response = admin_client.get(reverse("admin:forms_application_add"))
    choices = dict(response.context["adminform"].form.fields["workflow"].choices)
    assert "generic_loop" in choices
    assert "visit" in choices and "走访流程" in choices["visit"]


def test_a_form_versions_file_downloads(admin_client: Client) -> None:
    admin_client.post(
        reverse("admin:forms_application_add"),
        app_post(xlsform=SimpleUploadedFile("visit.xlsx", xlsform_bytes(GOOD_FORM))),
    )
    version = FormVersion.objects.get()

    response = admin_client.get(reverse("admin:forms_formversion_source", args=[version.pk]))

    assert response.status_code == 200
    assert response.content == bytes(version.source)
    assert "visit.xlsx" in response["Content-Disposition"]
    listing = admin_client.get(reverse("admin:forms_formversion_changelist"))
    assert listing.status_code == 200 and "visit.xlsx" in listing.content.decode()


# --------------------------------------------------------------------------- workflows


def test_the_add_form_starts_from_the_generic_loop(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:forms_workflowdefinition_add"))

    assert response.status_code == 200
    initial = response.context["adminform"].form.initial["definition"]
    assert json.loads(initial) == workflow_definition_export(GENERIC_LOOP)
    assert "通用闭环" in response.content.decode()


def test_a_refused_definition_shows_its_json_path(admin_client: Client) -> None:
    d = workflow_definition_export(GENERIC_LOOP)
    d["actions"][3]["who"] = ["holder", "boss"]

    response = admin_client.post(
        reverse("admin:forms_workflowdefinition_add"),
        {"code": "visit", "label": "走访", "definition": json.dumps(d, ensure_ascii=False)},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["definition"]
    assert "actions[3].who[1]" in errors[0]
    assert not WorkflowDefinition.objects.exists()

    response = admin_client.post(
        reverse("admin:forms_workflowdefinition_add"),
        {"code": "visit", "label": "走访", "definition": "{not json"},
    )
    assert "第 1 行" in response.context["adminform"].form.errors["definition"][0]


def test_saving_again_makes_the_next_version_and_rows_stay_read_only(
    admin_client: Client,
) -> None:
    d = workflow_definition_export(GENERIC_LOOP)
    url = reverse("admin:forms_workflowdefinition_add")
    first = admin_client.post(
        url, {"code": "visit", "label": "走访", "definition": json.dumps(d, ensure_ascii=False)}
    )
    assert first.status_code == 302
    v1 = WorkflowDefinition.objects.get(code="visit")
    # "Edit" starts a new version from the saved one.
    prefilled = admin_client.get(url + f"?from={v1.pk}").context["adminform"].form.initial
    assert prefilled["code"] == "visit" and json.loads(prefilled["definition"]) == d
    d["states"][0]["label"] = "待接收"
    admin_client.post(
        url, {"code": "visit", "label": "走访", "definition": json.dumps(d, ensure_ascii=False)}
    )

    assert list(WorkflowDefinition.objects.values_list("version", flat=True)) == [2, 1]
    assert str(registry.workflow("visit@2").states[0].label) == "待接收"
    change_url = reverse("admin:forms_workflowdefinition_change", args=[v1.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200 and "以此为基础保存新版本" in page.content.decode()
    refused = admin_client.post(change_url, {"code": "visit", "label": "x", "definition": "{}"})
    assert refused.status_code == 403
    assert WorkflowDefinition.objects.get(pk=v1.pk).label == "走访"


def test_a_coded_template_code_is_refused_on_its_field(admin_client: Client) -> None:
    d = workflow_definition_export(GENERIC_LOOP)
    response = admin_client.post(
        reverse("admin:forms_workflowdefinition_add"),
        {"code": "generic_loop", "label": "x", "definition": json.dumps(d)},
    )
    assert "code" in response.context["adminform"].form.errors


# --------------------------------------------------------------------------- submissions


def test_submissions_never_show_their_answers(admin_client: Client, town: SmallTown) -> None:
    app = Application.objects.create(code="visit_log", name="走访", number_prefix="LX")
    form = FormVersion.objects.create(
        application=app, version=1, title="走访", definition={}, source=b"", sha256="0" * 64
    )
    case = case_submit(
        draft=CaseDraft(channel="visit_log", title="走访", body="走访", owner_unit=town.office)
    )
    sub = Submission.objects.create(
        case=case, application=app, form_version=form, answers={"phone": "13912345678"}
    )

    listing = admin_client.get(reverse("admin:forms_submission_changelist"))
    detail = admin_client.get(reverse("admin:forms_submission_change", args=[sub.pk]))

    assert listing.status_code == 200 and case.number in listing.content.decode()
    assert detail.status_code == 200
    for page in (listing, detail):
        assert "13912345678" not in page.content.decode()
