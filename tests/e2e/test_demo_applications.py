"""The two applications the demo defines only as data, run through their loops in a
real browser on a phone:

- 议事协商会: a town clerk records a village meeting with two decisions; the town office
  confirms it and each decision becomes a case of 议事决定落实, due on its deadline; the
  meeting is closed with a note.
- 代表联系群众活动登记 (民意 module): a deputy records a visit with two matters, one marked
  for the 民意 loop; the station files it and that matter becomes an opinion.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import PHONE, SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, tmp_path: Path) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    from civicloop.core.demo import demo_city_build

    demo_city_build()


def log_in(page, base: str, username: str) -> None:
    from civicloop.core.demo import DEMO_PASSWORD

    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base}/workbench/")


def log_out(page, base: str) -> None:
    page.locator(".logout-form button").click()
    page.wait_for_url(f"{base}/login/")


def act(page, code: str) -> None:
    form = page.locator(f"#action-{code}")
    if not form.is_visible():
        page.locator("details.more-actions summary").click()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.locator(".message-success").count() == 1, page.content()


def submit(page, base: str) -> str:
    page.locator(".xf-actions button[type=submit]").click()
    page.wait_for_url(f"{base}/cases/*/")
    return page.url.rstrip("/").rsplit("/", 1)[1]


def test_a_village_meeting_and_its_decisions(chromium_page, live_server, demo) -> None:
    from django.utils import timezone
    from playwright.sync_api import expect

    from civicloop.core.cases.models import Case
    from civicloop.core.forms.models import Submission

    page = chromium_page
    base = live_server.url
    page.set_viewport_size(PHONE)
    today = timezone.localdate()
    deadlines = [today + timedelta(days=7), today + timedelta(days=12)]

    log_in(page, base, "handler_zeguo")
    page.goto(f"{base}/apps/")
    page.locator("a[href='/apps/deliberation/new/']").first.click()
    page.wait_for_url(f"{base}/apps/deliberation/new/")
    no_village_yet = page.locator("#q-f-village [data-no-choices]")
    expect(no_village_yet).to_be_visible()  # no village until a town is chosen
    page.select_option("#f-town", "331081100")
    expect(no_village_yet).to_be_hidden()
    page.select_option("#f-village", "331081100002")  # 牧屿村, offered once 泽国镇 is chosen
    page.fill("#f-topic", "牧屿村老年食堂选址")
    page.fill("#f-host", "村党支部书记")
    page.fill("#f-attendance", "2")
    page.fill("[name='participants[0].participant']", "林美华")
    page.check("[name='participants[0].role'][value=villager_rep]")
    page.fill("#f-minutes", "与会人员对两处选址进行了讨论，多数同意使用原村小学旧址。")
    page.fill("[name='decisions[0].decision']", "原村小学旧址改建为老年食堂")
    page.fill("[name='decisions[0].responsible']", "村委会")
    page.fill("[name='decisions[0].deadline']", deadlines[0].isoformat())
    page.locator("button[name=__add][value=decisions]").click()
    page.fill("[name='decisions[1].decision']", "食堂运营方案提交村民代表会议表决")
    page.fill("[name='decisions[1].responsible']", "村老年协会")
    page.fill("[name='decisions[1].deadline']", deadlines[1].isoformat())
    page.check("#f-confirm")
    # The form's own rule, in Chinese, before anything is sent.
    page.locator("#f-attendance").blur()
    page.wait_for_timeout(600)
    assert "不少于 3 人" in page.locator("#q-f-attendance").inner_text()
    page.fill("#f-attendance", "15")
    page.screenshot(path=str(SHOTS / "demo-deliberation-filled-phone.png"), full_page=True)
    number = submit(page, base)

    meeting = Case.objects.get(number=number)
    assert meeting.channel == "deliberation" and meeting.workflow == "deliberation@1"
    assert meeting.area is not None and meeting.area.code == "331081100002"
    assert meeting.owner_unit is not None and meeting.owner_unit.code == "town-331081100"
    answers = Submission.objects.get(case=meeting).answers
    assert [d["deadline"] for d in answers["decisions"]] == [d.isoformat() for d in deadlines]
    assert "牧屿村老年食堂选址" in page.content()  # the answers on the case page

    act(page, "confirm")
    page.screenshot(path=str(SHOTS / "demo-deliberation-confirmed-phone.png"), full_page=True)
    followups = list(Case.objects.filter(channel="decision_followup").order_by("number"))
    assert [c.title for c in followups] == [
        "原村小学旧址改建为老年食堂",
        "食堂运营方案提交村民代表会议表决",
    ]
    assert "责任人（单位）：村委会" in followups[0].body  # the decision's own fields, labelled
    for case, deadline in zip(followups, deadlines, strict=True):
        assert case.data["came_from"] == number
        assert case.owner_unit_id == meeting.owner_unit_id
        assert case.due_at is not None and timezone.localdate(case.due_at) == deadline
    # The meeting's record links to what it became, and each follow-up back to it.
    for case in followups:
        expect(page.locator(f".timeline a[href='/cases/{case.number}/']")).to_have_count(1)
    # Each decision is a case of its own loop, on the town office's workbench.
    page.goto(f"{base}/cases/{followups[0].number}/")
    assert "原村小学旧址改建为老年食堂" in page.content()
    expect(page.locator(f".case-link a[href='/cases/{number}/']")).to_have_count(1)
    act(page, "accept")
    assert Case.objects.get(pk=followups[0].pk).state == "accepted"

    # Data out: the submissions page's downloads, with the form's labels; the XLSX has a
    # sheet per repeat (as ODK Central), its rows keyed to the meeting.
    page.goto(f"{base}/apps/deliberation/submissions/")
    assert number in page.content()
    csv_text = page.request.get(f"{base}/apps/deliberation/export.csv").text()
    assert "议题" in csv_text and "牧屿村老年食堂选址" in csv_text
    xlsx = page.request.get(f"{base}/apps/deliberation/export.xlsx")
    assert xlsx.ok
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx.body()), read_only=True)
    decisions = next(ws for ws in book.worksheets if "decisions" in ws.title or "议定" in ws.title)
    rows = [[str(c) for c in row if c is not None] for row in decisions.iter_rows(values_only=True)]
    assert any("原村小学旧址改建为老年食堂" in row for row in rows)
    assert any(any(cell.startswith(number) for cell in row) for row in rows[1:])

    page.goto(f"{base}/cases/{number}/")
    page.fill("#action-close textarea", "两项议定事项均已交办，由镇综合办跟踪落实。")
    act(page, "close")
    meeting.refresh_from_db()
    assert meeting.state == "closed" and meeting.closed_at is not None


@pytest.mark.needs_modules("opinions")
def test_a_deputys_visit_sends_its_matters_to_the_opinion_loop(
    chromium_page, live_server, demo
) -> None:
    from civicloop.core.cases.models import Case

    page = chromium_page
    base = live_server.url
    page.set_viewport_size(PHONE)
    opinions_before = Case.objects.filter(channel="opinion").count()

    log_in(page, base, "deputy_wang")
    page.goto(f"{base}/apps/visit_register/new/")
    page.check("#f-visit_kind [value=door], [name=visit_kind][value=door]")
    page.fill("#f-place", "泽国镇牧屿村")
    page.fill("#f-people", "8")
    page.fill("[name='matters[0].matter']", "村口路灯坏了一个多月，晚上出行不便。")
    page.check("[name='matters[0].topic'][value=road]")
    page.check("[name='matters[0].to_opinion'][value=yes]")
    page.locator("button[name=__add][value=matters]").click()
    page.fill("[name='matters[1].matter']", "希望多组织健康讲座。")
    page.check("[name='matters[1].topic'][value=health]")
    page.check("[name='matters[1].to_opinion'][value=no]")
    page.wait_for_timeout(600)
    # The note shows the form's own count (`${matter_count}` in its label).
    assert "本次共登记 2 个事项" in page.locator(".xf-note[data-key=count_note]").inner_text()
    page.screenshot(path=str(SHOTS / "demo-visit-filled-phone.png"), full_page=True)
    number = submit(page, base)
    visit = Case.objects.get(number=number)
    assert visit.owner_unit is not None and visit.owner_unit.code == "station-331081100"
    assert visit.title.startswith("联系群众：泽国镇牧屿村")
    log_out(page, base)

    log_in(page, base, "station_zeguo")
    page.goto(f"{base}/cases/{number}/")
    act(page, "forward")
    visit.refresh_from_db()
    assert visit.state == "forwarded"
    opinions = Case.objects.filter(channel="opinion").order_by("-created_at")
    assert opinions.count() == opinions_before + 1
    opinion = opinions.first()
    assert opinion is not None
    assert opinion.title == "村口路灯坏了一个多月，晚上出行不便。"
    assert opinion.data["came_from"] == number
    page.goto(f"{base}/cases/{opinion.number}/")
    assert opinion.title in page.content()
    page.screenshot(path=str(SHOTS / "demo-visit-opinion-phone.png"), full_page=True)
