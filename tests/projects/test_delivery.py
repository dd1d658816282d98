"""Delivery of the chosen projects: milestones as core cases with deadlines, progress
with photos checked by content, delays, supervision visits whose findings become
cases, promoted candidates linked to their source cases, the satisfaction vote."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from civicloop.core.cases.links import case_became, case_came_from
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import CaseDraft, case_submit
from civicloop.core.units.models import Unit
from civicloop.projects.errors import ProjectError, ProjectErrorCode
from civicloop.projects.models import Candidate, CandidateSource, CycleState
from civicloop.projects.selectors import cockpit_figures
from civicloop.projects.services import (
    Proposal,
    ballot_cast,
    candidate_propose,
    delay_report,
    delivery_start,
    evaluation_close,
    evaluation_open,
    group_create,
    milestone_add,
    progress_report,
    visit_record,
    voting_close,
    voting_open,
)

pytestmark = pytest.mark.django_db


def _jpeg() -> SimpleUploadedFile:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 60)).save(buf, "JPEG")
    return SimpleUploadedFile("site.jpg", buf.getvalue(), content_type="image/jpeg")


@pytest.fixture
def project(cycle: Any, office: Any, deputies: list[Any]) -> Candidate:
    """The cycle voted: 项目1 and 项目2 chosen (6 of 7 for them)."""
    voting_open(cycle=cycle, actor=office)
    ids = list(Candidate.objects.order_by("ballot_number").values_list("pk", flat=True))
    for deputy in deputies[:6]:
        choices = {str(pk): "for" if i < 2 else "against" for i, pk in enumerate(ids)}
        ballot_cast(cycle=cycle, user=deputy, choices=choices)
    voting_close(cycle=cycle, actor=office)
    delivery_start(cycle=cycle, actor=office)
    return Candidate.objects.select_related("cycle", "case", "lead_unit").get(pk=ids[0])


def test_milestone_is_a_case_of_the_lead_unit_with_its_deadline(
    project: Candidate, office: Any, lead_handler: Any
) -> None:
    due = timezone.localdate() + timedelta(days=30)
    milestone = milestone_add(project=project, title="完成设计招标", due_date=due, actor=office)
    case = milestone.case
    assert case.channel == "project_milestone" and case.number.startswith("SS-")
    assert case.owner_unit.code == "dept-housing" and case.state == "in_progress"
    assert timezone.localtime(case.due_at).date() == due
    assert case_came_from(case=case) == [project.case.number]
    assert case.number in case_became(case=project.case)
    # The cockpit tile counts it for the lead unit's staff.
    figures = {
        str(f.label): f.value for f in cockpit_figures(user=lead_handler, now=timezone.now())
    }
    assert figures["办理中"] == 1


def test_progress_with_photo_and_bad_upload(
    project: Candidate, office: Any, lead_handler: Any
) -> None:
    milestone = milestone_add(
        project=project, title="主体施工", due_date=date.today() + timedelta(days=60), actor=office
    )
    with pytest.raises(ProjectError) as not_lead:
        progress_report(
            milestone=milestone, actor=office, percent=10, spent_wan=Decimal(5), note="x"
        )
    assert not_lead.value.code == ProjectErrorCode.FORBIDDEN
    fake = SimpleUploadedFile("site.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    with pytest.raises(ProjectError) as refused:
        progress_report(
            milestone=milestone,
            actor=lead_handler,
            percent=10,
            spent_wan=Decimal(5),
            note="x",
            photos=[fake],
        )
    assert refused.value.code == ProjectErrorCode.FILE
    report = progress_report(
        milestone=milestone,
        actor=lead_handler,
        percent=40,
        spent_wan=Decimal("120.5"),
        note="完成管网铺设40%",
        photos=[_jpeg()],
    )
    project.refresh_from_db()
    assert project.progress_percent == 40 and project.spent_wan == Decimal("120.5")
    assert report.photos.count() == 1
    entry = milestone.case.timeline.get(action="progress")
    assert entry.attachments.count() == 1 and entry.data["percent"] == 40
    # The public project page shows the photo through the module's own view.
    photo = report.photos.get()
    page = Client().get(f"/projects/p/{project.pk}/")
    assert page.status_code == 200 and f"/projects/photo/{photo.pk}/thumb/" in page.content.decode()
    assert Client().get(f"/projects/photo/{photo.pk}/thumb/").status_code == 200
    with pytest.raises(ProjectError):
        progress_report(
            milestone=milestone, actor=lead_handler, percent=140, spent_wan=Decimal(1), note="x"
        )


def test_delay_keeps_the_deadline(project: Candidate, office: Any, lead_handler: Any) -> None:
    due = date.today() + timedelta(days=10)
    milestone = milestone_add(project=project, title="竣工验收", due_date=due, actor=office)
    before = milestone.case.due_at
    with pytest.raises(ProjectError):
        delay_report(milestone=milestone, actor=lead_handler, reason="雨季", expected_date=due)
    delay_report(
        milestone=milestone,
        actor=lead_handler,
        reason="连续降雨影响施工",
        expected_date=due + timedelta(days=20),
    )
    milestone.case.refresh_from_db()
    assert milestone.case.due_at == before
    assert milestone.case.timeline.filter(action="delay", note="连续降雨影响施工").exists()


def test_visit_findings_become_linked_cases(
    project: Candidate, office: Any, deputies: list[Any], lead_handler: Any
) -> None:
    group = group_create(
        project=project, name="第一监督小组", leader=deputies[0], members=deputies[:3], actor=office
    )
    with pytest.raises(ProjectError):
        group_create(project=project, name="x", leader=None, members=[lead_handler], actor=office)
    with pytest.raises(ProjectError) as outsider:
        visit_record(group=group, actor=deputies[5], visited_on=date.today(), summary="看了")
    assert outsider.value.code == ProjectErrorCode.FORBIDDEN
    visit = visit_record(
        group=group,
        actor=deputies[1],
        visited_on=date.today(),
        summary="实地查看施工现场",
        findings=["施工围挡破损", "", "夜间施工噪音扰民"],
    )
    cases = [f.case for f in visit.findings.all()]
    assert len(cases) == 2
    assert {c.channel for c in cases} == {"project_finding"}
    assert {c.owner_unit.code for c in cases} == {"dept-housing"}
    assert all(case_came_from(case=c) == [project.case.number] for c in cases)
    assert set(case_became(case=project.case)) >= {c.number for c in cases}


def test_promoted_candidate_links_its_sources(office: Any, deputies: list[Any]) -> None:
    from civicloop.projects.services import cycle_create

    cycle = cycle_create(year=2030, title="", actor=office)
    npc = Unit.objects.get(code="dept-npc-deputies")
    source = case_submit(
        draft=CaseDraft(channel="project", title="群众意见", body="希望增加停车位", owner_unit=npc)
    )
    candidate = candidate_propose(
        cycle=cycle,
        proposal=Proposal(
            title="城区停车位", description="新增停车位", source=CandidateSource.PROMOTED
        ),
        actor=office,
        from_cases=[source],
    )
    assert case_came_from(case=candidate.case) == [source.number]
    assert case_became(case=source) == [candidate.case.number]
    with pytest.raises(ProjectError) as public_promote:
        candidate_propose(
            cycle=cycle,
            proposal=Proposal(title="x", description="y", source=CandidateSource.PROMOTED),
            actor=None,
        )
    assert public_promote.value.code == ProjectErrorCode.FORBIDDEN


def test_satisfaction_vote_is_secret_and_published(
    project: Candidate, office: Any, deputies: list[Any]
) -> None:
    cycle = project.cycle
    evaluation_open(cycle=cycle, actor=office)
    chosen = list(
        Candidate.objects.filter(chosen=True).order_by("rank").values_list("pk", flat=True)
    )
    votes = ["satisfied", "satisfied", "basically", "unsatisfied"]
    for deputy, value in zip(deputies, votes, strict=False):
        ballot_cast(
            cycle=cycle, user=deputy, kind="satisfaction", choices={str(pk): value for pk in chosen}
        )
    with pytest.raises(ProjectError):
        ballot_cast(
            cycle=cycle,
            user=deputies[0],
            kind="satisfaction",
            choices={str(pk): "satisfied" for pk in chosen},
        )
    cycle = evaluation_close(cycle=cycle, actor=office)
    assert cycle.state == CycleState.EVALUATED and cycle.evaluation_voters_count == 4
    project.refresh_from_db()
    assert (project.satisfied, project.basically, project.unsatisfied) == (2, 1, 1)
    assert project.satisfaction_rate == 0.75
    page = Client().get(f"/projects/{cycle.year}/").content.decode()
    assert "满意" in page and 'id="delivery"' in page


def test_project_page_visibility(cycle: Any, office: Any, lead_handler: Any) -> None:
    candidate = Candidate.objects.first()
    assert candidate is not None
    # Not chosen (not even voted): only the office and the lead unit see it.
    assert Client().get(f"/projects/p/{candidate.pk}/").status_code == 404
    office_client = Client()
    office_client.force_login(office)
    assert office_client.get(f"/projects/p/{candidate.pk}/").status_code == 200
    # The channel's staff page sends a case number to its project.
    assert office_client.get(f"/projects/case/{candidate.case.number}/").status_code == 302
    assert Case.objects.filter(channel="project").count() == 5


def test_delivery_pages_for_office_lead_and_group(
    project: Candidate, office: Any, lead_handler: Any, deputies: list[Any]
) -> None:
    office_client, lead_client, deputy_client = Client(), Client(), Client()
    office_client.force_login(office)
    lead_client.force_login(lead_handler)
    deputy_client.force_login(deputies[0])
    url = f"/projects/p/{project.pk}/"
    due = (date.today() + timedelta(days=40)).isoformat()
    office_client.post(url + "act/milestone/", {"title": "开工建设", "due_date": due})
    milestone = project.milestones.get()
    assert 'id="report"' not in office_client.get(url).content.decode()
    page = lead_client.get(url).content.decode()
    assert 'id="report"' in page and milestone.case.number in page
    lead_client.post(
        url + "act/progress/",
        {
            "milestone": milestone.pk,
            "percent": 35,
            "spent_wan": "60",
            "note": "管网开挖",
            "photos": [_jpeg()],
        },
    )
    project.refresh_from_db()
    assert project.progress_percent == 35 and project.reports.get().photos.count() == 1
    # Not the lead unit: refused, nothing written.
    office_client.post(
        url + "act/progress/",
        {"milestone": milestone.pk, "percent": 90, "spent_wan": "1", "note": "x"},
    )
    project.refresh_from_db()
    assert project.progress_percent == 35
    office_client.post(
        url + "act/group/",
        {"name": "监督一组", "members": f"{deputies[0].username} {deputies[1].username}"},
    )
    group = project.groups.get()
    deputy_client.post(
        url + "act/visit/",
        {
            "group": group.pk,
            "visited_on": date.today().isoformat(),
            "summary": "现场察看",
            "findings": "围挡破损",
        },
    )
    finding = group.visits.get().findings.get()
    assert finding.case.channel == "project_finding"
    # A deputy outside the group cannot record a visit.
    outsider = Client()
    outsider.force_login(deputies[4])
    outsider.post(
        url + "act/visit/",
        {"group": group.pk, "visited_on": date.today().isoformat(), "summary": "x"},
    )
    assert group.visits.count() == 1
    public = Client().get(url).content.decode()
    assert "现场察看" in public and "围挡破损" in public and finding.case.number not in public


def test_results_page_query_count(project: Candidate, django_assert_max_num_queries: Any) -> None:
    client = Client()
    with django_assert_max_num_queries(12):
        assert client.get(f"/projects/{project.cycle.year}/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get("/projects/").status_code == 200


def test_project_delivered_only_when_milestones_are_done(
    project: Candidate, office: Any, lead_handler: Any
) -> None:
    from civicloop.projects.services import milestone_complete, project_deliver

    milestone = milestone_add(
        project=project, title="完工验收", due_date=date.today() + timedelta(days=5), actor=office
    )
    with pytest.raises(ProjectError) as open_milestone:
        project_deliver(project=project, actor=office, note="完成")
    assert open_milestone.value.code == ProjectErrorCode.STATE
    milestone_complete(milestone=milestone, actor=lead_handler, note="已验收")
    client = Client()
    client.force_login(office)
    client.post(f"/projects/p/{project.pk}/act/deliver/", {"milestone": 0, "note": "全部完工"})
    project.case.refresh_from_db()
    assert project.case.state == "delivered" and project.case.result == "全部完工"
