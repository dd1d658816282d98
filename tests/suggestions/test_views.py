"""The pages: a deputy's list and draft form, the detail page's forms per user, the
steps taken through the pages, the figures and the public answers."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from civicloop.core.cases.models import Case
from civicloop.suggestions.models import Suggestion
from tests.suggestions.conftest import People, draft, to_answered, to_handling

pytestmark = pytest.mark.django_db


def client_for(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


def test_deputy_drafts_on_the_form_with_cosigners(people: People) -> None:
    c = client_for(people.wang)
    page = c.get("/suggestions/new/")
    assert page.status_code == 200
    assert "附议" in page.content.decode()
    resp = c.post(
        "/suggestions/new/",
        {
            "title": "关于增设泽国镇公交线路的建议",
            "body": "泽国镇西部村庄公交覆盖不足，建议增设线路。",
            "category": "transport",
            "session_kind": "session",
            "cosigners": [str(people.lin.pk)],
            "publish_consent": "on",
        },
    )
    s = Suggestion.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/suggestions/{s.case.number}/"
    assert s.session_kind == "session" and s.publish_consent
    assert s.cosigners.get().deputy_id == people.lin.pk
    # The empty form says what is missing.
    bad = c.post("/suggestions/new/", {"title": "", "body": "", "session_kind": "interim"})
    assert bad.status_code == 400


def test_non_deputy_may_not_draft(people: People) -> None:
    assert client_for(people.housing).get("/suggestions/new/").status_code == 403


def test_cosigner_confirms_and_author_submits_on_the_page(people: People) -> None:
    s = draft(people, cosigner_ids=[people.lin.pk])
    number = s.case.number
    lin = client_for(people.lin)
    page = lin.get(f"/suggestions/{number}/").content.decode()
    assert 'id="act-cosign"' in page
    wang = client_for(people.wang)
    refused = wang.post(f"/suggestions/{number}/submit/")
    assert refused.status_code == 409
    assert "附议代表尚未确认" in refused.content.decode()
    assert lin.post(f"/suggestions/{number}/cosign/", {"agree": "yes"}).status_code == 302
    assert wang.post(f"/suggestions/{number}/submit/").status_code == 302
    assert Case.objects.get(number=number).state == "submitted"


def test_outsiders_do_not_see_a_suggestion(people: People) -> None:
    s = draft(people)
    # A draft is the deputy's: not the office's, not another deputy's.
    assert client_for(people.chen).get(f"/suggestions/{s.case.number}/").status_code == 404
    assert client_for(people.housing).get(f"/suggestions/{s.case.number}/").status_code == 404


def test_office_assigns_with_the_form(people: People) -> None:
    s = draft(people)
    number = s.case.number
    client_for(people.wang).post(f"/suggestions/{number}/submit/")
    office = client_for(people.office)
    assert 'id="act-review"' in office.get(f"/suggestions/{number}/").content.decode()
    office.post(f"/suggestions/{number}/review/", {"decision": "accept"})
    no_lead = office.post(f"/suggestions/{number}/assign/", {"lead": ""})
    assert no_lead.status_code == 400
    assert "主办单位" in no_lead.content.decode()
    resp = office.post(
        f"/suggestions/{number}/assign/",
        {"lead": people.housing_unit.pk, "assisting": [people.transport_unit.pk]},
    )
    assert resp.status_code == 302
    case = Case.objects.get(number=number)
    assert case.state == "handling" and case.holder_unit_id == people.housing_unit.pk


def test_units_see_their_forms_and_answer(people: People) -> None:
    s = to_handling(people)
    number = s.case.number
    transport = client_for(people.transport)
    page = transport.get(f"/suggestions/{number}/").content.decode()
    assert 'data-form="views"' in page and 'id="act-answer"' not in page
    transport.post(
        f"/suggestions/{number}/views/", {"unit": people.transport_unit.pk, "views": "同意。"}
    )
    housing = client_for(people.housing)
    page = housing.get(f"/suggestions/{number}/").content.decode()
    assert 'id="act-answer"' in page and 'id="act-contact"' in page
    housing.post(
        f"/suggestions/{number}/contact/",
        {"method": "phone", "contacted_on": timezone.localdate().isoformat(), "note": "电话沟通"},
    )
    no_cat = housing.post(f"/suggestions/{number}/answer/", {"text": "已办理"})
    assert no_cat.status_code == 400 and "答复类别" in no_cat.content.decode()
    housing.post(f"/suggestions/{number}/answer/", {"category": "A", "text": "已办理"})
    assert Case.objects.get(number=number).state == "answered"


def test_only_the_deputy_evaluates(people: People) -> None:
    s = to_answered(people)
    number = s.case.number
    assert (
        'id="act-evaluate"'
        not in client_for(people.office).get(f"/suggestions/{number}/").content.decode()
    )
    refused = client_for(people.office).post(
        f"/suggestions/{number}/evaluate/", {"rating": "satisfied"}
    )
    assert refused.status_code == 403
    wang = client_for(people.wang)
    assert wang.post(f"/suggestions/{number}/evaluate/", {"rating": "satisfied"}).status_code == 302
    assert Case.objects.get(number=number).state == "closed"


def test_lists_figures_and_public_answers(people: People) -> None:
    s = to_answered(people)
    Suggestion.objects.filter(pk=s.pk).update(publish_consent=True)
    mine = client_for(people.wang).get("/suggestions/").content.decode()
    assert s.case.number in mine
    assert s.case.number in client_for(people.housing).get("/suggestions/").content.decode()
    figures = client_for(people.office).get("/suggestions/figures/")
    assert figures.status_code == 200
    assert client_for(people.wang).get("/suggestions/figures/").status_code == 403
    public = Client().get("/suggestions/public/").content.decode()
    assert "已列入计划" in public and s.case.number in public


def test_assisting_case_page_leads_to_the_suggestion(people: People) -> None:
    from civicloop.suggestions.models import Assignment

    s = to_handling(people)
    assist = Assignment.objects.select_related("case").get(suggestion=s, role="assist")
    assert assist.case is not None
    resp = client_for(people.transport).get(f"/suggestions/{assist.case.number}/")
    assert resp.status_code == 302 and resp["Location"] == f"/suggestions/{s.case.number}/"
    # Someone who may not see the assisting case learns nothing.
    assert client_for(people.chen).get(f"/suggestions/{assist.case.number}/").status_code == 404


def test_leader_sees_the_area_list(people: People) -> None:
    s = to_handling(people)
    page = client_for(people.leader).get("/suggestions/")
    assert page.status_code == 200 and s.case.number in page.content.decode()


def _answer_ready(people: People) -> str:
    from civicloop.suggestions.services import suggestion_contact_record

    s = to_handling(people, assisting=False)
    suggestion_contact_record(
        suggestion=s,
        actor=people.housing,
        method="phone",
        contacted_on=timezone.localdate(),
        note="电话沟通",
    )
    return s.case.number


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def test_answer_letter_is_kept_and_a_fake_file_refused(people: People, settings: object) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from civicloop.core.cases.models import TimelineEntry

    number = _answer_ready(people)
    housing = client_for(people.housing)
    fake = SimpleUploadedFile("答复函.pdf", b"<html>not a pdf</html>", "application/pdf")
    refused = housing.post(
        f"/suggestions/{number}/answer/", {"category": "A", "text": "已办理", "files": fake}
    )
    assert refused.status_code in (400, 413, 422)
    assert Case.objects.get(number=number).state == "handling"
    letter = SimpleUploadedFile("答复函.pdf", PDF, "application/pdf")
    ok = housing.post(
        f"/suggestions/{number}/answer/", {"category": "A", "text": "已办理", "files": letter}
    )
    assert ok.status_code == 302
    entry = TimelineEntry.objects.get(case__number=number, action="answer")
    assert entry.attachments.get().kind == "document"
    assert "data-files" in housing.get(f"/suggestions/{number}/").content.decode()


def test_author_withdraws_an_unanswered_invitation(people: People) -> None:
    s = draft(people, cosigner_ids=[people.lin.pk])
    cosigner = s.cosigners.get()
    wang = client_for(people.wang)
    assert 'data-form="uncosign"' in wang.get(f"/suggestions/{s.case.number}/").content.decode()
    # Not someone else's to withdraw.
    other = client_for(people.lin).post(
        f"/suggestions/{s.case.number}/uncosign/", {"cosigner": cosigner.pk}
    )
    assert other.status_code == 403
    wang.post(f"/suggestions/{s.case.number}/uncosign/", {"cosigner": cosigner.pk})
    assert not s.cosigners.exists()
    assert wang.post(f"/suggestions/{s.case.number}/submit/").status_code == 302
