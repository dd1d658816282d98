"""督政议事 end to end in Debian's Chromium: the 代表工委 creates a 专题询问 and records a
deputy's question to the housing bureau → the bureau answers on its case page → two
deputies rate the answer (a second vote is refused) → staff close the vote, save the
minutes and publish → the public summary shows the answer and the result, no names.
Screenshots (phone and desktop): test-artifacts/screenshots/70-*.png."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from civicloop.core.cases.models import Case
from civicloop.oversight.models import Meeting, Vote
from tests.e2e.conftest import PHONE, SHOTS
from tests.oversight.conftest import PASSWORD, City, city  # noqa: F401 (the fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_modules("oversight"),
]
DESKTOP = {"width": 1366, "height": 900}


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(SHOTS / f"70-{name}.png"), full_page=True)


def log_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state()


def test_oversight_journey(chromium_page, live_server, city: City) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page = chromium_page
    base = live_server.url
    page.set_viewport_size(DESKTOP)

    # The 代表工委 creates the meeting on the accepted topic.
    log_in(page, base, "npc_office")
    page.goto(f"{base}/oversight/")
    page.get_by_role("link", name="新建会议").click()
    page.select_option("#m-topic", label="城区交通拥堵治理")
    page.check("input[name=kind][value=inquiry]")
    page.fill("#m-title", "停车设施建设专题询问")
    page.fill("#m-held", (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT09:00"))
    page.fill("#m-place", "市人大常委会第一会议室")
    page.locator("form[data-form=meeting] button[type=submit]").click()
    page.wait_for_selector("h1:has-text('停车设施建设专题询问')")
    meeting = Meeting.objects.get(title="停车设施建设专题询问")

    # Seats two deputies and records one's question to the housing bureau.
    for username in ("deputy_wang", "deputy_002"):
        page.select_option(
            "#p-deputy",
            label=f"{'王建国' if username == 'deputy_wang' else '林秀芳'}（{username}）",
        )
        page.locator("form[data-form=deputy] button[type=submit]").click()
        page.wait_for_selector(".message-success")
    page.select_option("#q-asked-by", label="王建国")
    page.select_option("#q-unit", label="温岭市住房和城乡建设局")
    page.fill("#q-text", "老城区停车泊位缺口大，今年计划新建的公共停车场完成了多少？")
    page.fill("#q-answer-by", (timezone.localdate() + timedelta(days=10)).isoformat())
    page.locator("form[data-form=question] button[type=submit]").click()
    page.wait_for_selector("[data-question]")
    case = Case.objects.get(channel="oversight_question")
    assert case.holder_unit == city.housing
    shot(page, "staff-meeting-desktop")

    # The housing bureau answers on its case page (from its workbench).
    log_in(page, base, "handler_housing")
    page.goto(f"{base}/workbench/")
    page.get_by_role("link", name=case.number).first.click()
    page.fill(
        "#id_answer-note", "今年计划新建公共停车场6处，已建成3处、泊位560个，其余明年上半年完工。"
    )
    page.locator("#action-answer button[type=submit]").click()
    page.wait_for_selector("text=已答复待测评")
    assert Case.objects.get(pk=case.pk).state == "answered"

    # Staff open the vote; each deputy rates the answer on a phone, once.
    log_in(page, base, "npc_office")
    page.goto(f"{base}/oversight/meetings/{meeting.pk}/")
    page.locator("[data-act=open_vote]").click()
    page.wait_for_selector("[data-status=voting]")
    page.set_viewport_size(PHONE)
    for username, choice in (("deputy_wang", "satisfied"), ("deputy_002", "basically")):
        log_in(page, base, username)
        page.goto(f"{base}/oversight/meetings/{meeting.pk}/")
        page.check(f"[data-vote-unit=dept-housing] input[value={choice}]")
        if username == "deputy_wang":
            shot(page, "deputy-vote-phone")
        page.locator("[data-vote-unit=dept-housing] button[type=submit]").click()
        page.wait_for_selector("[data-vote-unit=dept-housing] [data-voted]")
    assert sorted(Vote.objects.values_list("choice", flat=True)) == ["basically", "satisfied"]

    # Staff close the vote, write the minutes and publish.
    page.set_viewport_size(DESKTOP)
    log_in(page, base, "npc_office")
    page.goto(f"{base}/oversight/meetings/{meeting.pk}/")
    page.locator("[data-act=close_vote]").click()
    page.wait_for_selector("[data-status=closed]")
    page.fill("#mi-text", "会议由常委会副主任主持，住建局分管副局长到会应询。")
    page.fill("#mi-summary", "代表就老城区停车设施建设提出询问，住建局书面答复。")
    page.locator("form[data-form=minutes] button[type=submit]").click()
    page.wait_for_selector("[data-minutes]")
    page.locator("[data-act=publish]").click()
    page.wait_for_selector("[data-published]")
    # One 满意 and one 基本满意: a tie counts as the less favourable rating.
    assert Case.objects.get(pk=case.pk).rating == "basically"

    # Anyone reads the summary: the answer and the result, no names.
    page.context.clear_cookies()
    for size, name in ((PHONE, "public-phone"), (DESKTOP, "public-desktop")):
        page.set_viewport_size(size)
        page.goto(f"{base}/oversight/public/{meeting.pk}/")
        page.wait_for_selector("[data-result=dept-housing]")
        shot(page, name)
    text = page.inner_text("main")
    assert "已建成3处" in text and "100.0%" in text and "基本满意" in text
    for person in ("王建国", "林秀芳", "周工", "钱主任"):
        assert person not in text
