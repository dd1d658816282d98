"""参与式预算 end to end in Debian's Chromium, one whole journey.

A citizen proposes a project on the public page (phone) and follows it to its answer →
the town screens it (accepted; another proposal screened out with its reason) and draws
the panel → a panel member opens their ticket link on a phone, says they come, answers
T1; after the small groups (a question answered by an expert in the plenary) answers T2
→ votes on the ballot with the ticket → once the ballot closes the public process page
shows the funded projects and "N 条意见，已答复 M 条". Screenshots at phone (390×844) and
desktop (1280×800) sizes: test-artifacts/screenshots/13-*.png."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.budgeting.conftest import TOWN, frame_csv, load_city
from tests.e2e.conftest import PHONE, SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"13-{name}.png"), full_page=True)


def both_sizes(phone: Any, desktop: Any, url: str, name: str) -> None:
    """The same page at phone and desktop sizes, with no sideways scrolling on the phone."""
    for page, size in ((phone, "phone"), (desktop, "desktop")):
        page.goto(url)
        shot(page, f"{name}-{size}")
    overflow = phone.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{name}: the phone page scrolls sideways by {overflow}px"


@pytest.fixture
def budget_process(db: None) -> Any:
    from django.core.cache import cache

    from civicloop.budgeting.models import BudgetProject
    from civicloop.budgeting.services import process_create
    from civicloop.core.areas.models import Area

    cache.clear()
    load_city()
    process = process_create(
        code="zeguo-e2e",
        title="泽国镇2026年参与式预算",
        year=2026,
        town=Area.objects.get(code=TOWN),
        total_budget=1_000_000,
        description="镇里拿出100万元，由随机抽选的居民代表商量建哪些项目。",
        panel_size=8,
        panel_reserve=2,
        panel_features=["sex_group", "band"],
    )
    for title, cost, category in (
        ("老街排水改造", 450_000, "市政"),
        ("文化礼堂修缮", 300_000, "文化"),
        ("村道路灯", 200_000, "市政"),
    ):
        BudgetProject.objects.create(
            process=process,
            title=title,
            cost=cost,
            category=category,
            source=BudgetProject.Source.DEPARTMENT,
        )
    return process


def test_propose_answer_t1_t2_vote_and_see_the_results(
    chromium_page: Any, live_server: Any, budget_process: Any
) -> None:
    from civicloop.budgeting import services
    from civicloop.budgeting.ballot_models import Ballot
    from civicloop.budgeting.ballots import ballot_open
    from civicloop.budgeting.models import BudgetProject, Phase, QuestionnaireResponse, Wave

    process = budget_process
    base = live_server.url
    code = process.code
    desktop = chromium_page
    phone_context = desktop.context.browser.new_context(
        viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True
    )
    phone = phone_context.new_page()
    phone.set_default_timeout(15_000)

    # 1. A citizen opens the public page on a phone and proposes a project.
    both_sizes(phone, desktop, f"{base}/budget/{code}/", "01-process-collecting")
    phone.goto(f"{base}/budget/{code}/")
    phone.get_by_role("link", name="提出项目建议").click()
    phone.wait_for_url(f"{base}/budget/{code}/propose/")
    phone.fill("input[name=title]", "小学门口人行天桥")
    phone.fill("textarea[name=description]", "上学放学时车多，孩子过马路危险。")
    phone.fill("input[name=cost]", "250000")
    phone.fill("input[name=location]", "泽国镇中心小学")
    phone.fill("input[name=contact_phone]", "13957661234")
    shot(phone, "02-propose-phone")
    phone.get_by_role("button", name="提交项目建议").click()
    phone.locator("#proposed").wait_for()
    proposal = BudgetProject.objects.get(process=process, title="小学门口人行天桥")
    assert proposal.source == "public" and proposal.status == "proposed"
    follow = phone.locator("a[data-follow]").get_attribute("href")
    assert follow == f"/budget/{code}/p/{proposal.pk}/"
    shot(phone, "03-proposed-phone")

    # 2. The town screens the proposals (one duplicate screened out with its reason),
    #    imports the frame and draws the panel; T1 and T2 are set.
    duplicate = BudgetProject.objects.create(
        process=process, title="天桥", cost=260_000, source=BudgetProject.Source.PUBLIC
    )
    services.process_phase_advance(process=process, to=Phase.SCREENING)
    for project in process.projects.filter(status="proposed").exclude(pk=duplicate.pk):
        services.project_screen(project=project, accept=True, reason="", actor=None)
    services.project_screen(
        project=duplicate, accept=False, reason="与“小学门口人行天桥”重复。", actor=None
    )
    services.frame_import_csv(process=process, stream=frame_csv(80))
    draw = services.panel_draw(process=process, seed=20260409)
    services.panel_publish(draw=draw)
    items = [
        {"id": "k1", "text": "本次预算总额是多少？", "options": ["50万", "100万"], "answer": 1}
    ]
    for wave, title in ((Wave.T1, "恳谈前问卷（T1）"), (Wave.T2, "恳谈后问卷（T2）")):
        services.questionnaire_create(
            process=process, wave=wave, title=title, knowledge_items=items
        )
    member = draw.members.filter(reserve=False, designated=False).order_by("pk").first()

    # The citizen follows the proposal to its answer.
    phone.goto(base + follow)
    assert phone.locator("[data-answer=accepted]").count() == 1
    phone.goto(f"{base}/budget/{code}/answers/")
    assert "与“小学门口人行天桥”重复。" in phone.content()

    # 3. The panel member opens their ticket link on a phone, says they come, answers T1.
    phone.goto(f"{base}/budget/t/{member.ticket}/")
    shot(phone, "04-member-phone")
    phone.get_by_role("button", name="参加", exact=True).click()
    phone.wait_for_selector("form[data-rsvp=yes]")

    def answer(wave: str, scores: dict[str, int], name: str) -> None:
        phone.goto(f"{base}/budget/t/{member.ticket}/")
        phone.get_by_role("link", name="填写问卷").first.click()
        phone.wait_for_url(f"{base}/budget/t/{member.ticket}/{wave}/")
        for title, score in scores.items():
            item = phone.locator("li.bp-item", has_text=title)
            item.locator(f"input[value='{score}']").check()
        phone.locator("input[name=k_k1][value='1']").check()
        if wave == Wave.T1:
            shot(phone, f"{name}-phone")
            desktop.goto(phone.url)
            shot(desktop, f"{name}-desktop")
        phone.get_by_role("button", name="提交问卷").click()
        phone.wait_for_url(f"{base}/budget/t/{member.ticket}/")

    answer(
        Wave.T1,
        {"老街排水改造": 6, "文化礼堂修缮": 7, "村道路灯": 5, "小学门口人行天桥": 4},
        "05-questionnaire",
    )

    # 4. The day: small groups, a question answered in the plenary; then T2.
    services.process_phase_advance(process=process, to=Phase.DELIBERATION)
    services.groups_form(process=process, count=2, facilitators=["赵老师", "钱老师"])
    question = services.plenary_question_ask(
        process=process, text="天桥建在哪一侧，会不会挡住店面？", project=proposal
    )
    services.plenary_question_answer(
        question=question,
        answer="建在学校一侧，楼梯设在绿化带内，不挡店面。",
        answered_by="镇规划所",
    )
    answer(
        Wave.T2,
        {"老街排水改造": 8, "文化礼堂修缮": 4, "村道路灯": 6, "小学门口人行天桥": 9},
        "06-questionnaire-t2",
    )
    assert QuestionnaireResponse.objects.filter(member=member).count() == 2
    assert phone.locator("text=已填写").count() == 2

    # 5. The ballot: the member votes on the phone with their ticket.
    services.process_phase_advance(process=process, to=Phase.VOTING)
    from django.utils import timezone

    now = timezone.now()
    ballot = ballot_open(
        process=process,
        title="2026年泽国镇参与式预算项目投票",
        kind="approval",
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(hours=1),
    )
    phone.goto(f"{base}/budget/t/{member.ticket}/")
    phone.locator("a[data-vote]").click()
    phone.wait_for_url(f"{base}/budget/{code}/vote/?ticket=*")
    for title in ("老街排水改造", "小学门口人行天桥"):
        phone.locator("li.bg-project", has_text=title).locator("input[type=checkbox]").check()
    shot(phone, "07-ballot-phone")
    desktop.goto(phone.url)
    shot(desktop, "07-ballot-desktop")
    phone.get_by_role("button", name="提交选票").click()
    phone.wait_for_url(f"{base}/budget/{code}/vote/done/")
    (vote,) = ballot.votes.all()
    assert vote.voter_key == f"panel:{member.pk}"
    assert set(vote.choices) == {
        str(process.projects.get(title="老街排水改造").pk),
        str(proposal.pk),
    }

    # 6. The ballot closes: the public page shows the result and every answer counted.
    Ballot.objects.filter(pk=ballot.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    both_sizes(phone, desktop, f"{base}/budget/{code}/", "08-process-results")
    funded = " ".join(phone.locator("[data-results] [data-funded]").all_inner_texts())
    # the two projects voted for are funded (MES with completion may add what fits)
    assert "老街排水改造" in funded and "小学门口人行天桥" in funded
    # 5 proposals (3 departments', the citizen's, the duplicate) + 1 plenary question
    assert phone.locator("[data-opinion-counts]").inner_text() == "6 条意见，已答复 6 条"
    both_sizes(phone, desktop, f"{base}/budget/{code}/results/", "09-results")
    assert phone.locator("[data-compare] tbody tr").count() == 4
    both_sizes(phone, desktop, f"{base}/budget/{code}/answers/", "10-answers")
    phone.goto(base + follow)
    assert "不挡店面" in phone.content()
    shot(phone, "11-project-answered-phone")
    phone_context.close()
